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
- (b) bw2calc's ``FastScoresOnlyMultiLCA`` in its adjoint direction on the same sample:
  its set-up (timed on 10 products) once plus its cost per further product times N (it
  needs pypardiso or scikit-umfpack; skipped without them).

The demands of the sampled products for (a) and (b) are the line items ``cfp calc``
builds (components allocated to virgin, recycled and end-of-life activities), built
before the clock starts.

``--background synthetic`` measures (a) and (b) where they matter, on an ecoinvent-size
background: the seeded synthetic system of ``benchmarks/solver_choice.py`` (~21,000
activities, ~300,000 technosphere and ~505,000 biosphere entries, 2,000 flows, one
GWP100-like method) as a bw_processing datapackage, and products that are random bills
of materials over it (~10 lines each, kg or g of random activities). In one process:

- the engine: bw2calc builds the matrices from the datapackage, ``cfp_engine.store.access``'s
  adjoint solve gives the per-unit score of every activity, a ``ScoringModel`` is made
  from them and ``score_catalogue`` scores the catalogue CSV -> Parquet;
- (a) the per-product loop on the same datapackage (``LCA.lci(factorize=True)`` once,
  then ``lci(demand)`` + ``lcia()`` per product) on ``--sample`` products, extrapolated;
- (b) ``FastScoresOnlyMultiLCA(direction="adjoint")`` on the same products' demands
  (built before its clock starts, so it is not charged for reading the catalogue); at
  most ``--fast-cap`` products, extrapolated linearly beyond that from its fixed cost
  (10 products) and its cost per product. It needs pypardiso (or scikit-umfpack); run
  the script from a venv that has it, e.g. ``python3 -m venv /tmp/benchvenv &&
  /tmp/benchvenv/bin/pip install -e . pypardiso``. The engine's solve then uses PARDISO
  too.

Scores of the sampled products from the three approaches are compared (float32 data
in the datapackage: agreement to ~1e-6 relative is all one can expect).

Usage: ``python benchmarks/batch_speed.py [--sizes 1e4,1e5,1e6] [--workers 2]
[--background synthetic]``.
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


# Peak memory of the batch process is its VmHWM: Linux carries ru_maxrss across exec, so
# a child's ru_maxrss starts at the RSS of the parent that forked it (here the parent
# has just read the whole CSV, ~0.9 GB at 10^6 products). Workers are forked from the
# batch process: their figure is at least its RSS when the pool starts (~0.25 GB).
_CHILD = """
import json, resource, sys, time
from cfp_engine.batch.run import score_catalogue
started = time.perf_counter()
summary = score_catalogue(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]))
elapsed = time.perf_counter() - started
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
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

    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import spec_from_dict

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


def time_lca_loop(demands: list[dict]) -> tuple[float, tuple[float, float, float] | str]:
    """Seconds per product of a bw2calc LCA loop; FastScoresOnlyMultiLCA's (adjoint) set-up
    seconds (10 products), seconds per further product and the share of those in
    ``get_multilca_data_objs``, or why it did not run."""
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.store.session import open_brightway

    calculator = FootprintCalculator()
    table = calculator.table_for()
    method = calculator.method.brightway_name("total")
    with open_brightway() as bd:
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
            config = {"impact_categories": [method]}
            seconds, data_seconds = [], []
            for count in (10, len(by_node)):
                functional_units = {f"p{k}": d for k, d in enumerate(by_node[:count])}
                started = time.perf_counter()
                data_objs = bd.get_multilca_data_objs(functional_units, config)
                data_seconds.append(time.perf_counter() - started)
                fast = bc.FastScoresOnlyMultiLCA(
                    demands=functional_units,
                    method_config=config,
                    data_objs=data_objs,
                    direction="adjoint",
                )
                _ = fast.calculate()  # LCI and LCIA are one step in this class
                seconds.append(time.perf_counter() - started)
            # Its set-up (data, factorisation) is paid once: extrapolate only the rest.
            per_product = max(seconds[1] - seconds[0], 0.0) / max(len(by_node) - 10, 1)
            data_share = (data_seconds[1] - data_seconds[0]) / max(seconds[1] - seconds[0], 1e-9)
            return loop, (seconds[0], per_product, data_share)
        except Exception as exc:  # noqa: BLE001 - report, do not stop the benchmark
            return loop, f"failed: {type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5", help="Products per catalogue, e.g. 1e4,1e6")
    parser.add_argument("--workers", type=int, default=1, help="cfp batch --workers")
    parser.add_argument("--sample", type=int, default=500, help="Products in the LCA loop")
    parser.add_argument("--keep", default=None, help="Folder to keep the catalogues in")
    parser.add_argument(
        "--background",
        choices=("builtin", "synthetic"),
        default="builtin",
        help="Score over the built-in data, or over an ecoinvent-size synthetic background",
    )
    parser.add_argument(
        "--fast-cap",
        type=int,
        default=100_000,
        help="Most products given to FastScoresOnlyMultiLCA (synthetic background)",
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic background")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    folder = Path(args.keep or tempfile.mkdtemp(prefix="cfp-batch-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"cpus {os.cpu_count()}, workers {args.workers}, folder {folder}")
    if args.background == "synthetic":
        run_synthetic(sizes, folder, sample=args.sample, fast_cap=args.fast_cap, seed=args.seed)
        return
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
        if isinstance(fast, tuple):
            fixed, per_product, data_share = fast
            fast_total = fixed + per_product * n
            print(
                f"  (b) FastScoresOnlyMultiLCA adjoint: {fixed:.2f} s set-up + "
                f"{per_product * 1e6:.1f} us/product ({data_share:.0%} of it in bw2data's "
                f"get_multilca_data_objs, part of its use on a project) -> {fast_total:.1f} s "
                f"extrapolated; batch is {fast_total / batch:.1f}x faster"
            )
        else:
            print(f"  (b) {fast}")


# -- an ecoinvent-size synthetic background ------------------------------------------------

LINES_PER_PRODUCT = 10
SYNTHETIC_STAGES = ["production", "distribution", "use", "end_of_life"]


def synthetic_products(n_products: int, n_activities: int, *, seed: int = 3) -> dict:
    """Random bills of materials: ``LINES_PER_PRODUCT`` lines of random activities each.

    Returns per line the product number, stage, activity, amount and unit ("kg" for
    three lines in four, else "g"), as numpy arrays.
    """
    rng = np.random.default_rng(seed)
    n = n_products * LINES_PER_PRODUCT
    return {
        "product": np.repeat(np.arange(n_products), LINES_PER_PRODUCT),
        "stage": rng.integers(len(SYNTHETIC_STAGES), size=n),
        "activity": rng.integers(n_activities, size=n),
        "amount": np.round(rng.lognormal(0.0, 1.0, size=n), 6),
        "grams": rng.random(n) < 0.25,
    }


def activity_name(index: np.ndarray | int):
    return np.char.add("act-", np.char.zfill(np.asarray(index).astype(str), 5))


def write_synthetic_catalogue(path: Path, lines: dict) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    with pacsv.CSVWriter(str(path), _catalogue_schema()) as writer:
        n = len(lines["product"])
        for first in range(0, n, 1_000_000):
            part = slice(first, min(first + 1_000_000, n))
            count = part.stop - part.start
            ids = pc.binary_join_element_wise(
                "S", pc.utf8_lpad(pa.array(lines["product"][part]).cast("string"), 8, "0"), ""
            )
            table = pa.table(
                {
                    "product_id": ids,
                    "stage": pa.array(np.array(SYNTHETIC_STAGES)[lines["stage"][part]]),
                    "item": pa.array([""] * count, pa.string()),
                    "ref": pa.array(activity_name(lines["activity"][part])),
                    "amount": pa.array(lines["amount"][part]).cast(pa.string()),
                    "unit": pa.array(np.where(lines["grams"][part], "g", "kg")),
                    "recycled_content": pa.array([""] * count, pa.string()),
                }
            )
            writer.write_table(table)


def synthetic_demands(lines: dict, products: np.ndarray, offset: int) -> list[dict]:
    """bw2calc demands {activity id: kg} of some products (duplicate activities summed)."""
    demands = []
    for p in products:
        rows = slice(int(p) * LINES_PER_PRODUCT, (int(p) + 1) * LINES_PER_PRODUCT)
        demand: dict[int, float] = {}
        kg = np.where(lines["grams"][rows], lines["amount"][rows] * 0.001, lines["amount"][rows])
        for activity, amount in zip(lines["activity"][rows], kg, strict=True):
            key = offset + int(activity)
            demand[key] = demand.get(key, 0.0) + float(amount)
        demands.append(demand)
    return demands


def engine_model(dp, method, n_activities: int, offset: int):
    """The engine's scoring model of the datapackage: matrices by bw2calc, one adjoint solve."""
    import warnings

    import bw2calc as bc

    from cfp_engine.batch.model import N_INDICATORS, ScoringModel
    from cfp_engine.store.references import ReferenceIndex
    from cfp_engine.store.score_solve import adjoint_solve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lca = bc.LCA({offset: 1.0}, method=method, data_objs=[dp])
        lca.load_lci_data()
        lca.load_lcia_data()
    factors = lca.characterization_matrix.diagonal()
    rhs = np.asarray(lca.biosphere_matrix.T @ factors)
    per_column, solver = adjoint_solve(lca.technosphere_matrix, rhs)
    columns = np.array([lca.dicts.product[offset + j] for j in range(n_activities)])
    scores = np.zeros((N_INDICATORS, n_activities))
    scores[0] = per_column[columns]  # the GHG sub-indicators are not scored here
    model = ScoringModel(
        method="synthetic GWP100",
        approach="cut-off",
        references=ReferenceIndex(
            ("synthetic", str(name), "GLO") for name in activity_name(range(n_activities))
        ),
        activity_units=["kilogram"] * n_activities,
        activity_scores=scores,
        material_index={},
        raw_base=np.zeros((0, N_INDICATORS)),
        raw_slope=np.zeros((0, N_INDICATORS)),
        end_of_life=np.zeros((0, N_INDICATORS)),
        fingerprint="synthetic",
    )
    return model, solver


def time_synthetic_loop(dp, method, demands: list[dict]) -> tuple[float, float, np.ndarray]:
    """(set-up seconds, seconds per product, scores) of the bw2calc per-product loop."""
    import warnings

    import bw2calc as bc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        lca = bc.LCA(demands[0], method=method, data_objs=[dp])
        lca.lci(factorize=True)
        lca.lcia()
        setup = time.perf_counter() - started
        scores = np.zeros(len(demands))
        started = time.perf_counter()
        for k, demand in enumerate(demands):
            lca.lci(demand)
            lca.lcia()
            scores[k] = lca.score
        per_product = (time.perf_counter() - started) / len(demands)
    return setup, per_product, scores


def time_synthetic_fast(dp, method, demands: list[dict]) -> tuple[float, np.ndarray]:
    """Seconds and scores of FastScoresOnlyMultiLCA (adjoint) on all ``demands``."""
    import warnings

    import bw2calc as bc

    functional_units = {f"p{k}": d for k, d in enumerate(demands)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        fast = bc.FastScoresOnlyMultiLCA(
            demands=functional_units,
            method_config={"impact_categories": [method]},
            data_objs=[dp],
            direction="adjoint",
        )
        scores = fast.calculate()  # [impact category, demand]; LCI and LCIA are one step
        elapsed = time.perf_counter() - started
    return elapsed, np.asarray(scores)[0]


def run_synthetic(sizes: list[int], folder: Path, *, sample: int, fast_cap: int, seed: int):
    import resource

    import bw2calc as bc

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import solver_choice

    from cfp_engine.batch.run import score_catalogue

    started = time.perf_counter()
    system = solver_choice.generate_system("full", seed)
    dp = solver_choice.build_datapackage(system)
    method = solver_choice.METHOD
    offset = solver_choice.ACTIVITY_ID_OFFSET
    n_activities = system.A.shape[0]
    print(
        f"synthetic background: {n_activities:,} activities, {system.A.nnz:,} technosphere "
        f"and {system.B.nnz:,} biosphere entries, {system.B.shape[0]:,} flows "
        f"(seed {seed}); generated in {time.perf_counter() - started:.1f} s"
    )
    solver_name = "PARDISO" if bc.PYPARDISO else ("UMFPACK" if bc.UMFPACK else "SuperLU")
    print(f"bw2calc {bc.__version__}, its solver: {solver_name}")

    started = time.perf_counter()
    model, engine_solver = engine_model(dp, method, n_activities, offset)
    solve = time.perf_counter() - started
    print(f"engine: matrices + adjoint solve ({engine_solver}): {solve:.2f} s, once")

    largest = max(sizes)
    lines = synthetic_products(largest, n_activities)
    rng = np.random.default_rng(5)
    sampled = np.sort(rng.choice(min(sizes), size=min(sample, min(sizes)), replace=False))
    setup, per_product, loop_scores = time_synthetic_loop(
        dp, method, synthetic_demands(lines, sampled, offset)
    )
    print(
        f"(a) bw2calc loop: set-up {setup:.2f} s, then {per_product * 1e3:.2f} ms/product "
        f"({len(sampled)} products)"
    )
    fast_fixed = None
    if bc.PYPARDISO or bc.UMFPACK:
        fast_fixed, _ = time_synthetic_fast(
            dp, method, synthetic_demands(lines, sampled[:10], offset)
        )
    for n in sizes:
        part = {key: value[: n * LINES_PER_PRODUCT] for key, value in lines.items()}
        catalogue = folder / f"synthetic-{n}.csv"
        write_synthetic_catalogue(catalogue, part)
        size_mb = catalogue.stat().st_size / 1e6
        print(f"\n{n:,} products ({n * LINES_PER_PRODUCT:,} line items, {size_mb:.0f} MB CSV)")
        output = folder / f"synthetic-scores-{n}.parquet"
        started = time.perf_counter()
        summary = score_catalogue(catalogue, output, model=model, workers=1)
        batch = time.perf_counter() - started
        engine = solve + batch
        read = time_pyarrow_read(catalogue)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  engine: {engine:.2f} s end to end = solve {solve:.2f} s + score_catalogue "
            f"{batch:.2f} s ({n / batch:,.0f} products/s, {summary.errors} errors); "
            f"pyarrow read_csv {read:.2f} s; peak memory so far {peak:,.0f} MB"
        )
        import pyarrow.parquet as pq

        totals = pq.read_table(output, columns=["total_kg_co2e"])["total_kg_co2e"].to_numpy()
        agree = np.max(np.abs(totals[sampled] / loop_scores - 1.0))
        loop_total = setup + per_product * n
        # The engine keeps the per-activity scores of a data set (the score table), so
        # a second catalogue over the same data costs score_catalogue alone.
        print(
            f"  (a) bw2calc loop: {loop_total:,.0f} s extrapolated; engine is "
            f"{loop_total / engine:,.0f}x faster with its solve, "
            f"{loop_total / batch:,.0f}x once the scores are cached "
            f"(scores agree to {agree:.1e} relative)"
        )
        if fast_fixed is None:
            print("  (b) skipped: FastScoresOnlyMultiLCA needs pypardiso or scikit-umfpack")
            continue
        count = min(n, fast_cap)
        fast_demands = synthetic_demands(lines, np.arange(count), offset)
        fast_seconds, fast_scores = time_synthetic_fast(dp, method, fast_demands)
        del fast_demands
        if count < n:
            per = max(fast_seconds - fast_fixed, 0.0) / (count - 10)
            fast_total, how = fast_fixed + per * n, f"extrapolated from {count:,} products"
        else:
            fast_total, how = fast_seconds, "measured"
        agree = np.max(np.abs(fast_scores[: len(totals)][:count] / totals[:count] - 1.0))
        print(
            f"  (b) FastScoresOnlyMultiLCA adjoint: {fast_total:.2f} s ({how}; fixed cost "
            f"{fast_fixed:.2f} s); engine is {fast_total / engine:.1f}x faster with its solve, "
            f"{fast_total / batch:.1f}x once the scores are cached "
            f"(scores agree to {agree:.1e} relative)"
        )


if __name__ == "__main__":
    main()
