"""Result objects of a footprint calculation and their JSON form (contract section 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfp_engine.errors import CalculationError
from cfp_engine.spec.documents import has_non_finite
from cfp_engine.spec.product import STAGES


@dataclass(frozen=True)
class LineItem:
    """One entry of the product's demand on the Brightway project, with its score."""

    stage: str
    component: str | None
    role: str  # virgin, recycled, disposal, energy_recovery, activity
    activity: str  # database::name::location
    amount: float  # in the activity's unit
    unit: str
    kg_co2e: float
    ghg_kg_co2e: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "component": self.component,
            "role": self.role,
            "activity": self.activity,
            "amount": self.amount,
            "unit": self.unit,
            "kg_co2e": self.kg_co2e,
            "ghg_kg_co2e": dict(self.ghg_kg_co2e),
        }


@dataclass(frozen=True)
class ComponentResult:
    """One component: its allocation parameters, activities and burden.

    ``kg_co2e`` is the raw-material burden plus the component's own end of life.
    ``parameters`` are the values used (R1, R2, R3, A, B, Qsin_Qp, Qsout_Qp, energy
    recovered); ``activities`` the activity of each role (Ev, Erec, ED, ...).
    """

    id: str
    material: str | None
    mass_kg: float
    parameters: Mapping[str, float]
    activities: Mapping[str, str]
    kg_co2e: float
    raw_materials_kg_co2e: float
    end_of_life_kg_co2e: float
    packaging: bool = False
    fossil_carbon_kg: float | None = None  # None: the materials table gives no content
    biogenic_carbon_kg: float | None = None

    @property
    def recycled_content(self) -> float:
        """R1, the share of recycled material in the component."""
        return self.parameters["R1"]

    @property
    def eol_recycling(self) -> float:
        """R2, the share of the component recycled at end of life."""
        return self.parameters["R2"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "material": self.material,
            "mass_kg": self.mass_kg,
            "kg_co2e": self.kg_co2e,
            "raw_materials_kg_co2e": self.raw_materials_kg_co2e,
            "end_of_life_kg_co2e": self.end_of_life_kg_co2e,
            "parameters": dict(self.parameters),
            "activities": dict(self.activities),
            "packaging": self.packaging,
            "fossil_carbon_kg": self.fossil_carbon_kg,
            "biogenic_carbon_kg": self.biogenic_carbon_kg,
        }


@dataclass(frozen=True)
class FootprintResult:
    """The carbon footprint of one product (or variant) per declared unit."""

    product_id: str
    product_name: str
    variant: str | None
    declared_unit: str
    method: str
    approach: str
    total_kg_co2e: float
    stages_kg_co2e: Mapping[str, float]
    components: tuple[ComponentResult, ...]
    ghg_kg_co2e: Mapping[str, float]
    recycled_content_share: float
    eol_recycling_share: float
    virgin_baseline_kg_co2e: float
    reduction_vs_virgin: float | None
    line_items: tuple[LineItem, ...]
    provenance: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    #: What the footprint leaves out (treatments not modelled, flows dropped at import);
    #: also among ``warnings``. Labels state them in the exemptions description.
    exemptions: tuple[str, ...] = ()
    #: The footprint per kWh delivered over the service life, with the rule and inputs it
    #: rests on (:meth:`cfp_engine.spec.service_life.DeliveredEnergyUnit.per_kwh`), when
    #: the spec has a ``battery:`` or ``pv:`` section; else ``None``.
    per_kwh_delivered: Mapping[str, Any] | None = None

    @property
    def components_kg_co2e(self) -> dict[str, float]:
        return {c.id: c.kg_co2e for c in self.components}

    @property
    def demand(self) -> dict[str, float]:
        """The product's total demand: activity reference -> amount (activity unit)."""
        totals: dict[str, float] = {}
        for item in self.line_items:
            totals[item.activity] = totals.get(item.activity, 0.0) + item.amount
        return totals

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``cfp calc --format json`` (contract section 3 first)."""
        return self._document(list)

    def _document(self, collect: Callable[[Iterator[dict]], Any]) -> dict[str, Any]:
        """:meth:`to_dict` with ``collect`` applied to the component and line-item dicts.

        ``list`` gives the document; ``iter`` one whose components and line items are
        made one at a time, for :func:`check_finite` (for 10^5 components
        the document takes 200 MB).
        """
        document = {
            "product_id": self.product_id,
            "variant": self.variant,
            "declared_unit": self.declared_unit,
            "method": self.method,
            "approach": self.approach,
            "total_kg_co2e": self.total_kg_co2e,
            "stages_kg_co2e": {s: self.stages_kg_co2e[s] for s in STAGES},
            "components_kg_co2e": self.components_kg_co2e,
            "ghg_kg_co2e": dict(self.ghg_kg_co2e),
            "recycled_content_share": self.recycled_content_share,
            "virgin_baseline_kg_co2e": self.virgin_baseline_kg_co2e,
            "reduction_vs_virgin": self.reduction_vs_virgin,
            "provenance": dict(self.provenance),
            # Extensions beyond the contract.
            "product_name": self.product_name,
            "eol_recycling_share": self.eol_recycling_share,
            "components": collect(c.to_dict() for c in self.components),
            "line_items": collect(item.to_dict() for item in self.line_items),
            "warnings": list(self.warnings),
            "exemptions": list(self.exemptions),
        }
        if self.per_kwh_delivered is not None:
            document["per_kwh_delivered"] = dict(self.per_kwh_delivered)
        return document


# -- finite figures --------------------------------------------------------------------


def check_finite(result: FootprintResult, *, source: str) -> FootprintResult:
    """Return ``result`` if every figure it writes is finite, else raise an error.

    A huge input (a mass of ``1e308 kg``, a CFF ratio of ``1e308``) overflows to
    ``inf`` or ``nan``, which is no number and not valid JSON. The message names the
    component or line item whose figures overflowed, and its inputs.

    Raises
    ------
    CalculationError
        Naming ``source`` (the spec) and the first component or activity at fault.
    """
    if not has_non_finite(result._document(iter)):
        return result
    hint = "check the amounts and ratios given for it (a realistic value is far below 1e300)"
    for component in result.components:
        if has_non_finite(component.to_dict()):
            ratios = {k: v for k, v in component.parameters.items() if abs(v) > 1e6}
            given = f", parameters {ratios}" if ratios else ""
            raise CalculationError(
                f"{source}: component {component.id!r} (mass {component.mass_kg:g} kg{given}) "
                f"gives a footprint that is not a finite number; {hint}"
            )
    for item in result.line_items:
        if has_non_finite(item.to_dict()):
            raise CalculationError(
                f"{source}: {item.stage} item {item.activity!r} (amount {item.amount:g} "
                f"{item.unit}) gives a footprint that is not a finite number; {hint}"
            )
    raise CalculationError(
        f"{source}: the footprint overflows (the sum of its parts is not a finite number); "
        "check for very large amounts"
    )
