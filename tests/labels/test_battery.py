"""The battery functional unit (kWh delivered) and the Battery Pass records, by hand."""

import copy
import json

import pytest
import yaml
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.labels.battery import LIFECYCLE_STAGES, to_battery_passport
from cfp_engine.labels.make import make_disclosure
from cfp_engine.spec.battery import parse_battery
from cfp_engine.spec.product import load_spec, spec_from_dict

from conftest import EXAMPLES, SHARED_REFERENCE

BATTERYPASS = SHARED_REFERENCE / "batterypass"
EXAMPLE = EXAMPLES / "li-ion-battery-bom.yaml"
FACTS = {
    "company_name": "X",
    "company_ids": ("urn:x:c",),
    "product_ids": ("urn:x:p",),
    "reference_period": "2025-01-01:2025-12-31",
}
LABEL_FACTS = (
    "--company-name", "X", "--company-id", "urn:x:c", "--product-id", "urn:x:p",
    "--reference-period", "2025-01-01:2025-12-31",
)  # fmt: skip
STUDY = "https://example.org/cfp-study.pdf"


def _schema(name: str, version: str, file: str) -> dict:
    path = BATTERYPASS / name / version / "gen" / file
    if not path.exists():
        pytest.skip(f"Battery Pass schema not found at {path} (../shared/reference)")
    return json.loads(path.read_text(encoding="utf-8"))


# -- the functional unit -----------------------------------------------------------------


def test_total_energy_is_capacity_times_cycles_times_years():
    # A bus battery (N3... M3: the draft's 250 cycles a year), 75 kWh, 10 years:
    # 75 x 250 x 10 = 187,500 kWh.
    bus = parse_battery(
        {"category": "M3", "usable_capacity": "75 kWh", "service_life": "10 years"}, "b"
    )
    assert bus.full_equivalent_cycles_per_year == 250
    assert bus.fec_source == "draft default (M3)"
    assert bus.total_energy_kwh == pytest.approx(187_500)
    # Defaults of the other categories: M1/N1 60, L 20.
    for category, fec in (("M1", 60), ("N1", 60), ("L", 20), ("N2", 250)):
        b = parse_battery(
            {"category": category, "usable_capacity": "1 kWh", "service_life": "1 year"}, "b"
        )
        assert b.total_energy_kwh == pytest.approx(fec)
    # An override: 500 Wh, 100 cycles a year, 8 years -> 0.5 x 100 x 8 = 400 kWh.
    car = parse_battery(
        {
            "category": "M1",
            "usable_capacity": "500 Wh",
            "full_equivalent_cycles_per_year": 100,
            "service_life": "8 years",
        },
        "b",
    )
    assert car.fec_source == "spec"
    assert car.total_energy_kwh == pytest.approx(400)


def test_category_without_default_needs_cycles():
    with pytest.raises(SpecError, match=r"full_equivalent_cycles_per_year is needed.*'other'"):
        parse_battery(
            {"category": "other", "usable_capacity": "1 kWh", "service_life": "8 years"}, "b"
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("usable_capacity", "3 kg", r"usable_capacity: an energy"),
        ("service_life", "8 kWh", r"service_life: a time"),
        ("service_life", "0 years", r"service_life: must be more than 0"),
    ],
)
def test_bad_battery_quantities(field, value, message):
    section = {"category": "M1", "usable_capacity": "1 kWh", "service_life": "8 years"}
    section[field] = value
    with pytest.raises(SpecError, match=message):
        parse_battery(section, "b")


def _example_document() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def test_spec_battery_section_checks_components():
    document = _example_document()
    document["battery"]["elements"]["no-such-part"] = {"element": "Pb"}
    with pytest.raises(SpecError, match=r"battery.elements: unknown component no-such-part"):
        spec_from_dict(document)
    document = _example_document()
    del document["battery"]["elements"]["lipf6"]["content"]
    with pytest.raises(SpecError, match=r"Li is in several components .*give each one's"):
        spec_from_dict(document)
    document = _example_document()
    document["battery"]["category"] = "bus"
    with pytest.raises(SpecError, match=r"battery.category"):
        spec_from_dict(document)


# -- the Battery Pass records ----------------------------------------------------------


@pytest.fixture(scope="module")
def eu_2031(builtin_table):
    spec = load_spec(EXAMPLE)
    product = spec.with_variant("eu-2031")
    disclosure = make_disclosure(spec, variant="eu-2031", facts=FACTS)
    return disclosure, product


def test_passport_figures_are_the_result_per_kwh_delivered(eu_2031):
    disclosure, product = eu_2031
    document = to_battery_passport(disclosure, product, study_url=STUDY)
    record = document["CarbonFootprint"]["payload"]
    # The example: 1 kWh of usable capacity x 60 cycles a year (M1) x 8 years = 480 kWh,
    # and its declared unit is that 1 kWh, so one declared unit is one battery.
    assert document["cfpEngine"]["functionalUnit"]["totalEnergyKWh"] == 480
    stages = disclosure.stages_kg_co2e
    by_stage = {
        e["lifecycleStage"]: e["carbonFootprint"]
        for e in record["carbonFootprintPerLifecycleStage"]
    }
    for stage, name in LIFECYCLE_STAGES.items():
        assert by_stage[name] == pytest.approx(stages[stage] / 480, rel=1e-5)
    four = sum(stages[s] for s in LIFECYCLE_STAGES)
    assert stages.get("use", 0) == 0  # so the four stages are the whole result
    assert four == pytest.approx(disclosure.total_kg_co2e, rel=1e-9)
    assert record["absoluteCarbonFootprint"] == pytest.approx(four, rel=1e-5)
    assert record["batteryCarbonFootprint"] == pytest.approx(four / 480, rel=1e-5)
    # Around 57 kg CO2e per kWh of cells (the example's own check) -> about 0.12 per kWh.
    assert 0.10 < record["batteryCarbonFootprint"] < 0.14
    assert record["carbonFootprintStudy"] == STUDY
    assert "carbonFootprintPerformanceClass" not in record


def test_passport_recycled_content_by_hand(eu_2031):
    disclosure, product = eu_2031
    document = to_battery_passport(disclosure, product, study_url=STUDY)
    shares = {
        r["recycledMaterial"]: r for r in document["Circularity"]["payload"]["recycledContent"]
    }
    assert set(shares) == {"Cobalt", "Nickel", "Lithium"}  # no lead named: not declared
    assert shares["Cobalt"]["postConsumerShare"] == pytest.approx(16)
    assert shares["Nickel"]["postConsumerShare"] == pytest.approx(6)
    # Lithium: 6 % of the LiOH's Li (0.3143 kg x 28.98 % = 0.091084 kg), none of the
    # LiPF6's (0.0517 kg x 4.57 % = 0.0023627 kg): 0.0054650 / 0.0934467 = 5.8483 %.
    assert shares["Lithium"]["postConsumerShare"] == pytest.approx(5.8483, abs=1e-4)
    assert all(r["preConsumerShare"] == 0 for r in shares.values())


def test_pre_consumer_origin(builtin_table):
    document = _example_document()
    document["battery"]["elements"]["cobalt-sulfate"]["origin"] = "pre-consumer"
    spec = spec_from_dict(document, source=str(EXAMPLE), base_dir=EXAMPLES)
    product = spec.with_variant("eu-2036")
    disclosure = make_disclosure(spec, variant="eu-2036", facts=FACTS)
    document = to_battery_passport(disclosure, product, study_url=STUDY)
    cobalt = document["Circularity"]["payload"]["recycledContent"][0]
    assert cobalt == {
        "recycledMaterial": "Cobalt",
        "preConsumerShare": 26.0,
        "postConsumerShare": 0.0,
    }


def test_passport_validates_against_battery_pass_schemas(eu_2031):
    from jsonschema import Draft4Validator

    carbon = _schema(
        "io.BatteryPass.CarbonFootprint", "1.2.0", "CarbonFootprintForBatteries-schema.json"
    )
    circularity = _schema("io.BatteryPass.Circularity", "1.2.0", "Circularity-schema.json")
    disclosure, product = eu_2031
    record = to_battery_passport(disclosure, product, study_url=STUDY)["CarbonFootprint"]["payload"]
    # Without a performance class (none is defined yet) the one error is the missing class.
    errors = [e.message for e in Draft4Validator(carbon).iter_errors(record)]
    assert errors == ["'carbonFootprintPerformanceClass' is a required property"]
    # With one from the spec, the record is valid.
    document = _example_document()
    document["battery"]["performance_class"] = "B"
    document["battery"]["carbon_footprint_study"] = STUDY
    with_class = spec_from_dict(document, source=str(EXAMPLE), base_dir=EXAMPLES).with_variant(
        "eu-2031"
    )
    passport = to_battery_passport(disclosure, with_class)
    Draft4Validator(carbon).validate(passport["CarbonFootprint"]["payload"])
    assert passport["CarbonFootprint"]["payload"]["carbonFootprintPerformanceClass"] == "B"
    # The recycledContent part, against the Circularity schema without its other
    # (required) aspects, which the engine does not make.
    part = copy.deepcopy(circularity)
    part["properties"] = {"recycledContent": circularity["properties"]["recycledContent"]}
    part["required"] = ["recycledContent"]
    Draft4Validator(part).validate(passport["Circularity"]["payload"])


# -- the command line ------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_battery_passport(builtin_table, tmp_path):
    out = tmp_path / "passport.json"
    result = run(
        "label", EXAMPLE, "--format", "battery-passport", "--variant", "recycled-50",
        "--study-url", STUDY, "-o", out, *LABEL_FACTS,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    shares = {
        r["recycledMaterial"]: r["postConsumerShare"]
        for r in document["Circularity"]["payload"]["recycledContent"]
    }
    assert shares["Cobalt"] == 50 and shares["Nickel"] == 50
    # 50 % of 0.091084 kg of 0.0934467 kg lithium = 48.736 %
    assert shares["Lithium"] == pytest.approx(48.736, abs=1e-3)


def test_cli_battery_passport_errors(builtin_table, tmp_path):
    out = tmp_path / "passport.json"
    # no study URL anywhere
    result = run("label", EXAMPLE, "--format", "battery-passport", "-o", out, *LABEL_FACTS)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "Error: battery.carbon_footprint_study (or --study-url" in result.output
    assert not out.exists()
    # no battery section
    document = _example_document()
    del document["battery"]
    spec = tmp_path / "no-battery.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run(
        "label", spec, "--format", "battery-passport", "--study-url", STUDY, "-o", out, *LABEL_FACTS
    )
    assert result.exit_code == 2
    assert "needs a 'battery:' section" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


# -- the EU declaration ------------------------------------------------------------------


def test_eu_battery_declaration_by_hand(builtin_table, tmp_path):
    out = tmp_path / "declaration.json"
    result = run(
        "label", EXAMPLE, "--format", "eu-battery", "--variant", "eu-2031", "-o", out,
        *LABEL_FACTS,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert "Ares(2024)3131389, 29 April 2024" in d["methodology"]["act"]
    assert d["methodology"]["status"].startswith("draft, not adopted")
    assert d["functionalUnit"]["totalEnergyKWh"] == 480  # 1 kWh x 60 x 8
    # The CFF is the draft's rule, so the label is calculated with it (spec has no approach).
    spec = load_spec(EXAMPLE)
    disclosure = make_disclosure(spec, variant="eu-2031", approach="cff", facts=FACTS)
    stages = disclosure.stages_kg_co2e
    four = sum(stages[s] for s in LIFECYCLE_STAGES)
    assert d["carbonFootprint"]["kgCO2ePerKWh"] == pytest.approx(four / 480, rel=1e-5)
    assert d["carbonFootprint"]["absoluteKgCO2ePerBattery"] == pytest.approx(four, rel=1e-5)
    names = [s["stage"] for s in d["lifeCycleStages"]]
    assert names == [
        "Raw material acquisition and pre-processing",
        "Main product production",
        "Distribution",
        "End of life and recycling",
    ]
    for entry in d["lifeCycleStages"]:
        value = stages[entry["engineStage"]] / 480
        assert entry["kgCO2ePerKWh"] == pytest.approx(value, rel=1e-5)
        assert entry["sharePercent"] == pytest.approx(100 * value * 480 / four, rel=1e-5)
    assert sum(s["sharePercent"] for s in d["lifeCycleStages"]) == pytest.approx(100, abs=1e-3)
    assert d["excludedStages"][0]["stage"] == "Use"
    cff = d["circularFootprintFormula"]
    assert cff["draftDefaults"] == {
        "A": "0.2 for metals, 0.5 otherwise",
        "B": 0,
        "R1": "0 unless the recycled content is evidenced",
    }
    by_id = {row["component"]: row for row in cff["components"]}
    assert by_id["cobalt-sulfate"]["R1"] == pytest.approx(0.16)
    assert by_id["cobalt-sulfate"]["A"] == 0.2 and by_id["graphite"]["A"] == 0.5
    assert cff["departures"] == []  # every A is 0.2 or 0.5 and every B is 0
    assert cff["recycledContentNeedingEvidence"] == [
        "nickel-sulfate: R1 = 0.06",
        "cobalt-sulfate: R1 = 0.16",
        "lithium-hydroxide: R1 = 0.06",
    ]
    assert d["electricity"]["activitiesInTheSpec"] == ["electricity, grid, CN"]
    assert any(
        c.startswith("Full equivalent cycles per year: 60 (draft default (M1))")
        for c in d["choices"]
    )
    assert any("R1 = 0 unless it is evidenced" in c for c in d["choices"])


def test_eu_battery_refuses_another_approach(builtin_table, tmp_path):
    out = tmp_path / "declaration.json"
    result = run(
        "label", EXAMPLE, "--format", "eu-battery", "--approach", "cut-off", "-o", out,
        *LABEL_FACTS,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "Error: the draft delegated act requires the Circular Footprint Formula" in result.output
    assert not out.exists()


def test_declared_unit_scaling(eu_2031):
    """A 75 kWh pack of these cells: 75 declared units per battery, 75 x 60 x 8 kWh delivered."""
    from dataclasses import replace

    disclosure, product = eu_2031
    four = sum(disclosure.stages_kg_co2e[s] for s in LIFECYCLE_STAGES)
    document = _example_document()
    document["battery"]["usable_capacity"] = "75 kWh"
    pack = spec_from_dict(document, source=str(EXAMPLE), base_dir=EXAMPLES).with_variant("eu-2031")
    record = to_battery_passport(disclosure, pack, study_url=STUDY)["CarbonFootprint"]["payload"]
    assert record["absoluteCarbonFootprint"] == pytest.approx(75 * four, rel=1e-5)
    # 75 x four / 36,000 kWh = four / 480: the per-kWh figure does not depend on the size.
    assert record["batteryCarbonFootprint"] == pytest.approx(four / 480, rel=1e-5)
    # Declared per piece: one piece is one battery, whatever its capacity.
    per_piece = replace(disclosure, declared_unit="1 piece", declared_unit_of_measurement="piece")
    record = to_battery_passport(per_piece, pack, study_url=STUDY)["CarbonFootprint"]["payload"]
    assert record["absoluteCarbonFootprint"] == pytest.approx(four, rel=1e-5)
    assert record["batteryCarbonFootprint"] == pytest.approx(four / 36_000, rel=1e-5)
    per_kg = replace(disclosure, declared_unit="1 kg", declared_unit_of_measurement="kilogram")
    with pytest.raises(SpecError, match=r"declared unit of energy .* or '1 piece'"):
        to_battery_passport(per_kg, pack, study_url=STUDY)


def test_calc_result_per_kwh_is_the_declarations_figure(builtin_table):
    # One mechanism: the calculation's per-kWh block and the eu-battery declaration both
    # divide the four Annex II stages of one battery by 1 kWh x 60 x 8 = 480 kWh.
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.labels.eu_battery import to_eu_battery

    spec = load_spec(EXAMPLE)
    result = calculate_footprint(spec, variant="eu-2031", approach="cff", table=builtin_table)
    block = result.per_kwh_delivered
    assert block["kwh_per_declared_unit"] == pytest.approx(480)
    assert block["excluded_stages"] == ["use"]
    four = sum(result.stages_kg_co2e[s] for s in LIFECYCLE_STAGES)
    assert block["kg_co2e_per_kwh"] == pytest.approx(four / 480, rel=1e-12)
    disclosure = make_disclosure(spec, variant="eu-2031", approach="cff", facts=FACTS)
    declaration = to_eu_battery(disclosure, spec.with_variant("eu-2031"))
    assert declaration["carbonFootprint"]["kgCO2ePerKWh"] == pytest.approx(
        block["kg_co2e_per_kwh"], rel=1e-3
    )
