"""The Catena-X PCF export (``cfp label --format catena-x``) and the project's own check.

Payloads are made through the command line and checked against the official schemas of
the aspect model (9.0.0 and the 10.0.0 release candidate, in ../shared/reference), against
the PACT v3 export of the same spec, and against the calculation's stages.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cfp_engine import __version__
from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.labels.catenax import REGION_OF_COUNTRY, to_catenax
from cfp_engine.labels.rounding import decimal_string, rounding_tolerance
from cfp_engine.verify.catenax import check_catenax, detect_version, facts_from
from cfp_engine.verify.common import engine_extension

from conftest import EXAMPLES, SHARED_REFERENCE

PET = str(EXAMPLES / "pet-bottle.yaml")
CATENAX_REFERENCE = SHARED_REFERENCE / "catena-x"
VERSIONS = ("9.0.0", "10.0.0")
FACTS = (
    "--company-name",
    "Example Bottling K.K.",
    "--company-id",
    "urn:BPNL000000000DWF",
    "--product-id",
    "urn:example.com:product-id:pet-bottle-500ml",
    "--reference-period",
    "2025-01-01:2025-12-31",
    "--validity-period",
    "2026-01-01:2026-12-31",
    "--created",
    "2026-02-01T09:00:00Z",
)
BOXED_SPEC = """\
product:
  id: boxed-bottle
  name: PET bottle in a cardboard box
  declared_unit: 1 piece
  geography: DE
approach: cut-off
components:
  - id: body
    material: PET
    mass: 23 g
  - id: box
    material: cardboard
    mass: 40 g
    packaging: true
"""


def label(spec, path, *args):
    """Run ``cfp label`` writing to ``path``; return the CliRunner result."""
    return CliRunner().invoke(cli, ["label", str(spec), "-o", str(path), *args])


def made(spec, path, *args) -> dict:
    result = label(spec, path, *args)
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8"))


def first(payload, *path):
    node = payload
    for key in path:
        node = node[key][0]
    return node


def stages(payload):
    return first(payload, "productLifeCycleStagesAndEmissions")


def near(value: float, text: str, also: float = 0.0) -> bool:
    """``value`` equals the decimal ``text`` within the rounding of both (plus ``also``)."""
    slack = 2 * rounding_tolerance(text) + Decimal(str(also))
    return abs(Decimal(repr(value)) - Decimal(text)) <= slack


@pytest.fixture(scope="module")
def pet(builtin_table, tmp_path_factory) -> dict:
    """The PET bottle as PACT v3 and as Catena-X 9.0.0 and 10.0.0, and its calculation."""
    folder = tmp_path_factory.mktemp("catenax")
    documents = {"pact": made(PET, folder / "pact.json", "--format", "pact", *FACTS)}
    for version in VERSIONS:
        documents[version] = made(
            PET,
            folder / f"catenax-{version}.json",
            "--format",
            "catena-x",
            "--catena-x-version",
            version,
            *FACTS,
        )
    calc = CliRunner().invoke(cli, ["calc", PET, "--format", "json"])
    assert calc.exit_code == 0, calc.output
    documents["calc"] = json.loads(calc.stdout)
    return documents


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_against_the_official_schema(pet, version):
    schema_path = CATENAX_REFERENCE / f"v{version}" / "Pcf-schema.json"
    if not schema_path.is_file():
        pytest.skip(f"official Catena-X {version} schema not present ({schema_path})")
    from jsonschema import Draft4Validator, FormatChecker

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(pet[version])
    ]
    assert errors == []


@pytest.mark.parametrize("version", VERSIONS)
def test_own_check_passes_the_export_and_the_official_sample(pet, version):
    assert check_catenax(pet[version], version) == []
    assert detect_version(pet[version]) == version
    sample = CATENAX_REFERENCE / f"v{version}" / "Pcf.json"
    if sample.is_file():
        assert check_catenax(json.loads(sample.read_text(encoding="utf-8")), version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_own_check_catches_a_removed_required_field(pet, version):
    payload = copy.deepcopy(pet[version])
    del stages(payload)["productionStage"][0]["pcfExcludingBiogenicUptake"]
    del payload["carbonContent"]
    problems = check_catenax(payload, version)
    assert (
        "missing productLifeCycleStagesAndEmissions[0].productionStage[0]."
        "pcfExcludingBiogenicUptake" in problems
    )
    assert "missing carbonContent" in problems


def test_own_check_catches_ranges_types_and_version_differences(pet):
    payload = copy.deepcopy(pet["10.0.0"])
    information = first(payload, "pcfAssessmentAndMethodology", "pcfAssessmentInformation")
    information["boundarySpecifications"][0]["exemptedEmissionsPercent"] = 11
    information["idAndVersion"][0]["id"] = "not-a-uuid"
    stages(payload)["distributionStage"][0]["distributionStageFossilGhgEmissions"] = "0.5"
    problems = " | ".join(check_catenax(payload, "10.0.0"))
    assert "exemptedEmissionsPercent = 11 is above the model's range" in problems
    assert "id = 'not-a-uuid' is not a UUID" in problems
    assert "distributionStageFossilGhgEmissions = '0.5' is not a JSON number" in problems
    # 10.0.0 takes one standard and no free attribution when mass balancing is unused;
    # 9.0.0 a list of standards and both mass-balancing texts.
    problems_as_v9 = " | ".join(check_catenax(pet["10.0.0"], "9.0.0"))
    assert "freeAttributionInMassBalancing" in problems_as_v9
    assert "crossSectoralStandards = 'ISO 14067' must be a list of texts" in problems_as_v9


@pytest.mark.parametrize("version", VERSIONS)
def test_figures_match_the_pact_export(pet, version):
    pcf, payload = pet["pact"]["pcf"], pet[version]
    production = stages(payload)["productionStage"][0]
    distribution = stages(payload)["distributionStage"][0]
    # Same quantity, same rounding: equal numbers.
    for name in ("fossilCarbonContent", "biogenicCarbonContent"):
        assert first(payload, "carbonContent")[name] == float(pcf[name])
    assert distribution["distributionStagePcfExcludingBiogenicUptake"] == float(
        pcf["outboundLogisticsGhgEmissions"]
    )
    assert production["aircraftGhgEmissions"] == float(pcf["aircraftGhgEmissions"])
    assert production["biogenicCO2Uptake"] == float(pcf["biogenicCO2Uptake"])
    # PACT's totals are production plus distribution, each rounded to 6 digits.
    for ours, theirs in (
        ("pcfExcludingBiogenicUptake", "pcfExcludingBiogenicUptake"),
        ("pcfIncludingBiogenicUptake", "pcfIncludingBiogenicUptake"),
        ("fossilGhgEmissions", "fossilGhgEmissions"),
        ("biogenicNonCO2Emissions", "biogenicNonCO2Emissions"),
        ("landUseChangeGhgEmissions", "landUseChangeGhgEmissions"),
    ):
        part = distribution["distributionStage" + ours[0].upper() + ours[1:]]
        both = production[ours] + part
        also = rounding_tolerance(decimal_string(part)) + rounding_tolerance(
            decimal_string(production[ours])
        )
        assert near(both, pcf[theirs], also), (ours, both, pcf[theirs])
    quality = first(payload, "pcfAssessmentAndMethodology", "dataSourcesAndQuality")
    assert quality["primaryDataShare"] == float(pcf["primaryDataShare"])
    # DQRs: PACT v3 and Catena-X share the 1-5 scale, so the same numbers.
    for name in ("technologicalDQR", "temporalDQR", "geographicalDQR"):
        assert quality[name] == float(pcf["dqi"][name])


@pytest.mark.parametrize("version", VERSIONS)
def test_distribution_stage_is_the_calculated_distribution_stage(pet, version):
    stages_kg = pet["calc"]["stages_kg_co2e"]
    distribution = stages(pet[version])["distributionStage"][0]
    production = stages(pet[version])["productionStage"][0]
    assert distribution["distributionStageIncluded"] is True
    assert distribution["distributionStagePcfExcludingBiogenicUptake"] == float(
        decimal_string(stages_kg["distribution"])
    )
    others = sum(v for k, v in stages_kg.items() if k != "distribution")
    assert production["pcfExcludingBiogenicUptake"] == float(decimal_string(others))
    # End of life is in the PET bottle's footprint: not a cradle-to-gate PCF.
    assert first(pet[version], "scopeOfPcfForm")["partialFullPcf"] == "Cradle-to-grave"


def test_version_specific_fields(pet):
    v9, v10 = (first(pet[v], "pcfAssessmentAndMethodology", "pcfMethodology") for v in VERSIONS)
    assert v9["standards"][0]["crossSectoralStandards"] == ["ISO 14067"]
    assert v10["standards"][0]["crossSectoralStandards"] == "ISO 14067"
    assert v9["massBalancingInformation"][0] == {
        "massBalancingUsed": False,
        "freeAttributionInMassBalancing": "not applicable",
        "massBalancingCertificateScheme": "not applicable",
    }
    assert v10["massBalancingInformation"][0] == {"massBalancingUsed": False}
    assert first(pet["9.0.0"], "scopeOfPcfForm")["specVersion"] == (
        "urn:io.catenax.pcf:datamodel:version:9.0.0"
    )


def test_facts_ids_periods_and_geography_as_given(pet):
    payload = pet["9.0.0"]
    company = first(payload, "companyAndProductInformation", "companyInformation")
    product = first(payload, "companyAndProductInformation", "productInformation")
    information = first(payload, "pcfAssessmentAndMethodology", "pcfAssessmentInformation")
    assert company == {"companyName": "Example Bottling K.K.", "companyIds": [FACTS[3]]}
    assert product["productIds"] == [FACTS[5]]
    assert product["declaredUnitOfMeasurement"] == "piece"
    assert product["productMassPerDeclaredUnit"] == pytest.approx(0.0255, rel=1e-12)
    assert information["time"][0] == {
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T23:59:59Z",
        "created": "2026-02-01T09:00:00Z",
        "validityPeriodStart": "2026-01-01T00:00:00Z",
        "validityPeriodEnd": "2026-12-31T23:59:59Z",
    }
    assert information["geography"][0] == {
        "geographyRegionOrSubregion": "Eastern Asia",
        "geographyCountry": "JP",
    }
    assert information["idAndVersion"][0]["id"] == pet["pact"]["id"]
    assert facts_from(payload)["validity_period"] == {"start": "2026-01-01", "end": "2026-12-31"}


def test_extension_carries_the_integrity_and_engine_version(pet):
    data = engine_extension(pet["10.0.0"])
    pact_data = pet["pact"]["extensions"][0]["data"]
    assert data["engineVersion"] == __version__
    assert data["integrity"] == pact_data["integrity"]
    assert data["result"]["total_kg_co2e"] == pact_data["result"]["total_kg_co2e"]


def test_packaging_component_fills_the_packaging_stage(builtin_table, tmp_path):
    spec = tmp_path / "boxed.yaml"
    spec.write_text(BOXED_SPEC, encoding="utf-8")
    pact = made(spec, tmp_path / "pact.json", "--format", "pact", *FACTS)
    for version in VERSIONS:
        out = tmp_path / f"cx-{version}.json"
        payload = made(spec, out, "--format", "catena-x", "--catena-x-version", version, *FACTS)
        assert check_catenax(payload, version) == []
        packaging = stages(payload)["packagingStage"][0]
        production = stages(payload)["productionStage"][0]
        assert packaging["packagingEmissionsIncluded"] is True
        assert packaging["packagingPcfExcludingBiogenicUptake"] == float(
            pact["pcf"]["packagingGhgEmissions"]
        )
        # Packaging is part of the production stage, not added to it.
        assert packaging["packagingPcfExcludingBiogenicUptake"] > 0
        assert (
            packaging["packagingPcfExcludingBiogenicUptake"]
            < (production["pcfExcludingBiogenicUptake"])
        )
        # No distribution inputs in this spec.
        assert stages(payload)["distributionStage"][0] == {"distributionStageIncluded": False}
        # The model's product mass excludes packaging: the 23 g body only.
        product = first(payload, "companyAndProductInformation", "productInformation")
        assert product["productMassPerDeclaredUnit"] == pytest.approx(0.023, rel=1e-12)
        information = first(payload, "pcfAssessmentAndMethodology", "pcfAssessmentInformation")
        assert information["geography"][0]["geographyRegionOrSubregion"] == "Western Europe"


def test_missing_validity_period_is_an_error_naming_the_field(builtin_table, tmp_path):
    out = tmp_path / "label.json"
    without_validity = [a for a in FACTS if a not in ("--validity-period", "2026-01-01:2026-12-31")]
    result = label(PET, out, "--format", "catena-x", *without_validity)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "label.validity_period" in result.stderr
    assert not out.exists()


def test_reference_period_still_running_is_an_error(builtin_table, tmp_path):
    out = tmp_path / "label.json"
    facts = list(FACTS)
    facts[facts.index("--created") + 1] = "2025-06-30T12:00:00Z"
    result = label(PET, out, "--format", "catena-x", "--catena-x-version", "10.0.0", *facts)
    assert result.exit_code == 2
    assert "Error: label.reference_period" in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def disclosure(builtin_table):
    from cfp_engine.labels.make import make_disclosure
    from cfp_engine.spec.product import load_spec

    return make_disclosure(
        load_spec(PET),
        facts={
            "company_name": "Example Bottling K.K.",
            "company_ids": ("urn:BPNL000000000DWF",),
            "product_ids": ("urn:example.com:product-id:pet-bottle-500ml",),
            "reference_period": "2025-01-01:2025-12-31",
            "validity_period": "2026-01-01:2026-12-31",
        },
    )


def test_aircraft_emissions_not_split_when_both_stages_may_have_them(disclosure):
    flown = replace(disclosure, figures={**disclosure.figures, "aircraftGhgEmissions": 0.004})
    payload = to_catenax(flown, version="10.0.0")
    assert "aircraftGhgEmissions" not in stages(payload)["productionStage"][0]
    assert "distributionStageAircraftGhgEmissions" not in stages(payload)["distributionStage"][0]
    assert "Aircraft emissions: 0.004 kg CO2e" in first(payload, "general")["comment"]
    assert check_catenax(payload, "10.0.0") == []


def test_negative_production_stage_is_an_error(disclosure):
    credited = replace(
        disclosure, stages_kg_co2e={**disclosure.stages_kg_co2e, "end_of_life": -1.0}
    )
    with pytest.raises(SpecError, match=r"pcfExcludingBiogenicUptake must be >= 0 kg CO2e"):
        to_catenax(credited)


def test_non_uuid_id_and_unknown_version_are_errors(disclosure):
    with pytest.raises(SpecError, match=r"label\.id: Catena-X needs a UUID"):
        to_catenax(replace(disclosure, id="pet-bottle-2025"))
    with pytest.raises(SpecError, match=r"one of 9\.0\.0, 10\.0\.0"):
        to_catenax(disclosure, version="8.0.0")


def test_every_region_is_one_of_the_model_values():
    enum = CATENAX_REFERENCE / "v10.0.0" / "Pcf-schema.json"
    if not enum.is_file():
        pytest.skip(f"official Catena-X 10.0.0 schema not present ({enum})")
    schema = json.loads(enum.read_text(encoding="utf-8"))
    allowed = schema["components"]["schemas"]["GeographyRegionOrSubregionCharacteristic"]["enum"]
    assert set(REGION_OF_COUNTRY.values()) <= set(allowed)
    assert len(REGION_OF_COUNTRY) == 248  # ISO 3166-1 alpha-2 codes but Antarctica


@pytest.mark.parametrize("version", VERSIONS)
def test_cfp_verify_recomputes_a_catenax_label(pet, tmp_path, version):
    path = tmp_path / "label.json"
    path.write_text(json.dumps(pet[version]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", str(path), "--spec", PET])
    assert result.exit_code == 0, result.output
    # A changed production figure no longer verifies.
    tampered = copy.deepcopy(pet[version])
    stages(tampered)["productionStage"][0]["pcfExcludingBiogenicUptake"] *= 0.9
    path.write_text(json.dumps(tampered), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", str(path), "--spec", PET])
    assert result.exit_code == 1, result.output
    assert "pcfExcludingBiogenicUptake" in result.output


def test_rule_checks_pass_for_the_export(pet):
    from cfp_engine.verify.catenax import rule_checks

    checks = rule_checks(pet["9.0.0"], engine_extension(pet["9.0.0"]))
    assert [c.name for c in checks if c.passed is not True] == []
    late = copy.deepcopy(pet["9.0.0"])
    information = first(late, "pcfAssessmentAndMethodology", "pcfAssessmentInformation")
    information["time"][0]["validityPeriodStart"] = "2025-06-01T00:00:00Z"
    failed = [c.name for c in rule_checks(late, engine_extension(late)) if c.passed is False]
    assert failed == [
        "rule: validity starts after the reference period (retrospective PCF)",
        "rule: validity within 3 years after the reference period",
    ]
