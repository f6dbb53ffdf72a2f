"""The PV functional unit (kWh delivered, IEA PVPS T12-18:2020), by hand, and its input errors."""

import copy

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.spec.product import spec_from_dict
from cfp_engine.spec.pv import parse_pv

SITE = {"irradiation": "1300 kWh/m2/year", "efficiency": "20 %"}


def _document(pv: dict, declared_unit: str = "1 m2") -> dict:
    return {
        "product": {"id": "pv", "name": "PV module", "declared_unit": declared_unit},
        "components": [],
        "stages": {"production": [{"activity": "electricity, grid, CN", "amount": "90 kWh"}]},
        "pv": pv,
    }


def _kwh(pv: dict, declared_unit: str = "1 m2") -> float:
    spec = spec_from_dict(_document(pv, declared_unit))
    return spec.delivered_energy().kwh_per_declared_unit


def test_site_specific_ratio_with_linear_degradation_by_hand():
    # 1 m2 x 1300 kWh/m2/year x 20 % x PR 0.75 = 195 kWh in the first year at the initial
    # efficiency; 30 years, losing 0.7 %-points a year: on average 10.5 % (T12-18:2020,
    # 3.1.4), so 195 x 30 x 0.895 = 5235.75 kWh.
    pv = {**SITE, "performance_ratio": 0.75, "degradation": "0.7 %/year"}
    assert _kwh(pv) == pytest.approx(5235.75, rel=1e-12)
    # The same as a sum over the years at each year's mid-year efficiency.
    by_year = sum(195 * (1 - 0.007 * (n - 0.5)) for n in range(1, 31))
    assert _kwh(pv) == pytest.approx(by_year, rel=1e-12)
    # The degradation defaults to 0.7 %-points a year with a site-specific ratio.
    assert _kwh({**SITE, "performance_ratio": "75 %"}) == pytest.approx(5235.75, rel=1e-12)


def test_default_ratio_includes_ageing():
    # The guideline's default ratios include degradation (3.1.3): no further factor.
    assert _kwh(SITE) == pytest.approx(1300 * 0.2 * 0.75 * 30, rel=1e-12)  # 5850
    ground = {**SITE, "installation": "ground-mounted"}
    assert _kwh(ground) == pytest.approx(1300 * 0.2 * 0.80 * 30, rel=1e-12)  # 6240
    # A site ratio that already is a lifetime average: no degradation either.
    average = {**SITE, "performance_ratio": 0.7, "performance_ratio_includes_degradation": True}
    assert _kwh(average) == pytest.approx(1300 * 0.2 * 0.7 * 30, rel=1e-12)
    assert _kwh({**SITE, "lifetime": "25 years"}) == pytest.approx(195 * 25, rel=1e-12)


def test_declared_units_of_power_and_pieces():
    # Per kWp the efficiency drops out: 1300 / (1 kW/m2) x 0.75 x 30 = 29,250 kWh.
    assert _kwh({"irradiation": "1300 kWh/m2/year"}, "1 kWp") == pytest.approx(29250)
    assert _kwh({"irradiation": "1300 kWh/m2/year"}, "250 Wp") == pytest.approx(7312.5)
    # A piece of 1.95 m2 at 20 %: 1.95 x 5850.
    assert _kwh({**SITE, "module_area": "1.95 m2"}, "1 piece") == pytest.approx(1.95 * 5850)
    # Units convert: 148.3 W/m2 average irradiance is 1300 kWh/m2/year.
    watts = {**SITE, "irradiation": f"{1300 / 8.766} W/m2"}  # 8766 h in pint's year
    assert _kwh(watts) == pytest.approx(5850, rel=1e-9)


def test_the_output_names_the_rule_and_defaults():
    unit = spec_from_dict(_document(SITE)).delivered_energy()
    block = unit.per_kwh({"production": 58.5, "use": 0.0, "end_of_life": 0.0})
    assert "T12-18:2020" in block["rule"]
    assert block["kg_co2e_per_kwh"] == pytest.approx(58.5 / 5850)  # 10 g/kWh
    assert block["inputs"]["performance_ratio"]["source"] == "guideline default (roof-top)"
    assert block["inputs"]["lifetime"]["source"] == "guideline default"
    assert block["inputs"]["degradation"]["applied"] is False
    assert block["calculation"] == "1 m2 x 1300 kWh/m2/year x 0.2 x 0.75 x 30 years x 1"
    assert any("includes ageing" in choice for choice in block["choices"])
    assert block["excluded_stages"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"irradiation": "1300 kg"}, r"pv\.irradiation: '1300 kg' is a mass, but an irradiation"),
        ({"irradiation": "1300"}, r"pv\.irradiation: '1300' has no unit"),
        ({"irradiation": "0 kWh/m2/year"}, r"pv\.irradiation: must be more than 0"),
        ({"performance_ratio": 1.2}, r"pv\.performance_ratio: '1.2' is outside 0-100 %"),
        ({"performance_ratio": "120 %"}, r"pv\.performance_ratio: '120 %' is outside 0-100 %"),
        ({"performance_ratio": 0}, r"pv\.performance_ratio: must be more than 0"),
        ({"lifetime": "-30 years"}, r"pv\.lifetime: must be more than 0, got '-30 years'"),
        ({"lifetime": "30 kg"}, r"pv\.lifetime: '30 kg' is a mass, but a time is needed"),
        ({"efficiency": "0 %"}, r"pv\.efficiency: must be more than 0 %"),
        ({"efficiency": "120 %"}, r"pv\.efficiency: '120 %' is outside 0-100 %"),
        (
            {"degradation": "0.5 %/year"},
            r"pv\.degradation: the default performance ratio \(0.75, roof-top\) already "
            r"includes ageing",
        ),
        (
            {"performance_ratio": 0.8, "degradation": "5 %/year"},
            r"pv\.degradation: .* would take the output below zero",
        ),
        (
            {"performance_ratio": 0.8, "degradation": "0.7 kWh"},
            r"pv\.degradation: '0.7 kWh' is an energy, but a rate per year",
        ),
        (
            {
                "performance_ratio": 0.8,
                "performance_ratio_includes_degradation": True,
                "degradation": "0.7 %/year",
            },
            r"pv\.degradation: performance_ratio_includes_degradation is true",
        ),
        ({"installation": "floating"}, r"pv\.installation"),
        ({"tilt": "30 deg"}, r"tilt"),
    ],
)
def test_bad_pv_inputs_name_the_field(change, message):
    with pytest.raises(SpecError, match=message):
        spec_from_dict(_document({**SITE, **change}))


def test_inputs_the_declared_unit_needs():
    with pytest.raises(SpecError, match=r"pv\.efficiency is needed .* module area"):
        spec_from_dict(_document({"irradiation": "1300 kWh/m2/year"}))
    with pytest.raises(SpecError, match=r"pv\.module_area is needed .* '1 piece'"):
        spec_from_dict(_document(SITE, "1 piece"))
    with pytest.raises(SpecError, match=r"product.declared_unit '1 kg' cannot be turned into kWh"):
        spec_from_dict(_document(SITE, "1 kg"))
    with pytest.raises(SpecError, match=r"irradiation"):
        spec_from_dict(_document({"efficiency": "20 %"}))


def test_battery_and_pv_exclude_each_other_and_variants_change_pv():
    document = _document(SITE)
    document["battery"] = {"category": "M1", "usable_capacity": "1 kWh", "service_life": "8 years"}
    with pytest.raises(SpecError, match=r"either a 'battery:' or a 'pv:' section"):
        spec_from_dict(document)
    document = _document(SITE)
    document["variants"] = {"utility": {"pv": {"installation": "ground-mounted"}}}
    spec = spec_from_dict(document)
    assert spec.with_variant("utility").delivered_energy().kwh_per_declared_unit == pytest.approx(
        6240
    )
    assert spec.delivered_energy().kwh_per_declared_unit == pytest.approx(5850)
    broken = copy.deepcopy(document)
    broken["variants"]["utility"]["pv"] = {"performance_ratio": 2}
    with pytest.raises(SpecError, match=r"variants\.utility\.pv\.performance_ratio"):
        spec_from_dict(broken)
    del document["pv"]
    with pytest.raises(SpecError, match=r"variants\.utility\.pv changes a 'pv:' section"):
        spec_from_dict(document)


def test_parse_pv_alone_keeps_the_defaults():
    pv = parse_pv({"irradiation": "1000 kWh/m2/year"}, "pv")
    assert (pv.installation, pv.performance_ratio, pv.lifetime_years) == ("roof-top", 0.75, 30.0)
    assert pv.degradation_per_year == pytest.approx(0.007)
    assert pv.ageing_factor == 1.0
    assert pv.lifetime_kwh_per_kwp == pytest.approx(22500)


def test_cli_bad_irradiation_is_one_line(tmp_path):
    spec = tmp_path / "pv.yaml"
    spec.write_text(
        "product: {id: pv, name: PV, declared_unit: 1 m2}\n"
        "components: []\n"
        "stages: {production: [{activity: 'electricity, grid, CN', amount: 90 kWh}]}\n"
        "pv: {irradiation: 1300 kg, efficiency: 20 %}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["calc", str(spec)])
    assert result.exit_code == 2
    assert "Error:" in result.output and "pv.irradiation: '1300 kg' is a mass" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@settings(max_examples=60, deadline=None)
@given(
    irradiation=st.floats(500, 2500),
    efficiency=st.floats(0.05, 0.3),
    ratio=st.floats(0.5, 0.95),
    years=st.integers(1, 40),
    rate=st.floats(0, 0.02),
)
def test_energy_is_the_year_by_year_sum_and_per_kwp_times_efficiency(
    irradiation, efficiency, ratio, years, rate
):
    pv = parse_pv(
        {
            "irradiation": f"{irradiation!r} kWh/m2/year",
            "efficiency": efficiency,
            "performance_ratio": ratio,
            "lifetime": f"{years} years",
            "degradation": f"{100 * rate!r} %/year",
        },
        "pv",
    )
    # Each year at its mid-year efficiency, 1 - rate x (n - 1/2), summed over the life.
    first_year = irradiation * efficiency * ratio
    by_year = sum(first_year * (1 - rate * (n - 0.5)) for n in range(1, years + 1))
    assert pv.lifetime_kwh_per_m2() == pytest.approx(by_year, rel=1e-9)
    assert pv.lifetime_kwh_per_m2() == pytest.approx(pv.lifetime_kwh_per_kwp * efficiency)
