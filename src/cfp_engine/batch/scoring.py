"""Vectorised scoring of one chunk of catalogue line items with a :class:`ScoringModel`.

:func:`score_line_items` scores one chunk of line items with the model of
:mod:`cfp_engine.batch.model`. The per-row work is a handful of numpy gathers, products
and ``np.bincount`` sums; Python touches only the distinct values of each text column
(found by ``pyarrow.compute.dictionary_encode``), and the rows with a problem only when
a message is written for their product.
"""

from __future__ import annotations

import numpy as np

from cfp_engine.batch.items import STAGE_INDEX, LineItems
from cfp_engine.batch.model import ScoringModel
from cfp_engine.errors import quote_input
from cfp_engine.spec.product import STAGES

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
        The scoring model (:func:`~cfp_engine.batch.model.build_scoring_model`).
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

    # A product whose figures overflow (such as "1e308" kg) is an error row naming
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
