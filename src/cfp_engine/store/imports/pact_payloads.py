"""Supplier footprints as received, kept in the store for verification, by their hash.

Each payload is stored once as ``imports/pact/<sha256>.json`` under the engine home, the
sha256 of its canonical JSON (keys sorted, no insignificant whitespace, UTF-8; PACT
figures are decimal strings, so no float formatting enters the hash). Payloads are never
removed by a re-import: a label made with an earlier version of a supplier's footprint
still verifies against the copy it used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cfp_engine.errors import DataError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.paths import data_home


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a payload: keys sorted, compact separators, UTF-8."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def payload_sha256(payload: Mapping[str, Any]) -> str:
    """The sha256 (hex) of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(payload)).hexdigest()


def payload_path(sha256: str) -> Path:
    """Where the payload with this hash is kept."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise DataError(f"sha256={sha256!r} is not a sha256 hex digest")
    return data_home() / "imports" / "pact" / f"{sha256}.json"


def save_payload(payload: Mapping[str, Any]) -> str:
    """Keep ``payload`` (once per hash); return its sha256."""
    sha = payload_sha256(payload)
    path = payload_path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = canonical_bytes(payload)
        write_bytes_atomically(path, lambda f: f.write(data))
    return sha


def load_payload(sha256: str) -> tuple[dict[str, Any], str]:
    """The stored payload with this hash, and the sha256 of what is stored now.

    The two hashes differ when the stored copy was changed after it was saved.

    Raises
    ------
    DataError
        No payload with this hash is stored, or it is not JSON.
    """
    path = payload_path(sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"no stored copy of the supplier footprint with sha256 {sha256}") from None
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataError(f"{path}: the stored supplier footprint is not JSON") from None
    return payload, hashlib.sha256(data).hexdigest()
