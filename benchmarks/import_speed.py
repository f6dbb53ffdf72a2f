"""How long importing a ~20,000-activity ecospold2 database takes, and where it goes.

    python benchmarks/import_speed.py [N_ACTIVITIES] [--keep DIR]

Generates N (default 20,000) single-output ecospold2 datasets in the format's real
structure (tests/fixtures/make_databases.py's template): each produces one product from
two or three inputs of earlier datasets (so the technosphere matrix is triangular and
solvable) and emits CO2 and CH4. It imports them into a fresh engine home with
``cfp_engine.store.imports.import_database`` and prints the phases: bw2io extraction, strategies,
linking, writing (bw2data ``Database.write``, which also processes the matrices),
processing alone (a second ``Database.process()``), and the score-table solve. Then it
opens the store again and scores a demand, to show nothing is imported or solved twice.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fixtures"))

import make_databases as dbs  # noqa: E402


def generate(folder: Path, n: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        key = f"act{i}"
        dbs.ACT[key] = f"a{i:07d}-0000-4000-8000-000000000000"
        dbs.PRODUCT[key] = f"b{i:07d}-0000-4000-8000-000000000000"
        inputs = []
        if i:
            for j in rng.sample(range(i), k=min(i, rng.choice((2, 3)))):
                inputs.append(
                    (f"act{j}", f"product {j}", round(rng.uniform(0.01, 0.5), 4), "kg", dbs.KG)
                )
        emissions = [
            (dbs.CO2_FOSSIL, "Carbon dioxide, fossil", round(rng.uniform(0.1, 2.0), 4)),
            (dbs.CH4_FOSSIL, "Methane, fossil", round(rng.uniform(0.0, 0.01), 5)),
        ]
        text = dbs._spold(
            key, f"activity {i}", f"product {i}", "kg", dbs.KG, "GLO", inputs, emissions
        )
        (folder / f"{dbs.ACT[key]}_{dbs.PRODUCT[key]}.spold").write_text(text, encoding="utf-8")
    return folder


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20_000
    work = Path(tempfile.mkdtemp(prefix="cfp-import-bench-"))
    os.environ["CFP_ENGINE_HOME"] = str(work / "home")
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import read_registry
    from cfp_engine.store.session import open_brightway

    started = time.perf_counter()
    folder = generate(work / "datasets", n)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"generated {n} datasets ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    open_store()
    print(f"built-in project (first use of the engine home): {time.perf_counter() - started:.1f} s")
    report = import_database(folder, format="ecospold2", name="bench")
    print(f"import of {report.activities} activities, {sum(report.exchanges.values())} exchanges:")
    for phase, seconds in report.seconds.items():
        print(f"  {phase:<12} {seconds:7.2f} s")
    with open_brightway() as bd:
        bd.projects.set_current(read_registry()["project"])
        started = time.perf_counter()
        bd.Database("bench").process()
        processing = time.perf_counter() - started
    print(f"  (of write: Database.process() alone {processing:.2f} s)")

    logger = logging.getLogger("cfp_engine")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    table = open_store()
    info = table.find(f"bench::activity {n - 1}")
    score = float(table.indicator("IPCC 2021 GWP100", "total")[info.index])
    seconds = time.perf_counter() - started
    print(
        f"calculation afterwards: open_store() + one score in {seconds:.3f} s (no 'Building' "
        f"line above: no re-import, no re-solve); {info.reference} = {score:.4f} kg CO2e"
    )


if __name__ == "__main__":
    main()
