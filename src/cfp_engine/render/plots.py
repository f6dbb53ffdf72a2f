"""Plots for people: the recycled-content sweep as a PNG.

matplotlib is imported inside the function, so importing this module stays cheap; the
Agg backend draws without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cfp_engine.engine.scenarios import SweepPoint
from cfp_engine.files.atomic import save_figure_atomically


def plot_sweep(
    points: Sequence[SweepPoint],
    path,
    *,
    title: str,
    declared_unit: str,
    target: float | None = None,
    baselines: dict[str, float] | None = None,
) -> None:
    """Draw the sweep (one line per approach) to a PNG; written atomically.

    Parameters
    ----------
    points
        The sweep, from :func:`cfp_engine.engine.scenarios.sweep_recycled_content`.
    path
        The PNG file to write.
    title
        The plot's title.
    declared_unit
        The declared unit, for the axis label (footprints are kg CO2e per it).
    target
        A reduction target as a share (0.3 = 30 % below the virgin baseline): drawn as one
        dashed line per approach that has a baseline.
    baselines
        The virgin-material footprint of each approach, kg CO2e per declared unit.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for approach in dict.fromkeys(p.approach for p in points):
        mine = [p for p in points if p.approach == approach]
        (line,) = axes.plot(
            [p.recycled_content * 100 for p in mine],
            [p.total_kg_co2e for p in mine],
            marker="o",
            markersize=3,
            label=approach,
        )
        baseline = (baselines or {}).get(approach)
        if target is not None and baseline:
            axes.axhline(
                (1 - target) * baseline,
                color=line.get_color(),
                linestyle="--",
                linewidth=1,
                label=f"{approach}: {target:.0%} below virgin baseline",
            )
    axes.set_xlabel(f"recycled content of {points[0].component} (%)")
    axes.set_ylabel(f"carbon footprint (kg CO2e per {declared_unit})")
    axes.set_title(title)
    axes.set_xlim(0, 100)
    axes.set_ylim(bottom=0)
    axes.grid(True, linewidth=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.tight_layout()
    save_figure_atomically(figure, path)
