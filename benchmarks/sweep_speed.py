"""A 21-point recycled-content sweep under all three approaches against one `cfp calc`.

Run: ``.venv/bin/python benchmarks/sweep_speed.py [--repeat 5]`` (the store must be
built, e.g. by ``make demo``; set CFP_ENGINE_HOME to use another one). Target: the sweep
costs no more than 3x a single calc of the same spec. Also prints the in-process
cost of one more footprint once the data are open, and the cost of drawing the plot.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pet-bottle.yaml"


def wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process_footprints(n: int) -> float:
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import load_spec

    spec = load_spec(EXAMPLE)
    calculator = FootprintCalculator()
    calculator.calculate(spec)  # opens the data
    start = time.perf_counter()
    for i in range(n):
        calculator.calculate(spec, approach=("cut-off", "avoided-burden", "cff")[i % 3])
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cfp = [sys.executable, "-m", "cfp_engine"]
    subprocess.run([*cfp, "data", "build"], check=True, stdout=subprocess.DEVNULL)
    calc = wall([*cfp, "calc", str(EXAMPLE), "--format", "json"], args.repeat)
    sweep = [
        *cfp,
        "sweep",
        str(EXAMPLE),
        "--component",
        "body",
        "--recycled-content",
        "0:100:5",
        "--approach",
        "all",
        "--format",
        "json",
    ]
    sweep_time = wall(sweep, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        plot_time = wall([*sweep, "--plot", str(Path(tmp) / "s.png")], args.repeat)
    per_footprint = in_process_footprints(300)
    print(f"medians of {args.repeat} runs, whole processes")
    print(f"{'cfp calc (one footprint)':<48}{calc:8.3f} s")
    print(f"{'cfp sweep, 21 points x 3 approaches (63)':<48}{sweep_time:8.3f} s")
    print(f"{'  the same with --plot (matplotlib)':<48}{plot_time:8.3f} s")
    print(f"{'one more footprint in-process, data open':<48}{per_footprint * 1000:8.2f} ms")
    print(f"ratio sweep / calc: {sweep_time / calc:.2f} (target <= 3)")
    print(f"ratio sweep with plot / calc: {plot_time / calc:.2f}")


if __name__ == "__main__":
    main()
