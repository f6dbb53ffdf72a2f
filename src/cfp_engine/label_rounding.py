"""Round label figures to PACT decimal strings, and know how much that rounding allows.

Every figure a machine-readable label (PACT, Catena-X, the cfp-engine extension) carries
is rounded once, by :data:`ROUNDING_RULE`; :func:`rounding_tolerance` is what
``cfp verify`` allows when it compares a label's figure with a re-computed one.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

#: Significant digits of every figure written to a label (PACT decimal strings).
LABEL_SIGNIFICANT_DIGITS = 6
ROUNDING_RULE = (
    f"{LABEL_SIGNIFICANT_DIGITS} significant digits, decimal.ROUND_HALF_EVEN, "
    "applied to the unrounded kg CO2e (Python Decimal, no float rounding)"
)


def decimal_string(value: float, digits: int = LABEL_SIGNIFICANT_DIGITS) -> str:
    """``value`` rounded to ``digits`` significant digits as a plain decimal string.

    Rounding is done on the exact decimal expansion of the float with Decimal
    (ROUND_HALF_EVEN), never with float ``round``; no exponent notation.
    """
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    exact = Decimal(repr(value))
    if exact == 0:
        return "0"
    exponent = exact.adjusted() - digits + 1
    rounded = exact.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def rounding_tolerance(text: str) -> float:
    """Half a unit in the last significant digit of a label figure (its rounding)."""
    value = Decimal(text)
    if value == 0:
        return 0.0
    return float(Decimal(5).scaleb(value.adjusted() - LABEL_SIGNIFICANT_DIGITS))
