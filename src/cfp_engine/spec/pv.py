"""The PV functional unit: 1 kWh of AC electricity delivered over the module's life.

IEA PVPS Task 12's methodology guidelines (:data:`GUIDELINE`) declare PV electricity per
kWh of AC electricity fed to the grid (section 3.2.2, p. 17) and set the defaults this
module uses, page numbers as printed in the report:

- lifetime 30 years for mature module technologies (3.1.1, p. 12);
- irradiation of the site on the plane of the array (3.1.2, p. 13): no default, the spec
  gives it;
- performance ratio (PR) site-specific, or by default 0.75 roof-top and 0.80
  ground-mounted utility, defaults that "include degradation caused by age"; a
  site-specific PR needs the degradation losses added (3.1.3, pp. 13-14);
- degradation linear, 0.7 %-points of the initial efficiency per year, "an average
  reduction of the initial efficiency of 10.5 % over the lifetime of 30 years" (3.1.4,
  p. 14).

So the energy one square metre of module delivers over its life is

    E [kWh/m2] = H x eta x PR x L x (1 - d x L / 2)

with H the plane-of-array irradiation [kWh/m2/year], eta the module efficiency at
standard test conditions (its rated power per m2 over 1 kW/m2), PR the performance ratio,
L the lifetime [years] and d the degradation [1/year]. ``1 - d x L / 2`` is the average of
the linearly falling efficiency over the life (0.895 for 0.7 %/year and 30 years, the
guideline's 10.5 %); it equals the sum over the years n = 1..L of ``1 - d x (n - 1/2)``
divided by L. It is applied only when the PR does not already include ageing: with the
guideline's default PR the factor is 1. Per kWp of rated power, eta drops out:
``E [kWh/kWp] = H / (1 kW/m2) x PR x L x (1 - d x L / 2)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.spec.service_life import DeliveredEnergyUnit, declared_amount, source_of
from cfp_engine.spec.units import (
    describe_dimensionality,
    parse_quantity,
    parse_share,
    registry,
)

#: The guideline the formula and defaults come from (named in every output that uses them).
GUIDELINE = (
    "IEA PVPS Task 12, Methodology Guidelines on Life Cycle Assessment of Photovoltaic, "
    "4th edition, report IEA-PVPS T12-18:2020 (Frischknecht et al., April 2020), "
    "sections 3.1.1-3.1.4 and 3.2.2"
)
#: Default performance ratio by installation (T12-18:2020, 3.1.3, p. 13); they include ageing.
DEFAULT_PERFORMANCE_RATIO = {"roof-top": 0.75, "ground-mounted": 0.80}
INSTALLATIONS = tuple(DEFAULT_PERFORMANCE_RATIO)
DEFAULT_INSTALLATION = "roof-top"
#: Module lifetime, years (3.1.1, p. 12: mature technologies, glass-glass or glass-backsheet).
DEFAULT_LIFETIME_YEARS = 30.0
#: Linear degradation, share of the initial efficiency lost per year (3.1.4, p. 14).
DEFAULT_DEGRADATION_PER_YEAR = 0.007
FUNCTIONAL_UNIT = "1 kWh of AC electricity fed to the grid over the module's lifetime"
#: The formula by the dimension of the declared unit.
FORMULAS = {
    "area": "area x irradiation x module efficiency x performance ratio x lifetime x ageing factor",
    "peak_power": (
        "rated power x irradiation / (1 kW/m2) x performance ratio x lifetime x ageing factor"
    ),
    "count": (
        "modules x module area x irradiation x module efficiency x performance ratio x lifetime "
        "x ageing factor"
    ),
}
AGEING = (
    "ageing factor = 1 - degradation x lifetime / 2 for a site-specific performance ratio, "
    "1 for the guideline's default ratio (it includes ageing)"
)
#: Irradiance at standard test conditions, kW/m2: rated power = efficiency x area x this.
STC_IRRADIANCE_KW_PER_M2 = 1.0


@dataclass(frozen=True)
class PvSpec:
    """A spec's ``pv:`` section, parsed, with the defaults filled in."""

    installation: str
    irradiation_kwh_per_m2_year: float
    performance_ratio: float
    performance_ratio_source: str
    performance_ratio_includes_degradation: bool
    lifetime_years: float
    lifetime_source: str
    degradation_per_year: float
    degradation_source: str
    efficiency: float | None = None  # at standard test conditions
    module_area_m2: float | None = None  # of one module, for a declared unit of pieces
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ageing_factor(self) -> float:
        """Lifetime-average share of the initial output: ``1 - d x L / 2``, or 1."""
        if self.performance_ratio_includes_degradation:
            return 1.0
        return 1.0 - self.degradation_per_year * self.lifetime_years / 2.0

    @property
    def lifetime_kwh_per_kwp(self) -> float:
        """AC energy delivered over the lifetime per kWp of rated module power."""
        return (
            self.irradiation_kwh_per_m2_year
            / STC_IRRADIANCE_KW_PER_M2
            * self.performance_ratio
            * self.lifetime_years
            * self.ageing_factor
        )

    def lifetime_kwh_per_m2(self, where: str = "pv") -> float:
        """AC energy delivered over the lifetime per m2 of module (needs the efficiency)."""
        if self.efficiency is None:
            raise SpecError(
                f"{where}.efficiency is needed (module efficiency at standard test "
                "conditions, e.g. '20 %') to turn a module area into kWh delivered"
            )
        return self.lifetime_kwh_per_kwp * self.efficiency * STC_IRRADIANCE_KW_PER_M2

    def delivered_energy(self, declared_unit: str, where: str = "pv") -> DeliveredEnergyUnit:
        """The functional unit of a spec with this section and ``declared_unit``.

        Parameters
        ----------
        declared_unit
            The spec's declared unit: an area (``1 m2``), a peak power (``1 kWp``) or
            pieces (``1 piece``, with ``module_area``).
        where
            The location for messages, e.g. ``"spec.yaml: pv"``.

        Raises
        ------
        SpecError
            A declared unit of another dimension, or an input it needs is missing.
        """
        dimension, amount = declared_amount(declared_unit, f"{where} (product.declared_unit)")
        tail = (
            f"{self.irradiation_kwh_per_m2_year:g} kWh/m2/year{{efficiency}} "
            f"x {self.performance_ratio:g} x {self.lifetime_years:g} years "
            f"x {self.ageing_factor:g}"
        )
        if dimension == "peak_power":
            kwh = amount * self.lifetime_kwh_per_kwp
            calculation = f"{amount:g} kWp x " + tail.format(efficiency=" / (1 kW/m2)")
        elif dimension == "area":
            kwh = amount * self.lifetime_kwh_per_m2(where)
            calculation = f"{amount:g} m2 x " + tail.format(efficiency=f" x {self.efficiency:g}")
        elif dimension == "count":
            if self.module_area_m2 is None:
                raise SpecError(
                    f"{where}.module_area is needed (the area of one module, e.g. '1.95 m2') "
                    f"for the declared unit {declared_unit!r}"
                )
            kwh = amount * self.module_area_m2 * self.lifetime_kwh_per_m2(where)
            calculation = f"{amount:g} x {self.module_area_m2:g} m2 x " + tail.format(
                efficiency=f" x {self.efficiency:g}"
            )
        else:
            raise SpecError(
                f"{where}: product.declared_unit {declared_unit!r} cannot be turned into kWh "
                "delivered; a PV module's declared unit is its area (m2), rated power (kWp) "
                "or pieces"
            )
        return DeliveredEnergyUnit(
            name=FUNCTIONAL_UNIT,
            rule=GUIDELINE,
            formula=f"{FORMULAS[dimension]}; {AGEING}",
            kwh_per_declared_unit=kwh,
            calculation=calculation,
            inputs=self._inputs(),
            choices=self._choices(),
        )

    def _inputs(self) -> dict[str, dict[str, Any]]:
        inputs: dict[str, dict[str, Any]] = {
            "installation": {"value": self.installation, "source": self._given("installation")},
            "irradiation": {
                "value": self.irradiation_kwh_per_m2_year,
                "unit": "kWh/m2/year",
                "source": "spec",
            },
            "performance_ratio": {
                "value": self.performance_ratio,
                "source": self.performance_ratio_source,
                "includes_degradation": self.performance_ratio_includes_degradation,
            },
            "lifetime": {
                "value": self.lifetime_years,
                "unit": "year",
                "source": self.lifetime_source,
            },
            "degradation": {
                "value": self.degradation_per_year,
                "unit": "1/year",
                "source": self.degradation_source,
                "applied": not self.performance_ratio_includes_degradation,
            },
            "ageing_factor": {
                "value": self.ageing_factor,
                "source": "1 - degradation x lifetime / 2",
            },
        }
        if self.efficiency is not None:
            inputs["efficiency"] = {"value": self.efficiency, "source": "spec"}
        if self.module_area_m2 is not None:
            inputs["module_area"] = {"value": self.module_area_m2, "unit": "m2", "source": "spec"}
        return inputs

    def _given(self, name: str) -> str:
        return source_of(name in self.raw, f"default ({DEFAULT_INSTALLATION})")

    def _choices(self) -> tuple[str, ...]:
        if self.performance_ratio_includes_degradation:
            ageing = (
                f"Degradation not applied: the performance ratio {self.performance_ratio:g} "
                f"({self.performance_ratio_source}) includes ageing (T12-18:2020, 3.1.3)."
            )
        else:
            ageing = (
                f"Degradation {100 * self.degradation_per_year:g} %-points a year, linear "
                f"({self.degradation_source}), applied to the site-specific performance ratio "
                f"{self.performance_ratio:g}: lifetime-average output "
                f"{100 * self.ageing_factor:g} % of the initial (T12-18:2020, 3.1.3-3.1.4)."
            )
        return (
            f"Lifetime {self.lifetime_years:g} years ({self.lifetime_source}).",
            f"Irradiation {self.irradiation_kwh_per_m2_year:g} kWh/m2/year on the module plane, "
            "as the spec gives it (the guideline: by site, optimally oriented unless laid out "
            "otherwise).",
            ageing,
            "Module only: no inverter, mounting or cabling in the footprint unless the spec "
            "lists them; the guideline's system boundary includes them.",
        )


def parse_pv(section: Mapping[str, Any], where: str) -> PvSpec:
    """Read a ``pv:`` section (already checked against the spec schema).

    Parameters
    ----------
    section
        The section as written.
    where
        The location for messages, e.g. ``"spec.yaml: pv"``.

    Raises
    ------
    SpecError
        A quantity of the wrong dimension or out of range (a performance ratio above 1,
        a lifetime not above 0), or a degradation given with the default performance
        ratio, which already includes ageing.
    """
    installation = section.get("installation", DEFAULT_INSTALLATION)
    irradiation = _positive(
        section["irradiation"],
        "kilowatt_hour / meter ** 2 / year",
        "an irradiation (energy per area and year)",
        "'1300 kWh/m2/year'",
        f"{where}.irradiation",
    )
    lifetime = DEFAULT_LIFETIME_YEARS
    if "lifetime" in section:
        lifetime = _positive(
            section["lifetime"], "year", "a time", "'30 years'", f"{where}.lifetime"
        )
    if "performance_ratio" in section:
        pr = parse_share(section["performance_ratio"], where=f"{where}.performance_ratio")
        pr_source = "spec (site-specific)"
        includes = bool(section.get("performance_ratio_includes_degradation", False))
    else:
        pr = DEFAULT_PERFORMANCE_RATIO[installation]
        pr_source = f"guideline default ({installation})"
        includes = True
        if "degradation" in section:
            raise SpecError(
                f"{where}.degradation: the default performance ratio ({pr:g}, {installation}) "
                "already includes ageing (IEA PVPS T12-18:2020, 3.1.3); give a site-specific "
                "performance_ratio to apply a degradation rate"
            )
    if pr <= 0:
        raise SpecError(f"{where}.performance_ratio: must be more than 0, got {pr:g}")
    if includes and "degradation" in section and "performance_ratio" in section:
        raise SpecError(
            f"{where}.degradation: performance_ratio_includes_degradation is true, so the "
            "performance ratio already includes ageing; leave out one of the two"
        )
    degradation = DEFAULT_DEGRADATION_PER_YEAR
    degradation_source = "guideline default"
    if "degradation" in section:
        degradation = _rate(section["degradation"], f"{where}.degradation")
        degradation_source = "spec"
    if not includes and degradation * lifetime > 1.0:
        raise SpecError(
            f"{where}.degradation: {degradation:.4g} a year over {lifetime:g} years would take "
            "the output below zero; a linear rate times the lifetime must be at most 100 %"
        )
    efficiency = None
    if "efficiency" in section:
        efficiency = parse_share(section["efficiency"], where=f"{where}.efficiency")
        if efficiency <= 0:
            raise SpecError(f"{where}.efficiency: must be more than 0 %")
    area = None
    if "module_area" in section:
        area = _positive(
            section["module_area"], "meter ** 2", "an area", "'1.95 m2'", f"{where}.module_area"
        )
    return PvSpec(
        installation=installation,
        irradiation_kwh_per_m2_year=irradiation,
        performance_ratio=pr,
        performance_ratio_source=pr_source,
        performance_ratio_includes_degradation=includes,
        lifetime_years=lifetime,
        lifetime_source=source_of("lifetime" in section, "guideline default"),
        degradation_per_year=degradation,
        degradation_source=degradation_source,
        efficiency=efficiency,
        module_area_m2=area,
        raw=section,
    )


def _positive(value: Any, unit: str, words: str, example: str, where: str) -> float:
    """``value`` in ``unit``; a :class:`SpecError` naming ``where`` unless it fits and is > 0."""
    quantity = parse_quantity(value, where=where)
    target = registry().Quantity(1, unit)
    if quantity.dimensionality != target.dimensionality:
        raise SpecError(
            f"{where}: {str(value)!r} is {describe_dimensionality(quantity)}, but {words} is "
            f"needed, e.g. {example}"
        )
    magnitude = float(quantity.to(unit).magnitude)
    if not magnitude > 0:
        raise SpecError(f"{where}: must be more than 0, got {value!r}")
    return magnitude


def _rate(value: Any, where: str) -> float:
    """A rate per year: ``"0.7 %/year"`` (a share a year); 0 is allowed."""
    quantity = parse_quantity(value, where=where)
    per_year = registry().Quantity(1, "1 / year")
    if quantity.dimensionality != per_year.dimensionality:
        raise SpecError(
            f"{where}: {str(value)!r} is {describe_dimensionality(quantity)}, but a rate per "
            "year is needed, e.g. '0.7 %/year'"
        )
    rate = float(quantity.to("1 / year").magnitude)
    if rate < 0:
        raise SpecError(f"{where}: must be 0 or more, got {value!r}")
    return rate
