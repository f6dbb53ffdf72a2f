"""Round label figures to PACT decimal strings, and know how much that rounding allows.

Every figure a machine-readable label (PACT, Catena-X, the cfp-engine extension) carries
is rounded once, by :data:`ROUNDING_RULE`; :func:`rounding_tolerance` is what
``cfp verify`` allows when it compares a label's figure with a re-computed one.
"""

from __future__ import annotations

import math
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)

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


def rounding_tolerance(text: str) -> Decimal:
    """Half a unit in the last significant digit of a label figure (its rounding), exactly.

    A Decimal, never a float (a float overflows to infinity for a figure like ``1e400``
    and would allow any difference); :class:`ValueError` if ``text`` is not a finite
    decimal.
    """
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal: {str(text)[:40]!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {str(text)[:40]!r}")
    if value == 0:
        return Decimal(0)
    # scaleb is exact (one digit); only the exponent range must hold it.
    with localcontext(Context(Emax=MAX_EMAX, Emin=MIN_EMIN)):
        return Decimal(5).scaleb(value.adjusted() - LABEL_SIGNIFICANT_DIGITS)
