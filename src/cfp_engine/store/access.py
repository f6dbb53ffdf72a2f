"""The score table a calculation reads: :func:`open_store`, built when needed.

It is the built-in project's table; the user store's when databases are imported
(:mod:`cfp_engine.store.registry`); and, with ``--inventory`` files, the table of a
per-inventory project that adds them to that base. Each project is built once per content
fingerprint under a file lock (:mod:`cfp_engine.store.build_cache`), and a calculation
then reads only its saved table, without importing Brightway.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cfp_engine.store.build import build_builtin, build_user, check_user_files
from cfp_engine.store.build_cache import (
    builtin_fingerprint,
    ensure_built,
    scores_dir,
    user_fingerprint,
)
from cfp_engine.store.cleaning import AUTO_CLEAN_BYTES, AUTO_CLEAN_DAYS, clean_user_projects
from cfp_engine.store.registry import collect_garbage_if_idle, open_user_store, read_registry
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import BUILTIN_PROJECT, USER_PROJECT_PREFIX


def open_store(user_inventories: Iterable[str | Path] = ()) -> ScoreTable:
    """The score table of the built-in data plus ``user_inventories`` (built if needed).

    Parameters
    ----------
    user_inventories
        Brightway Excel (``.xlsx``) or CSV inventory files imported through bw2io.
    """
    import functools

    files = check_user_files(user_inventories)
    table = ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
    collect_garbage_if_idle()  # what a killed import left; cheap when nothing
    registry = read_registry()
    if registry["databases"]:
        table = open_user_store(registry)
    if not files:
        return table
    fingerprint = user_fingerprint(files, base=table.fingerprint)
    project = USER_PROJECT_PREFIX + fingerprint[:16]
    build = functools.partial(
        build_user, base=table.manifest["project"], base_sources=table.manifest["databases"]
    )
    built = (scores_dir(project) / "manifest.json").exists()
    table = ensure_built(project, fingerprint, build, files)
    if not built:  # a new per-inventory project: drop old unused ones
        _auto_clean(keep=project)
    return table


def _auto_clean(*, keep: str) -> None:
    import logging

    removed = clean_user_projects(
        older_than_days=AUTO_CLEAN_DAYS, max_bytes=AUTO_CLEAN_BYTES, keep=frozenset({keep})
    )
    if removed:
        logging.getLogger("cfp_engine").info(
            "Removed %d unused per-inventory project(s), %.1f MB (cfp data clean)",
            len(removed),
            sum(row["bytes"] for row in removed) / 1e6,
        )
