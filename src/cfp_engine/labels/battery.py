"""Battery Pass records (``--format battery-passport``) of a battery's disclosure.

Implements the carbon-footprint aspect ``io.BatteryPass.CarbonFootprint`` 1.2.0 and the
``recycledContent`` part of ``io.BatteryPass.Circularity`` 1.2.0 of the Battery Pass data
model (https://github.com/batterypass/BatteryPassDataModel, (c) the Battery Pass
consortium, CC-BY-4.0, https://creativecommons.org/licenses/by/4.0/). Field names and value
lists are taken from it; its schemas are not shipped (the tests check against them).

How the engine's figures map:

- The functional unit is 1 kWh of total energy delivered over the service life
  (:class:`cfp_engine.spec.battery.BatterySpec`): ``batteryCarbonFootprint`` and the
  per-stage figures are the footprint of one battery divided by that energy.
- Stages: ``raw_materials`` -> RawMaterialExtraction, ``production`` -> MainProduction,
  ``distribution`` -> Distribution, ``end_of_life`` -> Recycling. The use stage is
  excluded, as Annex II of Regulation (EU) 2023/1542 excludes it; a use-stage figure
  in the spec is left out and said so in the engine's notes.
- ``absoluteCarbonFootprint``: kg CO2e of one battery (the four stages), from the
  declared unit: a unit of energy is scaled to the usable capacity, a piece is one battery.
- ``carbonFootprintStudy`` and ``carbonFootprintPerformanceClass`` are facts the
  calculation cannot know: the study URL comes from ``battery.carbon_footprint_study``,
  the study-URL option or ``label.report_url``; the class only from
  ``battery.performance_class`` (the Commission has not defined the classes yet), else it
  is left out and the record says so, though the schema requires it.
- ``recycledContent``: per element (Co, Ni, Li, Pb) named in ``battery.elements``, the
  share of the element's mass that is recycled, weighing each carrying component by its
  mass x element content x recycled content; post-consumer unless the spec says
  ``origin: pre-consumer``. Elements not named are left out, never declared 0 %.

The engine's notes (functional unit, draft act, choices made) travel beside the two
records under ``cfpEngine``; the records themselves hold only the model's fields. The
engine's result and integrity hashes travel under ``extensions`` (as in a PACT label), so
``cfp verify`` can re-compute the records.
"""

from __future__ import annotations

from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.rounding import ROUNDING_RULE, decimal_string
from cfp_engine.spec.battery import DRAFT_ACT, ELEMENTS, BatterySpec
from cfp_engine.spec.product import ProductSpec

CARBON_FOOTPRINT_ASPECT = (
    "urn:samm:io.BatteryPass.CarbonFootprint:1.2.0#CarbonFootprintForBatteries"
)
CIRCULARITY_ASPECT = "urn:samm:io.BatteryPass.Circularity:1.2.0#Circularity"
#: Engine stage -> Battery Pass life-cycle stage (Annex II's four stages; use excluded).
LIFECYCLE_STAGES = {
    "raw_materials": "RawMaterialExtraction",
    "production": "MainProduction",
    "distribution": "Distribution",
    "end_of_life": "Recycling",
}


def _num(value: float) -> float:
    return float(decimal_string(value))


def battery_of(product: ProductSpec) -> BatterySpec:
    """The spec's battery section, or a :class:`SpecError` saying it is needed."""
    if product.battery is None:
        raise SpecError(
            f"{product.source}: a battery label needs a 'battery:' section (category, "
            "usable_capacity, service_life) for the functional unit, kWh delivered"
        )
    return product.battery


def batteries_per_declared_unit(disclosure: Disclosure, battery: BatterySpec) -> float:
    """How many batteries one declared unit is (energy: capacity share; piece: count)."""
    return battery.batteries_per_declared_unit(disclosure.declared_unit)


def battery_figures(disclosure: Disclosure, battery: BatterySpec) -> dict[str, Any]:
    """Absolute (kg CO2e per battery) and per-kWh-delivered figures, by Annex II stage.

    The per-kWh figures are those of the calculation's ``per_kwh_delivered`` block: one
    mechanism, :meth:`cfp_engine.spec.battery.BatterySpec.delivered_energy`.
    """
    per_battery = 1 / batteries_per_declared_unit(disclosure, battery)
    absolute = {
        stage: disclosure.stages_kg_co2e.get(stage, 0.0) * per_battery for stage in LIFECYCLE_STAGES
    }
    block = battery.delivered_energy(disclosure.declared_unit).per_kwh(disclosure.stages_kg_co2e)
    return {
        "total_energy_kwh": battery.total_energy_kwh,
        "absolute_kg_co2e": sum(absolute.values()),
        "absolute_by_stage": absolute,
        "per_kwh": block["kg_co2e_per_kwh"],
        "per_kwh_by_stage": {
            stage: block["stages_kg_co2e_per_kwh"].get(stage, 0.0) for stage in LIFECYCLE_STAGES
        },
        "use_excluded_kg_co2e": disclosure.stages_kg_co2e.get("use", 0.0) * per_battery,
    }


def recycled_content(product: ProductSpec, battery: BatterySpec) -> list[dict[str, Any]]:
    """The Battery Pass ``recycledContent`` list: per element, pre/post-consumer percent."""
    components = {c.id: c for c in product.components}
    rows = []
    for symbol, name in ELEMENTS.items():
        carriers = [s for s in battery.elements if s.element == symbol]
        if not carriers:
            continue
        total = pre = post = 0.0
        for source in carriers:
            component = components[source.component]
            # One carrier: its content cancels out of the share, so it may be left out.
            element_kg = component.mass_kg * (source.content if source.content else 1.0)
            recycled_kg = element_kg * component.recycled_content
            total += element_kg
            if source.pre_consumer:
                pre += recycled_kg
            else:
                post += recycled_kg
        rows.append(
            {
                "recycledMaterial": name,
                "preConsumerShare": _num(100 * pre / total),
                "postConsumerShare": _num(100 * post / total),
            }
        )
    return rows


def to_battery_passport(
    disclosure: Disclosure, product: ProductSpec, *, study_url: str | None = None
) -> dict[str, Any]:
    """The two Battery Pass records and the engine's notes on how they were made.

    Parameters
    ----------
    disclosure
        The label's values, per declared unit.
    product
        The spec it was made from, with the variant applied (battery section, components).
    study_url
        Overrides ``battery.carbon_footprint_study``.

    Raises
    ------
    SpecError
        No battery section, no study URL, or a declared unit that is neither energy nor piece.
    """
    battery = battery_of(product)
    url = study_url or battery.carbon_footprint_study or disclosure.facts.report_url
    if not url:
        raise SpecError(
            "battery.carbon_footprint_study (or study_url=URL, or label.report_url) is needed: "
            "the Battery Pass record requires the URL of the public carbon footprint study"
        )
    figures = battery_figures(disclosure, battery)
    record: dict[str, Any] = {
        "batteryCarbonFootprint": _num(figures["per_kwh"]),
        "carbonFootprintPerLifecycleStage": [
            {"lifecycleStage": name, "carbonFootprint": _num(figures["per_kwh_by_stage"][stage])}
            for stage, name in LIFECYCLE_STAGES.items()
        ],
        "carbonFootprintStudy": url,
        "absoluteCarbonFootprint": _num(figures["absolute_kg_co2e"]),
    }
    notes = [
        "Figures in kg CO2e per kWh of total energy delivered over the service life "
        "(absoluteCarbonFootprint: kg CO2e per battery); use stage excluded (Annex II)."
    ]
    if battery.performance_class is not None:
        record["carbonFootprintPerformanceClass"] = battery.performance_class
    else:
        notes.append(
            "carbonFootprintPerformanceClass left out: the spec gives none and the classes "
            "are not yet defined (Art. 7(2)); the schema requires it, so add it before use."
        )
    if figures["use_excluded_kg_co2e"]:
        notes.append(
            f"Use stage of the spec left out: {decimal_string(figures['use_excluded_kg_co2e'])} "
            "kg CO2e per battery."
        )
    if not battery.elements:
        notes.append("recycledContent is empty: the spec names no battery.elements.")
    return {
        "CarbonFootprint": {"aspect": CARBON_FOOTPRINT_ASPECT, "payload": record},
        "Circularity": {
            "aspect": CIRCULARITY_ASPECT,
            "payload": {"recycledContent": recycled_content(product, battery)},
        },
        "cfpEngine": {
            "productId": disclosure.product_id,
            "variant": disclosure.variant,
            "functionalUnit": {
                "name": "1 kWh of total energy delivered over the service life",
                "rule": DRAFT_ACT,
                "formula": "usable capacity x full equivalent cycles per year x service life",
                "category": battery.category,
                "usableCapacityKWh": battery.usable_capacity_kwh,
                "fullEquivalentCyclesPerYear": battery.full_equivalent_cycles_per_year,
                "fullEquivalentCyclesSource": battery.fec_source,
                "serviceLifeYears": battery.service_life_years,
                "totalEnergyKWh": _num(figures["total_energy_kwh"]),
            },
            "declaredUnit": disclosure.declared_unit,
            "stageMapping": dict(LIFECYCLE_STAGES),
            "recycledContentOrigin": {
                s.component: ("pre-consumer" if s.pre_consumer else "post-consumer")
                for s in battery.elements
            },
            "method": disclosure.method,
            "approach": disclosure.approach,
            "rounding": ROUNDING_RULE,
            "notes": notes,
        },
        "extensions": [disclosure.extension()],
    }
