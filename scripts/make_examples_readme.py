"""Write the generated tables of ``examples/README.md``.

Two tables, both computed with the library, never typed in:

* every material of the built-in materials table that is tagged with a priority product
  group (``priority_product`` column of ``inventories/materials.csv``: battery, pv,
  clothing) and has both a virgin and a recycled route: kg CO2e per kg of each route, the
  reduction and the source, so the strategy's "20-90 % depending on the material" can be
  checked row by row;
* the priority-product examples: the total of the base spec and of each variant, and the
  saving against the base, under cut-off and under the PEF Circular Footprint Formula.

Only the text between the two marker comments is replaced. ``tests/engine/test_examples_readme.py``
regenerates the tables and compares them with the committed README, so the README cannot
drift from the data.

Usage: ``python scripts/make_examples_readme.py [--check]`` (``--check`` only compares and
exits with 1 when the README is out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

from cfp_engine import calculate_footprint, load_spec
from cfp_engine.render.data_views import list_material_factors
from cfp_engine.spec.materials import PRIORITY_PRODUCTS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "examples" / "README.md"
START = "<!-- generated tables: start (scripts/make_examples_readme.py; do not edit) -->"
END = "<!-- generated tables: end -->"
# The examples built from a bill of materials for the three priority products; the older
# single-dataset pack and module examples have no recycled-content variants to compare.
EXAMPLES = (
    "li-ion-battery-bom.yaml",
    "pv-module-bom.yaml",
    "cotton-t-shirt.yaml",
    "polyester-jacket.yaml",
)
GROUP_TITLES = {"battery": "batteries", "pv": "PV modules", "clothing": "clothing"}


def _cell(text: str) -> str:
    # A pipe inside a cell would split the Markdown row.
    return text.replace("|", "\\|")


def materials_table(table) -> str:
    """Markdown table: priority-product materials with both routes, per kg."""
    lines = [
        "| group | material | virgin kg CO2e/kg | recycled kg CO2e/kg | reduction | source |",
        "|---|---|---:|---:|---:|---|",
    ]
    reductions = []
    for group in PRIORITY_PRODUCTS:
        for row in list_material_factors(table, priority=group):
            if row["recycled_kg_co2e_per_kg"] is None:
                continue
            reductions.append(row["reduction"])
            lines.append(
                f"| {GROUP_TITLES[group]} | {_cell(row['material'])} "
                f"| {row['virgin_kg_co2e_per_kg']:.3f} | {row['recycled_kg_co2e_per_kg']:.3f} "
                f"| {row['reduction'] * 100:.0f} % | {_cell(row['source'])} |"
            )
    lines.append("")
    lines.append(
        f"Range over these {len(reductions)} rows: {min(reductions) * 100:.0f} % to "
        f"{max(reductions) * 100:.0f} % (IPCC 2021 GWP100; `cfp data materials --priority "
        "battery|pv|clothing` prints the same figures)."
    )
    return "\n".join(lines)


def _saving(total: float, base: float) -> str:
    return f"{base - total:.3f} ({(base - total) / base * 100:.1f} %)"


def examples_table(table) -> str:
    """Markdown table: each priority example's variants, total and saving vs the base."""
    lines = [
        "| example | variant | cut-off total | saving vs base | CFF total | saving vs base "
        "| cut-off g CO2e/kWh delivered |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in EXAMPLES:
        spec = load_spec(ROOT / "examples" / name)
        totals, per_kwh = {}, {}
        for variant in (None, *spec.variant_names):
            results = [
                calculate_footprint(spec, variant=variant, approach=approach, table=table)
                for approach in ("cut-off", "cff")
            ]
            totals[variant] = tuple(r.total_kg_co2e for r in results)
            block = results[0].per_kwh_delivered
            per_kwh[variant] = "-" if block is None else f"{1000 * block['kg_co2e_per_kwh']:.2f}"
        unit = calculate_footprint(spec, table=table).declared_unit
        base_cut, base_cff = totals[None]
        for variant, (cut, cff) in totals.items():
            # The CFF column repeats nothing: it is filled only where the CFF changes the figure.
            same = abs(cff - cut) < 5e-4 and abs(base_cff - base_cut) < 5e-4
            lines.append(
                f"| {name} ({unit}) | {variant or 'base'} | {cut:.3f} "
                f"| {'-' if variant is None else _saving(cut, base_cut)} "
                f"| {'same' if same else f'{cff:.3f}'} "
                f"| {'-' if variant is None or same else _saving(cff, base_cff)} "
                f"| {per_kwh[variant]} |"
            )
    lines.append("")
    lines.append(
        "kg CO2e per declared unit, IPCC 2021 GWP100. Each variant is computed under both "
        "approaches, so a variant that only switches the approach (e.g. `eol-recycling-cff`) "
        "shows the same figures as its cut-off twin. The last column divides the cut-off "
        "footprint by the energy one declared unit delivers over its life, where the spec "
        "has a `battery:` section (draft delegated act under Regulation (EU) 2023/1542: "
        "capacity x cycles a year x years; use stage excluded) or a `pv:` section (IEA PVPS "
        "T12-18:2020: area x irradiation x efficiency x performance ratio x lifetime x "
        "ageing factor)."
    )
    return "\n".join(lines)


def generated_section(table) -> str:
    """The text that goes between the markers (markers excluded)."""
    return (
        "\n### Materials with a recycled route (priority products)\n\n"
        f"{materials_table(table)}\n\n"
        "### Priority examples: total and saving of each variant\n\n"
        f"{examples_table(table)}\n"
    )


def replace_section(readme_text: str, section: str) -> str:
    """``readme_text`` with the text between the markers replaced by ``section``."""
    head, start, rest = readme_text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"{README}: the marker comments {START!r} and {END!r} are missing")
    return f"{head}{START}\n{section}{END}{tail}"


def main(argv: list[str]) -> int:
    from cfp_engine.store.access import open_store

    current = README.read_text(encoding="utf-8")
    wanted = replace_section(current, generated_section(open_store()))
    if "--check" in argv:
        if wanted != current:
            print(f"{README} is out of date; run scripts/make_examples_readme.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
