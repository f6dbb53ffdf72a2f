"""The unit layer: one pint registry with the units LCA data use, and checked parsing.

Every amount a user types is a string with a unit (``"23 g"``, ``"7.7 t*km"``); it is
parsed here and checked against the dimension the field needs
(:mod:`cfp_engine.spec.conversion` converts it to the unit of the activity it feeds).
Shares (recycled content, end-of-life rates) are ``"30 %"`` or a fraction ``0.3``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from cfp_engine.errors import UnitError, quote_input

if TYPE_CHECKING:
    import pint

# Dimensions the engine tells apart, with the words used in messages.
DIMENSIONS = {
    "mass": ("[mass]", "a mass", "kg, g, t"),
    "energy": ("[mass] * [length] ** 2 / [time] ** 2", "an energy", "kWh, MJ"),
    "transport": ("[mass] * [length]", "a transport work (mass x distance)", "t*km, kg*km"),
    "volume": ("[length] ** 3", "a volume", "m3, L"),
    "area": ("[length] ** 2", "an area", "m2"),
    "length": ("[length]", "a length", "m, km"),
    "count": ("[count]", "a count", "piece, item"),
    "time": ("[time]", "a time", "h, year"),
    "person_transport": ("[count] * [length]", "a person transport (persons x distance)", "pkm"),
    "peak_power": ("[peak_power]", "a peak power of PV modules", "kWp, Wp"),
}

_DEFINITIONS = """
piece = [count] = pc = pcs = item = items = pieces
person = piece
tkm = metric_ton * kilometer
pkm = person * kilometer
watt_peak = [peak_power] = Wp
kilowatt_peak = 1000 * watt_peak = kWp
vehicle = piece
livestock_unit = piece
pig_place = piece
kilogram_swu = [separative_work] = kg_SWU
@alias piece = unit = units
"""

_AMBIGUOUS = {
    "ton": "pint's 'ton' is the short ton (907.185 kg); write 't' (metric tonne) or 'short_ton'",
    "tons": "pint's 'ton' is the short ton (907.185 kg); write 't' (metric tonne) or 'short_ton'",
    "tonkm": "write 't*km' (metric tonne kilometre)",
}

# One plain number: digits with an optional decimal point and exponent. No decimal
# commas, no thousand separators (not even Python's "1_000"), no "inf" or "nan".
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_RE = re.compile(rf"^\s*{_NUMBER}\s*$")
_QUANTITY_RE = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*(?P<unit>.*?)\s*$", re.DOTALL)
_POWER_RE = re.compile(r"(?<=[A-Za-z])([23])\b")  # m2 -> m**2, m3 -> m**3

# The tokens of a unit expression (pint evaluates "10**10**10" as Python
# would, which never ends; a unit is checked against this small grammar first).
_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-zµμΩ][A-Za-z0-9_]*|%)|(?P<power>(?:\*\*|\^)\s*(?P<exp>[-+]?\d{1,3}))"
    r"|(?P<sup>[²³])|(?P<mul>[*·×])|(?P<op>/)|(?P<open>\()|(?P<close>\))"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?))"
)
MAX_EXPONENT = 4  # m**3 is the highest power the engine's data use; 4 leaves room
_ACCEPTED = (
    "write one number and one unit, e.g. '0.015 kWh', '1500 g', '2.5e3 kg', '7.7 t*km' "
    "(or a product such as '0.25 kg * 3000 km')"
)


def _preprocess(text: str) -> str:
    text = text.replace("·", "*").replace("×", "*").replace("²", "**2").replace("³", "**3")
    return _POWER_RE.sub(r"**\1", text)


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The single pint registry of the engine (created once, cached on disk by pint)."""
    import pint

    from cfp_engine.paths import data_home

    try:
        cache = data_home() / "cache" / "pint"
        ureg = pint.UnitRegistry(cache_folder=cache, preprocessors=[_preprocess])
    except Exception:  # noqa: BLE001 - a read-only home must not stop the engine
        ureg = pint.UnitRegistry(preprocessors=[_preprocess])
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


@lru_cache(maxsize=32)
def _dimensionality(spec: str):
    """pint's dimensionality of a :data:`DIMENSIONS` entry (parsed once, not per quantity)."""
    return registry().get_dimensionality(spec)


def describe_dimensionality(quantity: pint.Quantity) -> str:
    """Name the dimension of ``quantity`` in words (``'an energy'``), or pint's form."""
    for dim, (spec, words, _) in DIMENSIONS.items():
        del dim
        if quantity.dimensionality == _dimensionality(spec):
            return words
    return f"of dimension {quantity.dimensionality}"


def check_unit_text(unit: str, *, where: str, text: str) -> bool:
    """Check a unit expression against the engine's small grammar before pint sees it.

    Names, ``*``, ``/``, ``·``, ``×``, parentheses and powers ``**n`` / ``^n`` / ``²``
    / ``³`` with ``|n| <= MAX_EXPONENT`` and no power of a power. A further number is
    accepted only as a factor of a product of quantities, after ``*`` and before its
    unit (``0.25 kg * 3000 km``); a bare number inside the unit (``kg 2``, ``g 2``) or
    any other character is an error. Returns whether there were such factors.
    """
    shown = quote_input(text)
    position, depth, previous, factors = 0, 0, "start", 0
    while position < len(unit):
        match = _UNIT_TOKEN.match(unit, position)
        if match is None or match.end() == position:
            rest = unit[position:].strip()
            if rest[:1].isdigit() or rest[:1] in "+-.":
                raise UnitError(
                    f"{where}: {shown} has a second number {quote_input(rest.split()[0])} "
                    f"after the first; {_ACCEPTED} (no thousand separators)"
                )
            raise UnitError(
                f"{where}: {shown}: {quote_input(rest[:1])} is not allowed in a unit; {_ACCEPTED}"
            )
        kind = match.lastgroup if match.lastgroup != "exp" else "power"
        if kind in ("power", "sup"):
            if previous in ("power", "sup"):
                raise UnitError(f"{where}: {shown}: a power of a power is not accepted")
            if previous not in ("name", "close"):
                raise UnitError(f"{where}: {shown}: a power needs a unit before it; {_ACCEPTED}")
            if kind == "power" and abs(int(match.group("exp"))) > MAX_EXPONENT:
                raise UnitError(
                    f"{where}: {shown}: exponents of units are limited to "
                    f"{-MAX_EXPONENT}..{MAX_EXPONENT}"
                )
        if kind == "number":
            if previous != "mul" or depth or factors >= 2:
                raise UnitError(
                    f"{where}: {shown} has a second number {quote_input(match.group().strip())} "
                    f"after the first; {_ACCEPTED} (no thousand separators)"
                )
            factors += 1
        elif previous == "number" and kind != "name":
            raise UnitError(f"{where}: {shown}: each number needs its unit; {_ACCEPTED}")
        depth += {"open": 1, "close": -1}.get(kind, 0)
        if depth < 0 or depth > 4:
            raise UnitError(f"{where}: {shown}: unbalanced or deeply nested parentheses")
        previous, position = kind, match.end()
    if previous in ("number", "mul", "op", "open") or depth:
        raise UnitError(f"{where}: {shown}: the unit is incomplete; {_ACCEPTED}")
    return factors > 0


def parse_quantity(value: object, *, where: str) -> pint.Quantity:
    """Parse ``"23 g"`` into a pint quantity: one plain number, then one unit.

    A product of up to three such quantities (``0.25 kg * 3000 km``) is accepted too.
    A bare number, an unknown unit, a decimal comma (``0,5 kg``), a thousand separator
    (``1,000 g``, ``1 000 g``), a second number (``1 g 2``) or a power tower
    (``10**10**10 kg``) is a :class:`UnitError` that shows the accepted form (pint
    would read these as other numbers, or never finish).

    Parameters
    ----------
    value
        The text the user wrote.
    where
        The location for messages, e.g. ``"spec.yaml: components[0].mass"``.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnitError(
            f"{where}: expected a quantity with a unit such as '2 kg', got {quote_input(value)}"
        )
    text = str(value).strip()
    shown = quote_input(text)
    if isinstance(value, (int, float)) or _NUMBER_RE.match(text):
        raise UnitError(
            f"{where}: {shown} has no unit; write the unit too, e.g. '{text[:20]} kg' or "
            f"'{text[:20]} kWh'"
        )
    match = _QUANTITY_RE.match(text)
    if match is None:
        raise UnitError(f"{where}: {shown} does not start with a number; {_ACCEPTED}")
    number, unit = match.group("number"), match.group("unit")
    units = _CHECKED_UNITS.get(unit)
    product = units is _PRODUCT if units is not None else _check_unit(unit, where, text)
    magnitude = float(number)
    if not math.isfinite(magnitude):
        raise UnitError(
            f"{where}: {shown} is not a finite number; write a number below 1e308 ({_ACCEPTED})"
        )
    ureg = registry()
    if product:  # "0.25 kg * 3000 km": checked above, at most three bounded factors
        return _parse_product(text, shown, where)
    if units is None:
        import pint  # only for a new unit text, not per quantity

        try:
            units = ureg.parse_units(unit)
        except pint.UndefinedUnitError as exc:
            raise UnitError(f"{where}: {shown}: unknown unit {exc.unit_names!s}") from None
        except Exception:  # noqa: BLE001 - pint raises several syntax errors
            raise UnitError(f"{where}: {shown} is not a quantity; {_ACCEPTED}") from None
        _remember_unit(unit, units)
    if units.dimensionless:
        raise UnitError(
            f"{where}: {shown} has no unit; write the unit too, e.g. '{number} kg' or "
            f"'{number} kWh'"
        )
    # Whole numbers stay int, as pint keeps them ("3 kg", not "3.0 kg", in messages).
    exact = int(number) if number.lstrip("+-").isdigit() and len(number) <= 15 else magnitude
    return ureg.Quantity(exact, units)


# Unit texts that passed every check of ``parse_quantity``, with pint's unit (or
# _PRODUCT: the text is a product of quantities, parsed whole each time). A generated
# spec repeats a few units 10^5 times; checking and parsing each quantity's unit again
# took most of ``load_spec``. Bounded, so that 10^6 distinct unit texts
# cannot grow it: past the limit a unit is checked every time, as before.
_CHECKED_UNITS: dict[str, object] = {}
_CHECKED_UNITS_LIMIT = 4096
_PRODUCT = object()


def _remember_unit(unit: str, units: object) -> None:
    if len(_CHECKED_UNITS) < _CHECKED_UNITS_LIMIT:
        _CHECKED_UNITS[unit] = units


def _check_unit(unit: str, where: str, text: str) -> bool:
    """The checks of ``parse_quantity`` that look at the unit text alone.

    Returns whether the unit holds further factors (a product of quantities); a product
    is remembered here, a single unit once pint has parsed it.
    """
    shown = quote_input(text)
    if unit[:1] in ",_'’" and unit[1:2].isdigit():
        raise UnitError(
            f"{where}: {shown} has a comma or separator in the number; write a decimal "
            f"point and no thousand separators: {_ACCEPTED}"
        )
    if unit.startswith(("**", "^")):
        raise UnitError(
            f"{where}: {shown}: powers of numbers are not accepted; write the number "
            f"itself or with an exponent such as 1e10 ({_ACCEPTED})"
        )
    if not unit:
        raise UnitError(f"{where}: {shown} has no unit; {_ACCEPTED}")
    for token in re.findall(r"[A-Za-z_]+", unit):
        if token in ("ton", "tons", "tonkm"):
            raise UnitError(f"{where}: {shown}: 'ton' is ambiguous: {_AMBIGUOUS[token]}")
    product = check_unit_text(unit, where=where, text=text)
    if product:
        _remember_unit(unit, _PRODUCT)
    return product


def _parse_product(text: str, shown: str, where: str) -> pint.Quantity:
    import pint

    try:
        quantity = registry().parse_expression(text)
    except pint.UndefinedUnitError as exc:
        raise UnitError(f"{where}: {shown}: unknown unit {exc.unit_names!s}") from None
    except Exception:  # noqa: BLE001 - pint raises several syntax errors
        raise UnitError(f"{where}: {shown} is not a quantity; {_ACCEPTED}") from None
    if not math.isfinite(float(quantity.magnitude)):
        raise UnitError(f"{where}: {shown} is not a finite number")
    if quantity.dimensionless:
        raise UnitError(f"{where}: {shown} has no unit; {_ACCEPTED}")
    return quantity


def parse_plain_number(text: str) -> float | None:
    """``float(text)`` for one plain finite number (``0.3``, ``2.5e3``), else ``None``.

    Unlike ``float`` this refuses ``1_000``, ``inf``, ``nan`` and decimal commas.
    """
    if not _NUMBER_RE.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def check_dimension(quantity: pint.Quantity, dimension: str, *, where: str, text: str) -> None:
    """Raise :class:`UnitError` unless ``quantity`` has the named dimension."""
    spec, words, examples = DIMENSIONS[dimension]
    if quantity.dimensionality != _dimensionality(spec):
        got = describe_dimensionality(quantity)
        raise UnitError(f"{where}: {text!r} is {got}, but {words} is needed ({examples})")


def parse_amount(value: object, dimension: str, *, where: str) -> pint.Quantity:
    """Parse a quantity and check it has ``dimension`` (a key of :data:`DIMENSIONS`)."""
    quantity = parse_quantity(value, where=where)
    check_dimension(quantity, dimension, where=where, text=str(value).strip())
    return quantity


def parse_share(value: object, *, where: str) -> float:
    """Parse a share: ``"30 %"``, ``"30%"`` or a fraction ``0.3``; must lie in 0-100 %."""
    if isinstance(value, bool):
        raise UnitError(f"{where}: expected a share such as '30 %' or 0.3, got {value!r}")
    if isinstance(value, (int, float)):
        share = float(value)
    elif isinstance(value, str):
        text = value.strip()
        number = parse_plain_number(text[:-1] if text.endswith("%") else text)
        if number is None:
            raise UnitError(
                f"{where}: {quote_input(value)} is not a share; write e.g. '30 %', '12.5 %' "
                "or 0.3 (a decimal point, not a comma)"
            )
        share = number / 100.0 if text.endswith("%") else number
    else:
        raise UnitError(f"{where}: expected a share such as '30 %' or 0.3, got {value!r}")
    if not math.isfinite(share) or share < 0.0 or share > 1.0:
        raise UnitError(f"{where}: {quote_input(value)} is outside 0-100 %")
    return share
