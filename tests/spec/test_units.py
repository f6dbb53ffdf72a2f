import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfp_engine.errors import UnitError
from cfp_engine.spec import units
from cfp_engine.spec.conversion import (
    convert_magnitude,
    convert_to_activity_unit,
    magnitude_in,
    pint_unit_for,
)
from cfp_engine.spec.units import parse_amount, parse_quantity, parse_share, registry


@pytest.mark.parametrize(
    ("text", "activity_unit", "expected"),
    [
        ("500 g", "kilogram", 0.5),
        ("0.5 kg", "kilogram", 0.5),
        ("0.0005 t", "kilogram", 0.5),
        ("1 kWh", "megajoule", 3.6),
        ("3.6 MJ", "kilowatt hour", 1.0),
        ("7700 kg*km", "ton kilometer", 7.7),
        ("7.7 t*km", "ton kilometer", 7.7),
        ("7.7 tkm", "ton kilometer", 7.7),
        ("7.7 t·km", "ton kilometer", 7.7),
        ("2 m3", "cubic meter", 2.0),
        ("2000 L", "cubic meter", 2.0),
        ("1.5 m2", "square meter", 1.5),
        ("3 pcs", "unit", 3.0),
        ("1 piece", "unit", 1.0),
        # ecoinvent and openLCA count in "unit": not pint's micro-nit (u + nit)
        ("1 unit", "unit", 1.0),
        ("4 units", "unit", 4.0),
        ("2 unit", "piece", 2.0),
    ],
)
def test_conversion_to_activity_units(text, activity_unit, expected):
    quantity = parse_quantity(text, where="f")
    value = convert_to_activity_unit(quantity, activity_unit, where="f", activity="a")
    assert value == pytest.approx(expected, rel=1e-12)


def test_energy_where_a_mass_is_needed_names_field_and_dimension():
    with pytest.raises(
        UnitError,
        match=r"spec.yaml: components\[1\].mass: '0.3 kWh' is an "
        r"energy, but a mass is needed \(kg, g, t\)",
    ):
        parse_amount("0.3 kWh", "mass", where="spec.yaml: components[1].mass")


def test_wrong_dimension_for_an_activity_is_an_error():
    quantity = parse_quantity("3 kg", where="f")
    with pytest.raises(UnitError, match=r"'transport, lorry' is measured in ton kilometer"):
        convert_to_activity_unit(quantity, "ton kilometer", where="f", activity="transport, lorry")


@pytest.mark.parametrize("text", ["2 ton", "2 tons", "3 ton*km"])
def test_ton_is_ambiguous(text):
    with pytest.raises(UnitError, match="ambiguous.*short ton.*'t'"):
        parse_quantity(text, where="f")


@pytest.mark.parametrize("value", ["23", 23, 0.5, "1e3"])
def test_bare_numbers_need_a_unit(value):
    with pytest.raises(UnitError, match="has no unit"):
        parse_quantity(value, where="f")


def test_unknown_unit():
    with pytest.raises(UnitError, match="unknown unit"):
        parse_quantity("3 blorps", where="f")


def test_short_ton_is_allowed_when_spelled_out():
    quantity = parse_quantity("1 short_ton", where="f")
    assert quantity.to("kg").magnitude == pytest.approx(907.18474, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30 %", 0.3), ("30%", 0.3), (0.3, 0.3), ("0.3", 0.3), (0, 0.0), ("100 %", 1.0)],
)
def test_shares(value, expected):
    assert parse_share(value, where="f") == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("value", ["130 %", 1.2, -0.1, "-5 %", "30"])
def test_shares_outside_range(value):
    with pytest.raises(UnitError, match="outside 0-100 %"):
        parse_share(value, where="f")


def test_share_that_is_not_a_number():
    with pytest.raises(UnitError, match="is not a share"):
        parse_share("lots", where="f")


def test_unmappable_activity_unit():
    with pytest.raises(UnitError, match="cannot be mapped"):
        pint_unit_for("hectare of blorp")


@given(
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
    st.sampled_from(["mg", "g", "kg", "t", "lb"]),
)
def test_mass_round_trip(value, unit):
    quantity = parse_quantity(f"{value!r} {unit}", where="f")
    kg = convert_to_activity_unit(quantity, "kilogram", where="f", activity="a")
    back = parse_quantity(f"{kg!r} kg", where="f").to(unit).magnitude
    assert back == pytest.approx(value, rel=1e-12)


# -- factors found once per pair of units ------------------------------------

UNIT_PAIRS = [
    ("g", "kilogram"),
    ("kg", "kilogram"),
    ("t", "kilogram"),
    ("lb", "kilogram"),
    ("kWh", "megajoule"),
    ("MJ", "kilowatt hour"),
    ("kg*km", "ton kilometer"),
    ("L", "cubic meter"),
    ("pcs", "unit"),
]


MAGNITUDES = st.floats(min_value=0.0, max_value=1e300, allow_nan=False) | st.integers(0, 10**15)


@settings(deadline=None)  # the first example finds pint's factors
@given(MAGNITUDES, st.sampled_from(UNIT_PAIRS))
def test_cached_factors_give_pints_float(magnitude, units):
    # The same float as pint's own conversion, not merely a close one: results must not
    # change by a bit when the factor is cached.
    unit, activity_unit = units
    quantity = registry().Quantity(magnitude, unit)
    expected = float(quantity.to(pint_unit_for(activity_unit)).magnitude)
    assert convert_to_activity_unit(quantity, activity_unit, where="f", activity="a") == expected
    converted = convert_magnitude(magnitude, quantity.units, activity_unit, where="f", activity="a")
    assert converted == expected


@settings(deadline=None)
@given(MAGNITUDES, st.sampled_from(["mg", "g", "kg", "t", "lb", "kilogram"]))
def test_mass_in_kg_is_pints_float(magnitude, unit):
    quantity = registry().Quantity(magnitude, unit)
    assert magnitude_in(quantity, "kilogram") == float(quantity.to("kilogram").magnitude)


def test_conversion_of_a_magnitude():
    assert convert_magnitude(1500, "gram", "kilogram", where="f", activity="a") == 1.5
    assert convert_magnitude(2.5, "megajoule", "kilowatt hour", where="f", activity="a") == (
        pytest.approx(2.5 / 3.6, rel=1e-12)
    )


def test_offset_units_are_converted_by_pint():
    # 20 degC is 293.15 K: no factor, so each value goes through pint.
    celsius = registry().Quantity(20, "degree_Celsius")
    assert magnitude_in(celsius, "kelvin") == pytest.approx(293.15, rel=1e-12)
    assert convert_to_activity_unit(celsius, "kelvin", where="f", activity="a") == (
        pytest.approx(293.15, rel=1e-12)
    )


def test_a_wrong_dimension_stays_an_error_after_a_good_conversion():
    convert_magnitude(3.0, "kilogram", "kilogram", where="f", activity="a")
    for _ in range(2):  # errors are not cached: each names its own field
        with pytest.raises(
            UnitError,
            match=r"^spec.yaml: components\[4\].mass: '3.0 kg' is a mass, but 'grid' is "
            r"measured in kilowatt hour \(an energy\)$",
        ):
            convert_magnitude(
                3.0,
                "kilogram",
                "kilowatt hour",
                where="spec.yaml: components[4].mass",
                activity="grid",
            )


def test_a_checked_unit_still_needs_a_finite_number():
    parse_quantity("2 kg", where="f")  # "kg" is now a checked unit
    with pytest.raises(UnitError, match=r"^g: '1e999 kg' is not a finite number"):
        parse_quantity("1e999 kg", where="g")
    with pytest.raises(UnitError, match=r"^h: '1e999 blorps' is not a finite number"):
        parse_quantity("1e999 blorps", where="h")  # as before: the number is checked first


def test_unit_errors_name_each_place_they_occur():
    for where in ("a.yaml: components[0].mass", "b.yaml: components[9].mass"):
        with pytest.raises(UnitError, match=rf"^{re.escape(where)}: '3 blorps': unknown unit"):
            parse_quantity("3 blorps", where=where)
        with pytest.raises(UnitError, match=rf"^{re.escape(where)}: '1,5 kg' has a comma"):
            parse_quantity("1,5 kg", where=where)


def test_checked_units_are_bounded(monkeypatch):
    monkeypatch.setattr(units, "_CHECKED_UNITS", {})
    monkeypatch.setattr(units, "_CHECKED_UNITS_LIMIT", 2)
    for text in ("1 g", "2 kg", "3 t", "4 mg", "5 mg"):
        parse_quantity(text, where="f")
    assert list(units._CHECKED_UNITS) == ["g", "kg"]
    assert parse_quantity("4 mg", where="f").to("g").magnitude == pytest.approx(0.004, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "unit", "mass_per_unit_kg", "expected"),
    [
        ("1 kg", "piece", 0.5, 2.0),  # a 0.5 kg part per piece
        ("450 g", "liter", 0.9, 0.5),  # a liquid of 0.9 kg per liter
        ("2 t", "cubic meter", 800.0, 2.5),
        ("3 piece", "piece", 0.5, 3.0),  # same dimension: the mass is not used
    ],
)
def test_a_mass_converts_through_the_mass_per_unit(text, unit, mass_per_unit_kg, expected):
    quantity = parse_quantity(text, where="x")
    got = convert_to_activity_unit(
        quantity, unit, where="x", activity="a", mass_per_unit_kg=mass_per_unit_kg
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_the_mass_per_unit_converts_only_masses():
    with pytest.raises(UnitError, match="is an energy"):
        convert_to_activity_unit(
            parse_quantity("1 kWh", where="x"),
            "piece",
            where="x",
            activity="a",
            mass_per_unit_kg=0.5,
        )
