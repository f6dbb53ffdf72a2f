#!/usr/bin/env python3
"""Monte Carlo speed: the engine against bw2calc's own sampling loop, side by side.

1. Built-in data: 10,000 iterations of a product with 3 variants (4 demands, common
   random numbers), wall clock including reading the background from Brightway.
2. The same background: iterations per second of the engine's sampler against
   bw2calc's ``LCA(demand, method, use_distributions=True)``, ``lci(); lcia()``,
   then ``next(lca)`` per iteration (the same matrices and distributions).
3. An ecoinvent-size synthetic system (benchmarks/solver_choice.py's generator, ~21,000
   activities, ~300,000 technosphere entries; 10 % of entries lognormal): the engine's
   rate (preconditioned fixed-point iteration on the mean SuperLU factorisation)
   against bw2calc's.

Usage::

    python benchmarks/mc_speed.py            # all three (a few minutes)
    python benchmarks/mc_speed.py --skip-large
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bw_processing import UNCERTAINTY_DTYPE

SPEC = """
product: {id: can, name: Aluminium can 350 mL, declared_unit: 1 piece, geography: JP}
components:
  - {id: body, material: aluminium, mass: 11.0 g ± 3 %, recycled_content: 50 % ± 5 %}
  - {id: lid, material: aluminium, mass: 2.5 g ± 3 %}
stages:
  production:
    - activity: "electricity, grid, JP"
      amount: {amount: 0.02 kWh, distribution: lognormal, gsd: 1.3}
    - {activity: "heat, natural gas", amount: 0.05 MJ}
  distribution:
    - {activity: "transport, lorry", amount: 13.5 kg*km}
variants:
  recycled-90: {components: {body: {recycled_content: 90 % ± 5 %}}}
  virgin: {components: {body: {recycled_content: 0 %}}}
  light: {components: {body: {mass: 10.0 g ± 3 %}}}
"""


def _quiet_brightway():
    from cfp_engine.store.session import open_brightway

    return open_brightway()


def builtin(iterations: int, bw2calc_iterations: int) -> None:
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.access import open_store
    from cfp_engine.store.build_cache import scores_dir
    from cfp_engine.store.queries import load_background
    from cfp_engine.store.sampled_scores import sample_scores
    from cfp_engine.uncertainty.analysis import sample_footprints

    table = open_store()
    for cached in scores_dir(table.manifest["project"]).glob("background-*.npz"):
        cached.unlink()  # time the first read through bw2calc too
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "can.yaml"
        path.write_text(SPEC, encoding="utf-8")
        spec = load_spec(path)
        calculator = FootprintCalculator(table=table)
        pairs = [(spec, None)] + [(spec, v) for v in spec.variant_names]
        start = time.perf_counter()
        results = sample_footprints(pairs, calculator, iterations=iterations, seed=1)
        first = time.perf_counter() - start
        start = time.perf_counter()
        sample_footprints(pairs, calculator, iterations=iterations, seed=1)
        warm = time.perf_counter() - start
    print(f"== 1. Built-in data ({len(table.activities)} activities), product + 3 variants")
    print(f"  {iterations:,} iterations x 4 demands: {first:.2f} s (incl. reading the matrices")
    print(f"  through bw2calc), {warm:.2f} s with the cached arrays; target <= 20 s")
    for r in results[1:]:
        p = float(np.mean(r.total < results[0].total))
        print(f"  {r.result.variant:12} P(< base) = {p:.3f}")

    system = load_background(table, calculator.method.name)
    start = time.perf_counter()
    sample_scores(system, system.activity_rows, iterations, seed=2)
    engine_rate = iterations / (time.perf_counter() - start)

    demand = {}
    for item in results[0].result.line_items:
        demand[item.activity] = demand.get(item.activity, 0.0) + item.amount
    with _quiet_brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        index = {a.reference: a for a in table.activities}
        nodes = {}
        for reference, amount in demand.items():
            info = index[reference]
            node = bd.get_node(database=info.database, code=info.code)
            nodes[node.id] = nodes.get(node.id, 0.0) + amount
        method = calculator.method.brightway_name("total")
        lca = bc.LCA(nodes, method=method, use_distributions=True, seed_override=3)
        lca.lci()
        lca.lcia()
        start = time.perf_counter()
        for _ in range(bw2calc_iterations):
            next(lca)
        bw_rate = bw2calc_iterations / (time.perf_counter() - start)
    print("== 2. Same background, iterations per second")
    print(f"  engine (all {system.size} activity scores per iteration): {engine_rate:12,.0f} it/s")
    print(f"  bw2calc next(lca), one demand:               {bw_rate:12,.0f} it/s")
    print(f"  ratio: {engine_rate / bw_rate:,.0f}x (target >= 20x)")


def _synthetic_system(seed: int):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from solver_choice import generate_system

    from cfp_engine.store.sampled_scores import BackgroundSystem

    synthetic = generate_system("full", seed)
    rng = np.random.default_rng(seed + 1)

    def params(values, uncertain):
        out = np.zeros(values.size, dtype=UNCERTAINTY_DTYPE)
        out["loc"] = values
        for name in ("scale", "shape", "minimum", "maximum"):
            out[name] = np.nan
        out["uncertainty_type"][uncertain] = 2
        out["loc"][uncertain] = np.log(values[uncertain])
        out["scale"][uncertain] = rng.uniform(0.05, 0.25, uncertain.sum())  # GSD 1.05-1.28
        return out

    A, B = synthetic.A.tocoo(), synthetic.B.tocoo()
    tech_unc = (A.row != A.col) & (rng.random(A.nnz) < 0.10)
    bio_unc = rng.random(B.nnz) < 0.10
    system = BackgroundSystem(
        size=A.shape[0],
        tech_rows=A.row.astype(np.int64),
        tech_cols=A.col.astype(np.int64),
        tech_amounts=A.data.astype(np.float64),
        tech_params=params(np.abs(A.data), tech_unc),
        tech_flip=A.data < 0,
        bio_rows=B.row.astype(np.int64),
        bio_cols=B.col.astype(np.int64),
        bio_amounts=B.data.astype(np.float64),
        bio_params=params(B.data, bio_unc),
        bio_flip=np.zeros(B.nnz, dtype=bool),
        characterization=synthetic.c1,
        activity_rows=np.arange(A.shape[0]),
    )
    return system, A, B, synthetic.c1


def large(iterations: int, bw2calc_iterations: int, chunk: int) -> None:
    from cfp_engine.store.sampled_scores import BackgroundSampler

    start = time.perf_counter()
    system, A, B, c = _synthetic_system(20240501)
    print(f"== 3. Synthetic system: {system.size:,} activities, {A.nnz:,} technosphere and")
    print(
        f"  {B.nnz:,} biosphere entries, {system.uncertain_entries:,} lognormal "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )
    columns = np.random.default_rng(0).choice(system.size, 20, replace=False)
    start = time.perf_counter()
    sampler = BackgroundSampler(system, columns=columns, chunk=chunk)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    done = 0
    for block in range(10**6):
        count = min(chunk, iterations - done)
        if count <= 0:
            break
        sampler.scores_for_block(1, block, count)
        done += count
    elapsed = time.perf_counter() - start
    print(f"  engine: set-up (mean factorisation) {setup:.1f} s; {iterations} iterations in")
    print(
        f"  {elapsed:.1f} s = {iterations / elapsed:.2f} it/s (chunk {chunk}; "
        f"{sampler.sweeps / max(1, -(-iterations // chunk)):.1f} fixed-point steps per chunk, "
        f"{sampler.fallbacks} direct fallbacks)"
    )
    bw_rate = _bw2calc_large(system, bw2calc_iterations)
    print(f"  bw2calc next(lca): {bw_rate:.2f} it/s; ratio {iterations / elapsed / bw_rate:.1f}x")


def _bw2calc_large(system, iterations: int) -> float:
    import bw2calc as bc
    import bw_processing as bwp

    offset, flow_offset = 1_000_000, 5_000_000
    dp = bwp.create_datapackage(sum_intra_duplicates=True)
    idx = np.empty(system.tech_rows.size, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = offset + system.tech_rows, offset + system.tech_cols
    dp.add_persistent_vector(
        matrix="technosphere_matrix",
        name="technosphere",
        indices_array=idx,
        data_array=np.abs(system.tech_amounts).astype(np.float32),
        flip_array=system.tech_flip,
        distributions_array=system.tech_params,
    )
    idx = np.empty(system.bio_rows.size, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = flow_offset + system.bio_rows, offset + system.bio_cols
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        name="biosphere",
        indices_array=idx,
        data_array=system.bio_amounts.astype(np.float32),
        distributions_array=system.bio_params,
    )
    flows = np.flatnonzero(system.characterization)
    idx = np.empty(flows.size, dtype=bwp.INDICES_DTYPE)
    idx["row"] = idx["col"] = flow_offset + flows
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        name="cf",
        indices_array=idx,
        data_array=system.characterization[flows].astype(np.float32),
    )
    lca = bc.LCA({offset: 1.0}, data_objs=[dp], use_distributions=True, seed_override=1)
    lca.lci()
    lca.lcia()
    start = time.perf_counter()
    for _ in range(iterations):
        next(lca)
    return iterations / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--bw2calc-iterations", type=int, default=300)
    parser.add_argument("--large-iterations", type=int, default=64)
    parser.add_argument("--large-bw2calc-iterations", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=32, help="large system: chunk size")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="cfp-mc-bench-")
    os.environ.setdefault("CFP_ENGINE_HOME", home)
    print(f"mc_speed: engine store {os.environ['CFP_ENGINE_HOME']}; {os.cpu_count()} CPUs")
    builtin(args.iterations, args.bw2calc_iterations)
    if not args.skip_large:
        large(args.large_iterations, args.large_bw2calc_iterations, args.chunk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
