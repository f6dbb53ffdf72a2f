"""The user store: databases imported with ``cfp data import`` (issue 8).

``cfp data import`` writes, through bw2io (:mod:`cfp_engine.store.imports.importer`), into one
persistent Brightway project that starts as a copy of the built-in one; ``cfp data
list`` and ``cfp data remove`` read and change it. With :mod:`cfp_engine.store.build`, the only
module that writes Brightway state; the helpers it shares come from there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfp_engine.errors import CorruptCacheError, DataError, SpecError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.paths import data_home
from cfp_engine.spec.documents import dump_json
from cfp_engine.store import staging
from cfp_engine.store.build import build_builtin
from cfp_engine.store.build_cache import (
    ensure_built,
    file_digest,
    read_manifest,
    scores_dir,
    builtin_fingerprint,
)
from cfp_engine.store.inventories import BUILTIN_DATABASE, builtin_inventory_files
from cfp_engine.store.score_solve import compute_score_table
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import BIOSPHERE_DATABASE, BUILTIN_PROJECT, open_brightway

logger = logging.getLogger("cfp_engine")

# -- the user store: imported databases ------------------------------------------------
#
# ``cfp data import`` writes into one persistent project, named after the built-in
# fingerprint it was copied from (``cfp-store-<16 hex>-<random>``); every change is made
# on a fresh copy and committed by rewriting the registry (:mod:`cfp_engine.store.staging`),
# so a failed or killed import or remove leaves the store as it was. The registry
# (``imports/registry.json`` under the engine home) lists the imported databases with
# their source hashes and options; it is read without importing Brightway. When the
# built-in data change, the next use copies the new built-in project and moves the
# imported databases over (no re-import), and the score table is rebuilt whenever the
# registry changes (its content is part of the fingerprint).


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


def _store_fingerprint(registry: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"cfp-store {builtin_fingerprint()}\n".encode())
    for name in sorted(registry["databases"]):
        record = registry["databases"][name]
        digest.update(json.dumps([name, record["sha256"], record["imported_at"]]).encode())
    return digest.hexdigest()


def _store_lock():
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
        if manifest and manifest.get("fingerprint") == _store_fingerprint(registry):
            try:
                return ScoreTable.load(scores_dir(registry["project"]))
            except CorruptCacheError as exc:  # or collected by an import that just committed
                if (scores_dir(registry["project"]) / "manifest.json").exists():
                    logger.warning("%s; rebuilding it", exc)
    with _store_lock():
        registry = read_registry()
        if not registry["databases"]:  # all removed meanwhile
            return ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
        if registry["builtin_fingerprint"] != builtin_fingerprint():
            registry = _refresh_user_store(registry)
        return ensure_built(registry["project"], _store_fingerprint(registry), _build_store_table, ())


def _build_store_table(project: str, fingerprint: str, files: Sequence[Path]) -> ScoreTable:
    registry = read_registry()
    with open_brightway() as bd:
        bd.projects.set_current(project)
        return _score_store(bd, project, registry)


def _score_store(bd, project: str, registry: dict[str, Any]) -> ScoreTable:
    """The score table of ``project`` (current) holding the databases ``registry`` lists."""
    sources = {BUILTIN_DATABASE: {"files": [p.name for p in builtin_inventory_files()]}}
    sources.update(registry["databases"])
    return compute_score_table(bd, project, _store_fingerprint(registry), sources)


def _save_scores(bd, project: str, registry: dict[str, Any]) -> None:
    """Build the staging project's score table where :func:`open_user_store` will look."""
    started = time.perf_counter()
    table = _score_store(bd, project, registry)
    table.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    table.save(scores_dir(project))


def _commit(bd, registry: dict[str, Any]) -> None:
    """Write the registry (the commit point), then drop the projects it no longer names."""
    _write_registry(registry)
    kill_point("committed")
    staging.collect_garbage(bd, registry["project"])


def _refresh_user_store(registry: dict[str, Any]) -> dict[str, Any]:
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
        _commit(bd, registry)
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


def _tree_digest_and_size(path: Path) -> tuple[str, int]:
    if path.is_file():
        data = path.read_bytes()
        return hashlib.sha256(data).hexdigest(), len(data)
    digest, size = hashlib.sha256(), 0
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        data = item.read_bytes()
        digest.update(f"{item.relative_to(path).as_posix()}\n".encode())
        digest.update(hashlib.sha256(data).digest())
        size += len(data)
    return digest.hexdigest(), size


def import_database(
    path: str | Path,
    *,
    format: str,
    name: str,
    flow_map: str | Path | None = None,
    allow_unlinked: bool = False,
    limits: dict[str, int] | None = None,
    allocation: str | None = None,
    skip_invalid: bool = False,
):
    """Import a database file into the user store, link it and rebuild the score table.

    Parameters
    ----------
    path
        The file, folder or zip archive (ecospold2 folder or ``.spold``; SimaPro ``.csv``;
        openLCA JSON-LD folder or ``.zip``; Brightway ``.xlsx`` or ``.csv``).
    format
        One of :data:`cfp_engine.store.imports.importer.FORMATS`.
    name
        The database name references use (``NAME::activity::location``).
    flow_map
        A flow map CSV (:mod:`cfp_engine.store.imports.flowmaps`) applied before biosphere linking.
    allow_unlinked
        Drop exchanges that cannot be linked, recording them in the provenance, instead
        of stopping with a report.
    limits
        ``max_members`` / ``max_bytes`` for zip archives (tests use small ones).
    allocation
        ecospold2: split multi-output datasets by this product property (``price``,
        ``true value relation``, ...): :mod:`cfp_engine.store.imports.allocation`.
    skip_invalid
        Leave out the datasets that cannot be scored per unit of product (listed in the
        report and the registry) instead of refusing the file.

    Returns
    -------
    cfp_engine.store.imports.importer.ImportReport
    """
    from cfp_engine.store.imports import importer as importers
    from cfp_engine.store.imports.flowmaps import FlowMap, load_flow_map

    source = Path(path)
    if not source.exists():
        raise SpecError(f"{path}: no such file or folder")
    if format not in importers.FORMATS:
        raise SpecError(f"--format {format!r}: expected one of {', '.join(importers.FORMATS)}")
    _check_database_name(name)
    digest, size = _tree_digest_and_size(source)
    report = importers.ImportReport(
        name=name, format=format, file=str(source.resolve()), sha256=digest, size_bytes=size
    )
    mapping = load_flow_map(flow_map) if flow_map else FlowMap(None)
    limits = limits or {}
    started = time.perf_counter()
    ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
    with _store_lock():
        registry = read_registry()
        if name in registry["databases"]:
            raise SpecError(
                f"database {name!r} is already imported (from "
                f"{Path(registry['databases'][name]['file']).name}); "
                f"`cfp data remove {name}` first"
            )
        if registry["databases"] and registry["builtin_fingerprint"] != builtin_fingerprint():
            registry = _refresh_user_store(registry)
        with open_brightway() as bd:
            staging.collect_garbage(bd, registry["project"] if registry["databases"] else None)
            project = staging.new_staging_project(builtin_fingerprint())
            try:
                staging.stage_project(
                    bd, registry["project"] if registry["databases"] else None, project
                )
                record = _import_into(
                    bd,
                    report,
                    source,
                    flow_map=mapping,
                    limits=limits,
                    allow_unlinked=allow_unlinked,
                    allocation=allocation,
                    skip_invalid=skip_invalid,
                    external=[*registry["databases"], BUILTIN_DATABASE],
                    work=staging.staging_work_dir(project),
                    started=started,
                )
                if flow_map:
                    record["flow_map"] = {
                        "file": str(Path(flow_map).resolve()),
                        "sha256": file_digest(Path(flow_map)),
                    }
                registry = {
                    **registry,
                    "project": project,
                    "builtin_fingerprint": builtin_fingerprint(),
                    "databases": {**registry["databases"], name: record},
                }
                step = time.perf_counter()
                _save_scores(bd, project, registry)
                report.seconds["score_table"] = time.perf_counter() - step
                kill_point("scored")
            except BaseException:
                staging.discard(bd, project)
                raise
            _commit(bd, registry)
    report.seconds["total"] = time.perf_counter() - started
    return report


def _import_into(
    bd,
    report,
    source: Path,
    *,
    flow_map,
    limits,
    allow_unlinked,
    allocation,
    skip_invalid,
    external,
    work,
    started,
) -> dict[str, Any]:
    """Read, link and write ``source`` into the current (staging) project; its registry record."""
    from cfp_engine.store.imports import importer as importers
    from cfp_engine.store.imports.report import summarise_uncharacterised

    name, format, mapping = report.name, report.format, flow_map

    if name in bd.databases:
        raise SpecError(f"database name {name!r} is already used in the store")
    report.seconds["setup"] = time.perf_counter() - started
    step = time.perf_counter()
    _ensure_migrations()
    importer = importers.create_importer(
        bd,
        source,
        format,
        name,
        work,
        flow_map=mapping,
        limits=limits,
        allocation=allocation,
        skip_invalid=skip_invalid,
    )
    importers.record_allocation(importer, report, allocation)
    report.seconds["extract"] = time.perf_counter() - step
    kill_point("extracted")
    _check_flow_targets(bd, mapping)
    importers.link_and_check(bd, importer, report, flow_map=mapping, external=external)
    if report.uncharacterised:  # left out, not an error (cfp_engine.store.imports.characterised)
        unlinked = _unlinked_report_path(name)
        target = unlinked.with_name(unlinked.name.replace(".unlinked.", ".uncharacterised."))
        report.uncharacterised_report = str(importers.write_uncharacterised_report(report, target))
    if report.unlinked and not allow_unlinked:
        target = _unlinked_report_path(name)
        importers.write_unlinked_report(report, target)
        report.unlinked_report = str(target)
        raise DataError(_unlinked_message(report, target))
    if report.unlinked:
        report.dropped = importers.drop_unlinked(importer)
    imported_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    importers.annotate_activities(importer, report, imported_at)
    step = time.perf_counter()
    _write_imported(bd, importer, report)
    report.seconds["write"] = time.perf_counter() - step
    kill_point("written")
    return {
        "file": report.file,
        "sha256": report.sha256,
        "format": format,
        "size_bytes": report.size_bytes,
        "activities": report.activities,
        "imported_at": imported_at,
        "allow_unlinked": report.dropped,
        "flow_map": None,
        "mapped_flows": report.mapped_flows,
        "builtin_flow_map": report.builtin_flow_map,
        "uncharacterised": summarise_uncharacterised(report.uncharacterised),
        "links_to": report.linked_external,
        "unmapped_units": report.unmapped_units,
        "parameterised": report.parameterised,
        "allocation": allocation,
        "allocated": report.allocated,
        "skipped": report.skipped,
    }


def _ensure_migrations() -> None:
    """The bw2io migrations the format strategies use, written once per project.

    ``bw2io.create_core_migrations()`` writes all of them (8 s, mostly ecoinvent 3.x
    SimaPro name tables the engine does not use); these three take well under a second.
    """
    from bw2io import migrations
    from bw2io.migrations import (
        Migration,
        get_default_units_migration_data,
        get_ecoinvent_pre35_migration_data,
        get_simapro_water_migration_data,
    )

    for name, data, description in (
        ("default-units", get_default_units_migration_data, "Convert to default units"),
        ("simapro-water", get_simapro_water_migration_data, "SimaPro water flows"),
        (
            "fix-ecoinvent-flows-pre-35",
            get_ecoinvent_pre35_migration_data,
            "Fix ecoinvent flows before 3.5",
        ),
    ):
        if name not in migrations:
            Migration(name).write(data(), description)


#: Longest database name: Brightway names a file after it (plus a hash), and file names
#: stop at 255 bytes on common filesystems; 100 characters leave room for that.
MAX_NAME_LENGTH = 100


def _check_database_name(name: str) -> None:
    if not name or not name.strip() or name != name.strip():
        raise SpecError(f"--name {name!r}: give a database name without outer spaces")
    if len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"--name: {len(name)} characters ({name[:20]!r}...); "
            f"give a database name of at most {MAX_NAME_LENGTH}"
        )
    if not name.isprintable():
        raise SpecError(f"--name {name!r}: control characters are not allowed in a name")
    if "::" in name:
        raise SpecError(f"--name {name!r}: '::' separates parts of activity references")
    if name in (BUILTIN_DATABASE, BIOSPHERE_DATABASE) or name.endswith(" biosphere"):
        raise SpecError(f"--name {name!r} is reserved; choose another name")


def _check_flow_targets(bd, mapping) -> None:
    if not mapping.rows:
        return
    flows = {
        (f["name"], tuple(f.get("categories") or ()), f["unit"])
        for f in bd.Database(BIOSPHERE_DATABASE)
    }
    for row in mapping.rows:
        key = (row.target_name, row.target_categories, row.target_unit)
        if key not in flows:
            raise SpecError(
                f"{mapping.path}:{row.where.rsplit(':', 1)[-1]}: target "
                f"{row.target_name!r} ({'::'.join(row.target_categories)}, {row.target_unit}) "
                "is not a biosphere3 flow"
            )


def _unlinked_report_path(name: str) -> Path:
    """Where the unlinked-exchange report goes: the engine's own folder, never the input's."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    folder = data_home() / "imports" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}.unlinked.csv"


def _unlinked_message(report, target: Path) -> str:
    rows = report.unlinked
    listed = "\n  ".join(
        f"{r['type']} {r['name']!r} [{r['unit']}] ({r['categories'] or r['location']}) "
        f"in {r['activity']}"
        for r in rows[:10]
    )
    more = f"\n  ... and {len(rows) - 10} more" if len(rows) > 10 else ""
    return (
        f"{report.file}: {len(rows)} unlinked exchange(s); nothing was imported. "
        f"Listed in {target}:\n  {listed}{more}\n"
        "Hint: map elementary flows to biosphere3 with --flow-map FILE.csv (columns "
        "source_name,source_categories,source_unit,target_name,target_categories,"
        "target_unit), import the databases the inputs come from first, or drop them "
        "with --allow-unlinked (recorded in every result's provenance)."
    )


def _write_imported(bd, importer, report) -> None:
    """Write through bw2io, every formula frozen at its value (no parameter tables).

    See :mod:`cfp_engine.store.imports.parameters`: the formulas and parameter values stay in
    the activities' data, and nothing is left in ``bw2data.parameters`` to clean up if
    the import fails.
    """
    from cfp_engine.store.imports.parameters import freeze_parameters

    report.formulas = freeze_parameters(importer, source=report.file, fmt=report.format)
    importer.write_database(activate_parameters=False, searchable=False)


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
    with _store_lock():
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
                _commit(
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
                _save_scores(bd, project, registry)
                kill_point("scored")
            except BaseException:
                staging.discard(bd, project)
                raise
            _commit(bd, registry)
