"""Wall time of one `cfp calc`, against a bare Brightway process and a numpy-only one.

Run: ``.venv/bin/python benchmarks/calc_startup.py [--repeat 7]``. Uses a temporary
engine home, so the first figure is a cold build of the built-in project from scratch.
Prints medians and the ratios the issue asks for (target: cfp calc <= 0.5 s and <= 1/3
of the bare Brightway process; first build <= 30 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pet-bottle.yaml"

BARE_BRIGHTWAY = """
import bw2data as bd, bw2calc as bc
bd.projects.set_current("cfp-builtin")
node = bd.get_node(database="cfp-builtin", name="PET, virgin")
lca = bc.LCA({node: 1}, method=("IPCC 2021", "climate change", "global warming potential (GWP100)"))
lca.lci(); lca.lcia()
print(lca.score)
"""

NUMPY_ONLY = """
import json, sys, numpy as np
home = sys.argv[1]
scores = np.load(home + "/scores/cfp-builtin/scores.npz")["IPCC 2021 GWP100"]
acts = json.load(open(home + "/scores/cfp-builtin/activities.json"))
index = {a["name"]: a["index"] for a in acts}
bom = {"PET, virgin": 0.0161, "PET, recycled": 0.0069, "HDPE, virgin": 0.0025,
       "electricity, grid, JP": 0.015, "transport, lorry": 0.0077}
print(sum(amount * scores[0, index[name]] for name, amount in bom.items()))
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def median_time(command: list[str], env: dict[str, str], repeat: int) -> float:
    return statistics.median(timed(command, env) for _ in range(repeat))


def import_breakdown(env: dict[str, str]) -> list[tuple[float, str]]:
    """The slowest top-level imports of a `cfp calc` (python -X importtime)."""
    completed = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "cfp_engine",
            "calc",
            str(EXAMPLE),
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if cumulative.isdigit() and not name.startswith(" ") and "." not in name.strip():
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cfp = [sys.executable, "-m", "cfp_engine"]
    with tempfile.TemporaryDirectory(prefix="cfp-bench-") as home:
        env = {
            **os.environ,
            "CFP_ENGINE_HOME": home,
            "BRIGHTWAY2_DIR": str(Path(home) / "brightway"),
        }
        (Path(home) / "brightway").mkdir()
        build = timed([*cfp, "data", "build"], env)
        calc = median_time([*cfp, "calc", str(EXAMPLE), "--format", "json"], env, args.repeat)
        calc_table = median_time([*cfp, "calc", str(EXAMPLE)], env, args.repeat)
        bare = median_time([sys.executable, "-c", BARE_BRIGHTWAY], env, max(3, args.repeat // 2))
        numpy_only = median_time([sys.executable, "-c", NUMPY_ONLY, home], env, args.repeat)
        python = median_time([sys.executable, "-c", "pass"], env, args.repeat)
        breakdown = import_breakdown(env)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.repeat}")
    print(f"{'first build of the built-in project':<52}{build:8.2f} s   (target <= 30 s)")
    print(f"{'cfp calc --format json (warm store)':<52}{calc:8.3f} s   (target <= 0.5 s)")
    print(f"{'cfp calc (table)':<52}{calc_table:8.3f} s")
    print(f"{'bare bw2data+bw2calc process, tiny LCA':<52}{bare:8.3f} s")
    print(f"{'numpy-only process scoring cached per-activity scores':<52}{numpy_only:8.3f} s")
    print(f"{'empty Python process':<52}{python:8.3f} s")
    print(f"ratio cfp calc / bare Brightway process: {calc / bare:.2f} (target <= 0.33)")
    print(f"ratio cfp calc / numpy-only process:     {calc / numpy_only:.2f}")
    print("slowest top-level imports in cfp calc (cumulative s):")
    for seconds, name in breakdown:
        print(f"  {name:<24}{seconds:6.3f}")


if __name__ == "__main__":
    main()
