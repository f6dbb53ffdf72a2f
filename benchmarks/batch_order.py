"""``cfp batch`` on a grouped catalogue against the same catalogue shuffled. Prints figures.

For each size it writes the catalogue of ``batch_speed.py`` (10 line items a product,
each product's rows adjacent), then the same rows in a random order (a seeded
permutation of all the rows, as a join or a sort by material leaves them), and scores
both, each in a fresh process (``score_catalogue`` CSV -> Parquet, one worker), with:

- the time in ``score_catalogue`` and of the whole process;
- the peak resident memory of the process (``VmHWM``);
- the number of chunks (for the shuffled file: the hash partitions it was spilled into);
- the ratio shuffled / grouped of the time, and of the memory.

Both outputs hold the same products with the same numbers (checked on the totals to
1e-12 relative: a product's rows summed in another order may differ in the last bits).

Usage: ``python benchmarks/batch_order.py [--sizes 1e5,1e6] [--keep DIR]``.

Measured on the 2-core machine while other jobs kept its load average at 3-5 (so the
wall-clock seconds are up to 2-3x those of an idle machine and vary from run to run;
the CPU seconds are steadier), score_catalogue including the scoring model build
(~1 s). One run:

==========  ========  ================  ================  ===========  ============
products    order     seconds           CPU seconds       peak memory  chunks
==========  ========  ================  ================  ===========  ============
10^5        grouped   3.58              1.97              437 MB       3
10^5        shuffled  4.28 (1.20x)      2.28 (1.16x)      362 MB       3 partitions
10^6        grouped   10.73             7.42              533 MB       21
10^6        shuffled  21.50 (2.00x)     12.24 (1.65x)     423 MB       25 partitions
==========  ========  ================  ================  ===========  ============

Four runs at 10^6 after the last optimisations: shuffled / grouped 1.49x, 1.69x, 1.89x and
2.00x in seconds, 1.56-1.70x in CPU seconds; at 10^5 0.87-1.65x. Totals agree to
6e-16 relative. The spill pass (hash, scatter, write ~830 MB, fsync) is most of the
difference; memory is one partition at a time, lower than the grouped run's two chunks.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_speed import _catalogue_schema, generate_catalogue  # noqa: E402

_CHILD = """
import json, sys, time
from cfp_engine.batch.run import score_catalogue
started, cpu = time.perf_counter(), time.process_time()
summary = score_catalogue(sys.argv[1], sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "products": summary.products,
                  "errors": summary.errors, "chunks": summary.chunks, "maxrss_kb": own}))
"""


def shuffle_catalogue(source: Path, target: Path, *, seed: int = 2) -> None:
    """The rows of ``source`` in a seeded random order (read whole: a benchmark helper)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.ConvertOptions(column_types=_catalogue_schema(), strings_can_be_null=False)
    table = pacsv.read_csv(source, convert_options=options)
    order = np.random.default_rng(seed).permutation(table.num_rows)
    table = table.take(pa.array(order))
    with pacsv.CSVWriter(str(target), table.schema) as writer:
        for first in range(0, table.num_rows, 1_000_000):
            writer.write_table(table.slice(first, 1_000_000))


def run(catalogue: Path, output: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(catalogue), str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - started
    return figures


def main() -> None:
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="Products per catalogue")
    parser.add_argument("--keep", default=None, help="Folder to keep the files in")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="cfp-batch-order-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, folder {folder}")
    print("score_catalogue includes building the scoring model from the built-in store")
    # The first run in a new store builds the built-in project: keep it out of the figures.
    warm = folder / "warm-up.csv"
    generate_catalogue(warm, 10)
    run(warm, folder / "warm-up.parquet")
    for n in [int(float(s)) for s in args.sizes.split(",")]:
        grouped, shuffled = folder / f"grouped-{n}.csv", folder / f"shuffled-{n}.csv"
        if not (grouped.is_file() and shuffled.is_file()):
            generate_catalogue(grouped, n)
            shuffle_catalogue(grouped, shuffled)
        size_mb = grouped.stat().st_size / 1e6
        print(f"\n{n:,} products ({n * 10:,} line items, {size_mb:.0f} MB CSV)")
        figures = {}
        for name, source in (("grouped", grouped), ("shuffled", shuffled)):
            out = folder / f"scores-{name}-{n}.parquet"
            figures[name] = f = run(source, out)
            print(
                f"  {name:8}: {f['seconds']:.2f} s in score_catalogue "
                f"({f['cpu_seconds']:.2f} s CPU; {f['process_seconds']:.2f} s process), "
                f"{n / f['seconds']:,.0f} products/s, "
                f"peak {f['maxrss_kb'] / 1024:.0f} MB, {f['chunks']} chunks"
                f"{' (partitions)' if name == 'shuffled' else ''}, {f['errors']} errors"
            )
        g, s = figures["grouped"], figures["shuffled"]
        print(
            f"  shuffled / grouped: time {s['seconds'] / g['seconds']:.2f}x "
            f"(CPU {s['cpu_seconds'] / g['cpu_seconds']:.2f}x, "
            f"process {s['process_seconds'] / g['process_seconds']:.2f}x), "
            f"peak memory {s['maxrss_kb'] / g['maxrss_kb']:.2f}x"
        )
        a = pq.read_table(
            folder / f"scores-grouped-{n}.parquet", columns=["product_id", "total_kg_co2e"]
        )
        b = pq.read_table(
            folder / f"scores-shuffled-{n}.parquet", columns=["product_id", "total_kg_co2e"]
        )
        a, b = a.sort_by("product_id"), b.sort_by("product_id")
        assert a["product_id"].equals(b["product_id"]), "not the same products"
        ta, tb = a["total_kg_co2e"].to_numpy(), b["total_kg_co2e"].to_numpy()
        worst = float(np.max(np.abs(ta - tb) / np.maximum(np.abs(ta), 1e-300)))
        print(f"  same {len(ta):,} products; totals agree to {worst:.1e} relative")
        for path in (grouped, shuffled):
            if not args.keep:
                path.unlink()


if __name__ == "__main__":
    main()
