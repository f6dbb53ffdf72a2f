#!/usr/bin/env python3
"""Component results scale linearly: a spec with 10^3, 10^4 and 10^5 components.

Writes a spec with N aluminium/steel/PET components to a temporary folder, then times
``load_spec`` and ``FootprintCalculator.calculate`` (built-in data, cut-off) and the
JSON result, and prints the time per component. Linear work shows as a flat
"µs per component" column; a per-component scan of all line items made it
grow with N. Peak memory is the process's peak RSS after each size (it only grows,
so read it as "at most").

Usage::

    python benchmarks/components_scale.py               # 10^3, 10^4, 10^5
    python benchmarks/components_scale.py --sizes 1000 20000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

MATERIALS = ("aluminium", "steel", "PET")


def write_spec(path: Path, count: int) -> None:
    """A spec with ``count`` components (flow-style YAML, one line per component)."""
    lines = [
        "product: {id: many-parts, name: Many parts, declared_unit: 1 piece, geography: JP}",
        "components:",
    ]
    for i in range(count):
        material = MATERIALS[i % len(MATERIALS)]
        lines.append(
            f"  - {{id: c{i}, material: {material}, mass: {1 + i % 7}.5 g, "
            f"recycled_content: {i % 5 * 10} %}}"
        )
    lines += [
        "stages:",
        "  production:",
        '    - {activity: "electricity, grid, JP", amount: 0.02 kWh}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args(argv)
    os.environ.setdefault("CFP_ENGINE_HOME", tempfile.mkdtemp(prefix="cfp-bench-"))

    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.documents import iter_dump_json
    from cfp_engine.spec.product import load_spec

    calculator = FootprintCalculator()
    calculator.table_for()  # open (or build) the store outside the timings
    print(
        f"{'components':>10} {'load s':>8} {'calc s':>8} {'json s':>8} "
        f"{'µs/component':>13} {'peak RSS MiB':>13}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in args.sizes:
            path = Path(folder) / f"spec-{count}.yaml"
            write_spec(path, count)
            start = time.perf_counter()
            spec = load_spec(path)
            loaded = time.perf_counter()
            result = calculator.calculate(spec)
            calculated = time.perf_counter()
            document = result.to_dict()
            with open(Path(folder) / "result.json", "w", encoding="utf-8") as out:  # as cfp calc
                for piece in iter_dump_json(document, what=str(path), ensure_ascii=False):
                    out.write(piece)
            written = time.perf_counter()
            assert len(result.components) == count
            total = written - start
            print(
                f"{count:>10,} {loaded - start:>8.2f} {calculated - loaded:>8.2f} "
                f"{written - calculated:>8.2f} {total / count * 1e6:>13.1f} "
                f"{peak_rss_mib():>13.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
