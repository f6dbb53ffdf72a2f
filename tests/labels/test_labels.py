"""cfp label (PACT v3/v2) and cfp verify: schema validity, ISO 14067 figures, round trips."""

import copy
import json
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.labels.rounding import decimal_string, rounding_tolerance
from cfp_engine.verify.structure import check_official_schema, check_pact

from conftest import SHARED_REFERENCE

PACT = SHARED_REFERENCE / "pact"
# Only the checks against WBCSD's published schemas need the shared reference copy; the
# ISO 14067 figures and the engine's own PACT checks run without it.
needs_official_schemas = pytest.mark.skipif(
    not PACT.exists(), reason="shared/reference/pact not present"
)
# The label facts a spec without a label: section needs, given as options.
LABEL_FACTS = (
    "--company-name",
    "X",
    "--company-id",
    "urn:x:c",
    "--product-id",
    "urn:x:p",
    "--reference-period",
    "2025-01-01:2025-12-31",
)

SPEC = """
product: {id: bottle, name: "PET bottle, 500 mL", declared_unit: 1 piece, geography: JP}
components:
  - {id: body, material: PET, mass: 23 g, recycled_content: 30 %,
     end_of_life: {recycling: 85 %, energy_recovery: 10 %}}
  - {id: cap, material: HDPE, mass: 2.5 g}
  - {id: carton, material: cardboard, mass: 8 g, recycled_content: 80 %, packaging: true}
stages:
  production: [{activity: "electricity, grid, JP", amount: 0.015 kWh}]
  distribution: [{activity: "transport, lorry", amount: 7.7 kg*km},
                 {activity: "transport, air freight", amount: 0.5 kg*km}]
label:
  company_name: Example Beverages K.K.
  company_ids: ["urn:example:company:example-beverages"]
  product_ids: ["urn:gtin:4901234567894"]
  product_category_cpc: "36490"
  reference_period: {start: "2025-01-01", end: "2025-12-31"}
  validity_period: {start: "2026-01-01", end: "2027-12-31"}
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def spec_path(tmp_path, builtin_table):
    path = tmp_path / "bottle.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def make_label(spec_path, fmt="pact", *extra):
    out = spec_path.with_name(f"label-{fmt}.json")
    result = run(
        "label", spec_path, "--format", fmt, "-o", out, "--created", "2026-11-29T00:00:00Z", *extra
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(out.read_text(encoding="utf-8"))


def verify(label, spec_path, *extra):
    return run("verify", label, "--spec", spec_path, "--format", "json", *extra)


@needs_official_schemas
@pytest.mark.parametrize("fmt", ["pact", "pact-v2"])
def test_labels_are_valid_against_the_official_schemas(spec_path, fmt):
    _, label = make_label(spec_path, fmt)
    assert check_official_schema(label, fmt, PACT) == []


def test_pact_v3_carries_the_iso_14067_figures(spec_path):
    _, label = make_label(spec_path)
    assert check_pact(label, "pact") == []
    calc = json.loads(run("calc", spec_path, "--format", "json").stdout)
    pcf = label["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == decimal_string(calc["total_kg_co2e"])
    assert pcf["fossilGhgEmissions"] == decimal_string(calc["ghg_kg_co2e"]["fossil"])
    air = [i for i in calc["line_items"] if "air freight" in i["activity"]]
    assert Decimal(pcf["aircraftGhgEmissions"]) == Decimal(decimal_string(air[0]["kg_co2e"]))
    assert Decimal(pcf["aircraftGhgEmissions"]) > 0
    assert pcf["packagingEmissionsIncluded"] is True
    assert Decimal(pcf["packagingGhgEmissions"]) == Decimal(
        decimal_string(calc["components_kg_co2e"]["carton"])
    )
    # PET (C10H8O4)n is 62.50 % carbon, PE 85.63 %: fossil carbon content by hand
    assert float(pcf["fossilCarbonContent"]) == pytest.approx(
        0.023 * 0.6250 + 0.0025 * 0.8563, rel=1e-4
    )
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["declaredUnitOfMeasurement"] == "piece"
    # PACT: the mass of the product excluding packaging (body + cap, not the carton)
    assert float(pcf["productMassPerDeclaredUnit"]) == pytest.approx(0.0255, rel=1e-9)
    assert "cut-off" in pcf["allocationRulesDescription"]
    assert "R1 0.3, R2 0.85, R3 0.1" in pcf["allocationRulesDescription"]
    assert 1 <= float(pcf["dqi"]["technologicalDQR"]) <= 5  # PACT v3: 1-5
    assert pcf["primaryDataShare"] == "0"  # only built-in (secondary) data
    names = {s["name"] for s in pcf["secondaryEmissionFactorSources"]}
    assert any("DESNZ" in n for n in names)
    extension = label["extensions"][0]["data"]
    assert extension["result"]["total_kg_co2e"] == calc["total_kg_co2e"]
    assert set(extension["integrity"]) >= {
        "spec_sha256",
        "data_sha256",
        "engine_sha256",
        "figures_sha256",
    }


def test_pact_v2_is_declared_per_kilogram(spec_path):
    _, label = make_label(spec_path, "pact-v2")
    assert check_pact(label, "pact-v2") == []
    pcf = label["pcf"]
    assert pcf["declaredUnit"] == "kilogram"
    assert pcf["unitaryProductAmount"] == "0.0255"
    total = label["extensions"][0]["data"]["result"]["total_kg_co2e"]
    assert Decimal(pcf["pCfExcludingBiogenic"]) == Decimal(decimal_string(total / 0.0255))


@needs_official_schemas
def test_the_official_invalid_v2_example_is_rejected_by_the_same_validators():
    invalid = json.loads((PACT / "v2/examples/invalid-response-all-properties.json").read_text())
    for document in invalid["data"]:
        assert check_official_schema(document, "pact-v2", PACT)
        assert any("updated" in p for p in check_pact(document, "pact-v2"))


def test_missing_label_facts_are_an_error_and_no_file(tmp_path, builtin_table):
    path = tmp_path / "bottle.yaml"
    path.write_text(SPEC.split("label:")[0], encoding="utf-8")
    out = tmp_path / "label.json"
    result = run("label", path, "--format", "pact", "-o", out)
    assert result.exit_code == 2
    assert "label.company_name (or --company-name)" in result.stderr
    assert "label.reference_period (or --reference-period)" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))
    result = run(
        "label",
        path,
        "--format",
        "pact",
        "-o",
        out,
        *LABEL_FACTS,
    )
    assert result.exit_code == 0 and out.exists()


def test_round_trip_passes(spec_path):
    for fmt in ("pact", "pact-v2"):
        label, _ = make_label(spec_path, fmt)
        result = verify(label, spec_path, *(["--schema-dir", PACT] if PACT.exists() else []))
        report = json.loads(result.stdout)
        assert result.exit_code == 0, report
        assert report["passed"] is True
        assert all(c["status"] in ("pass", "skipped") for c in report["checks"])


@pytest.mark.parametrize(
    "field",
    [
        "pcfExcludingBiogenicUptake",
        "fossilGhgEmissions",
        "aircraftGhgEmissions",
        "packagingGhgEmissions",
    ],
)
def test_changing_one_figure_fails_and_names_it(spec_path, field):
    path, label = make_label(spec_path)
    tampered = copy.deepcopy(label)
    value = Decimal(tampered["pcf"][field])
    tampered["pcf"][field] = str(value * Decimal("1.01"))
    path.write_text(json.dumps(tampered), encoding="utf-8")
    result = verify(path, spec_path)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["status"] == "FAIL"]
    assert any(field in c["detail"] for c in failed), failed


def test_changing_the_hashed_figures_is_detected(spec_path):
    path, label = make_label(spec_path)
    label["extensions"][0]["data"]["figures"]["pcfExcludingBiogenicUptake"] = "1"
    path.write_text(json.dumps(label), encoding="utf-8")
    report = json.loads(verify(path, spec_path).stdout)
    failed = {c["name"] for c in report["checks"] if c["status"] == "FAIL"}
    assert "hash: figures_sha256" in failed


def test_changing_one_byte_of_the_spec_fails(spec_path):
    label, _ = make_label(spec_path)
    changed = spec_path.with_name("changed.yaml")
    changed.write_text(SPEC.replace("mass: 2.5 g", "mass: 2.6 g"), encoding="utf-8")
    report = json.loads(verify(label, changed).stdout)
    failed = {c["name"]: c["detail"] for c in report["checks"] if c["status"] == "FAIL"}
    assert "hash: spec_sha256" in failed
    assert "the spec differs" in failed["hash: spec_sha256"]
    assert "figures: label against re-computation" in failed


def test_changing_the_data_fails(spec_path, tmp_path):
    label, _ = make_label(spec_path)
    # the same spec with an extra materials table: different data, same figures
    table = tmp_path / "extra.csv"
    table.write_text('material,virgin\nunused,"PET, virgin"\n', encoding="utf-8")
    result = verify(label, spec_path, "--materials", table)
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    failed = {c["name"] for c in report["checks"] if c["status"] == "FAIL"}
    assert failed == {"hash: data_sha256"}


def test_validity_longer_than_three_years_fails(spec_path):
    path, label = make_label(spec_path, "pact")
    label["validityPeriodEnd"] = "2029-01-01T00:00:00Z"  # forged: one day over 3 years
    path.write_text(json.dumps(label), encoding="utf-8")
    report = json.loads(verify(path, spec_path).stdout)
    failed = {c["name"]: c["detail"] for c in report["checks"] if c["status"] == "FAIL"}
    rule = "rule: validity within 3 years after the reference period"
    assert list(failed) == [rule]
    assert "at most 2028-12-31" in failed[rule]


def test_unusable_label_exits_2(spec_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run("verify", bad, "--spec", spec_path)
    assert result.exit_code == 2 and "malformed JSON" in result.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"specVersion": "3.0.0", "pcf": {}}), encoding="utf-8")
    result = run("verify", other, "--spec", spec_path)
    assert result.exit_code == 2 and "no cfp-engine extension" in result.stderr


def test_label_is_reproducible(spec_path):
    first = make_label(spec_path)[0].read_text()
    second = make_label(spec_path)[0].read_text()
    assert first == second


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.116106390287, "0.116106"),
        (1234567.89, "1234570"),
        (2.5e-7, "0.00000025"),
        (0.0, "0"),
        (-0.0701405, "-0.0701405"),
        (0.1234565, "0.123456"),
        (0.1234575, "0.123458"),
    ],
)
def test_decimal_strings(value, text):
    assert decimal_string(value) == text


def test_rounding_tolerance():
    assert rounding_tolerance("0.116106") == Decimal("5e-7")
    assert rounding_tolerance("1234570") == Decimal(5)
    # exact far beyond the float range: never an infinite tolerance
    assert rounding_tolerance("1e400") == Decimal("5e394")
    with pytest.raises(ValueError, match="not a finite decimal"):
        rounding_tolerance("Infinity")


def test_examples_round_trip(tmp_path, builtin_table):
    from conftest import EXAMPLES

    spec = tmp_path / "can.yaml"
    shutil.copy(EXAMPLES / "aluminium-can.yaml", spec)
    out = tmp_path / "can.json"
    result = run(
        "label",
        spec,
        "--format",
        "pact",
        "-o",
        out,
        *LABEL_FACTS,
        "--variant",
        "recycled-90",
    )
    assert result.exit_code == 0, result.output
    verified = run("verify", out, "--spec", spec)
    assert verified.exit_code == 0, verified.output


def test_label_with_monte_carlo_states_its_uncertainty_and_verifies(spec_path):
    path, label = make_label(spec_path, "pact-v2", "--mc", "300", "--seed", "7")
    statement = label["pcf"]["uncertaintyAssessmentDescription"]
    assert "Monte Carlo simulation, 300 iterations (seed 7)" in statement
    mc = label["extensions"][0]["data"]["result"]["mc"]
    assert mc["n"] == 300 and mc["seed"] == 7
    assert mc["p2_5"] < mc["median"] < mc["p97_5"]
    report = json.loads(verify(path, spec_path).stdout)
    checks = {c["name"]: c["status"] for c in report["checks"]}
    assert checks["uncertainty: Monte Carlo re-run with the recorded seed"] == "pass"
    assert report["passed"] is True
    label["extensions"][0]["data"]["result"]["mc"]["median"] *= 1.01
    path.write_text(json.dumps(label), encoding="utf-8")
    report = json.loads(verify(path, spec_path).stdout)
    checks = {c["name"]: c["status"] for c in report["checks"]}
    assert checks["uncertainty: Monte Carlo re-run with the recorded seed"] == "FAIL"


def test_primary_data_share_counts_user_inventories(tmp_path, handmade, builtin_table):
    for path in handmade.values():
        shutil.copy(path, tmp_path / path.name)
    spec = tmp_path / "widget.yaml"
    spec.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "materials: [handmade-materials.csv]\ninventories: [handmade.xlsx]\n"
        "components: [{id: shell, material: widget, mass: 1 kg}]\n"
        "stages: {distribution: [{activity: 'transport, lorry', amount: 100 kg*km}]}\n"
        "label: {company_name: X, company_ids: ['urn:x:c'], product_ids: ['urn:x:p'],\n"
        "        reference_period: {start: '2025-01-01', end: '2025-12-31'}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "label.json"
    assert run("label", spec, "--format", "pact", "-o", out).exit_code == 0
    pcf = json.loads(out.read_text())["pcf"]
    calc = json.loads(run("calc", spec, "--format", "json").stdout)
    items = calc["line_items"]
    whole = sum(abs(i["kg_co2e"]) for i in items)
    primary = sum(abs(i["kg_co2e"]) for i in items if i["activity"].startswith("handmade::"))
    assert 0 < primary < whole
    assert float(pcf["primaryDataShare"]) == pytest.approx(100 * primary / whole, rel=1e-3)
    names = {s["name"] for s in pcf["secondaryEmissionFactorSources"]}
    assert "handmade" not in names and any("DESNZ" in n for n in names)
