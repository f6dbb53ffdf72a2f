"""The unit layer: one pint registry with the units LCA data use, and checked parsing.

Every amount a user types is a string with a unit (``"23 g"``, ``"7.7 t*km"``); it is
parsed here, checked against the dimension the field needs, and converted to the unit
of the activity it feeds. Shares (recycled content, end-of-life rates) are ``"30 %"``
or a fraction ``0.3``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from .errors import UnitError

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

# Brightway / ecoinvent unit names and how pint spells them.
BRIGHTWAY_UNITS = {
    "kilogram": "kilogram",
    "gram": "gram",
    "ton": "metric_ton",  # ecoinvent's "ton" is the metric tonne
    "tonne": "metric_ton",
    "metric ton": "metric_ton",
    "kilowatt hour": "kilowatt_hour",
    "megajoule": "megajoule",
    "kilojoule": "kilojoule",
    "megawatt hour": "megawatt_hour",
    "ton kilometer": "metric_ton * kilometer",
    "tonne kilometer": "metric_ton * kilometer",
    "kilogram kilometer": "kilogram * kilometer",
    "person kilometer": "person * kilometer",
    "cubic meter": "meter ** 3",
    "square meter": "meter ** 2",
    "square meter-year": "meter ** 2 * year",
    "meter": "meter",
    "kilometer": "kilometer",
    "litre": "liter",
    "liter": "liter",
    "hour": "hour",
    "unit": "piece",
    "piece": "piece",
    "item": "piece",
    "kilowatt peak": "kilowatt_peak",
    # Further names bw2io's normalize_units gives ecoinvent, SimaPro and openLCA units.
    "gigajoule": "gigajoule",
    "joule": "joule",
    "watt hour": "watt_hour",
    "cubic meter-year": "meter ** 3 * year",
    "normal cubic meter": "meter ** 3",  # gas volume at normal conditions
    "standard cubic meter": "meter ** 3",
    "meter-year": "meter * year",
    "kilometer-year": "kilometer * year",
    "hectare": "hectare",
    "kilo becquerel": "kilobecquerel",
    "becquerel": "becquerel",
    "kilogram day": "kilogram * day",
    "vehicle kilometer": "vehicle * kilometer",
    "year": "year",
    "day": "day",
    "minute": "minute",
    "second": "second",
    "kilowatt": "kilowatt",
    "megawatt": "megawatt",
    "livestock unit": "livestock_unit",
    "pig place": "pig_place",
    "kilogram separative work unit": "kilogram_swu",
    "kg swu": "kilogram_swu",
    "square centimeter": "centimeter ** 2",
    "cubic centimeter": "centimeter ** 3",
    "milligram": "milligram",
    "microgram": "microgram",
    "kilometre": "kilometer",
    "metre": "meter",
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

_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_POWER_RE = re.compile(r"(?<=[A-Za-z])([23])\b")  # m2 -> m**2, m3 -> m**3


def _preprocess(text: str) -> str:
    text = text.replace("·", "*").replace("×", "*").replace("²", "**2").replace("³", "**3")
    return _POWER_RE.sub(r"**\1", text)


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The single pint registry of the engine (created once, cached on disk by pint)."""
    import pint

    from .paths import data_home

    try:
        cache = data_home() / "cache" / "pint"
        ureg = pint.UnitRegistry(cache_folder=cache, preprocessors=[_preprocess])
    except Exception:  # noqa: BLE001 - a read-only home must not stop the engine
        ureg = pint.UnitRegistry(preprocessors=[_preprocess])
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


def _words(dimension: str) -> tuple[str, str]:
    _, words, examples = DIMENSIONS[dimension]
    return words, examples


def describe_dimensionality(quantity: pint.Quantity) -> str:
    """Name the dimension of ``quantity`` in words (``'an energy'``), or pint's form."""
    for dim, (spec, words, _) in DIMENSIONS.items():
        del dim
        if quantity.dimensionality == registry().get_dimensionality(spec):
            return words
    return f"of dimension {quantity.dimensionality}"


def parse_quantity(value: object, *, where: str) -> pint.Quantity:
    """Parse ``"23 g"`` into a pint quantity; a bare number or unknown unit is an error.

    Parameters
    ----------
    value
        The text the user wrote.
    where
        The location for messages, e.g. ``"spec.yaml: components[0].mass"``.
    """
    import pint

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnitError(f"{where}: expected a quantity with a unit such as '2 kg', got {value!r}")
    text = str(value).strip()
    if isinstance(value, (int, float)) or _NUMBER_RE.match(text):
        raise UnitError(
            f"{where}: {text!r} has no unit; write the unit too, e.g. '{text} kg' or '{text} kWh'"
        )
    for token in re.findall(r"[A-Za-z_]+", text):
        if token.lower() in _AMBIGUOUS and token in ("ton", "tons", "tonkm"):
            raise UnitError(f"{where}: {text!r}: 'ton' is ambiguous: {_AMBIGUOUS[token]}")
    ureg = registry()
    try:
        quantity = ureg.Quantity(text)
    except pint.UndefinedUnitError as exc:
        raise UnitError(f"{where}: {text!r}: unknown unit {exc.unit_names!s}") from None
    except Exception:  # noqa: BLE001 - pint raises several syntax errors
        raise UnitError(f"{where}: {text!r} is not a quantity such as '2 kg'") from None
    if not isinstance(quantity, ureg.Quantity) or quantity.dimensionless:
        raise UnitError(
            f"{where}: {text!r} has no unit; write the unit too, e.g. '{text} kg' or '{text} kWh'"
        )
    magnitude = float(quantity.magnitude)
    if not math.isfinite(magnitude):
        raise UnitError(f"{where}: {text!r} is not a finite number")
    return quantity


def check_dimension(quantity: pint.Quantity, dimension: str, *, where: str, text: str) -> None:
    """Raise :class:`UnitError` unless ``quantity`` has the named dimension."""
    spec, words, examples = DIMENSIONS[dimension]
    if quantity.dimensionality != registry().get_dimensionality(spec):
        got = describe_dimensionality(quantity)
        raise UnitError(f"{where}: {text!r} is {got}, but {words} is needed ({examples})")


def parse_amount(value: object, dimension: str, *, where: str) -> pint.Quantity:
    """Parse a quantity and check it has ``dimension`` (a key of :data:`DIMENSIONS`)."""
    quantity = parse_quantity(value, where=where)
    check_dimension(quantity, dimension, where=where, text=str(value).strip())
    return quantity


def pint_unit_for(brightway_unit: str) -> pint.Unit:
    """The pint unit of a Brightway unit name (``"kilowatt hour"`` -> kWh).

    Raises :class:`UnitError` when the engine cannot map the name.
    """
    import pint

    name = BRIGHTWAY_UNITS.get(brightway_unit.strip().lower(), brightway_unit)
    try:
        return registry().Unit(name)
    except (pint.UndefinedUnitError, AttributeError, ValueError, TypeError):
        raise UnitError(
            f"unit {brightway_unit!r} of the data cannot be mapped to a pint unit"
        ) from None


def convert_to_activity_unit(
    quantity: pint.Quantity, activity_unit: str, *, where: str, activity: str
) -> float:
    """Magnitude of ``quantity`` in the activity's unit; a wrong dimension is an error."""
    import pint

    target = pint_unit_for(activity_unit)
    try:
        return float(quantity.to(target).magnitude)
    except pint.DimensionalityError:
        got = describe_dimensionality(quantity)
        needed = describe_dimensionality(registry().Quantity(1, target))
        raise UnitError(
            f"{where}: '{quantity:~P}' is {got}, but {activity!r} is measured in "
            f"{activity_unit} ({needed})"
        ) from None


def parse_share(value: object, *, where: str) -> float:
    """Parse a share: ``"30 %"``, ``"30%"`` or a fraction ``0.3``; must lie in 0-100 %."""
    if isinstance(value, bool):
        raise UnitError(f"{where}: expected a share such as '30 %' or 0.3, got {value!r}")
    if isinstance(value, (int, float)):
        share = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            share = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise UnitError(
                f"{where}: {value!r} is not a share; write e.g. '30 %' or 0.3"
            ) from None
    else:
        raise UnitError(f"{where}: expected a share such as '30 %' or 0.3, got {value!r}")
    if not math.isfinite(share) or share < 0.0 or share > 1.0:
        raise UnitError(f"{where}: {value!r} is outside 0-100 %")
    return share
