"""When a project must be built: content fingerprints, built score tables, the build lock.

A project's score table is saved under ``scores/<project>`` in the engine home, with a
manifest recording the fingerprint of the data it was built from. :func:`ensure_built`
returns the saved table while the fingerprint matches, and otherwise builds it once
under a file lock, so processes started together wait for one build instead of
corrupting it. Fingerprints are cheap: they import no Brightway.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cfp_engine.errors import CorruptCacheError, StoreError
from cfp_engine.paths import data_home, methods_dir
from cfp_engine.spec.methods import bw2io_lcia_zip
from cfp_engine.store.inventories import builtin_inventory_files
from cfp_engine.store.scores import ScoreTable

#: Bump when the way projects or score tables are built changes.
BUILD_VERSION = 4  # 4: checksums of the score files in the manifest
LOCK_TIMEOUT_S = 900

logger = logging.getLogger("cfp_engine")


# -- fingerprints (cheap: no Brightway import) -------------------------------------------


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes (hex)."""
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
        digest.update(file_digest(path).encode())
    return digest.hexdigest()


# -- built score tables, and building them once under a lock ------------------------------


def scores_dir(project: str) -> Path:
    """Where the score table of ``project`` is saved: ``scores/<project>`` in the engine home."""
    return data_home() / "scores" / project


def read_manifest(project: str) -> dict[str, Any] | None:
    """The saved manifest of ``project``'s score table, or None when missing or unreadable."""
    try:
        manifest = json.loads((scores_dir(project) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, truncated or not UTF-8
        return None
    return manifest if isinstance(manifest, dict) else None


def _load_current(project: str, fingerprint: str) -> ScoreTable | None:
    """The saved table if it is intact and built from ``fingerprint``; else None.

    A corrupt table (checksum mismatch, missing or truncated file) is reported on the
    ``cfp_engine`` logger (stderr in the CLI) and treated as missing, so it is rebuilt.
    """
    manifest = read_manifest(project)
    if not manifest or manifest.get("fingerprint") != fingerprint:
        if manifest is None and (scores_dir(project) / "manifest.json").exists():
            logger.warning("%s: the score cache is unreadable; rebuilding it", project)
        return None
    try:
        table = ScoreTable.load(scores_dir(project))
    except CorruptCacheError as exc:
        logger.warning("%s; rebuilding it", exc)
        return None
    _touch(project)
    return table


def _touch(project: str) -> None:
    """Record that ``project``'s table was used (``cfp data clean`` goes by this)."""
    with contextlib.suppress(OSError):  # a read-only store: nothing to record
        os.utime(scores_dir(project))


def not_writable(exc: OSError) -> StoreError:
    """The error for a store the engine cannot write to."""
    where = exc.filename if exc.filename and Path(exc.filename).is_absolute() else data_home()
    return StoreError(
        f"{where}: the store is not writable ({exc.strerror or type(exc).__name__}); set "
        "CFP_ENGINE_HOME to a writable folder, or build it first with `cfp data build` "
        "as a user who can write it"
    )


def as_store_error(exc: OSError) -> StoreError | None:
    """The :class:`StoreError` for ``exc`` if it is a write refused in the store, else None."""
    name = exc.filename
    # shutil.rmtree reports names relative to the folder it is in: those are in the store.
    in_store = name is None or not Path(name).is_absolute() or _in_store(Path(name))
    if in_store and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR):
        return not_writable(exc)
    return None


def _in_store(path: Path) -> bool:
    """Whether ``path`` is in the store, also through a store folder that is a symlink.

    A folder of the store may link to another disk (a large ``brightway/``, or a
    read-only one); the errors of writes there name the resolved path (filelock does).
    """
    home = data_home()
    roots = {home, *(child.resolve() for child in home.iterdir() if child.is_symlink())}
    resolved = path.resolve()
    return any(root == resolved or root in resolved.parents for root in roots)


def project_lock(project: str, *, timeout: float = LOCK_TIMEOUT_S):
    """The file lock held while ``project`` is built, and taken (``timeout=0``) to delete it."""
    from filelock import FileLock

    lock_dir = data_home() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_dir / f"{project}.lock"), timeout=timeout)


def ensure_built(project: str, fingerprint: str, build, files: Sequence[Path]) -> ScoreTable:
    """The saved score table of ``project`` if built from ``fingerprint``; else build it.

    ``build(project, fingerprint, files)`` returns the new table, which is saved under
    ``scores/<project>``; it runs under :func:`project_lock`, once however many processes
    ask together.
    """
    table = _load_current(project, fingerprint)
    if table is not None:
        return table
    try:
        return _build_locked(project, fingerprint, build, files)
    except OSError as exc:
        raise as_store_error(exc) or exc from None


def _build_locked(project: str, fingerprint: str, build, files: Sequence[Path]) -> ScoreTable:
    with project_lock(project):
        # Another process may have built it meanwhile.
        manifest = read_manifest(project)
        if manifest and manifest.get("fingerprint") == fingerprint:
            try:
                return ScoreTable.load(scores_dir(project))
            except CorruptCacheError:
                pass  # already reported by _load_current
        logger.info(
            "Building Brightway project %s in %s (first use or data changed) ...",
            project,
            data_home(),
        )
        started = time.perf_counter()
        table = build(project, fingerprint, files)
        table.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
        table.save(scores_dir(project))  # replaces the old table in one step
        logger.info(
            "Built %s: %d activities in %.1f s",
            project,
            len(table.activities),
            table.manifest["build_seconds"],
        )
        return table
