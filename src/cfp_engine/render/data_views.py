"""Views of the built data for people: material factors and one dataset in full.

``list_material_factors`` gives, per material of the materials tables, the kg CO2e of
1 kg by its virgin and recycled routes and the reduction recycling brings (``cfp data
materials``); ``describe_activity`` gathers one activity's source, quality, exchanges
and per-unit scores (``cfp data show``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.spec.conversion import convert_to_activity_unit
from cfp_engine.spec.materials import PRIORITY_PRODUCTS, load_materials
from cfp_engine.spec.methods import INDICATORS, resolve_method
from cfp_engine.spec.units import registry
from cfp_engine.store.scores import ScoreTable


def _per_kg(table: ScoreTable, reference: str | None, method: str, where: str) -> float | None:
    if not reference:
        return None
    info = table.find(reference, where=where)
    amount = convert_to_activity_unit(
        registry().Quantity(1, "kilogram"),
        info.unit,
        where=where,
        activity=info.name,
        mass_per_unit_kg=info.mass_per_unit_kg,
    )
    return float(amount * table.indicator(method, "total")[info.index])


def list_material_factors(
    table: ScoreTable,
    *,
    materials: Sequence[str | Path] = (),
    method: str | None = None,
    priority: str | None = None,
) -> list[dict[str, Any]]:
    """Virgin and recycled kg CO2e per kg of every material, and the reduction.

    Parameters
    ----------
    table : ScoreTable
        The store whose activities the materials tables refer to.
    materials : sequence of path, optional
        User materials tables added to the built-in one.
    method : str, optional
        Impact method; default IPCC 2021 GWP100.
    priority : str, optional
        Keep only the materials whose ``priority_product`` column is this group
        (``battery``, ``pv`` or ``clothing``); all materials when ``None``.

    Returns
    -------
    list of dict
        One row per material. ``reduction`` is ``1 - recycled / virgin`` (``None``
        without a recycled route); ``R2``, ``R3`` and ``A`` are the table's end-of-life
        defaults (shares, 0 when not given).
    """
    method_name = resolve_method(method).name
    if priority is not None and priority.lower() not in PRIORITY_PRODUCTS:
        raise SpecError(
            f"unknown priority product group {priority!r}; "
            f"expected one of {', '.join(PRIORITY_PRODUCTS)}"
        )
    rows = []
    for material in load_materials(materials):
        if priority is not None and material.priority_product != priority.lower():
            continue
        virgin = _per_kg(table, material.virgin, method_name, f"{material.origin}: virgin")
        recycled = _per_kg(table, material.recycled, method_name, f"{material.origin}: recycled")
        reduction = 1.0 - recycled / virgin if recycled is not None and virgin else None
        rows.append(
            {
                "material": material.material,
                "virgin_kg_co2e_per_kg": virgin,
                "recycled_kg_co2e_per_kg": recycled,
                "reduction": reduction,
                "R2": material.R2,
                "R3": material.R3,
                "A": material.A,
                "source": material.source,
                "priority_product": material.priority_product,
            }
        )
    return rows


def describe_activity(table: ScoreTable, reference: str) -> dict[str, Any]:
    """One activity: identity, source, pedigree, exchanges and per-unit scores."""
    from cfp_engine.store.queries import activity_details

    info = table.find(reference)
    details = activity_details(table, info)
    scores = {
        method: {ind: float(table.indicator(method, ind)[info.index]) for ind in INDICATORS}
        for method in table.scores
    }
    return {
        "activity": info.reference,
        "name": info.name,
        "location": info.location,
        "unit": info.unit,
        "reference_product": info.reference_product,
        "category": info.category,
        "co2e_only": info.co2e_only,
        "air_freight": info.air_freight,
        "source": dict(info.source),
        "pedigree": details["pedigree"],
        "comment": details["comment"],
        "exchanges": details["exchanges"],
        "kg_co2e_per_unit": scores,
    }
