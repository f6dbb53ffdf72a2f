"""The allocation approaches as pure functions: identities, worked examples, checks."""

import csv
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfp_engine.engine.circularity import (
    AllocationParameters,
    allocation_coefficients,
    burden_per_kg,
)
from cfp_engine.errors import SpecError

from conftest import SHARED_REFERENCE

share = st.floats(min_value=0.0, max_value=1.0)
ratio = st.floats(min_value=0.05, max_value=2.0)
factor = st.floats(min_value=-5.0, max_value=100.0)
ROLES = (
    "virgin",
    "recycled",
    "eol_recycling",
    "virgin_substituted",
    "energy_recovery",
    "substituted_heat",
    "substituted_electricity",
    "disposal",
)


@st.composite
def parameters(draw, **fixed):
    r2 = draw(share)
    r3 = draw(st.floats(min_value=0.0, max_value=1.0 - r2))
    values = dict(
        R1=draw(share),
        R2=r2,
        R3=r3,
        A=draw(share),
        B=draw(share),
        Qsin_Qp=draw(ratio),
        Qsout_Qp=draw(ratio),
        heat_MJ_per_kg=draw(st.floats(0, 40)),
        electricity_MJ_per_kg=draw(st.floats(0, 20)),
    )
    values.update(fixed)
    return AllocationParameters(**values)


factors = st.fixed_dictionaries({role: factor for role in ROLES})


@given(parameters(A=1.0, R3=0.0), factors)
def test_cff_with_a_1_and_no_energy_recovery_is_cut_off(p, e):
    cff = burden_per_kg("cff", p, e)
    cut = burden_per_kg("cut-off", p, e)
    for stage in cut:
        assert cff[stage] == pytest.approx(cut[stage], rel=1e-9, abs=1e-9)


@given(parameters(), factors)
def test_avoided_burden_is_cff_with_a_0_and_quality_1(p, e):
    from dataclasses import replace

    avoided = burden_per_kg("avoided-burden", p, e)
    cff = burden_per_kg("cff", replace(p, A=0.0, Qsin_Qp=1.0, Qsout_Qp=1.0), e)
    assert avoided == pytest.approx(cff, rel=1e-12, abs=1e-12)


@given(
    st.sampled_from(["cut-off", "avoided-burden", "cff"]),
    parameters(),
    factors,
    st.floats(min_value=0.0, max_value=1.0),
)
def test_linear_in_r1(approach, p, e, r1):
    from dataclasses import replace

    at = {x: sum(burden_per_kg(approach, replace(p, R1=x), e).values()) for x in (0.0, 1.0)}
    expected = at[0.0] + r1 * (at[1.0] - at[0.0])
    assert sum(burden_per_kg(approach, replace(p, R1=r1), e).values()) == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )


@given(st.sampled_from(["cut-off", "avoided-burden", "cff"]), parameters())
def test_recycled_content_terms_are_raw_materials_only(approach, p):
    coefficients = allocation_coefficients(approach, p)
    assert set(coefficients["raw_materials"]) <= {"virgin", "recycled"}
    assert "virgin" not in coefficients["end_of_life"]


def _worked_examples():
    path = SHARED_REFERENCE / "cff" / "cff_worked_examples.csv"
    if not path.exists():
        pytest.skip("shared/reference/cff not present")
    return {row["example_id"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}


def test_published_cff_example_recycled_wool_t_shirt():
    row = _worked_examples()["ecobalyse_wool_tshirt_M1M2"]
    p = AllocationParameters(
        R1=float(row["R1"]), A=float(row["A"]), Qsin_Qp=float(row["Qsin_over_Qp"])
    )
    per_kg = burden_per_kg(
        "cff", p, {"virgin": float(row["Ev"]), "recycled": float(row["Erecycled"])}
    )
    mass = float(row["mass_kg"])
    assert mass * per_kg["raw_materials"] == pytest.approx(1.74501, rel=1e-9)
    assert round(mass * per_kg["raw_materials"], 2) == float(row["published_result"])


def test_published_cff_example_cotton_wiper_end_of_life():
    row = _worked_examples()["ecobalyse_cotton_wiper_M3"]
    p = AllocationParameters(
        R2=float(row["R2"]), A=float(row["A"]), Qsout_Qp=float(row["Qsout_over_Qp"])
    )
    per_kg = burden_per_kg(
        "cff",
        p,
        {"eol_recycling": float(row["ErecyclingEoL"]), "virgin_substituted": float(row["Ev_star"])},
    )
    # M3 alone: the disposal term (1 - R2) * ED is 0 here because ED is not given.
    assert per_kg["end_of_life"] == pytest.approx(-0.00106, rel=1e-9)


def test_hand_computed_energy_recovery_credit():
    # 1 kg, R3 = 0.5, B = 0, 10 MJ heat and 5 MJ electricity recovered per kg:
    # 0.5 * (E_ER - 10 * E_heat - 5 * E_elec)
    p = AllocationParameters(R3=0.5, heat_MJ_per_kg=10.0, electricity_MJ_per_kg=5.0)
    per_kg = burden_per_kg(
        "cff",
        p,
        {
            "energy_recovery": 2.0,
            "substituted_heat": 0.07,
            "substituted_electricity": 0.12,
            "disposal": 1.0,
        },
    )
    assert per_kg["end_of_life"] == pytest.approx(0.5 * (2.0 - 0.7 - 0.6) + 0.5 * 1.0, rel=1e-12)
    # cut-off gives no credit
    assert burden_per_kg("cut-off", p, {"energy_recovery": 2.0, "disposal": 1.0})[
        "end_of_life"
    ] == pytest.approx(0.5 * 2.0 + 0.5 * 1.0, rel=1e-12)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"R1": 1.2}, r"R1 = 1.2 is outside \[0, 1\]"),
        ({"R2": 0.7, "R3": 0.4}, "R2 \\+ R3 = 1.1 is more than 1"),
        ({"A": -0.1}, r"A = -0.1 is outside \[0, 1\]"),
        ({"B": 2}, r"B = 2 is outside \[0, 1\]"),
        ({"Qsin_Qp": 0}, "Qsin_Qp = 0 must be > 0"),
        ({"Qsout_Qp": -1}, "Qsout_Qp = -1 must be > 0"),
    ],
)
def test_parameter_checks(values, message):
    with pytest.raises(SpecError, match=message):
        AllocationParameters(**values)


def test_warnings_outside_pef_ranges():
    assert AllocationParameters(A=0.5).warnings() == []
    notes = AllocationParameters(A=0.9, Qsin_Qp=1.2).warnings()
    assert any("A = 0.9 is outside PEF's range 0.2-0.8" in n for n in notes)
    assert any("Qsin_Qp = 1.2 is above 1" in n for n in notes)


def test_unknown_approach():
    with pytest.raises(SpecError, match="unknown approach 'magic'"):
        allocation_coefficients("magic", AllocationParameters())


def test_as_dict_lists_every_parameter_in_field_order():
    parameters = AllocationParameters(R1=0.3, R2=0.5, R3=0.2, heat_MJ_per_kg=4.0)
    assert parameters.as_dict() == {
        "R1": 0.3,
        "R2": 0.5,
        "R3": 0.2,
        "A": 0.5,
        "B": 0.0,
        "Qsin_Qp": 1.0,
        "Qsout_Qp": 1.0,
        "heat_MJ_per_kg": 4.0,
        "electricity_MJ_per_kg": 0.0,
    }
    assert list(parameters.as_dict()) == list(dataclasses.asdict(parameters))
