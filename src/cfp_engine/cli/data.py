"""``cfp data``: the built-in data, the store and imported databases."""

from __future__ import annotations

import click

from cfp_engine.cli._base import (
    CfpGroup,
    check_paths,
    cli,
    format_option,
    in_cli_terms,
    inventory_option,
    materials_option,
    method_option,
)
from cfp_engine.files.checks import check_input_path
from cfp_engine.spec.documents import dump_json
from cfp_engine.spec.materials import PRIORITY_PRODUCTS
from cfp_engine.store.imports.formats import FORMATS


@cli.group(cls=CfpGroup)
def data():
    """The built-in data and the Brightway store."""


@data.command("status")
@format_option("table", "json", default="table")
def data_status(fmt):
    """Report what is built, where, and whether it is up to date."""
    from cfp_engine.store.health import store_status

    status = store_status()
    if fmt == "json":
        click.echo(dump_json(status, what="cfp data status", indent=2))
        return
    manifest = status["manifest"] or {}
    state = (
        "corrupt score cache (rebuilt on next use; cfp data doctor)"
        if status["corrupt"]
        else "up to date"
        if status["up_to_date"]
        else "out of date (rebuilt on next use)"
        if status["built"]
        else "not built yet (built on first use)"
    )
    click.echo(f"Store:            {status['home']}")
    click.echo(f"Brightway dir:    {status['brightway_dir']}")
    click.echo(f"Built-in project: {status['builtin_project']}: {state}")
    if manifest:
        click.echo(
            f"  built at        {manifest.get('built_at')} in "
            f"{manifest.get('build_seconds')} s, engine {manifest.get('engine_version')}"
        )
        click.echo(f"  activities      {manifest.get('activities')}")
        click.echo(f"  methods         {', '.join(manifest.get('methods', {}))}")
        lcia = manifest.get("lcia_source", {})
        click.echo(
            f"  LCIA source     {lcia.get('file')} (bw2io {lcia.get('bw2io')}, "
            f"sha256 {str(lcia.get('sha256'))[:12]}...)"
        )
        click.echo(f"  solver          {manifest.get('solver')}")
        click.echo(f"  fingerprint     {manifest.get('fingerprint', '')[:16]}...")
    users = status["user_projects"]
    click.echo(f"User projects:    {len(users)}" + (f" ({', '.join(users)})" if users else ""))
    imported = status["imported_databases"]
    click.echo(
        f"User store:       {status['user_store'] or 'none'}: {len(imported)} imported "
        "database(s)" + (f" ({', '.join(imported)}; cfp data list)" if imported else "")
    )
    _echo_findings(status["problems"])


def _echo_findings(problems) -> None:
    if not problems:
        click.echo("Problems:         none found")
        return
    hint = "cfp data doctor fixes them"
    if not all(item["fixable"] for item in problems):
        hint = "cfp data doctor fixes those it can; the others say what to do"
    click.echo(f"Problems:         {len(problems)} ({hint})")
    for item in problems:
        click.echo(_finding_line(item))


def _finding_line(item) -> str:
    return f"  {item['kind']:<15} {item['path']}: {item['detail']} -> {item['fix']}"


@data.command("doctor")
@format_option("table", "json", default="table")
@click.pass_context
def data_doctor(ctx, fmt):
    """Find and fix what a crash or a changed file left: corrupt caches, orphans, temp folders.

    Also damaged Brightway databases (SQLite quick_check). Exits with 1 when a problem is
    left that only you can fix (a damaged user store: import its databases again).
    """
    from cfp_engine.store.health import findings_as_dicts, repair_store

    found = findings_as_dicts(repair_store())
    fixed = [item for item in found if item["fixable"]]
    left = [item for item in found if not item["fixable"]]
    if fmt == "json":
        document = {"fixed": fixed, "not_fixed": left}
        click.echo(dump_json(document, what="cfp data doctor", indent=2))
    elif not found:
        click.echo("Store is healthy: nothing to fix.")
    else:
        if fixed:
            click.echo(f"Fixed {len(fixed)} problem(s):")
        for item in fixed:
            click.echo(_finding_line(item))
        if left:
            click.echo(f"Cannot fix {len(left)} problem(s); what to do:")
        for item in left:
            click.echo(_finding_line(item))
    if left:
        ctx.exit(1)


@data.command("clean")
@click.option(
    "--older-than",
    "older_than",
    type=click.FloatRange(min=0),
    default=None,
    metavar="DAYS",
    help="Remove per-inventory projects not used for DAYS days.",
)
@click.option(
    "--max-size",
    "max_size",
    type=click.FloatRange(min=0),
    default=None,
    metavar="MB",
    help="Then remove the least recently used until the rest take at most MB megabytes.",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def data_clean(older_than, max_size, dry_run):
    """Remove per-inventory projects (--inventory files); all of them without options.

    They are rebuilt (a few seconds) when their files are used again.
    """
    from cfp_engine.store.cleaning import clean_user_projects

    removed = clean_user_projects(
        older_than_days=older_than,
        max_bytes=None if max_size is None else int(max_size * 1e6),
        dry_run=dry_run,
    )
    verb = "Would free" if dry_run else "Freed"
    for row in removed:
        click.echo(f"  {row['project']}  {row['bytes'] / 1e6:.1f} MB")
    total = sum(row["bytes"] for row in removed)
    click.echo(f"{verb} {total / 1e6:.1f} MB ({len(removed)} per-inventory project(s)).")


@data.command("build")
def data_build():
    """Build (or rebuild if changed) the built-in Brightway project now."""
    from cfp_engine.store.access import open_store

    table = open_store()
    click.echo(
        f"{table.manifest['project']}: {len(table.activities)} activities, "
        f"fingerprint {table.fingerprint[:16]}..."
    )


@data.command("materials")
@materials_option()
@inventory_option("Extra inventory file the tables refer to; repeatable.")
@method_option("Impact method (default IPCC 2021 GWP100).")
@click.option(
    "--priority",
    type=click.Choice(PRIORITY_PRODUCTS, case_sensitive=False),
    default=None,
    help="Only the materials of one priority product group (materials.csv priority_product).",
)
@format_option("table", "json", "csv", default="table")
def data_materials(materials, inventories, method, priority, fmt):
    """Virgin and recycled kg CO2e per kg of each material, and the reduction."""
    from cfp_engine.render.data_views import list_material_factors
    from cfp_engine.render.tables import render_material_factors
    from cfp_engine.store.access import open_store

    check_paths(inventories=inventories, materials=materials)
    rows = list_material_factors(
        open_store(inventories), materials=materials, method=method, priority=priority
    )
    if fmt == "json":
        click.echo(dump_json(rows, what="cfp data materials", indent=2, ensure_ascii=False))
    else:
        click.echo(render_material_factors(rows, csv_format=fmt == "csv"), nl=fmt == "table")


@data.command("show")
@click.argument("reference", metavar="ACTIVITY")
@inventory_option("Extra inventory file; repeatable.")
@format_option("table", "json", default="table")
def data_show(reference, inventories, fmt):
    """One dataset: source, quality, exchanges and per-unit scores."""
    from cfp_engine.render.data_views import describe_activity
    from cfp_engine.render.tables import render_activity
    from cfp_engine.store.access import open_store

    check_paths(inventories=inventories)
    details = describe_activity(open_store(inventories), reference)
    if fmt == "json":
        click.echo(dump_json(details, what=reference, indent=2, ensure_ascii=False))
    else:
        click.echo(render_activity(details))


@data.command("import")
@click.argument("path", metavar="PATH")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(FORMATS),
    help="ecospold2 (folder, .spold or .zip), simapro-csv, olca-jsonld (folder or .zip), "
    "excel or csv (Brightway formats), pact (supplier PACT v2/v3 footprints, JSON).",
)
@click.option("--name", required=True, help="Database name; references are NAME::activity.")
@click.option(
    "--flow-map",
    "flow_map",
    default=None,
    metavar="FILE.csv",
    help="Map elementary flows onto biosphere3 (source_name, source_categories, "
    "source_unit, target_name, target_categories, target_unit).",
)
@click.option(
    "--allow-unlinked",
    is_flag=True,
    help="Drop exchanges that cannot be linked (recorded in every result's provenance).",
)
@click.option(
    "--allocation",
    default=None,
    metavar="PROPERTY",
    help="ecospold2: split each multi-output dataset into one activity per co-product, "
    "inputs and emissions shared by amount x PROPERTY (a property the file gives every "
    "product: price, true value relation, dry mass, ...).",
)
@click.option(
    "--skip-invalid",
    "skip_invalid",
    is_flag=True,
    help="ecospold2, SimaPro CSV: leave out the datasets that cannot be scored per unit of "
    "product (no product; multi-output without --allocation) and list them, instead of "
    "refusing the file; inputs from them become unlinked.",
)
@click.option(
    "--schema-dir",
    "schema_dir",
    default=None,
    metavar="DIR",
    help="pact: also validate against the official PACT OpenAPI files in DIR "
    "(v2/openapi-2.3.3.yaml, v3/openapi-3.0.3.yaml).",
)
@click.option(
    "--report-format",
    "report_fmt",
    type=click.Choice(("table", "json")),
    default="table",
    help="The import report as text or JSON.",
)
def data_import(
    path, fmt, name, flow_map, allow_unlinked, allocation, skip_invalid, schema_dir, report_fmt
):
    """Import a database (ecospold2, SimaPro CSV, openLCA JSON-LD, Excel/CSV) or supplier
    PACT footprints (references NAME::<productId> or NAME::<footprint id>) into the store."""
    from cfp_engine.store.imports import import_database

    check_input_path(path, what="database file or folder", option="PATH", folder_ok=True)
    if flow_map is not None:
        check_input_path(flow_map, what="flow map file", option="--flow-map")
    report = import_database(
        path,
        format=fmt,
        name=name,
        flow_map=flow_map,
        allow_unlinked=allow_unlinked,
        allocation=allocation,
        skip_invalid=skip_invalid,
        schema_dir=schema_dir,
    )
    if report_fmt == "json":
        click.echo(dump_json(report.to_dict(), what=path, indent=2, ensure_ascii=False))
    else:
        click.echo(in_cli_terms(report.render()))


@data.command("list")
@format_option("table", "json", default="table")
def data_list(fmt):
    """The imported databases: format, source hash, size, activities, import date."""
    from cfp_engine.store.registry import list_databases

    rows = list_databases()
    if fmt == "json":
        click.echo(dump_json(rows, what="cfp data list", indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No imported databases (cfp data import PATH --format ... --name NAME).")
        return
    header = f"{'name':<20} {'format':<12} {'activities':>10} {'size':>12}  sha256"
    click.echo(f"{header}        imported")
    for row in rows:
        click.echo(
            f"{row['name']:<20} {row['format']:<12} {row['activities']:>10} "
            f"{row['size_bytes']:>12}  {row['sha256'][:12]}  {row['imported_at']}"
            + (f"  ({row['dropped_unlinked']} unlinked dropped)" if row["dropped_unlinked"] else "")
            + (f"  (allocated by {row['allocation']!r})" if row["allocation"] else "")
            + (f"  ({len(row['skipped'])} dataset(s) skipped)" if row["skipped"] else "")
            + (
                f"  ({row['uncharacterised']} uncharacterised elementary exchanges left out)"
                if row.get("uncharacterised")
                else ""
            )
        )


@data.command("remove")
@click.argument("name", metavar="NAME")
def data_remove(name):
    """Remove an imported database from the store."""
    from cfp_engine.store.registry import remove_database

    remove_database(name)
    click.echo(f"Removed {name}", err=True)
