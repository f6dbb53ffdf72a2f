"""When a project must be built: content fingerprints, built score tables, the build lock.

A project's score table is saved under ``scores/<project>`` in the engine home, with a
manifest recording the fingerprint of the data it was built from. :func:`_ensure`
returns the saved table while the fingerprint matches, and otherwise builds it once
under a file lock, so processes started together wait for one build instead of
corrupting it. Fingerprints are cheap: they import no Brightway.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .inventories import builtin_inventory_files
from .methods import bw2io_lcia_zip
from .paths import data_home, methods_dir
from .scores import ScoreTable

#: Bump when the way projects or score tables are built changes.
BUILD_VERSION = 3  # 3: pedigree lognormal uncertainty on built-in exchanges
LOCK_TIMEOUT_S = 900

logger = logging.getLogger("cfp_engine")


# -- fingerprints (cheap: no Brightway import) -------------------------------------------


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def builtin_fingerprint() -> str:
    """Content hash of everything the built-in project is made from."""
    digest = hashlib.sha256(f"cfp-engine build {BUILD_VERSION}\n".encode())
    for path in [*builtin_inventory_files(), methods_dir() / "methods.yaml"]:
        digest.update(f"{path.parent.name}/{path.name}\n".encode())
        digest.update(path.read_bytes())
    # bw2io's LCIA file: its version and size stand in for its bytes here (hashing it on
    # every run costs more than a calculation); the build records its real sha256.
    lcia = bw2io_lcia_zip()
    digest.update(f"{importlib.metadata.version('bw2io')} {lcia.stat().st_size}".encode())
    return digest.hexdigest()


def user_fingerprint(files: Sequence[Path], *, base: str | None = None) -> str:
    """Hash of the base project's fingerprint and the bytes of the user inventory files.

    ``base`` is the fingerprint of the project the files are added to (default: the
    built-in project's).
    """
    digest = hashlib.sha256((base or builtin_fingerprint()).encode())
    for path in files:
        digest.update(_file_digest(path).encode())
    return digest.hexdigest()


# -- built score tables, and building them once under a lock ------------------------------


def _scores_dir(project: str) -> Path:
    return data_home() / "scores" / project


def _read_manifest(project: str) -> dict[str, Any] | None:
    try:
        return json.loads((_scores_dir(project) / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _ensure(project: str, fingerprint: str, build, files: Sequence[Path]) -> ScoreTable:
    manifest = _read_manifest(project)
    if manifest and manifest.get("fingerprint") == fingerprint:
        return ScoreTable.load(_scores_dir(project))
    from filelock import FileLock

    lock_dir = data_home() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / f"{project}.lock"), timeout=LOCK_TIMEOUT_S):
        manifest = _read_manifest(project)  # another process may have built it meanwhile
        if manifest and manifest.get("fingerprint") == fingerprint:
            return ScoreTable.load(_scores_dir(project))
        logger.info(
            "Building Brightway project %s in %s (first use or data changed) ...",
            project,
            data_home(),
        )
        started = time.perf_counter()
        table = build(project, fingerprint, files)
        table.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
        shutil.rmtree(_scores_dir(project), ignore_errors=True)
        table.save(_scores_dir(project))
        logger.info(
            "Built %s: %d activities in %.1f s",
            project,
            len(table.activities),
            table.manifest["build_seconds"],
        )
        return table
