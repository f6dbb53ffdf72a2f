"""Compute a product's carbon footprint: spec -> plan and demand -> scored result.

The product's plan and demand (:mod:`cfp_engine.engine.plan`: the routes and end of life of
each component, allocated by the chosen approach, and the stage activities) become line
items, each an amount of one activity of the project in that activity's unit. Scoring a
line item is a product with the activity's per-unit score (one adjoint solve of
bw2calc's matrices, :mod:`cfp_engine.store.score_solve`), so the result equals bw2calc's
``LCA(demand).score`` and is exactly additive by stage, component and GHG indicator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cfp_engine.engine.circularity import DEFAULT_APPROACH
from cfp_engine.engine.plan import (
    ComponentPlan,
    Demand,
    ProductPlan,
    plan_product,
    product_demand,
)
from cfp_engine.engine.provenance import build_provenance, supplier_warnings
from cfp_engine.engine.results import ComponentResult, FootprintResult, LineItem, check_finite
from cfp_engine.errors import CalculationError
from cfp_engine.spec.materials import MaterialsTable, load_materials
from cfp_engine.spec.methods import GHG_INDICATORS, INDICATORS, MethodSpec, resolve_method
from cfp_engine.spec.product import STAGES, ProductSpec
from cfp_engine.store.dropped_flows import dropped_flow_warnings, used_databases
from cfp_engine.store.scores import ScoreTable


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

    def plan(
        self, spec: ProductSpec, *, variant: str | None = None, approach: str | None = None
    ) -> ProductPlan:
        """The component plans of ``spec`` (variant ``variant``) under ``approach``.

        ``approach`` defaults to the spec's, else cut-off.
        """
        product = spec.with_variant(variant)
        approach = approach or product.approach or DEFAULT_APPROACH
        table = self.table_for(product)
        materials, _ = self.materials_for(product)
        return plan_product(product, materials, table, approach)

    def calculate(
        self, spec: ProductSpec, *, variant: str | None = None, approach: str | None = None
    ) -> FootprintResult:
        """The footprint of ``spec`` (variant ``variant``) under ``approach``."""
        return self.calculate_plan(self.plan(spec, variant=variant, approach=approach))

    def calculate_plan(self, plan: ProductPlan) -> FootprintResult:
        """The footprint of a plan made by :meth:`plan`."""
        product = plan.product
        table = self.table_for(product)
        _, material_files = self.materials_for(product)
        demands = product_demand(plan, table)
        baseline = product_demand(plan, table, virgin_baseline=True)
        # Huge inputs overflow: no numpy warnings, but an error naming the input.
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                result = _score(plan, self.method, demands, baseline, table, material_files)
            except OverflowError:  # math.fsum of finite parts too large
                raise CalculationError(
                    f"{product.source}: the footprint overflows; check for very large amounts"
                ) from None
        return check_finite(result, source=product.source)


# -- scoring: a line item is its amount times the activity's per-unit score -----------


def _score(
    plan: ProductPlan,
    method: MethodSpec,
    demands: list[Demand],
    baseline: list[Demand],
    table: ScoreTable,
    material_files: Sequence[Path],
) -> FootprintResult:
    product, approach, plans = plan.product, plan.approach, plan.components
    scores = table.vector(method.name)
    total_row = INDICATORS.index("total")
    ghg_rows = [(ind, INDICATORS.index(ind)) for ind in GHG_INDICATORS]
    # Each activity's per-unit scores, looked up once (numpy scalars, as indexed).
    per_unit: dict[int, tuple] = {}
    items = []
    for d in demands:
        if d.activity_index not in per_unit:
            column = scores[:, d.activity_index]
            per_unit[d.activity_index] = (
                table.activities[d.activity_index],
                column[total_row],
                [(ind, column[row]) for ind, row in ghg_rows],
            )
        info, total_score, ghg_scores = per_unit[d.activity_index]
        items.append(
            LineItem(
                stage=d.stage,
                component=d.component,
                role=d.role,
                activity=info.reference,
                amount=d.amount,
                unit=info.unit,
                kg_co2e=float(d.amount * total_score),
                ghg_kg_co2e={ind: float(d.amount * score) for ind, score in ghg_scores},
            )
        )
    by_stage: dict[str, list[float]] = {s: [] for s in STAGES}  # one pass, in item order
    for item in items:
        by_stage.setdefault(item.stage, []).append(item.kg_co2e)
    stages = {s: math.fsum(by_stage[s]) for s in STAGES}
    total = math.fsum(stages.values())
    delivered = product.delivered_energy()
    ghg = {ind: math.fsum(i.ghg_kg_co2e[ind] for i in items) for ind in GHG_INDICATORS}
    baseline_total = math.fsum(d.amount * scores[total_row, d.activity_index] for d in baseline)
    # One pass over the line items, then one look-up per component: linear in the number
    # of components (a scan of all items per component took minutes for 10^5 components).
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
        provenance=build_provenance(product, method, table, material_files, demands, databases),
        warnings=(
            *(note for plan in plans for note in plan.notes),
            *supplier_warnings(table, demands),
            *exemptions,
        ),
        exemptions=exemptions,
        per_kwh_delivered=delivered.per_kwh(stages) if delivered is not None else None,
    )


def _component_result(
    plan: ComponentPlan, mine: list[LineItem], table: ScoreTable
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
