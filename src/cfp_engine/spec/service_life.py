"""A functional unit of energy delivered over a product's service life.

Two priority products are declared per kWh of the energy they deliver over their life,
not per piece: a battery (Regulation (EU) 2023/1542, Art. 7 and Annex II: kWh of total
energy delivered, :mod:`cfp_engine.spec.battery`) and a PV module (IEA PVPS Task 12
methodology guidelines: kWh of AC electricity fed to the grid, :mod:`cfp_engine.spec.pv`).
Both keep the spec's bill of materials per declared unit (one battery, 1 kWh of capacity,
1 m2 of module) and divide its footprint by the energy that declared unit delivers. This
module holds what the two share: the :class:`DeliveredEnergyUnit` a spec section turns
into, with its rule, formula and inputs, so every output can say what the figure rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfp_engine.spec.units import parse_quantity, registry

#: The dimensions a declared unit may have here, by the name used in messages.
DECLARED_DIMENSIONS = {
    "energy": "kilowatt_hour",
    "area": "meter ** 2",
    "peak_power": "kilowatt_peak",
    "count": "piece",
}


@dataclass(frozen=True)
class DeliveredEnergyUnit:
    """The energy one declared unit delivers over its service life, and the rule behind it.

    Attributes
    ----------
    name
        The functional unit in words, e.g. "1 kWh of AC electricity fed to the grid".
    rule
        The standard or guideline the formula and the defaults come from.
    formula
        The formula in words.
    kwh_per_declared_unit
        Energy delivered over the service life by one declared unit of the spec, kWh.
    calculation
        The formula with the numbers of this spec, e.g. "1 m2 x 1300 kWh/m2/year x ...".
    excluded_stages
        Life-cycle stages the rule leaves out of the per-kWh figure (the battery's use).
    inputs
        Each input's value, unit and source (``"spec"`` or the default it took).
    choices
        What was chosen where the rule leaves it open, in sentences.
    """

    name: str
    rule: str
    formula: str
    kwh_per_declared_unit: float
    calculation: str = ""
    excluded_stages: tuple[str, ...] = ()
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    choices: tuple[str, ...] = ()

    def per_kwh(self, stages_kg_co2e: Mapping[str, float]) -> dict[str, Any]:
        """Per-kWh figures from per-declared-unit stage figures (kg CO2e).

        Returns the JSON-ready block of a footprint result: the functional unit, its
        rule, inputs and choices, and kg CO2e per kWh in total and by stage (the
        excluded stages are listed, with 0 per kWh).
        """
        energy = self.kwh_per_declared_unit
        by_stage = {
            stage: 0.0 if stage in self.excluded_stages else value / energy
            for stage, value in stages_kg_co2e.items()
        }
        return {
            "functional_unit": self.name,
            "rule": self.rule,
            "formula": self.formula,
            "kwh_per_declared_unit": energy,
            "calculation": self.calculation,
            "kg_co2e_per_kwh": sum(by_stage.values()),
            "stages_kg_co2e_per_kwh": by_stage,
            "excluded_stages": list(self.excluded_stages),
            "inputs": {name: dict(value) for name, value in self.inputs.items()},
            "choices": list(self.choices),
        }


def declared_amount(declared_unit: str, where: str) -> tuple[str | None, float]:
    """The dimension (a key of :data:`DECLARED_DIMENSIONS`) and amount of a declared unit.

    ``"1 m2"`` is ``("area", 1.0)``, ``"2 kWh"`` ``("energy", 2.0)``, ``"1 kWp"``
    ``("peak_power", 1.0)``, ``"1 piece"`` ``("count", 1.0)``; another dimension (a mass,
    a volume) is ``(None, magnitude)``, for the caller to refuse in its own words.
    """
    quantity = parse_quantity(declared_unit, where=where)
    ureg = registry()
    for dimension, unit in DECLARED_DIMENSIONS.items():
        if quantity.dimensionality == ureg.Quantity(1, unit).dimensionality:
            return dimension, float(quantity.to(unit).magnitude)
    return None, float(quantity.magnitude)


def source_of(given: bool, default: str) -> str:
    """``"spec"`` for an input the spec gives, else the default's description."""
    return "spec" if given else default
