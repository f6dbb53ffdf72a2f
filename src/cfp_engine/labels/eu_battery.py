"""The EU battery carbon footprint declaration (``--format eu-battery``) of a disclosure.

Regulation (EU) 2023/1542, Article 7 and Annex II, as the Commission's draft delegated act
on the carbon footprint of electric vehicle batteries describes the calculation
(:data:`cfp_engine.spec.battery.DRAFT_ACT`; not adopted when this was written, so every
declaration names it). The declaration is a JSON document, not the format of the
implementing act (itself a draft): it carries the figures and says, for each rule, what
the engine did and which choice it made where the draft leaves one open.

- Functional unit: 1 kWh of total energy delivered over the service life
  (:class:`~cfp_engine.spec.battery.BatterySpec`).
- The four life-cycle stages of Annex II; the use stage is excluded.
- The Circular Footprint Formula is required: the declaration is refused for another
  approach. The draft's defaults (A = 0.2 for metals, 0.5 otherwise; B = 0; R1 = 0 unless
  there is evidence of recycled content) are compared with the parameters the engine
  used per component, and every departure is listed.
- Electricity: the draft's rule is the national consumption mix unless the plant is
  directly connected to a generator; the declaration lists the electricity datasets of
  the spec's stages and states that no supplier-specific contract is modelled.
- Cut-off: the engine includes every input of the spec; exemptions are listed.

The engine's result and integrity hashes travel under ``extensions`` (as in a PACT label),
so ``cfp verify`` can re-compute the declaration.
"""

from __future__ import annotations

from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.battery import battery_figures, battery_of, recycled_content
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.rounding import ROUNDING_RULE, decimal_string
from cfp_engine.spec.battery import DRAFT_ACT
from cfp_engine.spec.product import ProductSpec
from cfp_engine.version import __version__

#: Annex II's names of the four stages, by engine stage (the stages of
#: :data:`cfp_engine.labels.battery.LIFECYCLE_STAGES`, in the Regulation's words).
ANNEX_II_STAGES = {
    "raw_materials": "Raw material acquisition and pre-processing",
    "production": "Main product production",
    "distribution": "Distribution",
    "end_of_life": "End of life and recycling",
}
#: The draft's CFF defaults (A = 0.2 for metals, 0.5 otherwise; B = 0; R1 = 0
#: unless the recycled content is evidenced).
A_METALS, A_OTHER, B_DEFAULT = 0.2, 0.5, 0.0


def _num(value: float) -> float:
    return float(decimal_string(value))


def to_eu_battery(
    disclosure: Disclosure, product: ProductSpec, *, study_url: str | None = None
) -> dict[str, Any]:
    """The carbon footprint declaration of Article 7 / Annex II as a JSON-ready document.

    Parameters
    ----------
    disclosure
        The label's values, per declared unit, calculated with the CFF.
    product
        The spec it was made from, with the variant applied.
    study_url
        Overrides ``battery.carbon_footprint_study``; may be absent (then ``null``).

    Raises
    ------
    SpecError
        No battery section, an approach other than the CFF, or a declared unit that is
        neither energy nor piece.
    """
    battery = battery_of(product)
    if disclosure.approach != "cff":
        raise SpecError(
            f"the draft delegated act requires the Circular Footprint Formula, but the label "
            f"was calculated with {disclosure.approach!r}: use approach='cff'"
        )
    figures = battery_figures(disclosure, battery)
    per_kwh = figures["per_kwh"]
    stages = [
        {
            "stage": name,
            "engineStage": stage,
            "kgCO2ePerKWh": _num(figures["per_kwh_by_stage"][stage]),
            "sharePercent": _num(100 * figures["per_kwh_by_stage"][stage] / per_kwh)
            if per_kwh
            else 0.0,
        }
        for stage, name in ANNEX_II_STAGES.items()
    ]
    cff, departures, evidence = _cff(disclosure)
    return {
        "declaration": (
            "Carbon footprint declaration of an electric vehicle battery, Regulation (EU) "
            "2023/1542, Article 7 and Annex II"
        ),
        "methodology": {
            "act": DRAFT_ACT,
            "status": "draft, not adopted when cfp-engine implemented it; figures may change",
            "characterisation": disclosure.method,
            "engine": f"cfp-engine {__version__}",
            "rounding": ROUNDING_RULE,
        },
        "battery": {
            "productId": disclosure.product_id,
            "productName": disclosure.product_name,
            "variant": disclosure.variant,
            "vehicleCategory": battery.category,
            "declaredUnitOfTheCalculation": disclosure.declared_unit,
        },
        "functionalUnit": {
            "definition": "1 kWh of total energy delivered over the service life",
            "formula": "usable energy capacity x full equivalent cycles per year x service life",
            "usableCapacityKWh": battery.usable_capacity_kwh,
            "fullEquivalentCyclesPerYear": battery.full_equivalent_cycles_per_year,
            "fullEquivalentCyclesSource": battery.fec_source,
            "serviceLifeYears": battery.service_life_years,
            "totalEnergyKWh": _num(figures["total_energy_kwh"]),
        },
        "carbonFootprint": {
            "kgCO2ePerKWh": _num(per_kwh),
            "absoluteKgCO2ePerBattery": _num(figures["absolute_kg_co2e"]),
        },
        "lifeCycleStages": stages,
        "excludedStages": [
            {
                "stage": "Use",
                "reason": "excluded by Annex II of Regulation (EU) 2023/1542",
                "engineKgCO2ePerBattery": _num(figures["use_excluded_kg_co2e"]),
            }
        ],
        "circularFootprintFormula": cff,
        "electricity": _electricity(product),
        "cutOff": {
            "rule": "every input of the spec is included; exemptions are listed here",
            "exemptions": list(disclosure.result.get("exemptions", [])),
            "exemptedEmissionsPercent": disclosure.facts.exempted_emissions_percent,
        },
        "recycledContent": recycled_content(product, battery),
        "carbonFootprintStudy": study_url or battery.carbon_footprint_study,
        "performanceClass": battery.performance_class,
        "choices": _choices(battery, departures, evidence),
        "extensions": [disclosure.extension()],
    }


def _cff(disclosure: Disclosure) -> tuple[dict[str, Any], list[str], list[str]]:
    """Per-component CFF parameters the engine used, and departures from the draft's defaults."""
    rows, departures, evidence = [], [], []
    for component in disclosure.result.get("components", []):
        p = component.get("parameters") or {}
        cid = component["id"]
        rows.append(
            {
                "component": cid,
                "material": component.get("material"),
                **{k: p.get(k) for k in ("A", "B", "R1", "R2", "R3", "Qsin_Qp", "Qsout_Qp")},
            }
        )
        a, b, r1 = p.get("A"), p.get("B"), p.get("R1") or 0.0
        # Whether a material is a metal is the materials table's call (its A); only an A
        # that is neither default can be told apart here.
        if a not in (A_METALS, A_OTHER):
            departures.append(f"{cid}: A = {a:g}, neither of the draft's defaults (0.2, 0.5)")
        if b != B_DEFAULT:
            departures.append(f"{cid}: B = {b:g}, not the draft's default 0")
        if r1 > 0:
            evidence.append(f"{cid}: R1 = {r1:g}")
    document = {
        "draftDefaults": {
            "A": "0.2 for metals, 0.5 otherwise",
            "B": 0,
            "R1": "0 unless the recycled content is evidenced",
        },
        "parametersSource": (
            "A, Q ratios and R2/R3 from the materials table (PEF Annex C values where it has "
            "them), component overrides from the spec; R1 = the spec's recycled content"
        ),
        "components": rows,
        "departures": departures,
        "recycledContentNeedingEvidence": evidence,
    }
    return document, departures, evidence


def _electricity(product: ProductSpec) -> dict[str, Any]:
    activities = sorted(
        {
            item.activity
            for items in product.stages.values()
            for item in items
            if item.activity.lower().startswith("electricity")
        }
    )
    return {
        "rule": (
            "national electricity consumption mix of the country where the process takes "
            "place, unless the plant is directly connected to a generator; supplier-specific "
            "electricity only under the contractual conditions the draft sets"
        ),
        "activitiesInTheSpec": activities,
        "choice": (
            "the spec's electricity datasets as given (grid mixes); no direct connection "
            "and no supplier-specific contract is modelled"
        ),
    }


def _choices(battery, departures: list[str], evidence: list[str]) -> list[str]:
    """What the engine chose where the draft leaves it open (or cannot know it)."""
    choices = [
        f"Full equivalent cycles per year: {battery.full_equivalent_cycles_per_year:g} "
        f"({battery.fec_source}).",
        f"Service life: {battery.service_life_years:g} years, as the spec gives it (the draft "
        "takes the warranty years; cfp-engine does not check the warranty).",
        "Usable capacity at the beginning of life, as the spec gives it.",
        "Stages: the spec's raw_materials, production, distribution and end_of_life stages "
        "are declared as Annex II's four; the spec's use stage is left out.",
        "Recycled content: post-consumer unless the spec says pre-consumer per component.",
        "CFF parameter A: from the materials table per material (0.2 for the metals it "
        "marks so, 0.5 otherwise); cfp-engine does not classify metals itself.",
        "Upstream datasets: secondary data of the engine's built-in or given inventories; "
        "the draft's company-specific data requirements are not checked.",
    ]
    if battery.performance_class is None:
        choices.append(
            "Performance class: not declared (the classes are not yet defined, Art. 7(2))."
        )
    if evidence:
        choices.append(
            "R1 taken from the spec's recycled content ("
            + "; ".join(evidence)
            + "): the draft sets R1 = 0 unless it is evidenced; cfp-engine does not check "
            "the evidence."
        )
    choices.extend(f"CFF departure: {d}" for d in departures)
    return choices
