"""The user store's registry: the databases imported into it, listing and removing them.

Imported databases live in one persistent Brightway project that starts as a copy of the
built-in one. The registry (``imports/registry.json`` under the engine home) names that
project and records every imported database (source hash, options, what was left out);
it is read without importing Brightway. Every change is made on a fresh copy and
committed by rewriting the registry (:mod:`cfp_engine.store.staging`), so a failed or
killed change leaves the store as it was. Importing is
:func:`cfp_engine.store.imports.import_database`'s job; this module lists, removes,
refreshes and scores what is imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cfp_engine.errors import CorruptCacheError, DataError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.paths import data_home
from cfp_engine.spec.documents import dump_json
from cfp_engine.store import staging
from cfp_engine.store.build import build_builtin
from cfp_engine.store.build_cache import (
    builtin_fingerprint,
    ensure_built,
    read_manifest,
    scores_dir,
)
from cfp_engine.store.inventories import BUILTIN_DATABASE, builtin_inventory_files
from cfp_engine.store.kill_points import kill_point
from cfp_engine.store.score_solve import compute_score_table
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import BUILTIN_PROJECT, open_brightway

logger = logging.getLogger("cfp_engine")

# The store project is named after the built-in fingerprint it was copied from
# (``cfp-store-<16 hex>-<random>``). When the built-in data change, the next use copies the
# new built-in project and moves the imported databases over (no re-import), and the score
# table is rebuilt whenever the registry changes (its content is part of the fingerprint).


def _registry_path() -> Path:
    return data_home() / "imports" / "registry.json"


def read_registry() -> dict[str, Any]:
    """The user store's registry: ``{"project", "builtin_fingerprint", "databases"}``."""
    try:
        registry = json.loads(_registry_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        registry = {}
    registry.setdefault("project", None)
    registry.setdefault("builtin_fingerprint", None)
    registry.setdefault("databases", {})
    return registry


def _write_registry(registry: dict[str, Any]) -> None:
    path = _registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dump_json(registry, what=str(path), indent=2, ensure_ascii=False)
    write_bytes_atomically(path, lambda f: f.write(text.encode()))


def store_fingerprint(registry: dict[str, Any]) -> str:
    """The user store score table's fingerprint: the built-in one and every import's record."""
    digest = hashlib.sha256(f"cfp-store {builtin_fingerprint()}\n".encode())
    for name in sorted(registry["databases"]):
        record = registry["databases"][name]
        digest.update(json.dumps([name, record["sha256"], record["imported_at"]]).encode())
    return digest.hexdigest()


def store_lock():
    """The lock every change of the user store holds (imports, removes, refreshes)."""
    return staging.store_lock()


def collect_garbage_if_idle() -> None:
    """Delete what an import or remove cut short left behind, unless one is running.

    Cheap when there is nothing to collect (one folder listing, no Brightway import).
    """
    from filelock import Timeout

    if not staging.garbage_pending():
        return
    try:
        with staging.store_lock(timeout=0):
            project = read_registry()["project"]
            with open_brightway() as bd:
                staging.collect_garbage(bd, project)
    except Timeout:  # an import or remove is running; it collects when it ends
        return


def open_user_store(registry: dict[str, Any]) -> ScoreTable:
    """The user store's score table; refreshed if the built-in data changed.

    Imports build the table before they commit, so this only reads it. When it is
    missing or stale (the built-in data changed, or an import committed a new project
    and collected this one after ``registry`` was read), it is rebuilt under the store
    lock, after any import in progress, from the registry as it is then.
    """
    if registry["builtin_fingerprint"] == builtin_fingerprint():
        manifest = read_manifest(registry["project"])
        if manifest and manifest.get("fingerprint") == store_fingerprint(registry):
            try:
                return ScoreTable.load(scores_dir(registry["project"]))
            except CorruptCacheError as exc:  # or collected by an import that just committed
                if (scores_dir(registry["project"]) / "manifest.json").exists():
                    logger.warning("%s; rebuilding it", exc)
    with store_lock():
        registry = read_registry()
        if not registry["databases"]:  # all removed meanwhile
            return ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
        if registry["builtin_fingerprint"] != builtin_fingerprint():
            registry = refresh_user_store(registry)
        return ensure_built(
            registry["project"], store_fingerprint(registry), _build_store_table, ()
        )


def _build_store_table(project: str, fingerprint: str, files: Sequence[Path]) -> ScoreTable:
    registry = read_registry()
    with open_brightway() as bd:
        bd.projects.set_current(project)
        return _score_store(bd, project, registry)


def _score_store(bd, project: str, registry: dict[str, Any]) -> ScoreTable:
    """The score table of ``project`` (current) holding the databases ``registry`` lists."""
    sources = {BUILTIN_DATABASE: {"files": [p.name for p in builtin_inventory_files()]}}
    sources.update(registry["databases"])
    return compute_score_table(bd, project, store_fingerprint(registry), sources)


def save_scores(bd, project: str, registry: dict[str, Any]) -> None:
    """Build the staging project's score table where :func:`open_user_store` will look.

    ``project`` is current in ``bd``; ``registry`` is the registry as it will be committed.
    """
    started = time.perf_counter()
    table = _score_store(bd, project, registry)
    table.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    table.save(scores_dir(project))


def commit(bd, registry: dict[str, Any]) -> None:
    """Write the registry (the commit point), then drop the projects it no longer names.

    Call under :func:`store_lock`, with ``registry["project"]`` built and scored.
    """
    _write_registry(registry)
    kill_point("committed")
    staging.collect_garbage(bd, registry["project"])


def refresh_user_store(registry: dict[str, Any]) -> dict[str, Any]:
    """Copy the new built-in project and move the imported databases into it.

    The exchanges are copied as they were computed (parameterised amounts included), so
    nothing is imported again.
    """
    ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
    old = registry["project"]
    with open_brightway() as bd:
        payload = {}
        if old in bd.projects:
            bd.projects.set_current(old)
            for name in registry["databases"]:
                if name in bd.databases:
                    payload[name] = (bd.Database(name).load(), dict(bd.databases[name]))
        new = staging.new_staging_project(builtin_fingerprint())
        try:
            staging.stage_project(bd, None, new)
            for name in _write_order(registry):
                if name in payload:
                    data, metadata = payload[name]
                    database = bd.Database(name)
                    database.register(**{k: v for k, v in metadata.items() if k != "depends"})
                    database.write(data)
        except BaseException:
            staging.discard(bd, new)
            raise
        registry = {
            **registry,
            "project": new,
            "builtin_fingerprint": builtin_fingerprint(),
            "databases": {k: v for k, v in registry["databases"].items() if k in payload},
        }
        commit(bd, registry)
    return registry


def _write_order(registry: dict[str, Any]) -> list[str]:
    """Databases before those that link to them."""
    done: list[str] = []
    pending = dict(registry["databases"])
    while pending:
        ready = [n for n, r in pending.items() if all(d in done for d in _depends(r, pending))]
        for name in ready or list(pending):
            done.append(name)
            pending.pop(name)
    return done


def _depends(record: dict[str, Any], pending) -> list[str]:
    return [d for d in record.get("links_to", {}) if d in pending]


def list_databases() -> list[dict[str, Any]]:
    """The imported databases: name, format, source hash, size, activities, import date,
    the allocation property and the datasets left out (``--skip-invalid``)."""
    registry = read_registry()
    return [
        {
            "name": name,
            "format": record["format"],
            "file": record["file"],
            "sha256": record["sha256"],
            "size_bytes": record["size_bytes"],
            "activities": record["activities"],
            "imported_at": record["imported_at"],
            "dropped_unlinked": len(record.get("allow_unlinked") or ()),
            "allocation": record.get("allocation"),
            "skipped": record.get("skipped") or [],
            "uncharacterised": (record.get("uncharacterised") or {}).get("exchanges", 0),
        }
        for name, record in sorted(registry["databases"].items())
    ]


def remove_database(name: str) -> None:
    """Delete an imported database from the user store (refused if another links to it).

    Like an import, the change is made on a staging copy and committed by the registry.
    """
    with store_lock():
        registry = read_registry()
        if name not in registry["databases"]:
            known = ", ".join(sorted(registry["databases"])) or "none"
            raise DataError(f"no imported database {name!r} (imported: {known})")
        users = [n for n, r in registry["databases"].items() if name in r.get("links_to", {})]
        if users:
            raise DataError(
                f"database {name!r} is used by {', '.join(sorted(users))}; remove those first"
            )
        databases = {k: v for k, v in registry["databases"].items() if k != name}
        with open_brightway() as bd:
            staging.collect_garbage(bd, registry["project"])
            if not databases:
                commit(
                    bd, {**registry, "project": None, "builtin_fingerprint": None, "databases": {}}
                )
                return
            project = staging.new_staging_project(builtin_fingerprint())
            try:
                staging.stage_project(bd, registry["project"], project)
                if name in bd.databases:
                    from bw2data.parameters import Group

                    del bd.databases[name]
                    Group.delete().where(Group.name == f"{name} exchanges").execute()
                registry = {**registry, "project": project, "databases": databases}
                save_scores(bd, project, registry)
                kill_point("scored")
            except BaseException:
                staging.discard(bd, project)
                raise
            commit(bd, registry)
