"""The line items of one catalogue chunk: each column parsed once, each row's problem found.

:class:`LineItems` turns the text columns of a chunk (stage, ref, item, amount, unit,
recycled_content) into numpy codes, amounts, unit factors and shares, looking at each
distinct value once, and gives every row the first problem it has (in field order) and
the one-line message for it. :mod:`cfp_engine.batch.scoring` scores the rows with them and
the :class:`~cfp_engine.batch.model.ScoringModel`.
"""

from __future__ import annotations

import difflib

import numpy as np

from cfp_engine.batch.model import ScoringModel
from cfp_engine.errors import quote_input
from cfp_engine.spec.product import STAGES
from cfp_engine.spec.units import parse_plain_number

STAGE_INDEX = {stage: i for i, stage in enumerate(STAGES)}
_RAW = STAGE_INDEX["raw_materials"]
_NUMBER_PATTERN = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"

# Row problems, in the order the fields are checked (the first one is reported).
(_OK, _NO_ID, _NO_STAGE, _BAD_STAGE, _NO_ITEM, _NO_REF, _BAD_MATERIAL, _BAD_ACTIVITY) = range(8)
(_NO_AMOUNT, _BAD_AMOUNT, _NEGATIVE, _NO_UNIT, _BAD_UNIT, _BAD_SHARE, _NO_RECYCLED) = range(8, 15)


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
        # the same rules as every other reference (cfp_engine.store.references), cached per ref
        activity = model.references.lookup_many(refs)
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


class LineItems:
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
            problem = model.references.problem(ref)
            if ref.lower() in model.material_index and problem.startswith("no activity"):
                problem = f"no activity matches {ref!r}; materials belong in raw_materials rows"
            return f"ref: {problem}"
        if code == _BAD_AMOUNT:
            return (
                f"amount: {quote_input(self.cell('amount', row))} is not a number; write a "
                "plain number such as 1.5 or 2.5e3 (a decimal point, no thousand separators, "
                "no unit)"
            )
        if code == _NEGATIVE:
            return f"amount: {self.cell('amount', row)!r} is negative; amounts must be >= 0"
        if code == _BAD_UNIT:
            unit = self.units[self.unit_codes[row]]
            goal = self.kinds.targets[self.target[row]]
            detail = model.conversion_factor(unit, goal)
            if not isinstance(detail, str):
                detail = f"cannot be converted to {goal}"
            detail = detail.replace(f"'1 {unit}'", repr(unit))
            if "is measured in" not in detail:  # not a dimension mismatch: say what it is
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
    number = parse_plain_number(text[:-1].strip() if text.endswith("%") else text)
    if number is None:
        return (
            f"{quote_input(text)} is not a share; write e.g. '30 %', '12.5 %' or 0.3 "
            "(a decimal point, no comma)"
        )
    value = number / 100.0 if text.endswith("%") else number
    if not (0.0 <= value <= 1.0):
        return f"{quote_input(text)} is outside 0-100 %"
    return value
