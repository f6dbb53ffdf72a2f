import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfp_engine.errors import UnitError
from cfp_engine.spec.units import (
    convert_to_activity_unit,
    parse_amount,
    parse_quantity,
    parse_share,
    pint_unit_for,
)


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
