"""The ``cfp`` command line: each command parses options, calls the library, prints.

Errors: every :class:`~cfp_engine.errors.CfpError` is turned into ``Error: ...`` on
stderr and the class's exit code in one place (:meth:`CfpGroup.invoke`); ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import sys

import click

from . import __version__
from .errors import CfpError, SpecError

APPROACH_CHOICES = ("cut-off", "avoided-burden", "cff")
INTERNAL_ERROR_EXIT = 70


class CfpGroup(click.Group):
    """A group that turns library errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CfpError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: say so, without a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"Error: internal error ({type(exc).__name__}: {exc}); "
                "rerun with --debug for the traceback",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR_EXIT)


@click.group(cls=CfpGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks and Brightway build logs.")
@click.version_option(__version__, prog_name="cfp")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Carbon footprint of products (ISO 14067, PACT) by LCA on Brightway."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("cfp_engine")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


def _calculation_options(command=None, *, approach_all: bool = False):
    """The options shared by the calculating commands (contract section 1)."""
    choices = (*APPROACH_CHOICES, "all") if approach_all else APPROACH_CHOICES
    approach_help = "End-of-life allocation (default: the spec's, else cut-off)."
    if approach_all:
        approach_help += " 'all' shows the three approaches side by side."
    options = [
        click.option(
            "--inventory",
            "inventories",
            multiple=True,
            metavar="PATH",
            help="Extra inventory file (Brightway Excel/CSV); repeatable.",
        ),
        click.option(
            "--materials",
            "materials",
            multiple=True,
            metavar="PATH",
            help="Extra materials table (CSV); repeatable.",
        ),
        click.option(
            "--method",
            default=None,
            help="Impact method (default IPCC 2021 GWP100; AR5: 'IPCC 2013 GWP100').",
        ),
        click.option("--approach", type=click.Choice(choices), default=None, help=approach_help),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate(command) if command is not None else decorate


def _mc_options(function):
    """--mc N, --seed S, --workers W (Monte Carlo; see README, Uncertainty)."""
    function = click.option(
        "--workers",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="With --mc: worker processes (the samples do not depend on it).",
    )(function)
    function = click.option(
        "--seed",
        type=click.IntRange(0),
        default=None,
        help="With --mc: random seed (default: drawn, and reported so the run can be repeated).",
    )(function)
    return click.option(
        "--mc",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Monte Carlo with N iterations: data and spec uncertainty.",
    )(function)


@cli.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--variant", default=None, help="Name of a variant defined in the spec.")
@_calculation_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv")),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--check-brightway",
    is_flag=True,
    help="Also score the demand with a full bw2calc LCA and report the difference.",
)
@_mc_options
@click.option(
    "--samples",
    "samples_path",
    default=None,
    metavar="FILE.parquet",
    help="With --mc: write every sample (total and stages) to a Parquet file.",
)
def calc(
    spec_path,
    variant,
    inventories,
    materials,
    method,
    approach,
    fmt,
    check_brightway,
    mc,
    seed,
    workers,
    samples_path,
):
    """Carbon footprint of the product in SPEC (YAML or JSON)."""
    from .core import calculate_footprint
    from .report import render_csv, render_table
    from .spec import load_spec

    spec = load_spec(spec_path)
    if mc is not None or samples_path is not None:
        return _calc_mc(
            spec,
            variant,
            inventories,
            materials,
            method,
            approach,
            fmt,
            mc,
            seed,
            workers,
            samples_path,
        )
    result = calculate_footprint(
        spec,
        variant=variant,
        method=method,
        approach=approach,
        inventories=inventories,
        materials=materials,
    )
    _warn(result.warnings)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(render_csv(result), nl=False)
    else:
        click.echo(render_table(result))
    if check_brightway:
        _report_brightway_check(spec, result, inventories)


def _report_brightway_check(spec, result, inventories) -> None:
    from .store import lca_scores, open_store

    table = open_store([*spec.inventories, *inventories])
    index = {a.reference: a.index for a in table.activities}
    demand: dict[int, float] = {}
    for item in result.line_items:
        demand[index[item.activity]] = demand.get(index[item.activity], 0.0) + item.amount
    full = lca_scores(table, demand, result.method)
    difference = abs(full["total"] - result.total_kg_co2e)
    relative = difference / abs(full["total"]) if full["total"] else difference
    click.echo(
        f"bw2calc LCA of the same demand: {full['total']!r} kg CO2e "
        f"(engine {result.total_kg_co2e!r}; relative difference {relative:.2e})",
        err=True,
    )


def _calc_mc(
    spec, variant, inventories, materials, method, approach, fmt, mc, seed, workers, samples_path
):
    from .core import FootprintCalculator
    from .uncertainty_analysis import render_mc_table, sample_footprints, write_samples

    if mc is None:
        raise SpecError("--samples needs --mc N (the number of Monte Carlo iterations)")
    if fmt == "csv":
        raise SpecError("--mc prints a table or JSON; use --samples FILE.parquet for the samples")
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    (result,) = sample_footprints(
        [(spec, variant)], calculator, iterations=mc, seed=seed, approach=approach, workers=workers
    )
    _warn(result.result.warnings)
    if samples_path is not None:
        write_samples([result], samples_path)
        click.echo(f"Samples written to {samples_path}", err=True)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_mc_table(result))


def _warn(warnings) -> None:
    for note in dict.fromkeys(warnings):
        click.echo(f"Warning: {note}", err=True)


@cli.command()
@click.argument("spec_paths", metavar="SPEC...", nargs=-1, required=True)
@_calculation_options(approach_all=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv")),
    default="table",
    show_default=True,
)
@_mc_options
@click.option(
    "--plot",
    "plot_path",
    default=None,
    metavar="FILE.png",
    help="With --mc: draw the distributions and paired differences (PNG).",
)
def compare(
    spec_paths, inventories, materials, method, approach, fmt, mc, seed, workers, plot_path
):
    """The product and all its variants side by side (or several SPECs)."""
    from .core import FootprintCalculator
    from .design import compare_designs
    from .report import render_comparison, render_comparison_csv
    from .spec import load_spec

    specs = [load_spec(path) for path in spec_paths]
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    if mc is not None or plot_path is not None:
        return _compare_mc(specs, calculator, approach, fmt, mc, seed, workers, plot_path)
    compared = compare_designs(specs, calculator, approach=approach)
    _warn(w for c in compared for w in c.result.warnings)
    if fmt == "json":
        click.echo(json.dumps([c.to_dict() for c in compared], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(render_comparison_csv(compared), nl=False)
    else:
        click.echo(render_comparison(compared))


def _compare_mc(specs, calculator, approach, fmt, mc, seed, workers, plot_path):
    from .uncertainty_analysis import (
        compare_with_uncertainty,
        plot_distributions,
        render_mc_comparison,
    )

    if mc is None:
        raise SpecError("--plot needs --mc N (the number of Monte Carlo iterations)")
    if plot_path is not None and not plot_path.lower().endswith(".png"):
        raise SpecError(f"--plot {plot_path!r}: the plot is written as PNG; name a .png file")
    if fmt == "csv":
        raise SpecError("--mc prints a table or JSON")
    documents, samples = compare_with_uncertainty(
        specs, calculator, iterations=mc, seed=seed, approach=approach, workers=workers
    )
    _warn(w for d in documents for w in d.get("warnings", []))
    if fmt == "json":
        click.echo(json.dumps(documents, indent=2, ensure_ascii=False))
    else:
        click.echo(render_mc_comparison(documents))
    if plot_path is not None:
        first = samples[0].result
        group = [r for r in samples if r.result.approach == first.approach]
        plot_distributions(
            group, plot_path, title=first.product_name, declared_unit=first.declared_unit
        )
        click.echo(f"Plot written to {plot_path}", err=True)


@cli.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--component", "component_id", required=True, help="Id of the component to vary.")
@click.option(
    "--recycled-content",
    "recycled_range",
    default="0:100:10",
    show_default=True,
    help="START:STOP:STEP in percent, stop included.",
)
@click.option("--variant", default=None, help="Sweep a variant of the spec instead of the base.")
@_calculation_options(approach_all=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv")),
    default="table",
    show_default=True,
)
@click.option(
    "--plot", "plot_path", default=None, metavar="FILE.png", help="Draw the sweep with matplotlib."
)
@click.option(
    "--target",
    default=None,
    metavar="SHARE",
    help="Report the lowest recycled content reaching this reduction, e.g. 30%.",
)
def sweep(
    spec_path,
    component_id,
    recycled_range,
    variant,
    inventories,
    materials,
    method,
    approach,
    fmt,
    plot_path,
    target,
):
    """The footprint as one component's recycled content varies."""
    from .core import FootprintCalculator
    from .design import (
        parse_percent_range,
        plot_sweep,
        recycled_content_for_target,
        sweep_recycled_content,
    )
    from .report import render_sweep, render_sweep_csv
    from .spec import load_spec
    from .units import parse_share

    spec = load_spec(spec_path)
    shares = parse_percent_range(recycled_range)
    target_share = parse_share(target, where="--target") if target is not None else None
    if plot_path is not None and not plot_path.lower().endswith(".png"):
        raise SpecError(f"--plot {plot_path!r}: the plot is written as PNG; name a .png file")
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    points = sweep_recycled_content(
        spec, component_id, shares, calculator, approach=approach, variant=variant
    )
    answers = []
    if target_share is not None:
        answers = recycled_content_for_target(
            spec, component_id, target_share, calculator, points, variant=variant
        )
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in points], indent=2))
    elif fmt == "csv":
        click.echo(render_sweep_csv(points), nl=False)
    else:
        click.echo(render_sweep(points))
    for answer in answers:
        click.echo(f"Target: {answer.describe()}", err=fmt != "table")
    if plot_path is not None:
        product = spec.with_variant(variant)
        baselines = {}
        for each in dict.fromkeys(p.approach for p in points):
            baselines[each] = calculator.calculate(product, approach=each).virgin_baseline_kg_co2e
        plot_sweep(
            points,
            plot_path,
            title=f"{product.name}: recycled content of {component_id}",
            declared_unit=product.declared_unit,
            target=target_share,
            baselines=baselines,
        )
        click.echo(f"Plot written to {plot_path}", err=True)


@cli.command()
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("pact", "pact-v2", "catena-x", "json", "md", "html")),
    default="pact",
    show_default=True,
    help="pact (PACT v3), pact-v2, catena-x, json (the disclosure), md or html.",
)
@click.option(
    "-o",
    "--output",
    "output",
    default=None,
    metavar="FILE",
    help="Write the label here (default: standard output).",
)
@click.option("--variant", default=None, help="Label a variant defined in the spec.")
@_calculation_options
@click.option(
    "--lang",
    type=click.Choice(("en", "ja")),
    default="en",
    show_default=True,
    help="Language of the md/html label.",
)
@click.option(
    "--catena-x-version",
    default="9.0.0",
    show_default=True,
    help="Catena-X PCF aspect model version: 9.0.0 or 10.0.0 (release candidate).",
)
@click.option("--company-name", default=None, help="Overrides label.company_name.")
@click.option(
    "--company-id",
    "company_ids",
    multiple=True,
    metavar="URN",
    help="Overrides label.company_ids; repeatable.",
)
@click.option(
    "--product-id",
    "product_ids",
    multiple=True,
    metavar="URN",
    help="Overrides label.product_ids; repeatable.",
)
@click.option("--product-category-cpc", default=None, help="UN CPC code (PACT v2).")
@click.option(
    "--reference-period",
    default=None,
    metavar="START:END",
    help="Reference period, e.g. 2025-01-01:2025-12-31.",
)
@click.option(
    "--validity-period",
    default=None,
    metavar="START:END",
    help="Validity period (at most 3 years after the reference period).",
)
@click.option(
    "--created",
    default=None,
    metavar="ISO-8601",
    help="Creation time to record (default now); fixes it for reproducible labels.",
)
@click.option(
    "--mc",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="Monte Carlo with N iterations for the uncertainty statement.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=None,
    help="With --mc: random seed (default: drawn and recorded in the label).",
)
def label(
    spec_path,
    fmt,
    output,
    variant,
    inventories,
    materials,
    method,
    approach,
    lang,
    catena_x_version,
    company_name,
    company_ids,
    product_ids,
    product_category_cpc,
    reference_period,
    validity_period,
    created,
    mc,
    seed,
):
    """Labelling-ready disclosure of SPEC: PACT, Catena-X, or a readable label."""
    from datetime import datetime

    from .labels import make_disclosure, render_label, write_atomically
    from .spec import load_spec

    spec = load_spec(spec_path)
    created_at = None
    if created:
        try:
            created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise SpecError(f"--created {created!r} is not an ISO 8601 date-time") from None
        if created_at.tzinfo is None:
            raise SpecError(f"--created {created!r} needs a time zone, e.g. ...Z")
    facts = {
        "company_name": company_name,
        "company_ids": tuple(company_ids),
        "product_ids": tuple(product_ids),
        "product_category_cpc": product_category_cpc,
        "reference_period": reference_period,
        "validity_period": validity_period,
        "created": created_at,
    }
    disclosure = make_disclosure(
        spec,
        variant=variant,
        method=method,
        approach=approach,
        inventories=inventories,
        materials=materials,
        facts=facts,
        mc=mc,
        seed=seed,
    )
    _warn(disclosure.result.get("warnings", []))
    text = render_label(disclosure, fmt, lang=lang, catena_x_version=catena_x_version)
    if output:
        write_atomically(output, text)
        click.echo(f"Label written to {output}", err=True)
    else:
        click.echo(text)


@cli.command()
@click.argument("label_path", metavar="LABEL")
@click.option(
    "--spec",
    "spec_path",
    required=True,
    metavar="SPEC",
    help="The product spec the label was made from.",
)
@click.option(
    "--inventory",
    "inventories",
    multiple=True,
    metavar="PATH",
    help="Extra inventory file the spec needs; repeatable.",
)
@click.option(
    "--materials",
    "materials",
    multiple=True,
    metavar="PATH",
    help="Extra materials table the spec needs; repeatable.",
)
@click.option(
    "--schema-dir",
    default=None,
    metavar="DIR",
    help="Folder with the official schemas (e.g. PACT's v3/openapi-3.0.3.yaml) to "
    "validate against as well.",
)
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
@click.pass_context
def verify(ctx, label_path, spec_path, inventories, materials, schema_dir, fmt):
    """Re-compute LABEL from its spec and check figures, hashes, schema and rules.

    Exit code 0 when every check passes, 1 when one fails, 2 when the input is unusable.
    """
    from .spec import load_spec
    from .verify import verify_label

    report = verify_label(
        label_path,
        load_spec(spec_path),
        inventories=inventories,
        materials=materials,
        schema_dir=schema_dir,
    )
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Verification of {report.label} ({report.label_format})")
        for check in report.checks:
            click.echo(f"  [{check.status:>7}] {check.name}: {check.detail}")
        click.echo("RESULT: " + ("all checks pass" if report.passed else "FAILED"))
    if not report.passed:
        ctx.exit(1)


@cli.command()
@click.argument("catalogue", metavar="CATALOGUE")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    metavar="OUT",
    help="Scores file to write: .csv or .parquet (written whole, or not at all).",
)
@_calculation_options
@click.option(
    "--chunk-size",
    "chunk_rows",
    type=int,
    default=None,
    metavar="ROWS",
    help="Line items per chunk (default 500000); bounds the memory.",
)
@click.option("--workers", type=int, default=1, show_default=True, help="Processes scoring chunks.")
@click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="ADDRESS",
    help="Score on a Dask cluster: scheduler address (tcp://host:8786) or 'local'.",
)
@click.option("--resume", is_flag=True, help="Skip the chunks an interrupted run finished.")
@click.option(
    "--work-dir", default=None, metavar="DIR", help="Chunk results and manifest (default OUT.work)."
)
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def batch(
    catalogue,
    output,
    inventories,
    materials,
    method,
    approach,
    chunk_rows,
    workers,
    dask_address,
    resume,
    work_dir,
    quiet,
):
    """Score a catalogue of products (.csv or .parquet line items) into OUT."""
    from .batch import DEFAULT_CHUNK_ROWS, score_catalogue

    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        unit = "B" if catalogue.lower().endswith(".csv") else " rows"
        bar = tqdm(total=0, unit=unit, unit_scale=True, desc="cfp batch", file=sys.stderr)

    def on_progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        summary = score_catalogue(
            catalogue,
            output,
            method=method,
            approach=approach,
            inventories=inventories,
            materials=materials,
            chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS,
            workers=workers,
            dask=dask_address,
            resume=resume,
            work_dir=work_dir,
            on_progress=on_progress if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        resumed = f", {summary.resumed_chunks} chunk(s) resumed" if summary.resumed_chunks else ""
        click.echo(
            f"Scored {summary.products} products ({summary.errors} with errors) in "
            f"{summary.seconds:.1f} s{resumed}; written to {summary.output}",
            err=True,
        )


@cli.group(cls=CfpGroup)
def data():
    """The built-in data and the Brightway store."""


@data.command("status")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
def data_status(fmt):
    """Report what is built, where, and whether it is up to date."""
    from .store import store_status

    status = store_status()
    if fmt == "json":
        click.echo(json.dumps(status, indent=2))
        return
    manifest = status["manifest"] or {}
    state = (
        "up to date"
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


@data.command("build")
def data_build():
    """Build (or rebuild if changed) the built-in Brightway project now."""
    from .store import open_store

    table = open_store()
    click.echo(
        f"{table.manifest['project']}: {len(table.activities)} activities, "
        f"fingerprint {table.fingerprint[:16]}..."
    )


@data.command("materials")
@click.option(
    "--materials",
    "materials",
    multiple=True,
    metavar="PATH",
    help="Extra materials table (CSV); repeatable.",
)
@click.option(
    "--inventory",
    "inventories",
    multiple=True,
    metavar="PATH",
    help="Extra inventory file the tables refer to; repeatable.",
)
@click.option("--method", default=None, help="Impact method (default IPCC 2021 GWP100).")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table")
def data_materials(materials, inventories, method, fmt):
    """Virgin and recycled kg CO2e per kg of each material, and the reduction."""
    from .data_views import list_material_factors
    from .report import render_material_factors
    from .store import open_store

    rows = list_material_factors(open_store(inventories), materials=materials, method=method)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        click.echo(render_material_factors(rows, csv_format=fmt == "csv"), nl=fmt == "table")


@data.command("show")
@click.argument("reference", metavar="ACTIVITY")
@click.option(
    "--inventory",
    "inventories",
    multiple=True,
    metavar="PATH",
    help="Extra inventory file; repeatable.",
)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
def data_show(reference, inventories, fmt):
    """One dataset: source, quality, exchanges and per-unit scores."""
    from .data_views import describe_activity
    from .report import render_activity
    from .store import open_store

    details = describe_activity(open_store(inventories), reference)
    if fmt == "json":
        click.echo(json.dumps(details, indent=2, ensure_ascii=False))
    else:
        click.echo(render_activity(details))


@data.command("import")
@click.argument("path", metavar="PATH")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(("ecospold2", "simapro-csv", "olca-jsonld", "excel", "csv")),
    help="ecospold2 (folder, .spold or .zip), simapro-csv, olca-jsonld (folder or .zip), "
    "excel or csv (Brightway formats).",
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
    "--report-format",
    "report_fmt",
    type=click.Choice(("table", "json")),
    default="table",
    help="The import report as text or JSON.",
)
def data_import(path, fmt, name, flow_map, allow_unlinked, report_fmt):
    """Import a database (ecospold2, SimaPro CSV, openLCA JSON-LD, Excel/CSV) into the store."""
    from .user_store import import_database

    report = import_database(
        path, format=fmt, name=name, flow_map=flow_map, allow_unlinked=allow_unlinked
    )
    if report_fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.render())


@data.command("list")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
def data_list(fmt):
    """The imported databases: format, source hash, size, activities, import date."""
    from .user_store import list_databases

    rows = list_databases()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
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
        )


@data.command("remove")
@click.argument("name", metavar="NAME")
def data_remove(name):
    """Remove an imported database from the store."""
    from .user_store import remove_database

    remove_database(name)
    click.echo(f"Removed {name}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cfp")
