"""The battery functional unit: total energy delivered over the service life.

The EU Battery Regulation (EU) 2023/1542 (Article 7, Annex II) declares a battery's carbon
footprint per kWh of the total energy the battery provides over its service life. The
Commission's draft delegated act on the carbon footprint of electric vehicle batteries
(draft Commission Delegated Regulation supplementing Regulation (EU) 2023/1542, Ref.
Ares(2024)3131389 of 29 April 2024, not adopted when this was written) defines it as

    E_total [kWh] = usable energy capacity [kWh] x FEqC per year x service life [years]

with the usable capacity at the beginning of life, and default full equivalent
charge-discharge cycles per year by vehicle category (:data:`DEFAULT_FEC_PER_YEAR`):
M1 and N1 60, L 20, M2, M3, N2 and N3 250; for other vehicles the manufacturer gives its
own figure, justified in the public version of the study. The draft takes the service life
from the battery's warranty (in years), so it has no default here: it is a required input.

A spec's ``battery:`` section (:func:`parse_battery`) gives these, plus what the Battery
Pass needs and the calculation cannot know: which component holds which Article 8 element
(Co, Ni, Li, Pb), whether its recycled content is pre- or post-consumer, the study URL and
the performance class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.spec.service_life import DeliveredEnergyUnit, declared_amount
from cfp_engine.spec.units import parse_quantity, parse_share, registry

#: The draft delegated act the defaults come from (named in every output that uses them).
DRAFT_ACT = (
    "draft Commission Delegated Regulation supplementing Regulation (EU) 2023/1542 "
    "(carbon footprint of electric vehicle batteries), Ref. Ares(2024)3131389, 29 April 2024"
)
#: Full equivalent cycles per year by vehicle category, from the draft act (see above).
DEFAULT_FEC_PER_YEAR = {
    "M1": 60,
    "N1": 60,
    "L": 20,
    "M2": 250,
    "M3": 250,
    "N2": 250,
    "N3": 250,
}
#: Categories the schema accepts; "other" has no default (the manufacturer's figure).
CATEGORIES = (*DEFAULT_FEC_PER_YEAR, "other")
#: The elements of Article 8's recycled-content rules, as the Battery Pass names them.
ELEMENTS = {"Co": "Cobalt", "Ni": "Nickel", "Li": "Lithium", "Pb": "Lead"}


@dataclass(frozen=True)
class ElementSource:
    """A component that carries an Article 8 element."""

    component: str
    element: str  # Co, Ni, Li or Pb
    #: Mass share of the element in the component; needed only to weigh several
    #: components that carry the same element (their compounds differ).
    content: float | None = None
    pre_consumer: bool = False  # the recycled content comes from manufacturing waste


@dataclass(frozen=True)
class BatterySpec:
    """A spec's ``battery:`` section, parsed."""

    category: str
    usable_capacity_kwh: float
    service_life_years: float
    full_equivalent_cycles_per_year: float
    fec_source: str  # "draft default (M1)" or "spec"
    elements: tuple[ElementSource, ...] = ()
    performance_class: str | None = None
    carbon_footprint_study: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def total_energy_kwh(self) -> float:
        """Energy delivered over the service life: capacity x FEC per year x years."""
        return (
            self.usable_capacity_kwh
            * self.full_equivalent_cycles_per_year
            * self.service_life_years
        )

    def batteries_per_declared_unit(self, declared_unit: str, where: str = "battery") -> float:
        """How many batteries one declared unit is (energy: capacity share; piece: count).

        Raises
        ------
        SpecError
            A declared unit that is neither an energy nor pieces.
        """
        dimension, amount = declared_amount(declared_unit, f"{where} (product.declared_unit)")
        if dimension == "energy":
            return amount / self.usable_capacity_kwh
        if dimension == "count":
            return amount
        raise SpecError(
            f"product.declared_unit {declared_unit!r}: a battery needs a declared unit of "
            "energy (e.g. '1 kWh' of capacity) or '1 piece' (one battery)"
        )

    def delivered_energy(self, declared_unit: str, where: str = "battery") -> DeliveredEnergyUnit:
        """The functional unit of a spec with this section and ``declared_unit``.

        One declared unit delivers its number of batteries times :attr:`total_energy_kwh`;
        the use stage is excluded (Annex II of Regulation (EU) 2023/1542).
        """
        batteries = self.batteries_per_declared_unit(declared_unit, where)
        return DeliveredEnergyUnit(
            name="1 kWh of total energy delivered over the service life",
            rule=DRAFT_ACT,
            formula="usable energy capacity x full equivalent cycles per year x service life",
            kwh_per_declared_unit=batteries * self.total_energy_kwh,
            calculation=(
                f"{batteries:g} battery x {self.usable_capacity_kwh:g} kWh "
                f"x {self.full_equivalent_cycles_per_year:g} cycles/year "
                f"x {self.service_life_years:g} years"
            ),
            excluded_stages=("use",),
            inputs={
                "category": {"value": self.category, "source": "spec"},
                "usable_capacity": {
                    "value": self.usable_capacity_kwh,
                    "unit": "kWh",
                    "source": "spec",
                },
                "full_equivalent_cycles_per_year": {
                    "value": self.full_equivalent_cycles_per_year,
                    "source": self.fec_source,
                },
                "service_life": {
                    "value": self.service_life_years,
                    "unit": "year",
                    "source": "spec",
                },
                "batteries_per_declared_unit": {"value": batteries, "source": declared_unit},
            },
            choices=(
                "Use stage excluded (Annex II of Regulation (EU) 2023/1542).",
                "Usable capacity at the beginning of life, as the spec gives it.",
            ),
        )


def parse_battery(section: Mapping[str, Any], where: str) -> BatterySpec:
    """Read a ``battery:`` section (already checked against the spec schema).

    Parameters
    ----------
    section
        The section as written.
    where
        The location for messages, e.g. ``"spec.yaml: battery"``.

    Raises
    ------
    SpecError
        A quantity of the wrong dimension or not positive, a category without a default
        FEC and no figure given, an element given twice without its content.
    """
    ureg = registry()
    capacity = parse_quantity(section["usable_capacity"], where=f"{where}.usable_capacity")
    if capacity.dimensionality != ureg.Quantity(1, "kilowatt_hour").dimensionality:
        raise SpecError(f"{where}.usable_capacity: an energy (e.g. '75 kWh'), got {capacity}")
    life = parse_quantity(section["service_life"], where=f"{where}.service_life")
    if life.dimensionality != ureg.Quantity(1, "year").dimensionality:
        raise SpecError(f"{where}.service_life: a time (e.g. '8 years'), got {life}")
    capacity_kwh = float(capacity.to("kilowatt_hour").magnitude)
    # The draft counts whole warranty years; a calendar year of 365.25 days is pint's.
    years = float(life.to("year").magnitude)
    for name, value in (("usable_capacity", capacity_kwh), ("service_life", years)):
        if not value > 0:
            raise SpecError(f"{where}.{name}: must be more than 0, got {value:g}")
    category = section["category"]
    fec = section.get("full_equivalent_cycles_per_year")
    if fec is None:
        if category not in DEFAULT_FEC_PER_YEAR:
            raise SpecError(
                f"{where}.full_equivalent_cycles_per_year is needed for category {category!r}: "
                "the draft delegated act has defaults only for M1, N1, L, M2, M3, N2 and N3"
            )
        fec, fec_source = DEFAULT_FEC_PER_YEAR[category], f"draft default ({category})"
    else:
        fec_source = "spec"
    return BatterySpec(
        category=category,
        usable_capacity_kwh=capacity_kwh,
        service_life_years=years,
        full_equivalent_cycles_per_year=float(fec),
        fec_source=fec_source,
        elements=_parse_elements(section.get("elements") or {}, f"{where}.elements"),
        performance_class=section.get("performance_class"),
        carbon_footprint_study=section.get("carbon_footprint_study"),
        raw=section,
    )


def _parse_elements(elements: Mapping[str, Any], where: str) -> tuple[ElementSource, ...]:
    sources = []
    for component, item in elements.items():
        content = item.get("content")
        share = None
        if content is not None:
            share = parse_share(content, where=f"{where}.{component}.content")
            if share == 0:
                raise SpecError(f"{where}.{component}.content: must be more than 0 %")
        sources.append(
            ElementSource(
                component=component,
                element=item["element"],
                content=share,
                pre_consumer=item.get("origin", "post-consumer") == "pre-consumer",
            )
        )
    for element in {s.element for s in sources}:
        carriers = [s for s in sources if s.element == element]
        if len(carriers) > 1 and any(s.content is None for s in carriers):
            names = ", ".join(s.component for s in carriers)
            raise SpecError(
                f"{where}: {element} is in several components ({names}); give each one's "
                "'content' (mass share of the element) so their recycled shares can be weighed"
            )
    return tuple(sources)
