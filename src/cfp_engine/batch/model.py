"""The scoring model of ``cfp batch``: per-unit scores and per-kg coefficients, numpy only.

A :class:`ScoringModel` holds, for one method and approach, everything needed to score
line items with numpy alone (it pickles, so Dask workers receive it and never open the
Brightway project):

- the per-unit scores of every activity (from the adjoint solve of the project);
- per material, the kg CO2e per kg of its raw-material stage as ``a + b * R1`` and of its
  end of life as ``c``, for each indicator. These come from :class:`FootprintCalculator`
  footprints of 1 kg of the material at R1 = 0 and R1 = 1, so they follow exactly the
  allocation of ``cfp calc``: every approach is linear in R1 at fixed other parameters;
- a cache of unit-conversion factors per distinct (unit, activity unit) pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cfp_engine.engine.circularity import DEFAULT_APPROACH
from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.plan import plan_component
from cfp_engine.engine.treatments import describe_unmodelled, unmodelled_treatments
from cfp_engine.errors import CfpError
from cfp_engine.spec.methods import INDICATORS
from cfp_engine.spec.product import spec_from_dict
from cfp_engine.store.dropped_flows import dropped_flow_warnings
from cfp_engine.store.references import ReferenceIndex

N_INDICATORS = len(INDICATORS)


@dataclass
class ScoringModel:
    """Per-unit scores of activities and per-kg coefficients of materials (numpy only)."""

    method: str
    approach: str
    references: ReferenceIndex  # resolves a row's activity reference to its column
    activity_units: list[str]
    activity_scores: np.ndarray  # (N_INDICATORS, n_activities), kg CO2e per unit
    material_index: dict[str, int]  # lower-case material key -> row
    raw_base: np.ndarray  # (n_materials, N_INDICATORS): kg CO2e per kg at R1 = 0 (a)
    raw_slope: np.ndarray  # (n_materials, N_INDICATORS): change per unit R1 (b)
    end_of_life: np.ndarray  # (n_materials, N_INDICATORS): kg CO2e per kg (c)
    fingerprint: str = ""
    # What footprints using a material or database leave out: the output
    # has no warnings column, so ``cfp batch`` states them once on stderr.
    warnings: tuple[str, ...] = ()
    # Plain floats and messages, so they travel with the pickled model: a worker need
    # not build the pint registry (~0.3 s) for units the parent already converted.
    _factors: dict[tuple[str, str], float | str] = field(default_factory=dict, repr=False)

    def conversion_factor(self, unit: str, activity_unit: str) -> float | str:
        """Factor from ``unit`` to ``activity_unit``, or an error message (cached per pair)."""
        key = (unit, activity_unit)
        if key not in self._factors:
            from cfp_engine.spec.conversion import convert_to_activity_unit
            from cfp_engine.spec.units import parse_quantity

            try:
                quantity = parse_quantity(f"1 {unit}", where="unit")
                self._factors[key] = convert_to_activity_unit(
                    quantity, activity_unit, where="unit", activity=activity_unit
                )
            except CfpError as exc:
                self._factors[key] = str(exc).replace("unit: ", "", 1)
        return self._factors[key]


def build_scoring_model(
    *, method: str | None = None, approach: str = DEFAULT_APPROACH, inventories=(), materials=()
) -> ScoringModel:
    """The scoring model of the built-in data plus user files, for one method and approach."""
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    table = calculator.table_for()
    materials_table, _ = calculator.materials_for()
    keys = [m.material for m in materials_table]
    raw_base = np.zeros((len(keys), N_INDICATORS))
    raw_slope = np.zeros((len(keys), N_INDICATORS))
    end_of_life = np.zeros((len(keys), N_INDICATORS))
    warnings: list[str] = []
    for row, key in enumerate(keys):
        at = {}
        for r1 in (0.0, 1.0):
            try:
                at[r1] = calculator.calculate(_material_spec(key, r1), approach=approach)
            except CfpError:
                if r1 == 0.0:
                    raise
                at[r1] = None  # no recycled route: R1 > 0 is an error for this material
        base = _stage_indicators(at[0.0], "raw_materials")
        raw_base[row] = base
        raw_slope[row] = (
            np.nan if at[1.0] is None else _stage_indicators(at[1.0], "raw_materials") - base
        )
        end_of_life[row] = _stage_indicators(at[0.0], "end_of_life")
        warnings.extend(_material_warnings(key, materials_table, table, approach))
    scores = table.vector(calculator.method.name)
    sources = table.manifest.get("databases", {})
    return ScoringModel(
        method=calculator.method.name,
        approach=approach,
        references=table.references,
        activity_units=[a.unit for a in table.activities],
        activity_scores=np.array(scores),
        material_index={k.lower(): i for i, k in enumerate(keys)},
        raw_base=raw_base,
        raw_slope=raw_slope,
        end_of_life=end_of_life,
        fingerprint=table.fingerprint,
        warnings=(
            *warnings,
            *(f"if products use it, {text}" for text in dropped_flow_warnings(sources, sources)),
        ),
    )


def _material_warnings(key: str, materials, table, approach: str) -> list[str]:
    """Catalogue rows use the table's default R2 and R3: the same for every product."""
    spec = _material_spec(key, 0.0)
    plan = plan_component(spec.components[0], materials, table, spec, approach)
    material = materials.get(key)
    return [
        f"products with material {key!r}: " + describe_unmodelled(material, role, share, approach)
        for role, share in unmodelled_treatments(plan.unmodelled, plan.parameters, approach)
    ]


def _material_spec(key: str, r1: float):
    return spec_from_dict(
        {
            "product": {"id": "m", "name": key, "declared_unit": "1 kg"},
            "components": [{"id": "m", "material": key, "mass": "1 kg", "recycled_content": r1}],
        }
    )


def _stage_indicators(result, stage: str) -> np.ndarray:
    values = np.zeros(N_INDICATORS)
    for item in result.line_items:
        if item.stage == stage:
            values[0] += item.kg_co2e
            for k, indicator in enumerate(INDICATORS[1:], start=1):
                values[k] += item.ghg_kg_co2e[indicator]
    return values
