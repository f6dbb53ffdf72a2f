"""Plain-text and CSV renderings of results for the terminal (no click here)."""

from __future__ import annotations

import csv
import io

from cfp_engine.engine.results import FootprintResult
from cfp_engine.spec.product import STAGES

STAGE_LABELS = {
    "raw_materials": "raw material acquisition",
    "production": "production",
    "distribution": "distribution",
    "use": "use",
    "end_of_life": "end of life",
}
GHG_LABELS = {"fossil": "fossil", "biogenic": "biogenic", "land_use_change": "land-use change"}


def format_kg(value: float) -> str:
    """kg CO2e with four significant digits, fixed-point where readable."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1e-6:
        decimals = max(0, 3 - int(f"{magnitude:e}".split("e")[1]))
        return f"{value:.{decimals}f}"
    return f"{value:.3e}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def render_table(result: FootprintResult) -> str:
    """A readable report: stages, components, GHG split, circularity."""
    lines = []
    title = f"{result.product_name} ({result.product_id})"
    if result.variant:
        title += f", variant {result.variant}"
    lines += [
        title,
        "=" * len(title),
        f"Declared unit: {result.declared_unit}    Method: {result.method}    "
        f"Approach: {result.approach}",
        "",
    ]
    total = result.total_kg_co2e
    rows = [(STAGE_LABELS[s], result.stages_kg_co2e[s]) for s in STAGES]
    lines.append(f"{'Life-cycle stage':<28}{'kg CO2e':>12}{'share':>10}")
    for label, value in rows:
        share = f"{value / total * 100:.1f} %" if total else "-"
        lines.append(f"{label:<28}{format_kg(value):>12}{share:>10}")
    lines.append(f"{'TOTAL':<28}{format_kg(total):>12}{'100.0 %' if total else '-':>10}")
    if result.components:
        lines += [
            "",
            f"{'Component':<16}{'material':<16}{'mass kg':>10}{'recycled':>10}"
            f"{'EoL recycled':>14}{'kg CO2e':>12}",
        ]
        for c in result.components:
            lines.append(
                f"{c.id:<16}{(c.material or '(explicit)'):<16}{c.mass_kg:>10.4g}"
                f"{_percent(c.recycled_content):>10}{_percent(c.eol_recycling):>14}"
                f"{format_kg(c.kg_co2e):>12}"
            )
    ghg = ", ".join(f"{GHG_LABELS[k]} {format_kg(v)}" for k, v in result.ghg_kg_co2e.items())
    lines += [
        "",
        f"GHG split (kg CO2e): {ghg}",
        f"Recycled content (mass-weighted R1): {_percent(result.recycled_content_share)}"
        f"    Recycled at end of life (R2): {_percent(result.eol_recycling_share)}",
        f"Virgin baseline: {format_kg(result.virgin_baseline_kg_co2e)} kg CO2e    "
        f"Reduction vs virgin: {_percent(result.reduction_vs_virgin)}",
    ]
    if result.per_kwh_delivered is not None:
        lines += ["", *_per_kwh_lines(result.per_kwh_delivered)]
    return "\n".join(lines)


def _per_kwh_lines(block) -> list[str]:
    """The footprint per kWh delivered, the energy it rests on, the rule and its choices."""
    grams = 1000 * block["kg_co2e_per_kwh"]
    excluded = block["excluded_stages"]
    lines = [
        f"Per functional unit ({block['functional_unit']}): {format_kg(grams)} g CO2e/kWh"
        + (f" ({', '.join(excluded)} stage excluded)" if excluded else ""),
        f"  energy per declared unit: {format_kg(block['kwh_per_declared_unit'])} kWh "
        f"= {block['calculation']}",
        f"  formula: {block['formula']}",
        f"  rule: {block['rule']}",
    ]
    lines += [f"  - {choice}" for choice in block["choices"]]
    return lines


def render_csv(result: FootprintResult) -> str:
    """Long CSV: one row per figure (total, stages, components, GHG indicators)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["product_id", "variant", "method", "approach", "kind", "name", "kg_co2e"])
    base = [result.product_id, result.variant or "", result.method, result.approach]
    writer.writerow([*base, "total", "total", repr(result.total_kg_co2e)])
    for stage in STAGES:
        writer.writerow([*base, "stage", stage, repr(result.stages_kg_co2e[stage])])
    for component in result.components:
        writer.writerow([*base, "component", component.id, repr(component.kg_co2e)])
    for name, value in result.ghg_kg_co2e.items():
        writer.writerow([*base, "ghg", name, repr(value)])
    writer.writerow([*base, "baseline", "virgin_baseline", repr(result.virgin_baseline_kg_co2e)])
    if result.per_kwh_delivered is not None:  # kg CO2e per kWh delivered, not per declared unit
        per_kwh = result.per_kwh_delivered["kg_co2e_per_kwh"]
        writer.writerow([*base, "per_kwh_delivered", "total", repr(per_kwh)])
    return buffer.getvalue()


def _or_dash(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def render_material_factors(rows: list[dict], *, csv_format: bool = False) -> str:
    """The materials table with virgin / recycled factors and reductions."""
    if csv_format:
        buffer = io.StringIO()
        columns = [
            "material",
            "virgin_kg_co2e_per_kg",
            "recycled_kg_co2e_per_kg",
            "reduction",
            "R2",
            "R3",
            "A",
            "source",
            "priority_product",
        ]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    width = max([len("material"), *(len(row["material"]) for row in rows)]) + 2
    lines = [
        f"{'material':<{width}}{'virgin':>10}{'recycled':>10}{'reduction':>11}  source",
        f"{'':<{width}}{'kg CO2e/kg':>20}",
    ]
    for row in rows:
        reduction = row["reduction"]
        lines.append(
            f"{row['material']:<{width}}{_or_dash(row['virgin_kg_co2e_per_kg'], '.3f'):>10}"
            f"{_or_dash(row['recycled_kg_co2e_per_kg'], '.3f'):>10}"
            f"{'-' if reduction is None else f'{reduction * 100:.0f} %':>11}  "
            f"{row['source'][:60]}"
        )
    reductions = [r["reduction"] for r in rows if r["reduction"] is not None]
    if reductions:
        lines.append(
            f"\nReduction from recycled routes: {min(reductions) * 100:.0f} % to "
            f"{max(reductions) * 100:.0f} % over {len(reductions)} materials"
        )
    return "\n".join(lines)


def render_activity(details: dict) -> str:
    """One dataset for people: identity, source, quality, exchanges, scores."""
    lines = [
        details["activity"],
        "=" * len(details["activity"]),
        f"unit: {details['unit']}    location: {details['location']}    "
        f"category: {details['category']}" + ("    AIR FREIGHT" if details["air_freight"] else ""),
    ]
    if details["co2e_only"]:
        lines.append("co2e_only: the source gives a kg CO2e total only (recorded as fossil CO2)")
    source = details["source"]
    if source:
        lines.append("")
        for key in (
            "organisation",
            "document",
            "year",
            "url",
            "licence",
            "geography",
            "boundary",
            "gwp_basis",
            "allocation",
        ):
            if source.get(key):
                lines.append(f"{key + ':':<14}{source[key]}")
        if "cited_value" in source:
            lines.append(f"{'cited:':<14}{source['cited_value']} {source.get('cited_unit', '')}")
    if details["pedigree"]:
        pedigree = ", ".join(f"{k} {v}" for k, v in details["pedigree"].items())
        lines.append(f"{'pedigree:':<14}{pedigree}  (1 best - 5 worst)")
    if details["comment"]:
        lines += ["", details["comment"]]
    lines += ["", f"{'exchange':<12}{'amount':>14}  {'unit':<16}input"]
    for edge in details["exchanges"]:
        lines.append(
            f"{edge['type']:<12}{edge['amount']:>14.6g}  {edge['unit']:<16}"
            f"{edge['name']} ({edge['where']})"
        )
    lines.append("")
    for method, scores in details["kg_co2e_per_unit"].items():
        split = ", ".join(f"{k} {format_kg(v)}" for k, v in scores.items() if k != "total")
        lines.append(
            f"{method}: {format_kg(scores['total'])} kg CO2e per {details['unit']} ({split})"
        )
    return "\n".join(lines)


def _label(result) -> str:
    return result.variant or f"{result.product_id} (base)"


def render_comparison(compared) -> str:
    """One block per approach: products and variants as columns, figures as rows."""
    blocks = []
    for approach in dict.fromkeys(c.result.approach for c in compared):
        mine = [c for c in compared if c.result.approach == approach]
        products = {c.result.product_id for c in mine}
        labels = [
            (
                _label(c.result)
                if len(products) == 1
                else f"{c.result.product_id}{'/' + c.result.variant if c.result.variant else ''}"
            )
            for c in mine
        ]
        width = max(12, *(len(label) + 2 for label in labels))
        head = f"{'':<28}" + "".join(f"{label:>{width}}" for label in labels)
        rows = [f"Approach: {approach}    (kg CO2e per {mine[0].result.declared_unit})", head]

        def row(name, values, rows=rows, width=width):
            rows.append(f"{name:<28}" + "".join(f"{v:>{width}}" for v in values))

        row("total", [format_kg(c.result.total_kg_co2e) for c in mine])
        for stage in STAGES:
            row(
                f"  {STAGE_LABELS[stage]}",
                [format_kg(c.result.stages_kg_co2e[stage]) for c in mine],
            )
        row("difference to first", [format_kg(c.difference_kg_co2e) for c in mine])
        row("difference to first %", [_percent(c.difference_share) for c in mine])
        row("recycled content (R1)", [_percent(c.result.recycled_content_share) for c in mine])
        row("recycled at end of life", [_percent(c.result.eol_recycling_share) for c in mine])
        row("virgin baseline", [format_kg(c.result.virgin_baseline_kg_co2e) for c in mine])
        row("reduction vs virgin", [_percent(c.result.reduction_vs_virgin) for c in mine])
        if any(c.result.per_kwh_delivered for c in mine):
            row("g CO2e per kWh delivered", [_per_kwh_grams(c.result) for c in mine])
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def _per_kwh_grams(result) -> str:
    block = result.per_kwh_delivered
    return "-" if block is None else format_kg(1000 * block["kg_co2e_per_kwh"])


COMPARISON_COLUMNS = (
    "product_id",
    "variant",
    "approach",
    "method",
    "total_kg_co2e",
    *(f"{s}_kg_co2e" for s in STAGES),
    "difference_to_base_kg_co2e",
    "difference_to_base",
    "recycled_content_share",
    "eol_recycling_share",
    "virgin_baseline_kg_co2e",
    "reduction_vs_virgin",
)


def render_comparison_csv(compared) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COMPARISON_COLUMNS)
    for c in compared:
        r = c.result
        writer.writerow(
            [
                r.product_id,
                r.variant or "",
                r.approach,
                r.method,
                repr(r.total_kg_co2e),
                *(repr(r.stages_kg_co2e[s]) for s in STAGES),
                repr(c.difference_kg_co2e),
                "" if c.difference_share is None else repr(c.difference_share),
                repr(r.recycled_content_share),
                repr(r.eol_recycling_share),
                repr(r.virgin_baseline_kg_co2e),
                "" if r.reduction_vs_virgin is None else repr(r.reduction_vs_virgin),
            ]
        )
    return buffer.getvalue()


def render_sweep(points) -> str:
    approaches = list(dict.fromkeys(p.approach for p in points))
    lines = [
        f"Recycled content of {points[0].component}: kg CO2e (reduction vs virgin)",
        f"{'recycled':>9}" + "".join(f"{a:>24}" for a in approaches),
    ]
    for share in dict.fromkeys(p.recycled_content for p in points):
        cells = []
        for approach in approaches:
            point = next(
                p for p in points if p.approach == approach and p.recycled_content == share
            )
            cells.append(
                f"{format_kg(point.total_kg_co2e)} ({_percent(point.reduction_vs_virgin)})"
            )
        lines.append(f"{share * 100:>8.0f}%" + "".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def render_sweep_csv(points) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["component", "recycled_content", "approach", "total_kg_co2e", "reduction_vs_virgin"]
    )
    for p in points:
        writer.writerow(
            [
                p.component,
                repr(p.recycled_content),
                p.approach,
                repr(p.total_kg_co2e),
                "" if p.reduction_vs_virgin is None else repr(p.reduction_vs_virgin),
            ]
        )
    return buffer.getvalue()
