"""Commands that calculate: ``calc``, ``compare`` and ``sweep``."""

from __future__ import annotations

import click

from cfp_engine.cli._base import (
    _calculation_options,
    _mc_options,
    _warn,
    check_paths,
    cli,
    format_option,
)
from cfp_engine.errors import SpecError
from cfp_engine.spec.documents import dump_json, iter_dump_json


@cli.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--variant", default=None, help="Name of a variant defined in the spec.")
@_calculation_options
@format_option("table", "json", "csv", default="table")
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
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.render.tables import render_csv, render_table
    from cfp_engine.spec.product import load_spec

    check_paths(
        documents=(("SPEC", "spec file", spec_path),),
        inventories=inventories,
        materials=materials,
        outputs={"--samples": samples_path},
    )
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
        document = result.to_dict()
        for piece in iter_dump_json(document, what=spec.source, indent=2, ensure_ascii=False):
            click.echo(piece, nl=False)
        click.echo()
    elif fmt == "csv":
        click.echo(render_csv(result), nl=False)
    else:
        click.echo(render_table(result))
    if check_brightway:
        _report_brightway_check(spec, result, inventories)


def _report_brightway_check(spec, result, inventories) -> None:
    from cfp_engine.store.access import open_store
    from cfp_engine.store.queries import lca_scores

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
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints
    from cfp_engine.uncertainty.output import render_mc_table, write_samples

    if mc is None:
        raise SpecError("--samples needs --mc N (the number of Monte Carlo iterations)")
    if fmt == "csv":
        raise SpecError("--mc prints a table or JSON; use --samples FILE.parquet for the samples")
    if samples_path is not None:
        _check_samples_kept(mc, "--samples")
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    (result,) = sample_footprints(
        [(spec, variant)], calculator, iterations=mc, seed=seed, approach=approach, workers=workers
    )
    _warn(result.result.warnings)
    # Encoded before anything is written: a figure that is not finite leaves no samples file.
    text = dump_json(result.to_dict(), what=spec.source, indent=2, ensure_ascii=False)
    if samples_path is not None:
        write_samples([result], samples_path)
        click.echo(f"Samples written to {samples_path}", err=True)
    if fmt == "json":
        click.echo(text)
    else:
        click.echo(render_mc_table(result))


@cli.command()
@click.argument("spec_paths", metavar="SPEC...", nargs=-1, required=True)
@_calculation_options(approach_all=True)
@format_option("table", "json", "csv", default="table")
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
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.engine.scenarios import compare_designs
    from cfp_engine.render.tables import render_comparison, render_comparison_csv
    from cfp_engine.spec.product import load_spec

    check_paths(
        documents=tuple(("SPEC", "spec file", path) for path in spec_paths),
        inventories=inventories,
        materials=materials,
        outputs={"--plot": plot_path},
    )
    if plot_path is not None and not plot_path.lower().endswith(".png"):
        raise SpecError(f"--plot {plot_path!r}: the plot is written as PNG; name a .png file")
    specs = [load_spec(path) for path in spec_paths]
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    if mc is not None or plot_path is not None:
        return _compare_mc(specs, calculator, approach, fmt, mc, seed, workers, plot_path)
    compared = compare_designs(specs, calculator, approach=approach)
    _warn(w for c in compared for w in c.result.warnings)
    if fmt == "json":
        documents = [c.to_dict() for c in compared]
        what = ", ".join(s.source for s in specs)
        click.echo(dump_json(documents, what=what, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(render_comparison_csv(compared), nl=False)
    else:
        click.echo(render_comparison(compared))


def _check_samples_kept(mc: int, option: str) -> None:
    """Refuse (before any work) an option that needs samples the run will not keep."""
    from cfp_engine.uncertainty.statistics import EXACT_LIMIT

    if mc > EXACT_LIMIT:
        raise SpecError(
            f"{option} needs every sample, which --mc keeps up to {EXACT_LIMIT:,} "
            f"iterations (above, only streamed statistics); use --mc {EXACT_LIMIT} or fewer"
        )


def _compare_mc(specs, calculator, approach, fmt, mc, seed, workers, plot_path):
    from cfp_engine.uncertainty.analysis import compare_with_uncertainty
    from cfp_engine.uncertainty.output import plot_distributions, render_mc_comparison

    if mc is None:
        raise SpecError("--plot needs --mc N (the number of Monte Carlo iterations)")
    if fmt == "csv":
        raise SpecError("--mc prints a table or JSON")
    if plot_path is not None:
        _check_samples_kept(mc, "--plot")
    documents, samples = compare_with_uncertainty(
        specs, calculator, iterations=mc, seed=seed, approach=approach, workers=workers
    )
    _warn(w for d in documents for w in d.get("warnings", []))
    if fmt == "json":
        what = ", ".join(s.source for s in specs)
        click.echo(dump_json(documents, what=what, indent=2, ensure_ascii=False))
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
@format_option("table", "json", "csv", default="table")
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
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.engine.scenarios import (
        parse_percent_range,
        recycled_content_for_target,
        sweep_recycled_content,
    )
    from cfp_engine.render.plots import plot_sweep
    from cfp_engine.render.tables import render_sweep, render_sweep_csv
    from cfp_engine.spec.product import load_spec
    from cfp_engine.spec.units import parse_share

    check_paths(
        documents=(("SPEC", "spec file", spec_path),),
        inventories=inventories,
        materials=materials,
        outputs={"--plot": plot_path},
    )
    spec = load_spec(spec_path)
    shares = parse_percent_range(recycled_range, where="--recycled-content")
    target_share = parse_share(target, where="--target") if target is not None else None
    if plot_path is not None and not plot_path.lower().endswith(".png"):
        raise SpecError(f"--plot {plot_path!r}: the plot is written as PNG; name a .png file")
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    points = sweep_recycled_content(
        spec, component_id, shares, calculator, approach=approach, variant=variant
    )
    _warn(w for p in points for w in p.warnings)
    answers = []
    if target_share is not None:
        answers = recycled_content_for_target(
            spec, component_id, target_share, calculator, points, variant=variant
        )
    if fmt == "json":
        click.echo(dump_json([p.to_dict() for p in points], what=spec.source, indent=2))
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
