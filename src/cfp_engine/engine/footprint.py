"""Compute a product's carbon footprint: spec -> demand on the Brightway project -> result.

The product's components (virgin and recycled routes and end of life, allocated by the
chosen approach, :mod:`cfp_engine.engine.circularity`) and its stage activities become line
items, each an amount of one activity of the project in that activity's unit. Scoring a
line item is a product with the activity's per-unit score (one adjoint solve of
bw2calc's matrices, :mod:`cfp_engine.store.score_solve`), so the result equals bw2calc's
``LCA(demand).score`` and is exactly additive by stage, component and GHG indicator.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cfp_engine.engine.circularity import (
    DEFAULT_A,
    ENERGY_ROLES,
    AllocationParameters,
    Coefficients,
    allocation_coefficients,
)
from cfp_engine.engine.results import ComponentResult, FootprintResult, LineItem, check_finite
from cfp_engine.engine.treatments import (
    OPTIONAL_TREATMENTS,
    ROLE_NAMES,
    describe_unmodelled,
    unmodelled_treatments,
)
from cfp_engine.errors import CalculationError, DataError, SpecError
from cfp_engine.paths import inventories_dir
from cfp_engine.spec.materials import MaterialSpec, MaterialsTable, load_materials
from cfp_engine.spec.methods import GHG_INDICATORS, INDICATORS, MethodSpec, resolve_method
from cfp_engine.spec.product import STAGES, ComponentSpec, ProductSpec
from cfp_engine.spec.units import convert_to_activity_unit, registry
from cfp_engine.store.dropped_flows import dropped_flow_warnings, used_databases
from cfp_engine.store.scores import ActivityInfo, ScoreTable
from cfp_engine.version import __version__

DEFAULT_APPROACH = "cut-off"
DEFAULT_SUBSTITUTED_HEAT = "heat, natural gas"
GLOBAL_GRID = "electricity, grid, world average"


@dataclass(frozen=True)
class _Demand:
    stage: str
    component: str | None
    role: str
    activity_index: int
    amount: float


@dataclass(frozen=True)
class _ComponentPlan:
    component: ComponentSpec
    parameters: AllocationParameters
    references: dict[str, tuple[str | None, str]]  # role -> (reference, where it came from)
    notes: tuple[str, ...]
    material: MaterialSpec | None = None
    unmodelled: tuple[str, ...] = ()  # OPTIONAL_TREATMENTS the materials table leaves blank
    exemptions: tuple[str, ...] = ()  # what the footprint leaves out, for warnings and labels


def calculate_footprint(
    spec: ProductSpec,
    *,
    variant: str | None = None,
    method: str | None = None,
    approach: str | None = None,
    inventories: Sequence[str | Path] = (),
    materials: Sequence[str | Path] = (),
    table: ScoreTable | None = None,
) -> FootprintResult:
    """Carbon footprint of ``spec`` (or one of its variants) per declared unit.

    Parameters
    ----------
    spec
        A product spec from :func:`cfp_engine.spec.product.load_spec`.
    variant
        Name of a variant of the spec, or ``None`` for the base product.
    method
        Impact method name or alias (default: IPCC 2021 GWP100, AR6).
    approach
        ``cut-off``, ``avoided-burden`` or ``cff``; default: the spec's, else cut-off.
    inventories, materials
        Extra user inventory files (Brightway Excel/CSV) and materials tables (CSV),
        added to those the spec lists.
    table
        A score table already opened with :func:`cfp_engine.store.access.open_store`.

    Returns
    -------
    FootprintResult
        Totals in kg CO2e per declared unit, by stage, component and GHG indicator.
    """
    calculator = FootprintCalculator(
        method=method, inventories=inventories, materials=materials, table=table
    )
    return calculator.calculate(spec, variant=variant, approach=approach)


class FootprintCalculator:
    """Calculates many footprints (variants, approaches, sweeps) on the same data.

    The score table and the materials tables are opened once per set of files and
    reused, so a further calculation costs a few milliseconds.
    """

    def __init__(
        self,
        *,
        method: str | None = None,
        inventories: Sequence[str | Path] = (),
        materials: Sequence[str | Path] = (),
        table: ScoreTable | None = None,
    ):
        self.method: MethodSpec = resolve_method(method)
        self._inventories = tuple(Path(p) for p in inventories)
        self._materials = tuple(Path(p) for p in materials)
        self._table = table
        self._tables: dict[tuple[Path, ...], ScoreTable] = {}
        self._materials_tables: dict[tuple[Path, ...], MaterialsTable] = {}

    def table_for(self, product: ProductSpec | None = None) -> ScoreTable:
        """The score table of the built-in data, the user files and ``product``'s."""
        if self._table is not None:
            return self._table
        key = (*(product.inventories if product else ()), *self._inventories)
        if key not in self._tables:
            from cfp_engine.store.access import open_store

            self._tables[key] = open_store(key)
        return self._tables[key]

    def materials_for(
        self, product: ProductSpec | None = None
    ) -> tuple[MaterialsTable, tuple[Path, ...]]:
        """The merged materials tables (built-in, user, ``product``'s) and their files."""
        key = (*(product.materials if product else ()), *self._materials)
        if key not in self._materials_tables:
            self._materials_tables[key] = load_materials(key)
        return self._materials_tables[key], key

    def calculate(
        self, spec: ProductSpec, *, variant: str | None = None, approach: str | None = None
    ) -> FootprintResult:
        """The footprint of ``spec`` (variant ``variant``) under ``approach``."""
        product = spec.with_variant(variant)
        approach = approach or product.approach or DEFAULT_APPROACH
        table = self.table_for(product)
        materials, material_files = self.materials_for(product)
        plans = [plan_component(c, materials, table, product, approach) for c in product.components]
        demands = _demand(plans, product, table, approach)
        baseline_plans = [replace(p, parameters=replace(p.parameters, R1=0.0)) for p in plans]
        baseline = _demand(baseline_plans, product, table, approach)
        # Huge inputs overflow: no numpy warnings, an error naming the input (issue 13).
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                result = _score(
                    product, self.method, approach, plans, demands, baseline, table, material_files
                )
            except OverflowError:  # math.fsum of finite parts too large
                raise CalculationError(
                    f"{product.source}: the footprint overflows; check for very large amounts"
                ) from None
        return check_finite(result, source=product.source)


# -- the demand -----------------------------------------------------------------------


def plan_component(
    component: ComponentSpec,
    materials: MaterialsTable,
    table: ScoreTable,
    product: ProductSpec,
    approach: str,
) -> _ComponentPlan:
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
    if not component.material and eol is None:
        references["no_end_of_life"] = (None, "")
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
    return _ComponentPlan(
        component,
        parameters,
        references,
        tuple(notes),
        material_spec,
        unmodelled,
        tuple(exemptions),
    )


def plan_coefficients(
    plan: _ComponentPlan, approach: str, parameters: AllocationParameters | None = None
) -> Coefficients:
    """Role amounts per kg of the plan's component, without the roles it does not model.

    A component given by activities and no ``end_of_life`` has no end of life; a
    treatment the materials table leaves blank counts nothing, together with the
    credits of the same term (the R2 term of the CFF, or R3's substituted energy).
    Monte Carlo passes sampled ``parameters``.
    """
    coefficients = allocation_coefficients(
        approach, plan.parameters if parameters is None else parameters
    )
    if "no_end_of_life" in plan.references:
        coefficients["end_of_life"] = {}
    for role in plan.unmodelled:
        for dropped in (role, *OPTIONAL_TREATMENTS[role]):
            coefficients["end_of_life"].pop(dropped, None)
    return coefficients


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
            notes.append(
                f"{where}: material {material.material!r} has no "
                f"{', '.join(missing)} in its table; PEF defaults used (A = 0.5, "
                "quality ratios 1)"
            )
    return values


def _grid_for(product: ProductSpec, table: ScoreTable) -> str:
    if product.geography:
        name = f"electricity, grid, {product.geography}"
        if table.references.has_name(name):
            return name
    return GLOBAL_GRID


def _demand(
    plans: list[_ComponentPlan], product: ProductSpec, table: ScoreTable, approach: str
) -> list[_Demand]:
    demands: list[_Demand] = []
    for plan in plans:
        demands.extend(_component_demand(plan, table, approach))
    for stage in STAGES[1:]:
        for item in product.stages.get(stage, ()):
            info = table.find(item.activity, where=f"{item.where}.activity")
            amount = convert_to_activity_unit(
                item.amount, info.unit, where=f"{item.where}.amount", activity=info.name
            )
            demands.append(_Demand(stage, None, "activity", info.index, amount))
    return demands


def _component_demand(plan: _ComponentPlan, table: ScoreTable, approach: str) -> list[_Demand]:
    component = plan.component
    coefficients = plan_coefficients(plan, approach)
    demands = []
    for stage, roles in coefficients.items():
        for role, per_kg in roles.items():
            if per_kg == 0.0:
                continue
            info = role_activity(plan, role, per_kg, table)
            if role in ENERGY_ROLES:
                quantity = registry().Quantity(per_kg * component.mass_kg, "megajoule")
            else:
                quantity = component.mass * per_kg
            amount = convert_to_activity_unit(
                quantity, info.unit, where=f"{component.where}.mass", activity=info.name
            )
            demands.append(_Demand(stage, component.id, role, info.index, amount))
    return demands


def role_activity(
    plan: _ComponentPlan, role: str, per_kg: float, table: ScoreTable
) -> ActivityInfo:
    reference, origin = plan.references.get(role, (None, ""))
    if not reference:
        raise DataError(_missing_role_message(plan.component, role, per_kg))
    return table.find(reference, where=origin)


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


# -- scoring --------------------------------------------------------------------------


def _score(
    product: ProductSpec,
    method: MethodSpec,
    approach: str,
    plans: list[_ComponentPlan],
    demands: list[_Demand],
    baseline: list[_Demand],
    table: ScoreTable,
    material_files: Sequence[Path],
) -> FootprintResult:
    scores = table.vector(method.name)
    total_row = INDICATORS.index("total")
    items = []
    for d in demands:
        per_unit = scores[:, d.activity_index]
        info = table.activities[d.activity_index]
        items.append(
            LineItem(
                stage=d.stage,
                component=d.component,
                role=d.role,
                activity=info.reference,
                amount=d.amount,
                unit=info.unit,
                kg_co2e=float(d.amount * per_unit[total_row]),
                ghg_kg_co2e={
                    ind: float(d.amount * per_unit[INDICATORS.index(ind)]) for ind in GHG_INDICATORS
                },
            )
        )
    stages = {s: math.fsum(i.kg_co2e for i in items if i.stage == s) for s in STAGES}
    total = math.fsum(stages.values())
    ghg = {ind: math.fsum(i.ghg_kg_co2e[ind] for i in items) for ind in GHG_INDICATORS}
    baseline_total = math.fsum(d.amount * scores[total_row, d.activity_index] for d in baseline)
    # One pass over the line items, then one look-up per component: linear in the number
    # of components (a scan of all items per component took minutes for 10^5; issue 13).
    items_by_component: dict[str, list[LineItem]] = {}
    for item in items:
        if item.component is not None:
            items_by_component.setdefault(item.component, []).append(item)
    components = tuple(
        _component_result(p, items_by_component.get(p.component.id, []), table) for p in plans
    )
    mass = math.fsum(c.mass_kg for c in components)
    recycled = math.fsum(c.mass_kg * c.recycled_content for c in components)
    eol_recycled = math.fsum(c.mass_kg * c.eol_recycling for c in components)
    sources = table.manifest.get("databases", {})
    databases = used_databases(
        {table.activities[d.activity_index].database for d in (*demands, *baseline)},
        sources,
        table.manifest.get("depends"),
    )
    exemptions = (
        *(text for plan in plans for text in plan.exemptions),
        *dropped_flow_warnings(databases, sources),
    )
    return FootprintResult(
        product_id=product.id,
        product_name=product.name,
        variant=product.variant,
        declared_unit=product.declared_unit,
        method=method.name,
        approach=approach,
        total_kg_co2e=total,
        stages_kg_co2e=stages,
        components=components,
        ghg_kg_co2e=ghg,
        recycled_content_share=recycled / mass if mass > 0 else 0.0,
        eol_recycling_share=eol_recycled / mass if mass > 0 else 0.0,
        virgin_baseline_kg_co2e=baseline_total,
        reduction_vs_virgin=(1.0 - total / baseline_total) if baseline_total != 0 else None,
        line_items=tuple(items),
        provenance=_provenance(product, method, table, material_files, demands, databases),
        warnings=(*(note for plan in plans for note in plan.notes), *exemptions),
        exemptions=exemptions,
    )


def _component_result(
    plan: _ComponentPlan, mine: list[LineItem], table: ScoreTable
) -> ComponentResult:
    """The result of ``plan``'s component from its own line items ``mine``."""
    component = plan.component
    raw = math.fsum(i.kg_co2e for i in mine if i.stage == "raw_materials")
    eol = math.fsum(i.kg_co2e for i in mine if i.stage == "end_of_life")
    activities = {item.role: item.activity for item in mine}
    material = plan.material

    def carbon_kg(content: float | None) -> float | None:
        return None if content is None else content * component.mass_kg

    return ComponentResult(
        id=component.id,
        material=component.material,
        mass_kg=component.mass_kg,
        parameters=plan.parameters.as_dict(),
        activities=activities,
        kg_co2e=raw + eol,
        raw_materials_kg_co2e=raw,
        end_of_life_kg_co2e=eol,
        packaging=component.packaging,
        fossil_carbon_kg=carbon_kg(material.fossil_carbon_content if material else None),
        biogenic_carbon_kg=carbon_kg(material.biogenic_carbon_content if material else None),
    )


#: A list longer than this in a database's record (an import's dropped exchanges, left-out
#: flows, skipped datasets: 19,854 rows for the US LCI export) is summarised in a result's
#: provenance; the whole list stays in the store's registry (``imports/registry.json``) and
#: in the import's report.
PROVENANCE_LIST_LIMIT = 20


def _summarised(record: dict) -> dict:
    """A database record with each long list replaced by ``{"count", "first"}``."""
    return {
        key: (
            {"count": len(value), "first": value[:PROVENANCE_LIST_LIMIT]}
            if isinstance(value, list) and len(value) > PROVENANCE_LIST_LIMIT
            else value
        )
        for key, value in record.items()
    }


def _provenance(
    product: ProductSpec,
    method: MethodSpec,
    table: ScoreTable,
    material_files: Sequence[Path],
    demands: list[_Demand],
    databases: Sequence[str],
) -> dict:
    digest = hashlib.sha256(table.fingerprint.encode())
    for path in [inventories_dir() / "materials.csv", *material_files]:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    datasets = []
    # By reference, not by matrix index: the index order of a build is not reproducible
    # (bw2io writes a database's activities in set order), and a label must be.
    used = {d.activity_index for d in demands}
    for index in sorted(used, key=lambda i: table.activities[i].reference):
        info = table.activities[index]
        source = info.source or {}
        datasets.append(
            {
                "activity": info.reference,
                "source": source.get("organisation", info.database),
                "document": source.get("document", ""),
                "year": source.get("year"),
                "geography": source.get("geography", info.location),
                "licence": source.get("licence", ""),
            }
        )
    manifest = table.manifest
    return {
        "engine_version": __version__,
        "spec_sha256": product.sha256,
        "data_sha256": digest.hexdigest(),
        "method": method.name,
        "method_indicators": {ind: list(method.brightway_name(ind)) for ind in INDICATORS},
        "gwp_source": method.gwp_source,
        "lcia_source": manifest.get("lcia_source", {}),
        "brightway_project": manifest.get("project"),
        # Only the databases this result used (directly or through their links).
        "databases": {
            name: _summarised(record)
            for name, record in manifest.get("databases", {}).items()
            if name in databases
        },
        "versions": manifest.get("versions", {}),
        "datasets": datasets,
    }
