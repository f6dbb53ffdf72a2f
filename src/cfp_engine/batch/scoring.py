"""Vectorised scoring of catalogue line items: the model ``cfp batch`` is built on.

A :class:`ScoringModel` holds, for one method and approach, everything needed to score
line items with numpy alone (it pickles, so Dask workers receive it and never open the
Brightway project):

- the per-unit scores of every activity (from the adjoint solve of the project);
- per material, the kg CO2e per kg of its raw-material stage as ``a + b * R1`` and of its
  end of life as ``c``, for each indicator. These come from :class:`FootprintCalculator`
  footprints of 1 kg of the material at R1 = 0 and R1 = 1, so they follow exactly the
  allocation of ``cfp calc``: every approach is linear in R1 at fixed other parameters;
- a cache of unit-conversion factors per distinct (unit, activity unit) pair.

:func:`score_line_items` scores one chunk of line items with it. The per-row work is a
handful of numpy gathers, products and ``np.bincount`` sums; Python touches only the
distinct values of each text column (found by ``pyarrow.compute.dictionary_encode``),
and the rows with a problem only when a message is written for their product.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cfp_engine.batch.items import STAGE_INDEX, LineItems
from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.plan import plan_component
from cfp_engine.engine.treatments import describe_unmodelled, unmodelled_treatments
from cfp_engine.errors import CfpError, quote_input
from cfp_engine.spec.methods import INDICATORS
from cfp_engine.spec.product import STAGES, spec_from_dict
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
    # What footprints using a material or database leave out (issue 12): the output
    # has no warnings column, so ``cfp batch`` states them once on stderr.
    warnings: tuple[str, ...] = ()
    # Plain floats and messages, so they travel with the pickled model: a worker need
    # not build the pint registry (~0.3 s) for units the parent already converted.
    _factors: dict[tuple[str, str], float | str] = field(default_factory=dict, repr=False)

    def conversion_factor(self, unit: str, activity_unit: str) -> float | str:
        """Factor from ``unit`` to ``activity_unit``, or an error message (cached per pair)."""
        key = (unit, activity_unit)
        if key not in self._factors:
            from cfp_engine.spec.units import convert_to_activity_unit, parse_quantity

            try:
                quantity = parse_quantity(f"1 {unit}", where="unit")
                self._factors[key] = convert_to_activity_unit(
                    quantity, activity_unit, where="unit", activity=activity_unit
                )
            except CfpError as exc:
                self._factors[key] = str(exc).replace("unit: ", "", 1)
        return self._factors[key]


def build_scoring_model(
    *, method: str | None = None, approach: str = "cut-off", inventories=(), materials=()
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


# -- scoring a chunk of catalogue line items (contract section 7) ----------------------------

SCORE_COLUMNS = (
    "total_kg_co2e",
    "raw_materials_kg_co2e",
    "production_kg_co2e",
    "distribution_kg_co2e",
    "use_kg_co2e",
    "end_of_life_kg_co2e",
    "recycled_content_share",
    "virgin_baseline_kg_co2e",
    "reduction_vs_virgin",
)
OUTPUT_COLUMNS = ("product_id", "status", "error", *SCORE_COLUMNS)
LINE_COLUMN = "_line"  # internal column: the input line (CSV) or row (Parquet) of each item
FIRST_COLUMN = "_first"  # internal output column: the line of each product's first row
_END_OF_LIFE = STAGE_INDEX["end_of_life"]


def score_line_items(
    model: ScoringModel, table, *, source: str = "catalogue", first_line: bool = False
):
    """Score the products of a table of line items; one output row per product.

    Parameters
    ----------
    model
        The scoring model (:func:`build_scoring_model`).
    table
        A ``pyarrow.Table`` with the catalogue columns as strings (a product's rows in
        any order; they are summed in table order) and an int64 ``_line`` column (the
        line number used in messages).
    source
        The file name used in messages.
    first_line
        Add an int64 ``_first`` column: the line of each product's first row.

    Returns
    -------
    pyarrow.Table
        The output columns (:data:`OUTPUT_COLUMNS`); scores in kg CO2e per product,
        products in order of first appearance.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.combine_chunks()
    n = table.num_rows
    if n == 0:
        return empty_output()
    ids = table["product_id"].chunk(0)
    segment, starts = product_segments(ids)
    n_products = len(starts)

    rows = LineItems(model, table)
    bad = rows.bad
    # Per-row contributions, kg CO2e. A row with a problem counts zero: its product gets
    # no numbers anyway. Every row is quantity x coefficient of its (ref, is-raw) kind:
    # raw materials a + b * R1 (and c at end of life), activities their per-unit score.
    # Overflow only from absurd amounts such as "1e308": no warning, the product shows it.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        quantity = rows.amount * rows.factor
        quantity[bad] = 0.0
        kind = rows.kind
        r1 = rows.r1
        main = quantity * (rows.kinds.coefficient[kind] + rows.kinds.slope[kind] * r1)
        mass_kg = np.where(rows.raw, quantity, 0.0)
        n_stages = len(STAGES)
        size = n_products * n_stages
        stage_bin = segment * n_stages + np.maximum(rows.stage, 0)
        by_stage = np.bincount(stage_bin, weights=main, minlength=size)
        eol_weights = quantity * rows.kinds.end_of_life[kind]
        by_stage += np.bincount(
            segment * n_stages + _END_OF_LIFE, weights=eol_weights, minlength=size
        )
        by_stage = by_stage.reshape(n_products, n_stages)
        total = by_stage[:, 0] + by_stage[:, 1] + by_stage[:, 2] + by_stage[:, 3] + by_stage[:, 4]
        virgin = quantity * rows.kinds.virgin[kind]
        baseline = np.bincount(segment, weights=virgin, minlength=n_products)
        mass = np.bincount(segment, weights=mass_kg, minlength=n_products)
        recycled = np.bincount(segment, weights=mass_kg * r1, minlength=n_products)
        share_out = np.where(mass > 0, recycled / np.where(mass > 0, mass, 1.0), 0.0)
        reduction = 1.0 - total / np.where(baseline != 0, baseline, 1.0)

    # A product whose figures overflow (issue 13: "1e308" kg) is an error row naming
    # the first row that overflowed, never "ok" with inf or nan.
    overflow = ~np.isfinite(np.column_stack([total, by_stage, baseline, share_out])).all(axis=1)
    overflow |= (baseline != 0) & ~np.isfinite(reduction)
    bad_products = np.bincount(segment, weights=bad, minlength=n_products) > 0
    overflow &= ~bad_products

    # Messages, in Python but only for the products with a problem.
    messages: list[str] | pa.Array
    if bad.any() or overflow.any():
        product_bad = bad_products | overflow
        first_bad = np.full(n_products, n, dtype=np.int64)
        np.minimum.at(first_bad, segment[bad], np.flatnonzero(bad))
        row_overflow = ~(np.isfinite(main) & np.isfinite(eol_weights) & np.isfinite(virgin))
        first_overflow = np.full(n_products, n, dtype=np.int64)
        np.minimum.at(first_overflow, segment[row_overflow], np.flatnonzero(row_overflow))
        lines = table[LINE_COLUMN].chunk(0)
        messages = [""] * n_products
        for p in np.flatnonzero(product_bad):
            if overflow[p]:
                row = int(first_overflow[p]) if first_overflow[p] < n else int(starts[p])
                amount = quote_input(rows.cell("amount", row))
                detail = (
                    f"amount: {amount} gives a footprint that is not a finite number; "
                    "check the amounts of this product"
                )
            else:
                row = int(first_bad[p])
                detail = rows.message(row)
            messages[p] = f"{source}: line {lines[row].as_py()}: {detail}"
        messages = pa.array(messages, pa.string())
        status = pc.if_else(pa.array(product_bad), "error", "ok")
    else:
        product_bad = None
        messages = pa.repeat("", n_products).cast(pa.string())
        status = pa.repeat("ok", n_products).cast(pa.string())

    columns = {"product_id": ids.take(pa.array(starts)), "status": status, "error": messages}
    values = [total, *by_stage.T, share_out, baseline, reduction]
    for name, value in zip(SCORE_COLUMNS, values, strict=True):
        mask = product_bad
        if name == "reduction_vs_virgin":
            mask = baseline == 0 if mask is None else mask | (baseline == 0)
        columns[name] = pa.array(np.ascontiguousarray(value), pa.float64(), mask=mask)
    if first_line:
        columns[FIRST_COLUMN] = table[LINE_COLUMN].chunk(0).take(pa.array(starts))
    return pa.table(columns)


def product_segments(ids) -> tuple[np.ndarray, np.ndarray]:
    """The product number of each row, and the row where each product first appears.

    Products are numbered in order of first appearance; their rows need not be
    adjacent. Adjacent rows (the usual case) are found by comparing neighbours; only
    otherwise are the ids hashed (``dictionary_encode``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ids)
    starts = segment_starts(ids)
    # Mostly runs of one row: not grouped (or one row a product), no need to check.
    mixed = len(starts) > n // 2
    if not mixed and len(pc.unique(ids.take(pa.array(starts)))) == len(starts):
        return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n))), starts
    # dictionary_encode numbers the ids in order of first appearance, so a product's
    # first row is where its number exceeds all the numbers before it.
    codes = pc.dictionary_encode(ids).indices.to_numpy().astype(np.int64)
    running = np.maximum.accumulate(codes)
    first = np.ones(n, dtype=bool)
    first[1:] = running[1:] > running[:-1]
    return codes, np.flatnonzero(first)


def segment_starts(ids) -> np.ndarray:
    """Row positions where a new product starts (a change of ``product_id``)."""
    import pyarrow.compute as pc

    n = len(ids)
    if n <= 1:
        return np.zeros(min(n, 1), dtype=np.int64)
    changed = pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    return np.concatenate(([0], np.flatnonzero(changed) + 1)).astype(np.int64)


def empty_output():
    """A table with the output columns and no rows."""
    import pyarrow as pa

    return pa.table(
        {
            name: pa.array([], pa.float64() if name in SCORE_COLUMNS else pa.string())
            for name in OUTPUT_COLUMNS
        }
    )
