"""``cfp batch``: score a catalogue."""

from __future__ import annotations

import sys

import click

from cfp_engine.cli._base import (
    _calculation_options,
    _warn,
    check_paths,
    cli,
    parameter_errors_as_flags,
)

# The library's parameter names, and the options that set them here.
FLAGS = {
    "chunk_rows": "--chunk-size",
    "workers": "--workers",
    "dask": "--dask",
    "resume": "--resume",
}


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
    type=click.IntRange(1),
    default=None,
    metavar="ROWS",
    help="Line items per chunk (default 500000); bounds the memory.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Processes scoring chunks.",
)
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
    from cfp_engine.batch import DEFAULT_CHUNK_ROWS, score_catalogue

    check_paths(
        inputs=(("CATALOGUE", "catalogue file", catalogue),),
        inventories=inventories,
        materials=materials,
        outputs={"--output": output},
        folders={"--work-dir": work_dir},
    )
    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        unit = "B" if catalogue.lower().endswith(".csv") else " rows"
        bar = tqdm(total=0, unit=unit, unit_scale=True, desc="cfp batch", file=sys.stderr)

    def on_progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with parameter_errors_as_flags(FLAGS):
        try:
            summary = score_catalogue(
                catalogue,
                output,
                method=method,
                approach=approach,
                inventories=inventories,
                materials=materials,
                chunk_rows=DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows,
                workers=workers,
                dask=dask_address,
                resume=resume,
                work_dir=work_dir,
                on_progress=on_progress if bar is not None else None,
            )
        finally:
            if bar is not None:
                bar.close()
    _warn(summary.warnings)
    if not quiet:
        resumed = f", {summary.resumed_chunks} chunk(s) resumed" if summary.resumed_chunks else ""
        click.echo(
            f"Scored {summary.products} products ({summary.errors} with errors) in "
            f"{summary.seconds:.1f} s{resumed}; written to {summary.output}",
            err=True,
        )
