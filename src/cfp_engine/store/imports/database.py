"""Import a database file into the user store: validate, stage, read, link, write, score, commit.

:func:`import_database` runs the steps in order on a staging copy of the store
(:mod:`cfp_engine.store.staging`): the request is checked before anything is touched, the
file is read and linked by :mod:`cfp_engine.store.imports.importer`'s pipeline, written
through bw2io with its formulas frozen, and scored; the registry
(:mod:`cfp_engine.store.registry`) is rewritten only then, so a failure at any step leaves
the store as it was.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfp_engine.errors import DataError, SpecError
from cfp_engine.paths import data_home
from cfp_engine.store import staging
from cfp_engine.store.build import build_builtin
from cfp_engine.store.build_cache import builtin_fingerprint, ensure_built, file_digest
from cfp_engine.store.imports import importer as importers
from cfp_engine.store.imports.flowmaps import FlowMap, load_flow_map
from cfp_engine.store.imports.parameters import freeze_parameters
from cfp_engine.store.imports.report import summarise_uncharacterised
from cfp_engine.store.inventories import BUILTIN_DATABASE
from cfp_engine.store.kill_points import kill_point
from cfp_engine.store.registry import (
    commit,
    read_registry,
    refresh_user_store,
    save_scores,
    store_lock,
)
from cfp_engine.store.session import BIOSPHERE_DATABASE, BUILTIN_PROJECT, open_brightway


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
    schema_dir: str | Path | None = None,
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
    schema_dir
        ``pact``: a folder with the official PACT OpenAPI files to validate against as
        well as the engine's own schema (:mod:`cfp_engine.store.imports.pact_import`).

    Returns
    -------
    cfp_engine.store.imports.importer.ImportReport
        or :class:`cfp_engine.store.imports.pact_import.PactImportReport` for ``pact``.
    """
    source = _check_request(path, format, name)
    if format == "pact":
        from cfp_engine.store.imports.pact_import import import_footprints

        given = {"flow_map": flow_map, "allocation": allocation, "limits": limits}
        given.update(allow_unlinked=allow_unlinked, skip_invalid=skip_invalid)
        unused = [key for key, value in given.items() if value]
        if unused:
            raise SpecError(f"format='pact': {', '.join(unused)} do not apply to PACT footprints")
        if not source.is_file():
            raise SpecError(f"{source}: PACT footprints are one JSON file")
        return import_footprints(source, name=name, schema_dir=schema_dir)
    if schema_dir is not None:
        raise SpecError("schema_dir: only format='pact' is validated against a schema")
    digest, size = _tree_digest_and_size(source)
    report = importers.ImportReport(
        name=name, format=format, file=str(source.resolve()), sha256=digest, size_bytes=size
    )
    mapping = load_flow_map(flow_map) if flow_map else FlowMap(None)
    started = time.perf_counter()
    ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
    with store_lock():
        registry = _registry_for_import(name)
        with open_brightway() as bd:
            base = registry["project"] if registry["databases"] else None
            staging.collect_garbage(bd, base)
            project = staging.new_staging_project(builtin_fingerprint())
            try:
                staging.stage_project(bd, base, project)
                record = _import_into(
                    bd,
                    report,
                    source,
                    flow_map=mapping,
                    limits=limits or {},
                    allow_unlinked=allow_unlinked,
                    allocation=allocation,
                    skip_invalid=skip_invalid,
                    external=[*registry["databases"], BUILTIN_DATABASE],
                    work=staging.staging_work_dir(project),
                    started=started,
                )
                if flow_map:
                    record["flow_map"] = _flow_map_record(Path(flow_map))
                registry = {
                    **registry,
                    "project": project,
                    "builtin_fingerprint": builtin_fingerprint(),
                    "databases": {**registry["databases"], name: record},
                }
                step = time.perf_counter()
                save_scores(bd, project, registry)
                report.seconds["score_table"] = time.perf_counter() - step
                kill_point("scored")
            except BaseException:
                staging.discard(bd, project)
                raise
            commit(bd, registry)
    report.seconds["total"] = time.perf_counter() - started
    return report


def _check_request(path: str | Path, format: str, name: str) -> Path:
    """The source path, once the file, the format and the name are known to be usable."""
    source = Path(path)
    if not source.exists():
        raise SpecError(f"{path}: no such file or folder")
    if format not in importers.FORMATS:
        raise SpecError(f"format={format!r}: expected one of {', '.join(importers.FORMATS)}")
    _check_database_name(name)
    return source


def _registry_for_import(name: str) -> dict[str, Any]:
    """The registry to import ``name`` into (under the store lock), moved to the current
    built-in project first if the built-in data changed since the last import."""
    registry = read_registry()
    if name in registry["databases"]:
        raise SpecError(
            f"database {name!r} is already imported (from "
            f"{Path(registry['databases'][name]['file']).name}); "
            f"`cfp data remove {name}` first"
        )
    if registry["databases"] and registry["builtin_fingerprint"] != builtin_fingerprint():
        registry = refresh_user_store(registry)
    return registry


def _flow_map_record(flow_map: Path) -> dict[str, str]:
    return {"file": str(flow_map.resolve()), "sha256": file_digest(flow_map)}


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
    if report.name in bd.databases:
        raise SpecError(f"database name {report.name!r} is already used in the store")
    report.seconds["setup"] = time.perf_counter() - started
    step = time.perf_counter()
    _ensure_migrations()
    importer = importers.create_importer(
        bd,
        source,
        report.format,
        report.name,
        work,
        flow_map=flow_map,
        limits=limits,
        allocation=allocation,
        skip_invalid=skip_invalid,
    )
    importers.record_allocation(importer, report, allocation)
    report.seconds["extract"] = time.perf_counter() - step
    kill_point("extracted")
    _check_flow_targets(bd, flow_map)
    importers.link_and_check(bd, importer, report, flow_map=flow_map, external=external)
    _report_unlinked(importer, report, allow_unlinked=allow_unlinked)
    imported_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    importers.annotate_activities(importer, report, imported_at)
    step = time.perf_counter()
    _write_imported(bd, importer, report)
    report.seconds["write"] = time.perf_counter() - step
    kill_point("written")
    return _registry_record(report, imported_at)


def _report_unlinked(importer, report, *, allow_unlinked: bool) -> None:
    """Write the reports of what linking left out; stop on unlinked exchanges unless allowed.

    Uncharacterised flows are left out, not an error
    (:mod:`cfp_engine.store.imports.characterised`); unlinked exchanges stop the import
    unless ``allow_unlinked``, which drops them (recorded in the registry).
    """
    if report.uncharacterised:
        unlinked = _unlinked_report_path(report.name)
        target = unlinked.with_name(unlinked.name.replace(".unlinked.", ".uncharacterised."))
        report.uncharacterised_report = str(importers.write_uncharacterised_report(report, target))
    if report.unlinked and not allow_unlinked:
        target = _unlinked_report_path(report.name)
        importers.write_unlinked_report(report, target)
        report.unlinked_report = str(target)
        raise DataError(_unlinked_message(report, target))
    if report.unlinked:
        report.dropped = importers.drop_unlinked(importer)


def _registry_record(report, imported_at: str) -> dict[str, Any]:
    """What the registry keeps of an import (``flow_map`` is filled in by the caller)."""
    return {
        "file": report.file,
        "sha256": report.sha256,
        "format": report.format,
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
        "allocation": report.allocation,
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
        raise SpecError(f"name={name!r}: give a database name without outer spaces")
    if len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"name: {len(name)} characters ({name[:20]!r}...); "
            f"give a database name of at most {MAX_NAME_LENGTH}"
        )
    if not name.isprintable():
        raise SpecError(f"name={name!r}: control characters are not allowed in a name")
    if "::" in name:
        raise SpecError(f"name={name!r}: '::' separates parts of activity references")
    if name in (BUILTIN_DATABASE, BIOSPHERE_DATABASE) or name.endswith(" biosphere"):
        raise SpecError(f"name={name!r} is reserved; choose another name")


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
        "Hint: map elementary flows to biosphere3 with flow_map=FILE.csv (columns "
        "source_name,source_categories,source_unit,target_name,target_categories,"
        "target_unit), import the databases the inputs come from first, or drop them "
        "with allow_unlinked=True (recorded in every result's provenance)."
    )


def _write_imported(bd, importer, report) -> None:
    """Write through bw2io, every formula frozen at its value (no parameter tables).

    See :mod:`cfp_engine.store.imports.parameters`: the formulas and parameter values stay in
    the activities' data, and nothing is left in ``bw2data.parameters`` to clean up if
    the import fails.
    """
    report.formulas = freeze_parameters(importer, source=report.file, fmt=report.format)
    importer.write_database(activate_parameters=False, searchable=False)


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
