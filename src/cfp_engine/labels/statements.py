"""The prose statements of a disclosure: allocation rules, system boundary, uncertainty.

ISO 14067 clause 7 asks a CFP report to describe these in words; PACT and Catena-X carry
them as description fields. Each function turns a result into one such statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cfp_engine.engine.results import FootprintResult
from cfp_engine.labels.rounding import decimal_string
from cfp_engine.spec.product import STAGES

STAGE_NAMES = {
    "raw_materials": "raw material acquisition",
    "production": "production",
    "distribution": "distribution",
    "use": "use",
    "end_of_life": "end of life",
}


def uncertainty_description(stats: Mapping[str, Any] | None) -> str:
    """The uncertainty statement: none, or the Monte Carlo run's ``"mc"`` statistics."""
    if not stats:
        return (
            "No uncertainty assessment: a deterministic calculation (a Monte Carlo analysis "
            "of the same data gives one on request)."
        )
    return (
        f"Monte Carlo simulation, {stats['n']} iterations (seed {stats['seed']}): data "
        "uncertainty lognormal from the datasets' pedigree scores (ecoinvent pedigree "
        "method) and the spec's own distributions, common random numbers. Per declared "
        f"unit: median {decimal_string(stats['median'], 3)}, mean "
        f"{decimal_string(stats['mean'], 3)}, 95 % interval "
        f"{decimal_string(stats['p2_5'], 3)} to {decimal_string(stats['p97_5'], 3)} kg CO2e "
        f"(deterministic {decimal_string(stats['deterministic'], 3)})."
    )


def allocation_description(result: FootprintResult) -> str:
    """The end-of-life allocation and its parameters, component by component."""
    parts = [
        f"End-of-life allocation: {result.approach} (cfp-engine, contract section 4"
        + (
            "; PEF Circular Footprint Formula, Recommendation (EU) 2021/2279"
            if result.approach == "cff"
            else ""
        )
        + ")."
    ]
    for c in result.components:
        p = c.parameters
        text = (
            f"{c.id} ({c.material or 'explicit activities'}, {c.mass_kg:g} kg): "
            f"R1 {p['R1']:g}, R2 {p['R2']:g}, R3 {p['R3']:g}"
        )
        if result.approach != "cut-off":
            text += (
                f", A {p['A']:g}, B {p['B']:g}, Qsin/Qp {p['Qsin_Qp']:g}, "
                f"Qsout/Qp {p['Qsout_Qp']:g}"
            )
        parts.append(text + ".")
    parts.append("No multi-output allocation in the foreground.")
    return " ".join(parts)


def boundary_description(result: FootprintResult, items) -> str:
    """The life-cycle stages included and left out, and how biogenic carbon is treated."""
    covered = [STAGE_NAMES[s] for s in STAGES if any(i.stage == s for i in items)]
    missing = [STAGE_NAMES[s] for s in STAGES if not any(i.stage == s for i in items)]
    text = f"Life-cycle stages included: {', '.join(covered)}."
    if missing:
        text += f" Stages with no inputs in the spec: {', '.join(missing)}."
    text += (
        " Biogenic CO2 uptake and emissions are not characterised by the method "
        f"({result.method}); biogenicCO2Uptake is reported as 0."
    )
    text += (
        " The PCF (pcfExcludingBiogenicUptake) covers all these stages; the outbound logistics"
        " figure repeats the distribution stage, which the PCF already includes."
    )
    return text
