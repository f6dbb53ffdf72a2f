"""Per-inventory projects: which exist, how much room they take, removing unused ones.

Each distinct set of ``--inventory`` files gets its own Brightway project
(``cfp-user-<hash>``, about 5 MB) and score table. They are reused while their files do
not change; :func:`clean_user_projects` removes those unused for a while or beyond a
total size (``cfp data clean``, and after a new one is built).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from cfp_engine.store.build_cache import as_store_error, project_lock, scores_dir
from cfp_engine.store.session import (
    BUILTIN_PROJECT,
    STORE_PROJECT_PREFIX,
    USER_PROJECT_PREFIX,
    open_brightway,
)
from cfp_engine.store.staging import drop_project

#: Per-inventory projects unused for longer than this are removed after a new one is built.
AUTO_CLEAN_DAYS = 30.0
#: ... and the least recently used ones beyond this total size (bytes).
AUTO_CLEAN_BYTES = 500 * 1024**2


def user_projects() -> dict[str, Path]:
    """Per-inventory Brightway projects by name, with their folders."""
    return {
        name: folder
        for name, folder in engine_projects().items()
        if name.startswith(USER_PROJECT_PREFIX)
    }


def engine_projects() -> dict[str, Path]:
    """The engine's Brightway projects (built-in, per-inventory, user store) and folders."""
    with open_brightway() as bd:  # imports bw2data quietly: import nothing of it before
        from bw2data.project import ProjectDataset
        from bw_processing import safe_filename

        base = Path(bd.projects._base_data_dir)
        prefixes = (USER_PROJECT_PREFIX, STORE_PROJECT_PREFIX)
        return {
            row.name: base / safe_filename(row.name, full=row.full_hash)
            for row in ProjectDataset.select()
            if row.name == BUILTIN_PROJECT or row.name.startswith(prefixes)
        }


def _size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def user_project_usage() -> list[dict[str, Any]]:
    """Each per-inventory project: name, size in bytes, last use (epoch seconds)."""
    rows = []
    for name, folder in user_projects().items():
        scores = scores_dir(name)
        used = max(
            (p.stat().st_mtime for p in (scores, folder) if p.exists()),
            default=0.0,
        )
        rows.append({"project": name, "bytes": _size(folder) + _size(scores), "last_used": used})
    return sorted(rows, key=lambda row: row["last_used"], reverse=True)


def clean_user_projects(
    *,
    older_than_days: float | None = None,
    max_bytes: int | None = None,
    keep: frozenset[str] = frozenset(),
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Remove per-inventory projects unused for ``older_than_days``, then beyond ``max_bytes``.

    Both limits None removes them all. A project being built or read by another process
    (its lock held) is skipped. Each is rebuilt (a few seconds) when its inventory files
    are used again.

    Parameters
    ----------
    older_than_days
        Remove projects whose last use is older than this many days.
    max_bytes
        Then remove the least recently used until the rest take at most this many bytes.
    keep
        Names never to remove.
    dry_run
        Only list what would be removed.

    Returns
    -------
    list of dict
        The removed projects: ``project``, ``bytes``, ``last_used``.
    """
    rows = [row for row in user_project_usage() if row["project"] not in keep]
    everything = older_than_days is None and max_bytes is None
    cutoff = time.time() - (older_than_days or 0) * 86400
    chosen, kept_bytes = [], 0
    for row in rows:  # most recently used first
        old = older_than_days is not None and row["last_used"] < cutoff
        too_big = max_bytes is not None and kept_bytes + row["bytes"] > max_bytes
        if everything or old or too_big:
            chosen.append(row)
        else:
            kept_bytes += row["bytes"]
    if dry_run or not chosen:
        return chosen
    try:
        return _remove_user_projects(chosen)
    except OSError as exc:
        raise as_store_error(exc) or exc from None


def _remove_user_projects(chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from filelock import Timeout

    removed = []
    with open_brightway() as bd:
        for row in chosen:
            try:
                with project_lock(row["project"], timeout=0):
                    # Score table first: a table without its project would be served
                    # to calculations; a project without a table is rebuilt.
                    shutil.rmtree(scores_dir(row["project"]), ignore_errors=True)
                    drop_project(bd, row["project"])
            except Timeout:
                continue
            removed.append(row)
    return removed
