"""How fast is ``cfp batch``, and against what? Prints figures; asserts nothing.

For each size (products, 10 line items each: 4 materials with recycled content, 6
activities over the built-in data) it generates a CSV catalogue and reports:

- ``cfp batch`` CSV -> Parquet end to end (a fresh ``python -m cfp_engine batch``
  process: start-up, scoring-model build, reading, scoring, writing), products/s and the
  peak resident memory of the process and its workers (``ru_maxrss``);
- (c) the time to just read the same CSV with ``pyarrow.csv.read_csv`` (all columns as
  text), and the ratio batch / read;
- (a) a per-product bw2calc loop (``LCA.lci(factorize=True)`` once, then
  ``lci(demand)`` + ``lcia()`` per product) on a sample of products, extrapolated;
- (b) bw2calc's ``FastScoresOnlyMultiLCA`` in its adjoint direction on the same sample,
  extrapolated (it needs pypardiso or scikit-umfpack; skipped without them).

The demands of the sampled products for (a) and (b) are the line items ``cfp calc``
builds (components allocated to virgin, recycled and end-of-life activities), built
before the clock starts.

Usage: ``python benchmarks/batch_speed.py [--sizes 1e4,1e5,1e6] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MATERIALS = ["pet", "hdpe", "pp", "steel", "aluminium", "glass", "cardboard", "paper"]
SHARES = ["", "0%", "10%", "25 %", "0.5", "30%", "75%", "100%"]
ACTIVITIES = [
    ("production", "electricity, grid, jp", "kWh"),
    ("production", "heat, natural gas", "MJ"),
    ("production", "electricity, grid, eu-27", "kWh"),
    ("distribution", "transport, lorry", "t*km"),
    ("distribution", "transport, container ship", "kg*km"),
    ("distribution", "transport, freight train", "t*km"),
    ("use", "electricity, grid, us", "kWh"),
    ("end_of_life", "landfill, pp", "kg"),
]
RAW_PER_PRODUCT, ACTIVITIES_PER_PRODUCT = 4, 6


def generate_catalogue(path: Path, n_products: int, *, seed: int = 1) -> None:
    """Write a catalogue of ``n_products`` x 10 line items, vectorised with pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    per = RAW_PER_PRODUCT + ACTIVITIES_PER_PRODUCT
    with pacsv.CSVWriter(str(path), _catalogue_schema()) as writer:
        for first in range(0, n_products, 100_000):
            count = min(100_000, n_products - first)
            n = count * per
            product = np.repeat(np.arange(first, first + count), per)
            slot = np.tile(np.arange(per), count)
            raw = slot < RAW_PER_PRODUCT
            material = rng.integers(len(MATERIALS), size=n)
            activity = rng.integers(len(ACTIVITIES), size=n)
            ids = pc.binary_join_element_wise(
                "P", pc.utf8_lpad(pa.array(product).cast("string"), 8, "0"), ""
            )
            stages = np.array(["raw_materials"] + [a[0] for a in ACTIVITIES], dtype=object)
            refs = np.array(MATERIALS + [a[1] for a in ACTIVITIES], dtype=object)
            units = np.array(["kg"] + [a[2] for a in ACTIVITIES], dtype=object)
            items = np.array(["", "c0", "c1", "c2", "c3"], dtype=object)
            stage_code = np.where(raw, 0, 1 + activity)
            amount = np.round(rng.uniform(0.001, 5.0, size=n), 6)
            share = np.where(raw, rng.integers(len(SHARES), size=n), 0)
            table = pa.table(
                {
                    "product_id": ids,
                    "stage": pa.array(stages[stage_code], pa.string()),
                    "item": pa.array(items[np.where(raw, slot + 1, 0)], pa.string()),
                    "ref": pa.array(
                        refs[np.where(raw, material, len(MATERIALS) + activity)], pa.string()
                    ),
                    "amount": pa.array(amount).cast(pa.string()),
                    "unit": pa.array(units[stage_code], pa.string()),
                    "recycled_content": pa.array(
                        np.array(SHARES, dtype=object)[share], pa.string()
                    ),
                }
            )
            writer.write_table(table)


def _catalogue_schema():
    import pyarrow as pa

    names = ["product_id", "stage", "item", "ref", "amount", "unit", "recycled_content"]
    return pa.schema([(name, pa.string()) for name in names])


_CHILD = """
import json, resource, sys, time
from cfp_engine.batch import score_catalogue
started = time.perf_counter()
summary = score_catalogue(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]))
elapsed = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": elapsed, "products": summary.products, "errors": summary.errors,
                  "maxrss_kb": own, "children_maxrss_kb": children}))
"""


def run_batch(catalogue: Path, output: Path, workers: int) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(catalogue), str(output), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - started
    return figures


def time_pyarrow_read(catalogue: Path) -> float:
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    options = pacsv.ConvertOptions(column_types=_catalogue_schema(), strings_can_be_null=False)
    table = pacsv.read_csv(catalogue, convert_options=options)
    elapsed = time.perf_counter() - started
    del table
    return elapsed


def sample_demands(catalogue: Path, n: int) -> list[dict]:
    """The demands (activity index -> amount) of the first ``n`` products, via cfp calc."""
    import pyarrow.csv as pacsv

    from cfp_engine.core import FootprintCalculator
    from cfp_engine.spec import spec_from_dict

    per = RAW_PER_PRODUCT + ACTIVITIES_PER_PRODUCT
    options = pacsv.ConvertOptions(column_types=_catalogue_schema(), strings_can_be_null=False)
    rows = pacsv.read_csv(catalogue, convert_options=options).slice(0, n * per).to_pylist()
    calculator = FootprintCalculator()
    table = calculator.table_for()
    index = {a.reference: a.index for a in table.activities}
    demands = []
    for p in range(n):
        items = rows[p * per : (p + 1) * per]
        components, stages = [], {}
        for row in items:
            if row["stage"] == "raw_materials":
                component = {
                    "id": row["item"],
                    "material": row["ref"],
                    "mass": f"{row['amount']} {row['unit']}",
                    "recycled_content": row["recycled_content"] or 0.0,
                }
                components.append(component)
            else:
                stages.setdefault(row["stage"], []).append(
                    {"activity": row["ref"], "amount": f"{row['amount']} {row['unit']}"}
                )
        spec = spec_from_dict(
            {
                "product": {"id": "p", "name": "p", "declared_unit": "1 piece"},
                "components": components,
                "stages": stages,
            }
        )
        demand: dict[int, float] = {}
        for item in calculator.calculate(spec).line_items:
            key = index[item.activity]
            demand[key] = demand.get(key, 0.0) + item.amount
        demands.append(demand)
    return demands


def time_lca_loop(demands: list[dict]) -> tuple[float, float | str]:
    """Seconds per product of a bw2calc LCA loop; and of FastScoresOnlyMultiLCA (adjoint)."""
    from cfp_engine.core import FootprintCalculator
    from cfp_engine.store import _brightway

    calculator = FootprintCalculator()
    table = calculator.table_for()
    method = calculator.method.brightway_name("total")
    with _brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        node_id = {
            a.index: bd.get_node(database=a.database, code=a.code).id for a in table.activities
        }
        by_node = [{node_id[k]: v for k, v in d.items()} for d in demands]
        lca = bc.LCA(by_node[0], method=method)
        lca.lci(factorize=True)
        lca.lcia()
        started = time.perf_counter()
        for demand in by_node:
            lca.lci(demand)
            lca.lcia()
            _ = lca.score
        loop = (time.perf_counter() - started) / len(by_node)
        if not (bc.PYPARDISO or bc.UMFPACK):
            return loop, "skipped: FastScoresOnlyMultiLCA needs pypardiso or scikit-umfpack"
        try:
            functional_units = {f"p{k}": d for k, d in enumerate(by_node)}
            config = {"impact_categories": [method]}
            started = time.perf_counter()
            data_objs = bd.get_multilca_data_objs(functional_units, config)
            fast = bc.FastScoresOnlyMultiLCA(
                demands=functional_units,
                method_config=config,
                data_objs=data_objs,
                direction="adjoint",
            )
            fast.lci()
            fast.lcia()
            _ = fast.scores
            return loop, (time.perf_counter() - started) / len(by_node)
        except Exception as exc:  # noqa: BLE001 - report, do not stop the benchmark
            return loop, f"failed: {type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5", help="Products per catalogue, e.g. 1e4,1e6")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=500, help="Products in the LCA loop")
    parser.add_argument("--keep", default=None, help="Folder to keep the catalogues in")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    folder = Path(args.keep or tempfile.mkdtemp(prefix="cfp-batch-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"cpus {os.cpu_count()}, workers {args.workers}, folder {folder}")
    loop = fast = None
    for n in sizes:
        catalogue = folder / f"catalogue-{n}.csv"
        started = time.perf_counter()
        generate_catalogue(catalogue, n)
        size_mb = catalogue.stat().st_size / 1e6
        print(
            f"\n{n:,} products ({n * 10:,} line items, {size_mb:.0f} MB CSV), "
            f"generated in {time.perf_counter() - started:.1f} s"
        )
        if loop is None:
            demands = sample_demands(catalogue, min(args.sample, n))
            loop, fast = time_lca_loop(demands)
        read = time_pyarrow_read(catalogue)
        figures = run_batch(catalogue, folder / f"scores-{n}.parquet", args.workers)
        batch = figures["process_seconds"]
        peak = max(figures["maxrss_kb"], figures["children_maxrss_kb"]) / 1024
        print(
            f"  cfp batch CSV -> Parquet: {batch:.2f} s end to end "
            f"({figures['seconds']:.2f} s in score_catalogue), {n / batch:,.0f} products/s, "
            f"{figures['errors']} errors"
        )
        print(
            f"  peak memory: {figures['maxrss_kb'] / 1024:.0f} MB main process, "
            f"{figures['children_maxrss_kb'] / 1024:.0f} MB largest worker (max {peak:.0f} MB)"
        )
        print(
            f"  (c) pyarrow read_csv alone: {read:.2f} s; batch / read = {batch / read:.1f}x "
            f"(score_catalogue only: {figures['seconds'] / read:.1f}x)"
        )
        print(
            f"  (a) bw2calc LCA loop: {loop * 1e3:.2f} ms/product -> {loop * n:,.0f} s "
            f"extrapolated; batch is {loop * n / batch:,.0f}x faster"
        )
        if isinstance(fast, float):
            print(
                f"  (b) FastScoresOnlyMultiLCA adjoint: {fast * 1e6:.1f} us/product -> "
                f"{fast * n:.1f} s extrapolated; batch is {fast * n / batch:.1f}x faster"
            )
        else:
            print(f"  (b) {fast}")


if __name__ == "__main__":
    main()
