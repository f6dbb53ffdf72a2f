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

import difflib
from dataclasses import dataclass, field

import numpy as np

from .core import FootprintCalculator
from .errors import CfpError
from .methods import INDICATORS
from .spec import STAGES, spec_from_dict

N_INDICATORS = len(INDICATORS)
STAGE_INDEX = {stage: i for i, stage in enumerate(STAGES)}


@dataclass
class ScoringModel:
    """Per-unit scores of activities and per-kg coefficients of materials (numpy only)."""

    method: str
    approach: str
    activity_index: dict[str, int]  # lower-case reference (name or db::name::loc) -> column
    activity_units: list[str]
    activity_scores: np.ndarray  # (N_INDICATORS, n_activities), kg CO2e per unit
    material_index: dict[str, int]  # lower-case material key -> row
    raw_base: np.ndarray  # (n_materials, N_INDICATORS): kg CO2e per kg at R1 = 0 (a)
    raw_slope: np.ndarray  # (n_materials, N_INDICATORS): change per unit R1 (b)
    end_of_life: np.ndarray  # (n_materials, N_INDICATORS): kg CO2e per kg (c)
    fingerprint: str = ""
    # Plain floats and messages, so they travel with the pickled model: a worker need
    # not build the pint registry (~0.3 s) for units the parent already converted.
    _factors: dict[tuple[str, str], float | str] = field(default_factory=dict, repr=False)

    def conversion_factor(self, unit: str, activity_unit: str) -> float | str:
        """Factor from ``unit`` to ``activity_unit``, or an error message (cached per pair)."""
        key = (unit, activity_unit)
        if key not in self._factors:
            from .units import convert_to_activity_unit, parse_quantity

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
    activity_index: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for info in table.activities:
        activity_index[info.reference.lower()] = info.index
        by_name.setdefault(info.name.lower(), []).append(info.index)
    for name, indices in by_name.items():
        builtin = [i for i in indices if table.activities[i].database == "cfp-builtin"]
        chosen = builtin if len(builtin) == 1 else indices
        if len(chosen) == 1:  # a plain name that resolves uniquely, as cfp calc resolves it
            activity_index.setdefault(name, chosen[0])
    keys = [m.material for m in materials_table]
    raw_base = np.zeros((len(keys), N_INDICATORS))
    raw_slope = np.zeros((len(keys), N_INDICATORS))
    end_of_life = np.zeros((len(keys), N_INDICATORS))
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
    scores = table.vector(calculator.method.name)
    return ScoringModel(
        method=calculator.method.name,
        approach=approach,
        activity_index=activity_index,
        activity_units=[a.unit for a in table.activities],
        activity_scores=np.array(scores),
        material_index={k.lower(): i for i, k in enumerate(keys)},
        raw_base=raw_base,
        raw_slope=raw_slope,
        end_of_life=end_of_life,
        fingerprint=table.fingerprint,
    )


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
_RAW = STAGE_INDEX["raw_materials"]
_END_OF_LIFE = STAGE_INDEX["end_of_life"]
_NUMBER_PATTERN = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"

# Row problems, in the order the fields are checked (the first one is reported).
(_OK, _NO_ID, _NO_STAGE, _BAD_STAGE, _NO_ITEM, _NO_REF, _BAD_MATERIAL, _BAD_ACTIVITY) = range(8)
(_NO_AMOUNT, _BAD_AMOUNT, _NEGATIVE, _NO_UNIT, _BAD_UNIT, _BAD_SHARE, _NO_RECYCLED) = range(8, 15)


def score_line_items(model: ScoringModel, table, *, source: str = "catalogue"):
    """Score the products of a table of line items; one output row per product.

    Parameters
    ----------
    model
        The scoring model (:func:`build_scoring_model`).
    table
        A ``pyarrow.Table`` with the catalogue columns as strings, each product's rows
        contiguous, and an int64 ``_line`` column (the line number used in messages).
    source
        The file name used in messages.

    Returns
    -------
    pyarrow.Table
        The output columns (:data:`OUTPUT_COLUMNS`); scores in kg CO2e per product.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.combine_chunks()
    n = table.num_rows
    if n == 0:
        return empty_output()
    ids = table["product_id"].chunk(0)
    starts = segment_starts(ids)
    n_products = len(starts)
    segment = np.repeat(np.arange(n_products), np.diff(np.append(starts, n)))

    rows = _LineItems(model, table)
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

    # Messages, in Python but only for the products with a problem.
    messages: list[str] | pa.Array
    if bad.any():
        product_bad = np.bincount(segment, weights=bad, minlength=n_products) > 0
        first_bad = np.full(n_products, n, dtype=np.int64)
        np.minimum.at(first_bad, segment[bad], np.flatnonzero(bad))
        lines = table[LINE_COLUMN].chunk(0)
        messages = [""] * n_products
        for p in np.flatnonzero(product_bad):
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
    return pa.table(columns)


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


class _Kinds:
    """Coefficients per (distinct ref, is-raw) pair: kind = ref code + n_refs * is_raw.

    A raw-materials row of material m has coefficient a_m, slope b_m (0 without a
    recycled route), end of life c_m and virgin baseline a_m + c_m per kg; an activity
    row has its per-unit score as coefficient and baseline. Unknown refs get zeros and
    ``bad``.
    """

    def __init__(self, model: ScoringModel, refs: list[str]):
        n_refs = len(refs)
        material = np.array([model.material_index.get(r.lower(), -1) for r in refs], np.int64)
        activity = np.array([model.activity_index.get(r.lower(), -1) for r in refs], np.int64)
        empty = np.array([r == "" for r in refs], dtype=bool)
        self.targets = sorted(set(model.activity_units) | {"kilogram"})
        kilogram = self.targets.index("kilogram")
        target_of_activity = np.array(
            [self.targets.index(u) for u in model.activity_units] + [0], dtype=np.int64
        )
        has_material = material >= 0
        # index -1 (unknown) picks the appended 0
        base = np.append(model.raw_base[:, 0], 0.0)[material]
        slope = np.append(model.raw_slope[:, 0], 0.0)[material]  # NaN: no recycled route
        end_of_life = np.append(model.end_of_life[:, 0], 0.0)[material]
        score = np.append(model.activity_scores[0], 0.0)[activity]
        self.coefficient = np.concatenate([score, base])
        self.slope = np.concatenate([np.zeros(n_refs), np.nan_to_num(slope)])
        self.end_of_life = np.concatenate([np.zeros(n_refs), end_of_life])
        self.virgin = np.concatenate([score, base + end_of_life])
        self.target = np.concatenate(
            [target_of_activity[activity], np.full(n_refs, kilogram, dtype=np.int64)]
        )
        self.bad = np.concatenate([(activity < 0) | empty, ~has_material | empty])
        self.no_recycled_route = np.concatenate(
            [np.zeros(n_refs, dtype=bool), np.isnan(slope) & has_material]
        )


class _LineItems:
    """The per-row facts of a chunk: codes, amounts, unit factors, shares, problems."""

    def __init__(self, model: ScoringModel, table):
        import pyarrow.compute as pc

        self.model, self.table = model, table
        n = table.num_rows
        self.ids = table["product_id"].chunk(0)
        self.stages, self.stage_codes = _encode(table["stage"])
        stage_of_code = np.array(
            [STAGE_INDEX.get(s.lower(), -1) for s in self.stages], dtype=np.int64
        ).reshape(-1)
        self.stage = stage_of_code[self.stage_codes]
        self.raw = self.stage == _RAW
        self.refs, ref_codes = _encode(table["ref"])
        self.kinds = kinds = _Kinds(model, self.refs)
        self.kind = ref_codes + np.where(self.raw, len(self.refs), 0)
        self.units, self.unit_codes = _encode(table["unit"])
        self.shares_text, self.share_codes = _encode(table["recycled_content"])
        self.shares = [_parse_share(s) for s in self.shares_text]
        share_value = np.array(
            [s if isinstance(s, float) else np.nan for s in self.shares], dtype=float
        ).reshape(-1)
        self.r1 = np.nan_to_num(share_value)[self.share_codes]
        self.amount, self.amount_ok = _parse_amounts(table["amount"].chunk(0))

        # Unit factors, once per distinct (unit, target unit) pair: kilogram for
        # materials, the activity's unit otherwise.
        n_targets = len(kinds.targets)
        self.target = kinds.target[self.kind]
        pair = self.unit_codes * n_targets + self.target
        n_pairs = len(self.units) * n_targets
        if n_pairs <= max(4 * n, 1 << 16):  # a table over every pair: no sort needed
            pairs, pair_index = np.arange(n_pairs), pair
            present = np.flatnonzero(np.bincount(pair, minlength=n_pairs))
        else:  # many distinct unit spellings: number only the pairs present
            pairs, pair_index = np.unique(pair, return_inverse=True)
            present = np.arange(len(pairs))
        factors = np.zeros(len(pairs))
        unit_ok = np.zeros(len(pairs), dtype=bool)
        for k in present:
            unit = self.units[pairs[k] // n_targets]
            goal = kinds.targets[pairs[k] % n_targets]
            value = model.conversion_factor(unit, goal) if unit else ""
            if isinstance(value, float):
                factors[k], unit_ok[k] = value, True
        self.factor = factors[pair_index]
        self.unit_ok = unit_ok[pair_index]

        # Any problem at all, per row (which one is worked out for the message only).
        self.item_empty = _is_blank(table["item"].chunk(0))
        raw_bad = np.isnan(share_value)[self.share_codes] | self.item_empty
        raw_bad |= kinds.no_recycled_route[self.kind] & (self.r1 > 0)
        bad = (stage_of_code < 0)[self.stage_codes] | kinds.bad[self.kind]
        bad |= ~self.unit_ok | ~self.amount_ok | (self.raw & raw_bad)
        bad |= pc.equal(self.ids, "").to_numpy(zero_copy_only=False)
        self.bad = bad

    def problem(self, row: int) -> int:
        """The first failing check of a row (in the order of the codes)."""
        raw = bool(self.raw[row])
        kind = int(self.kind[row])
        amount = self._column("amount")[row : row + 1]
        amount_blank = not self.amount_ok[row] and bool(_is_blank(amount)[0])
        checks = [
            (_NO_ID, self.ids[row].as_py() == ""),
            (_NO_STAGE, self.stages[self.stage_codes[row]] == ""),
            (_BAD_STAGE, self.stage[row] < 0),
            (_NO_ITEM, raw and self.item_empty[row]),
            (_NO_REF, self.refs[kind % len(self.refs)] == ""),
            (_BAD_MATERIAL, raw and self.kinds.bad[kind]),
            (_BAD_ACTIVITY, not raw and self.kinds.bad[kind]),
            (_NO_AMOUNT, amount_blank),
            # a negative number is the only invalid amount that parses (others give 0)
            (_BAD_AMOUNT, not self.amount_ok[row] and not self.amount[row] < 0),
            (_NEGATIVE, self.amount[row] < 0),
            (_NO_UNIT, self.units[self.unit_codes[row]] == ""),
            (_BAD_UNIT, not self.unit_ok[row]),
            (_BAD_SHARE, raw and not isinstance(self.shares[self.share_codes[row]], float)),
            (_NO_RECYCLED, raw and self.kinds.no_recycled_route[kind] and self.r1[row] > 0),
        ]
        return next((code for code, failed in checks if failed), _OK)

    def _column(self, name: str):
        return self.table[name].chunk(0)

    def cell(self, name: str, row: int) -> str:
        return str(self._column(name)[row].as_py()).strip()

    def message(self, row: int) -> str:
        """What is wrong with a row, for the user."""
        code = self.problem(row)
        model = self.model
        ref = self.refs[int(self.kind[row]) % len(self.refs)]
        if code == _NO_ID:
            return "product_id: the field is empty"
        if code in (_NO_STAGE, _NO_REF, _NO_AMOUNT, _NO_UNIT):
            field = {_NO_STAGE: "stage", _NO_REF: "ref", _NO_AMOUNT: "amount", _NO_UNIT: "unit"}
            return f"{field[code]}: the field is empty"
        if code == _BAD_STAGE:
            return f"stage: {self.cell('stage', row)!r} is not one of {', '.join(STAGES)}"
        if code == _NO_ITEM:
            return "item: a raw_materials row needs the component id"
        if code == _BAD_MATERIAL:
            close = difflib.get_close_matches(ref.lower(), list(model.material_index), n=3)
            hint = f"; closest: {', '.join(close)}" if close else ""
            return f"ref: unknown material {ref!r}{hint}"
        if code == _BAD_ACTIVITY:
            if ref.lower() in model.material_index:
                hint = "; materials belong in raw_materials rows"
            else:
                close = difflib.get_close_matches(ref.lower(), list(model.activity_index), n=3)
                hint = f"; closest: {'; '.join(close)}" if close else ""
            return f"ref: no activity matches {ref!r}{hint}"
        if code == _BAD_AMOUNT:
            return f"amount: {self.cell('amount', row)!r} is not a number"
        if code == _NEGATIVE:
            return f"amount: {self.cell('amount', row)!r} is negative; amounts must be >= 0"
        if code == _BAD_UNIT:
            unit = self.units[self.unit_codes[row]]
            goal = self.kinds.targets[self.target[row]]
            detail = model.conversion_factor(unit, goal)
            if not isinstance(detail, str):
                detail = f"cannot be converted to {goal}"
            detail = detail.replace(f"'1 {unit}'", repr(unit))
            if "unknown unit" in detail or "no unit" in detail or "not a quantity" in detail:
                return f"unit: {detail}"
            if self.raw[row]:
                return f"unit: {unit!r} is not a mass; material {ref!r} needs kg, g or t"
            return f"unit: {unit!r} does not fit activity {ref!r}: {detail}"
        share_text = self.shares_text[self.share_codes[row]]
        if code == _BAD_SHARE:
            return f"recycled_content: {self.shares[self.share_codes[row]]}"
        if code == _NO_RECYCLED:
            return (
                f"recycled_content: {share_text!r}, but material {ref!r} has no "
                "recycled route; set it to 0 or use a material with a recycled route"
            )
        return "invalid row"


def _encode(column) -> tuple[list[str], np.ndarray]:
    """Dictionary-encode a text column: its distinct values (stripped) and a code per row.

    Only the distinct values go through Python; per-row facts are then gathered from
    small per-value arrays with the codes.
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column.chunk(0))
    distinct = [str(v).strip() for v in encoded.dictionary.to_pylist()]
    return distinct, encoded.indices.to_numpy(zero_copy_only=False)


def _parse_amounts(text) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as floats (0 where invalid) and whether each is a plain decimal number.

    Arrow's cast accepts exactly the plain decimal numbers (no spaces, no grouping)
    plus 'nan' and 'inf' spellings; when it succeeds with only finite values, which is
    the usual case, the regular expression over every row (4x slower) is not needed.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        amount = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        amount = None
    if amount is not None and np.isfinite(amount).all():
        return amount, amount >= 0
    text = pc.utf8_trim_whitespace(text)
    number_ok = pc.match_substring_regex(text, _NUMBER_PATTERN).to_numpy(zero_copy_only=False)
    amount = pc.cast(pc.if_else(number_ok, text, pa.scalar(None, pa.string())), "double")
    amount = np.nan_to_num(amount.to_numpy(zero_copy_only=False), nan=0.0)
    return amount, number_ok & (amount >= 0)


def _is_blank(text) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)


def _parse_share(text: str) -> float | str:
    """A share '30%', '30 %' or 0.3 (empty: 0) as a fraction, or an error message."""
    if text == "":
        return 0.0
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return f"{text!r} is not a share; write e.g. '30 %' or 0.3"
    if not (0.0 <= value <= 1.0):
        return f"{text!r} is outside 0-100 %"
    return value
