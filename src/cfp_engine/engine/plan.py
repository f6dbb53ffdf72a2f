"""Component plans and the product's demand on the Brightway project.

A product's *plan* fixes, for each component, the allocation parameters (materials table
and spec overrides), the activity of each role and what the footprint leaves out. Its
*demand terms* are the activities it needs, each with its amount per unit of a size (the
component's mass or a stage item's amount). The deterministic footprint
(:mod:`cfp_engine.engine.footprint`) scales each term by its nominal size; Monte Carlo
(:mod:`cfp_engine.uncertainty.model`) by sampled sizes and shares. Both take the terms
from here, so the two calculations count the same activities in the same units.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cfp_engine.engine.circularity import (
    DEFAULT_A,
    ENERGY_ROLES,
    AllocationParameters,
    Coefficients,
    allocation_coefficients,
)
from cfp_engine.engine.treatments import (
    OPTIONAL_TREATMENTS,
    ROLE_NAMES,
    describe_unmodelled,
    unmodelled_treatments,
)
from cfp_engine.errors import DataError, SpecError
from cfp_engine.spec.conversion import convert_magnitude, convert_to_activity_unit
from cfp_engine.spec.materials import MaterialSpec, MaterialsTable
from cfp_engine.spec.product import (
    ACTIVITY_STAGES,
    ActivityAmountSpec,
    ComponentSpec,
    ProductSpec,
)
from cfp_engine.spec.units import registry
from cfp_engine.store.scores import ActivityInfo, ScoreTable

if TYPE_CHECKING:
    import pint

DEFAULT_SUBSTITUTED_HEAT = "heat, natural gas"
GLOBAL_GRID = "electricity, grid, world average"


@dataclass(frozen=True)
class ComponentPlan:
    """One component's allocation parameters, role activities and what it leaves out.

    Attributes
    ----------
    references
        Role -> (activity reference or None, where it came from, for messages).
    notes
        Warnings about the parameters (capped shares, PEF defaults used).
    material
        The component's row of the materials table, or None (given by activities).
    unmodelled
        Optional treatments (:data:`cfp_engine.engine.treatments.OPTIONAL_TREATMENTS`)
        the materials table leaves blank.
    exemptions
        What the footprint leaves out, for warnings and labels.
    has_end_of_life
        False for a component given by activities without ``end_of_life``: it then
        counts no end of life at all.
    """

    component: ComponentSpec
    parameters: AllocationParameters
    references: dict[str, tuple[str | None, str]]
    notes: tuple[str, ...]
    material: MaterialSpec | None = None
    unmodelled: tuple[str, ...] = ()
    exemptions: tuple[str, ...] = ()
    has_end_of_life: bool = True

    def coefficients(
        self, approach: str, parameters: AllocationParameters | None = None
    ) -> Coefficients:
        """Role amounts per kg of the component, without the roles it does not model.

        A treatment the materials table leaves blank counts nothing, together with the
        credits of the same term (the R2 term of the CFF, or R3's substituted energy).

        Parameters
        ----------
        approach
            ``cut-off``, ``avoided-burden`` or ``cff``.
        parameters
            Parameters to use instead of the plan's (Monte Carlo passes varied shares).
        """
        coefficients = allocation_coefficients(
            approach, self.parameters if parameters is None else parameters
        )
        if not self.has_end_of_life:
            coefficients["end_of_life"] = {}
        for role in self.unmodelled:
            for dropped in (role, *OPTIONAL_TREATMENTS[role]):
                coefficients["end_of_life"].pop(dropped, None)
        return coefficients


@dataclass(frozen=True)
class ProductPlan:
    """The plans of a product's components under one approach."""

    product: ProductSpec
    approach: str
    components: tuple[ComponentPlan, ...]

    def virgin_baseline(self) -> ProductPlan:
        """The same product with no recycled content (R1 = 0 in every component)."""
        return replace(self, components=tuple(map(_virgin, self.components)))


@dataclass(frozen=True)
class DemandTerm:
    """One activity the product needs, and its amount per unit of a size.

    A component's term counts ``per_size`` kg of the role's activity per kg of the
    component (MJ per kg for the energy roles); a stage item's term counts its amount
    as written (``per_size`` 1).
    """

    stage: str
    role: str  # a circularity role, or "activity" for a stage item
    activity: ActivityInfo
    per_size: float
    component: ComponentSpec | None = None
    item: ActivityAmountSpec | None = None

    @property
    def where(self) -> str:
        """Where the size is given in the spec, for unit errors."""
        if self.component is not None:
            return f"{self.component.where}.mass"
        return f"{self.item.where}.amount"

    @property
    def basis(self) -> pint.Unit | str:
        """The unit ``per_size`` counts in: kilogram, megajoule, or the stage item's unit."""
        if self.component is None:
            return self.item.amount.units
        return "megajoule" if self.role in ENERGY_ROLES else "kilogram"

    def amount(self) -> float:
        """The nominal amount in the activity's unit."""
        if self.component is None:
            return self._convert(self.item.amount)
        # Floats, not pint arithmetic, per term: pint took most of the time of a
        # 10^5-component spec; convert_magnitude still checks the dimension.
        if self.role in ENERGY_ROLES:
            magnitude, units = self.per_size * self.component.mass_kg, "megajoule"
        else:
            magnitude, units = (
                self.component.mass.magnitude * self.per_size,
                self.component.mass.units,
            )
        return convert_magnitude(
            magnitude,
            units,
            self.activity.unit,
            where=self.where,
            activity=self.activity.name,
            mass_per_unit_kg=self.activity.mass_per_unit_kg,
        )

    def unit_amount(self) -> float:
        """Activity units per one unit of :attr:`basis`."""
        return self._convert(registry().Quantity(1.0, self.basis))

    def _convert(self, quantity: pint.Quantity) -> float:
        return convert_to_activity_unit(
            quantity,
            self.activity.unit,
            where=self.where,
            activity=self.activity.name,
            mass_per_unit_kg=self.activity.mass_per_unit_kg,
        )


@dataclass(frozen=True, slots=True)  # 10^6 of them for 10^5 components: no __dict__ each
class Demand:
    """One entry of the product's demand: an amount of one activity, in its unit."""

    stage: str
    component: str | None
    role: str
    activity_index: int
    amount: float


def plan_product(
    product: ProductSpec, materials: MaterialsTable, table: ScoreTable, approach: str
) -> ProductPlan:
    """The plan of every component of ``product`` under ``approach``."""
    components = tuple(
        plan_component(c, materials, table, product, approach) for c in product.components
    )
    return ProductPlan(product, approach, components)


def product_demand(
    plan: ProductPlan, table: ScoreTable, *, virgin_baseline: bool = False
) -> list[Demand]:
    """The nominal demand of ``plan``: component roles first, then stage items.

    ``virgin_baseline``: the demand of ``plan.virgin_baseline()``, each component's plan
    made as it is needed rather than 10^5 of them at once (memory).
    """
    demands = []
    for component_plan in plan.components:
        if virgin_baseline:
            component_plan = _virgin(component_plan)
        component_id = component_plan.component.id
        for stage, roles in component_plan.coefficients(plan.approach).items():
            for role, per_kg in roles.items():
                if per_kg == 0.0:
                    continue
                term = component_term(component_plan, stage, role, per_kg, table)
                demands.append(
                    Demand(stage, component_id, role, term.activity.index, term.amount())
                )
    for term in stage_terms(plan.product, table):
        demands.append(Demand(term.stage, None, term.role, term.activity.index, term.amount()))
    return demands


def _virgin(plan: ComponentPlan) -> ComponentPlan:
    return replace(plan, parameters=replace(plan.parameters, R1=0.0))


def component_term(
    plan: ComponentPlan, stage: str, role: str, per_kg: float, table: ScoreTable
) -> DemandTerm:
    """The term of ``role`` of the plan's component, ``per_kg`` of it per kg.

    A ``per_kg`` of 0 (Monte Carlo: a role only a varied share brings in) still needs
    the role's activity; the message then speaks of 1 per kg.
    """
    info = role_activity(plan, role, per_kg or 1.0, table)
    return DemandTerm(stage, role, info, per_kg, component=plan.component)


def stage_terms(product: ProductSpec, table: ScoreTable) -> Iterator[DemandTerm]:
    """The terms of the product's stage items (production to end of life), in spec order.

    Yielded one by one, so that a caller converting each amount as it comes reports the
    first item at fault, whether its activity or its unit is wrong.
    """
    for stage in ACTIVITY_STAGES:
        for item in product.stages.get(stage, ()):
            info = table.find(item.activity, where=f"{item.where}.activity")
            yield DemandTerm(stage, "activity", info, 1.0, item=item)


def plan_component(
    component: ComponentSpec,
    materials: MaterialsTable,
    table: ScoreTable,
    product: ProductSpec,
    approach: str,
) -> ComponentPlan:
    """Parameters and role activities of one component, spec overrides applied."""
    where = component.where
    eol = component.end_of_life
    notes: list[str] = []
    if component.material:
        material = materials.get(component.material, where=f"{where}.material")
        origin = material.origin
        references = {
            "virgin": (material.virgin, origin),
            "recycled": (material.recycled, origin),
            "eol_recycling": (material.eol_recycling, origin),
            "virgin_substituted": (material.virgin_substituted or material.virgin, origin),
            "disposal": (material.disposal, origin),
            "energy_recovery": (material.energy_recovery, origin),
            "substituted_heat": (material.substituted_heat or DEFAULT_SUBSTITUTED_HEAT, origin),
            "substituted_electricity": (
                material.substituted_electricity or _grid_for(product, table),
                origin,
            ),
        }
        values = _material_parameters(material, approach, notes, where)
    else:
        references = {
            "virgin": (component.virgin, f"{where}.virgin"),
            "recycled": (component.recycled, f"{where}.recycled"),
            "virgin_substituted": (component.virgin, f"{where}.virgin"),
        }
        values = {"R2": 0.0, "R3": 0.0, "A": DEFAULT_A}
    if eol is not None:
        if eol.recycling is not None:
            values["R2"] = eol.recycling
        if eol.energy_recovery is not None:
            values["R3"] = eol.energy_recovery
        elif eol.recycling is not None and values["R2"] + values["R3"] > 1.0:
            # The table's energy-recovery share is a national statistic next to its
            # own recycling rate; with a higher recycling rate given, only the rest
            # of the waste can go to energy recovery.
            capped = max(0.0, 1.0 - values["R2"])
            notes.append(
                f"{where}: energy-recovery share R3 {values['R3']:g} from the materials "
                f"table capped at {capped:g}, because recycling is {values['R2']:g}"
            )
            values["R3"] = capped
        for role, given in (
            ("eol_recycling", eol.recycling_activity),
            ("disposal", eol.disposal_activity),
            ("energy_recovery", eol.energy_recovery_activity),
        ):
            if given:
                references[role] = (given, f"{where}.end_of_life.{role}_activity")
    values.update({k: float(v) for k, v in component.cff.items()})
    try:
        parameters = AllocationParameters(R1=component.recycled_content, **values)
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    if approach == "cff":
        notes.extend(f"{where}: {note}" for note in parameters.warnings())
    material_spec = materials.get(component.material) if component.material else None
    unmodelled: tuple[str, ...] = ()
    exemptions: list[str] = []
    if material_spec is not None:
        if parameters.R1 > 0.0 and not references["recycled"][0]:
            raise DataError(_missing_role_message(component, "recycled", parameters.R1))
        unmodelled = tuple(role for role in OPTIONAL_TREATMENTS if not references[role][0])
        exemptions = [
            f"component {component.id!r}: "
            + describe_unmodelled(material_spec, role, share, approach, component.mass_kg)
            for role, share in unmodelled_treatments(unmodelled, parameters, approach)
        ]
    return ComponentPlan(
        component,
        parameters,
        references,
        tuple(notes),
        material_spec,
        unmodelled,
        tuple(exemptions),
        # Without a material there is no end-of-life data unless the spec gives some.
        has_end_of_life=bool(component.material) or eol is not None,
    )


def role_activity(plan: ComponentPlan, role: str, per_kg: float, table: ScoreTable) -> ActivityInfo:
    """The activity of ``role`` in ``plan``; an error when the plan has none.

    Raises
    ------
    DataError
        The role has no activity although the allocation needs ``per_kg`` of it.
    """
    reference, origin = plan.references.get(role, (None, ""))
    if not reference:
        raise DataError(_missing_role_message(plan.component, role, per_kg))
    return table.find(reference, where=origin)


def _material_parameters(
    material: MaterialSpec, approach: str, notes: list[str], where: str
) -> dict[str, float]:
    values = {
        "R2": material.R2,
        "R3": material.R3,
        "A": material.A if material.A is not None else DEFAULT_A,
        "B": material.B or 0.0,
        "Qsin_Qp": material.Qsin_Qp if material.Qsin_Qp is not None else 1.0,
        "Qsout_Qp": material.Qsout_Qp if material.Qsout_Qp is not None else 1.0,
    }
    if material.LHV_MJ_per_kg:
        values["heat_MJ_per_kg"] = material.LHV_MJ_per_kg * (material.X_ER_heat or 0.0)
        values["electricity_MJ_per_kg"] = material.LHV_MJ_per_kg * (material.X_ER_elec or 0.0)
    if approach == "cff":
        missing = [n for n in ("A", "Qsin_Qp", "Qsout_Qp") if getattr(material, n) is None]
        if missing:
            defaults = {
                "A": f"A = {DEFAULT_A:g}",
                "Qsin_Qp": "Qsin/Qp = 1",
                "Qsout_Qp": "Qsout/Qp = 1",
            }
            notes.append(
                f"{where}: material {material.material!r} has no "
                f"{', '.join(missing)} in its table; PEF defaults used "
                f"({', '.join(defaults[name] for name in missing)})"
            )
    return values


def _grid_for(product: ProductSpec, table: ScoreTable) -> str:
    if product.geography:
        name = f"electricity, grid, {product.geography}"
        if table.references.has_name(name):
            return name
    return GLOBAL_GRID


def _missing_role_message(component: ComponentSpec, role: str, amount: float) -> str:
    what = ROLE_NAMES.get(role, f"{role} activity")
    owner = f"material {component.material!r}" if component.material else "the component"
    if role == "recycled" and component.material:
        return (
            f"{component.where}: {owner} has no recycled route, but recycled_content is "
            f"{component.recycled_content:.3g}; set recycled_content to 0, or give the "
            "material a 'recycled' activity in its materials table"
        )
    hint = {
        "recycled": "set recycled_content to 0 or give recycled: ACTIVITY",
        "disposal": "give end_of_life.disposal_activity",
        "energy_recovery": "give end_of_life.energy_recovery_activity or energy_recovery: 0",
        "eol_recycling": "give end_of_life.recycling_activity",
    }.get(role, "give the activity in the materials table or the spec")
    return (
        f"{component.where}: {owner} has no {what}, but the allocation needs "
        f"{abs(amount):.3g} per kg of it; {hint}"
    )
