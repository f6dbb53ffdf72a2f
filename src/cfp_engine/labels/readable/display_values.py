"""Figures, percentages and dates as the readable label shows them, in English or Japanese.

Display rounding (:data:`DISPLAY_ROUNDING_RULE`): the METI/MOE CFP representation guide
asks for the unit kg-CO2e (g and t alike) but fixes no number of digits, so the engine
shows 3 significant digits, rounded half up (四捨五入; JIS Z 8401:2019 rule B / ISO 80000-1
Annex B rule B), once, from the unrounded kg CO2e, with :mod:`decimal`; the unit is chosen
from the rounded value, so 0.9996 kg shows as 1.00 kg and never as 1000 g.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from cfp_engine.labels.readable.text import text

DISPLAY_SIGNIFICANT_DIGITS = 3
DISPLAY_ROUNDING_RULE = (
    f"{DISPLAY_SIGNIFICANT_DIGITS} significant digits, round half up (decimal.ROUND_HALF_UP), "
    "applied once to the unrounded kg CO2e; unit g below 1 kg, t from 1000 kg"
)
UNIT_SCALE = {"g": 3, "kg": 0, "t": -3}  # powers of ten from kg


# -- numbers ---------------------------------------------------------------------------


def round_significant(
    value: float | Decimal | str, digits: int = DISPLAY_SIGNIFICANT_DIGITS
) -> Decimal:
    """``value`` rounded to ``digits`` significant digits, half up, as a Decimal.

    A float is taken at its shortest round-tripping decimal (``repr``), the value the
    disclosure's JSON carries, so 0.1235 rounds to 0.124 (its binary expansion,
    0.12349999..., would round down). Trailing zeros stay: 1.0 -> Decimal('1.00').
    """
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if exact == 0:
        return Decimal(0)
    rounded = exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), ROUND_HALF_UP)
    if rounded.adjusted() > exact.adjusted():  # 0.9996 -> 1.000: one digit too many
        rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - digits + 1))
    return rounded


def format_decimal(value: Decimal) -> str:
    """Plain notation with thousands separators, keeping significant trailing zeros."""
    return "0" if value == 0 else format(value, ",f")


@dataclass(frozen=True)
class DisplayValue:
    """A figure as a label shows it: ``number`` (text) in ``unit`` (g, kg or t)."""

    number: str
    unit: str
    rounded_kg: Decimal


def display_value(kg: float, *, unit: str | None = None) -> DisplayValue:
    """``kg`` rounded by :data:`DISPLAY_ROUNDING_RULE`, in ``unit`` or one chosen by size.

    The unit is chosen from the rounded value: g below 1 kg, t from 1000 kg, else kg.
    Scaling a Decimal by powers of ten is exact, so the unit never changes the digits.
    """
    rounded = round_significant(kg)
    if unit is None:
        size = abs(rounded)
        unit = "kg" if size == 0 or 1 <= size < 1000 else ("g" if size < 1 else "t")
    return DisplayValue(format_decimal(rounded.scaleb(UNIT_SCALE[unit])), unit, rounded)


def format_percent(value: float | Decimal, decimals: int = 1) -> str:
    """A percentage (already in percent) rounded half up to ``decimals`` places."""
    exact = Decimal(repr(float(value))) if not isinstance(value, Decimal) else value
    return format(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f")


def format_percent_of(part: float, whole: float = 1.0) -> str:
    """``part`` as a percentage of ``whole``, computed in Decimal from the floats' repr."""
    return f"{format_percent(Decimal(repr(part)) * 100 / Decimal(repr(whole)))} %"


def co2e_unit(unit: str, lang: str) -> str:
    """The unit of a CO2e figure as written in ``lang`` (``kg-CO2e`` in Japanese)."""
    return f"{unit}-CO2e" if lang == "ja" else f"{unit} CO2e"


def format_co2e(kg: float | None, lang: str, unit: str | None = None) -> str:
    """``kg`` CO2e as display text, in ``unit`` or one chosen by size; None: "not given"."""
    if kg is None:
        return text("not_given", lang)
    shown = display_value(kg, unit=unit)
    return f"{shown.number} {co2e_unit(shown.unit, lang)}"


def format_carbon(kg: float, lang: str, unit: str) -> str:
    """A carbon content (kg C) as display text in ``unit``."""
    shown = display_value(kg, unit=unit)
    return f"{shown.number} {shown.unit}{'-' if lang == 'ja' else ' '}C"


def format_mass(kg: float) -> str:
    """A mass as display text, in a unit chosen by size."""
    shown = display_value(kg)
    return f"{shown.number} {shown.unit}"


def format_date(day: date, lang: str) -> str:
    """A date as ``lang`` writes it (2025年1月1日 or 2025-01-01)."""
    return f"{day.year}年{day.month}月{day.day}日" if lang == "ja" else day.isoformat()


def format_period(period: tuple[date, date], lang: str) -> str:
    """A period (start, end) as ``lang`` writes it."""
    sep = "～" if lang == "ja" else " to "
    return f"{format_date(period[0], lang)}{sep}{format_date(period[1], lang)}"
