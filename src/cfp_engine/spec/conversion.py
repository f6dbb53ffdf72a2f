"""Amounts in the units of the data: Brightway unit names in pint, and conversion factors.

An activity is measured in a Brightway / ecoinvent unit name (``"kilowatt hour"``,
``"ton kilometer"``); :func:`pint_unit_for` names it in pint, and the amount a spec gives
(parsed by :mod:`cfp_engine.spec.units`) is converted to it with the factor pint uses,
found once per unit pair.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from cfp_engine.errors import UnitError
from cfp_engine.spec.units import describe_dimensionality, registry

if TYPE_CHECKING:
    import pint

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
    quantity: pint.Quantity,
    activity_unit: str,
    *,
    where: str,
    activity: str,
    mass_per_unit_kg: float | None = None,
) -> float:
    """Magnitude of ``quantity`` in the activity's unit; a wrong dimension is an error.

    ``mass_per_unit_kg``: see :func:`convert_magnitude`.
    """
    return convert_magnitude(
        quantity.magnitude,
        quantity.units,
        activity_unit,
        where=where,
        activity=activity,
        mass_per_unit_kg=mass_per_unit_kg,
    )


def convert_magnitude(
    magnitude: float,
    units: pint.Unit | str,
    activity_unit: str,
    *,
    where: str,
    activity: str,
    mass_per_unit_kg: float | None = None,
) -> float:
    """Magnitude of the quantity ``magnitude`` ``units`` in the activity's unit.

    :func:`convert_to_activity_unit` without building a pint quantity: a component's
    demand is its mass magnitude times a float per kg, converted here (pint's arithmetic
    per demand item took most of a 10^5-component calculation). The float is pint's:
    pint multiplies by the same factor.

    Parameters
    ----------
    magnitude
        The number, in ``units``.
    units
        pint's unit of ``magnitude`` (a unit or its pint name, e.g. ``"megajoule"``).
    activity_unit
        The Brightway unit name of the activity (``"kilowatt hour"``).
    where, activity
        The input's location and the activity's name, for messages.
    mass_per_unit_kg
        The mass of one unit of the activity (kg), when its data state it (a supplier
        footprint's ``productMassPerDeclaredUnit``): a mass is then converted to the
        activity's unit through it (a part per piece, a liquid per liter, used by mass).

    Raises
    ------
    UnitError
        The unit has another dimension than the activity's, or the activity's unit
        cannot be mapped to pint.
    """
    import pint

    try:
        factor = _activity_factor(units, activity_unit)
    except pint.DimensionalityError:
        ureg = registry()
        if mass_per_unit_kg and _is_mass(units):
            kg = float(ureg.Quantity(magnitude, units).to("kilogram").magnitude)
            return kg / mass_per_unit_kg
        target = pint_unit_for(activity_unit)
        quantity = ureg.Quantity(magnitude, units)
        got = describe_dimensionality(quantity)
        needed = describe_dimensionality(ureg.Quantity(1, target))
        raise UnitError(
            f"{where}: '{quantity:~P}' is {got}, but {activity!r} is measured in "
            f"{activity_unit} ({needed})"
        ) from None
    if factor is None:  # an offset unit (degC): pint converts the value itself
        target = pint_unit_for(activity_unit)
        return float(registry().Quantity(magnitude, units).to(target).magnitude)
    return float(magnitude * factor)


def _is_mass(units: pint.Unit | str) -> bool:
    ureg = registry()
    return ureg.Quantity(1, units).dimensionality == ureg.Quantity(1, "kilogram").dimensionality


def magnitude_in(quantity: pint.Quantity, unit: str) -> float:
    """``float(quantity.to(unit).magnitude)``, with pint's factor found once per unit pair.

    Converting each of 10^5 component masses with pint is slow; pint multiplies by the
    same factor, so the float is the same.
    """
    factor = _factor(quantity.units, unit)
    if factor is None:
        return float(quantity.to(unit).magnitude)
    return float(quantity.magnitude * factor)


@lru_cache(maxsize=1024)
def _activity_factor(units: pint.Unit | str, activity_unit: str) -> float | None:
    """:func:`_factor` to a Brightway unit name (mapped with :func:`pint_unit_for`)."""
    return _factor(units, pint_unit_for(activity_unit))


@lru_cache(maxsize=1024)
def _factor(source: pint.Unit | str, target: pint.Unit | str) -> float | None:
    """The factor pint multiplies a magnitude in ``source`` by to express it in ``target``.

    pint converts multiplicative units as ``value * factor`` (and returns the value
    itself for equal units, the same float as ``value * 1.0``). ``None`` where pint
    converts otherwise (offset units such as degC: 0 is not 0 in the target).
    pint's ``DimensionalityError`` for different dimensions; errors are not cached.
    """
    import pint

    ureg = registry()
    try:
        factor = ureg.Quantity(1.0, source).to(target).magnitude
        zero = ureg.Quantity(0.0, source).to(target).magnitude
    except pint.DimensionalityError:
        raise
    except Exception:  # noqa: BLE001 - pint's offset and logarithmic errors: per value
        return None
    return float(factor) if zero == 0.0 else None
