"""Monte Carlo results for people and files: tables, histograms and Parquet samples."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cfp_engine.spec.product import STAGES
from cfp_engine.uncertainty.analysis import McResult, compare_statistics


def write_samples(results: Sequence[McResult], path: str | Path) -> None:
    """Write the samples as Parquet (long format, one row per product and iteration).

    Written atomically: a temporary file in the same folder, then renamed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    columns: dict[str, list] = {"product_id": [], "variant": [], "iteration": []}
    columns.update({"total_kg_co2e": []}, **{f"{s}_kg_co2e": [] for s in STAGES})
    for each in results:
        columns["product_id"].extend([each.result.product_id] * each.n)
        columns["variant"].extend([each.result.variant] * each.n)
        columns["iteration"].extend(range(each.n))
        columns["total_kg_co2e"].extend(each.total.tolist())
        for stage in STAGES:
            columns[f"{stage}_kg_co2e"].extend(each.stages[stage].tolist())
    table = pa.table(columns)
    seed = results[0].seed if results else None
    table = table.replace_schema_metadata(
        {"seed": str(seed), "iterations": str(len(columns["iteration"]))}
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plot_distributions(
    results: Sequence[McResult], path: str | Path, *, title: str, declared_unit: str
) -> None:
    """Histograms of each product's total and of each variant's difference to the base."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    panels = 2 if len(results) > 1 else 1
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.2), dpi=120, squeeze=False)
    axes = axes[0]
    low = min(np.percentile(r.total, 0.5) for r in results)
    high = max(np.percentile(r.total, 99.5) for r in results)
    bins = np.linspace(low, high, 60) if high > low else 30
    for each in results:
        label = each.result.variant or "base"
        axes[0].hist(each.total, bins=bins, histtype="step", linewidth=1.2, label=label)
        axes[0].axvline(each.result.total_kg_co2e, linestyle=":", linewidth=0.8)
    axes[0].set_xlabel(f"carbon footprint (kg CO2e per {declared_unit})")
    axes[0].set_ylabel("iterations")
    axes[0].set_title(f"{title} (n = {results[0].n}; dotted: deterministic)", fontsize="small")
    axes[0].legend(fontsize="small")
    if panels == 2:
        base = results[0]
        for each in results[1:]:
            stats = compare_statistics(base, each)
            axes[1].hist(
                each.total - base.total,
                bins=60,
                histtype="step",
                linewidth=1.2,
                label=f"{each.result.variant}: P(< base) = {stats['p_lower_than_base']:.3f}",
            )
        axes[1].axvline(0.0, color="black", linewidth=0.8)
        axes[1].set_xlabel(f"variant - base (kg CO2e per {declared_unit})")
        axes[1].set_ylabel("iterations")
        axes[1].set_title("paired differences (common random numbers)", fontsize="small")
        axes[1].legend(fontsize="small")
    figure.tight_layout()
    from cfp_engine.files.atomic import save_figure_atomically

    save_figure_atomically(figure, path)


def render_mc_table(result: McResult) -> str:
    """Deterministic value and MC statistics side by side, total and stages."""
    stats = result.statistics()
    r = result.result
    name = r.product_name + (f" [{r.variant}]" if r.variant else "")
    lines = [
        f"{name}: Monte Carlo, n = {stats['n']}, seed = {stats['seed']} "
        f"(kg CO2e per {r.declared_unit}, {r.method}, {r.approach})",
        f"{'':16} {'determ.':>11} {'mean':>11} {'median':>11} {'sd':>11} "
        f"{'p2.5':>11} {'p97.5':>11}",
    ]
    rows = [("total", {**stats, "deterministic": stats["deterministic"]})]
    rows += [(s, v) for s, v in stats["stages"].items() if v["deterministic"] or v["sd"]]
    if "per_kwh_delivered" in stats:
        rows.append(("per kWh deliv.", stats["per_kwh_delivered"]))
    for label, v in rows:
        lines.append(
            f"{label:16} {v['deterministic']:11.4g} {v['mean']:11.4g} {v['median']:11.4g} "
            f"{v['sd']:11.4g} {v['p2_5']:11.4g} {v['p97_5']:11.4g}"
        )
    return "\n".join(lines)


def render_mc_comparison(documents: Sequence[dict[str, Any]]) -> str:
    """One line per product: deterministic, median, 95 % interval, P(< base), reduction."""
    first = documents[0]
    lines = [
        f"Monte Carlo comparison, n = {first['mc']['n']}, seed = {first['mc']['seed']} "
        f"(kg CO2e per {first['declared_unit']}; paired draws)",
        f"{'product / variant':28} {'approach':15} {'determ.':>10} {'median':>10} "
        f"{'95 % interval':>23} {'P(<base)':>9} {'reduction, 95 % interval':>30}",
    ]
    for d in documents:
        mc = d["mc"]
        name = d["product_id"] + (f" [{d['variant']}]" if d["variant"] else "")
        interval = f"{mc['p2_5']:.4g} - {mc['p97_5']:.4g}"
        p = d.get("p_lower_than_base")
        reduction = mc.get("reduction_vs_base")
        red = (
            f"{reduction['mean']:.1%} ({reduction['p2_5']:.1%} - {reduction['p97_5']:.1%})"
            if reduction
            else "(reference)"
        )
        lines.append(
            f"{name[:28]:28} {d['approach']:15} {mc['deterministic']:10.4g} "
            f"{mc['median']:10.4g} {interval:>23} {'' if p is None else f'{p:.3f}':>9} {red:>30}"
        )
    return "\n".join(lines)
