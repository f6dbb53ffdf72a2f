"""Compute a product's carbon footprint: spec -> demand on the Brightway project -> result.

The product's components (virgin and recycled routes mixed by recycled content, end of
life from the materials table) and its stage activities become line items, each an
amount of one activity of the project in that activity's unit. Scoring a line item is
a product with the activity's per-unit score (one adjoint solve of bw2calc's matrices,
:mod:`cfp_engine.store`), so the result equals bw2calc's ``LCA(demand).score`` and is
exactly additive by stage, component and GHG sub-indicator.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import __version__
from .circularity import CircularityRates, allocation_coefficients
from .errors import DataError, SpecError
from .materials import MaterialsTable, load_materials
from .methods import GHG_INDICATORS, INDICATORS, MethodSpec, resolve_method
from .paths import inventories_dir
from .results import ComponentResult, FootprintResult, LineItem
from .scores import ScoreTable
from .spec import STAGES, ComponentSpec, ProductSpec
from .units import convert_to_activity_unit

DEFAULT_APPROACH = "cut-off"


@dataclass(frozen=True)
class _Demand:
    stage: str
    component: str | None
    role: str
    activity_index: int
    amount: float


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
        A product spec from :func:`cfp_engine.spec.load_spec`.
    variant
        Name of a variant of the spec, or ``None`` for the base product.
    method
        Impact method name or alias (default: IPCC 2021 GWP100, AR6).
    approach
        End-of-life allocation approach; default: the spec's, else ``cut-off``.
    inventories, materials
        Extra user inventory files (Brightway Excel/CSV) and materials tables (CSV),
        added to those the spec lists.
    table
        A score table already opened with :func:`cfp_engine.store.open_store`.

    Returns
    -------
    FootprintResult
        Totals in kg CO2e per declared unit, by stage, component and GHG indicator.
    """
    product = spec.with_variant(variant)
    method_spec = resolve_method(method)
    approach = approach or product.approach or DEFAULT_APPROACH
    material_files = [*product.materials, *map(Path, materials)]
    materials_table = load_materials(material_files)
    if table is None:
        from .store import open_store

        table = open_store([*product.inventories, *inventories])
    demands = build_demand(product, materials_table, table, approach)
    baseline = build_demand(_without_recycled_content(product), materials_table, table, approach)
    return _score(
        product, method_spec, approach, demands, baseline, table, materials_table, material_files
    )


def build_demand(
    product: ProductSpec, materials: MaterialsTable, table: ScoreTable, approach: str
) -> list[_Demand]:
    """The product's line items: (stage, component, role, activity, amount)."""
    demands: list[_Demand] = []
    for component in product.components:
        demands.extend(_component_demand(component, materials, table, approach))
    for stage in STAGES[1:]:
        for item in product.stages.get(stage, ()):
            info = table.find(item.activity, where=f"{item.where}.activity")
            amount = convert_to_activity_unit(
                item.amount, info.unit, where=f"{item.where}.amount", activity=info.name
            )
            demands.append(_Demand(stage, None, "activity", info.index, amount))
    return demands


def _component_demand(
    component: ComponentSpec, materials: MaterialsTable, table: ScoreTable, approach: str
) -> list[_Demand]:
    where = component.where
    eol = component.end_of_life
    if component.material:
        material = materials.get(component.material, where=f"{where}.material")
        refs = {
            "virgin": (material.virgin, material.origin),
            "recycled": (material.recycled, material.origin),
            "eol_recycling": (material.eol_recycling, material.origin),
            "disposal": (material.disposal, material.origin),
            "energy_recovery": (material.energy_recovery, material.origin),
        }
        r2, r3 = material.R2, material.R3
    else:
        refs = {
            "virgin": (component.virgin, f"{where}.virgin"),
            "recycled": (component.recycled, f"{where}.recycled"),
        }
        r2 = r3 = 0.0
    if eol is not None:
        r2 = eol.recycling if eol.recycling is not None else r2
        r3 = eol.energy_recovery if eol.energy_recovery is not None else r3
        for role, given in (
            ("eol_recycling", eol.recycling_activity),
            ("disposal", eol.disposal_activity),
            ("energy_recovery", eol.energy_recovery_activity),
        ):
            if given:
                refs[role] = (given, f"{where}.end_of_life.{role}_activity")
    if not component.material and eol is None:
        refs.update(eol_recycling=(None, ""), disposal=(None, ""), energy_recovery=(None, ""))
        r2 = r3 = 0.0
    try:
        rates = CircularityRates(R1=component.recycled_content, R2=r2, R3=r3)
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None
    coefficients = allocation_coefficients(approach, rates)
    if not component.material and eol is None:
        coefficients["end_of_life"] = {}
    demands = []
    for stage, roles in coefficients.items():
        for role, per_kg in roles.items():
            if per_kg == 0.0:
                continue
            reference, origin = refs.get(role, (None, ""))
            if not reference:
                raise DataError(_missing_role_message(component, role, per_kg))
            info = table.find(reference, where=origin)
            per_unit_mass = convert_to_activity_unit(
                component.mass, info.unit, where=f"{where}.mass", activity=info.name
            )
            demands.append(_Demand(stage, component.id, role, info.index, per_kg * per_unit_mass))
    return demands


def _missing_role_message(component: ComponentSpec, role: str, share: float) -> str:
    what = {
        "recycled": "a recycled route",
        "disposal": "a disposal activity",
        "energy_recovery": "an energy-recovery activity",
        "eol_recycling": "an end-of-life recycling activity",
        "virgin": "a virgin route",
    }[role]
    owner = f"material {component.material!r}" if component.material else "the component"
    hint = {
        "recycled": "set recycled_content to 0 or use a material with a recycled route",
        "disposal": "give end_of_life.disposal_activity",
        "energy_recovery": "give end_of_life.energy_recovery_activity or energy_recovery: 0",
    }.get(role, "give the activity in end_of_life")
    return (
        f"{component.where}: {owner} has no {what}, but {share:.1%} of its mass needs one; {hint}"
    )


def _without_recycled_content(product: ProductSpec) -> ProductSpec:
    components = tuple(replace(c, recycled_content=0.0) for c in product.components)
    return replace(product, components=components)


def _score(
    product: ProductSpec,
    method: MethodSpec,
    approach: str,
    demands: list[_Demand],
    baseline: list[_Demand],
    table: ScoreTable,
    materials: MaterialsTable,
    material_files: Iterable[Path],
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
    components = tuple(_component_result(c, items, materials) for c in product.components)
    mass = math.fsum(c.mass_kg for c in components)
    recycled = math.fsum(c.mass_kg * c.recycled_content for c in components)
    eol_recycled = math.fsum(c.mass_kg * c.eol_recycling for c in components)
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
        provenance=_provenance(product, method, table, material_files, demands),
    )


def _component_result(
    component: ComponentSpec, items: list[LineItem], materials: MaterialsTable
) -> ComponentResult:
    mine = [i for i in items if i.component == component.id]
    raw = math.fsum(i.kg_co2e for i in mine if i.stage == "raw_materials")
    eol = math.fsum(i.kg_co2e for i in mine if i.stage == "end_of_life")
    r2 = r3 = 0.0
    if component.material:
        material = materials.get(component.material)
        r2, r3 = material.R2, material.R3
    if component.end_of_life is not None:
        given = component.end_of_life
        r2 = given.recycling if given.recycling is not None else r2
        r3 = given.energy_recovery if given.energy_recovery is not None else r3
    elif not component.material:
        r2 = r3 = 0.0
    return ComponentResult(
        id=component.id,
        material=component.material,
        mass_kg=component.mass_kg,
        recycled_content=component.recycled_content,
        eol_recycling=r2,
        eol_energy_recovery=r3,
        kg_co2e=raw + eol,
        raw_materials_kg_co2e=raw,
        end_of_life_kg_co2e=eol,
    )


def _provenance(
    product: ProductSpec,
    method: MethodSpec,
    table: ScoreTable,
    material_files: Iterable[Path],
    demands: list[_Demand],
) -> dict:
    digest = hashlib.sha256(table.fingerprint.encode())
    for path in [inventories_dir() / "materials.csv", *material_files]:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    used = sorted({d.activity_index for d in demands})
    datasets = []
    for index in used:
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
        "databases": manifest.get("databases", {}),
        "versions": manifest.get("versions", {}),
        "datasets": datasets,
    }
