"""The Ouranos CFP records (``--format ouranos``): schema, example and rules; figures by hand."""

import json
import math
import re
from importlib import resources

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.labels.make import make_disclosure, render_label
from cfp_engine.labels.ouranos import ouranos_figure, to_ouranos, trace_id
from cfp_engine.spec.product import load_spec, spec_from_dict

from conftest import EXAMPLES

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
#: The request body of the platform's own tutorial (docs/tutorials/ResponseCFP.md of
#: ouranos-ecosystem-idi/data-transaction-system v1.2.0, MIT, (c) 2024 NTT DATA Group
#: Corporation): supplier B registers its product's CFP, 1.5 and 10.0 kgCO2e/kilogram.
TUTORIAL_BODY = [
    {
        "cfpId": None,
        "traceId": "2fb97052-250b-44de-acbb-1ba63e28af71",
        "ghgEmission": ghg,
        "ghgDeclaredUnit": "kgCO2e/kilogram",
        "cfpType": cfp_type,
        "dqrType": dqr_type,
        "dqrValue": dqr,
    }
    for ghg, cfp_type, dqr_type, dqr in (
        (1.5, "preProduction", "preProcessing", {"TeR": 1, "GeR": 2, "TiR": 3}),
        (10.0, "mainProduction", "mainProcessing", {"TeR": 2, "GeR": 3, "TiR": 4}),
        (0, "preComponent", "preProcessing", {"TeR": 1, "GeR": 2, "TiR": 3}),
        (0, "mainComponent", "mainProcessing", {"TeR": 2, "GeR": 3, "TiR": 4}),
    )
]
#: The platform's check of a figure (domain/common/validation.go, FloatPtr5thDecimal):
#: Go's strconv.FormatFloat(v, 'f', -1, 64) must match this; Python's repr of a float of
#: at most 5 decimals writes the same digits.
FIVE_DECIMALS = re.compile(r"^[0-9]+\.?[0-9]{0,5}$")


def _schema() -> Draft202012Validator:
    text = resources.files("cfp_engine.labels").joinpath("schemas/ouranos-cfp.schema.json")
    return Draft202012Validator(json.loads(text.read_text()), format_checker=FormatChecker())


@pytest.fixture(scope="module")
def eu_2031(builtin_table):
    spec = load_spec(EXAMPLE)
    disclosure = make_disclosure(spec, variant="eu-2031", facts=FACTS)
    product = spec.with_variant("eu-2031")
    return disclosure, product, to_ouranos(disclosure, product)


def _by_type(records):
    return {r["cfpType"]: r for r in records}


def test_the_schema_accepts_the_platforms_own_example_and_refuses_broken_ones():
    validator = _schema()
    validator.validate(TUTORIAL_BODY)
    for breaking in (
        lambda b: b[0].update(cfpType="preProductionTotal"),  # a GET-only type
        lambda b: b[0].update(ghgDeclaredUnit="kgCO2e/kWh"),
        lambda b: b[0].update(ghgEmission=-1),
        lambda b: b[0].update(ghgEmission=100000),
        lambda b: b[0].update(traceId="not-a-uuid"),
        lambda b: b[0]["dqrValue"].pop("TiR"),
        lambda b: b.pop(),  # three records: the platform wants all four
    ):
        body = json.loads(json.dumps(TUTORIAL_BODY))
        breaking(body)
        assert list(validator.iter_errors(body)), body


def test_every_request_body_has_the_platforms_shape(eu_2031):
    disclosure, product, document = eu_2031
    validator = _schema()
    parts = [document["product"], *document["parts"]]
    assert [p["partsName"] for p in document["parts"]] == [c.id for c in product.components]
    for part in parts:
        body = part["cfp"]
        validator.validate(body)
        # the same keys in the same order as the platform's example
        assert [list(r) for r in body] == [list(r) for r in TUTORIAL_BODY]
        assert [r["cfpType"] for r in body] == [r["cfpType"] for r in TUTORIAL_BODY]
        assert [r["dqrType"] for r in body] == [r["dqrType"] for r in TUTORIAL_BODY]
        # PUT rules: one cfpId, traceId and unit for the four; one dqrValue per dqrType
        assert {r["traceId"] for r in body} == {part["traceId"]}
        assert {r["cfpId"] for r in body} == {None}
        assert {r["ghgDeclaredUnit"] for r in body} == {"kgCO2e/kilowatt-hour"}
        by_type = _by_type(body)
        assert by_type["preProduction"]["dqrValue"] == by_type["preComponent"]["dqrValue"]
        assert by_type["mainProduction"]["dqrValue"] == by_type["mainComponent"]["dqrValue"]
        for record in body:
            values = [record["ghgEmission"], *record["dqrValue"].values()]
            for value in (v for v in values if v is not None):
                assert FIVE_DECIMALS.match(repr(value).removesuffix(".0")), value
        assert len(part["partsName"]) <= 50
    assert len({p["traceId"] for p in parts}) == len(parts)
    assert document["product"]["traceId"] == trace_id(disclosure, None)


def test_figures_by_hand(eu_2031):
    disclosure, _, document = eu_2031
    items = disclosure.result["line_items"]

    def stage_sum(stage, keep):
        return math.fsum(i["kg_co2e"] for i in items if i["stage"] == stage and keep(i))

    parent = _by_type(document["product"]["cfp"])
    # The example: the materials are bought (components), the cell making is the company's.
    bought = stage_sum("raw_materials", lambda i: i["component"] is not None)
    own_main = stage_sum("production", lambda i: i["component"] is None)
    assert bought == pytest.approx(disclosure.stages_kg_co2e["raw_materials"], rel=1e-12)
    assert own_main == pytest.approx(disclosure.stages_kg_co2e["production"], rel=1e-12)
    # rounded up to 5 decimal places: at most 0.00001 above, never below
    assert 0 <= parent["preComponent"]["ghgEmission"] - bought < 1e-5
    assert 0 <= parent["mainProduction"]["ghgEmission"] - own_main < 1e-5
    assert parent["preProduction"]["ghgEmission"] == 0  # no own raw-material activity
    assert parent["mainComponent"]["ghgEmission"] == 0  # components have no production items
    # 31.9388 + 24.4263 = 56.365 kg CO2e per kWh (the example's own check: about 57.6 for
    # the base case without recycled content).
    assert parent["preComponent"]["ghgEmission"] == pytest.approx(31.93883, abs=1e-5)
    assert parent["mainProduction"]["ghgEmission"] == pytest.approx(24.42633, abs=1e-5)
    # A child: the nickel sulfate, 6 % recycled (virgin + recycled line items).
    nickel = next(p for p in document["parts"] if p["partsName"] == "nickel-sulfate")
    mine = stage_sum("raw_materials", lambda i: i["component"] == "nickel-sulfate")
    assert {i["role"] for i in items if i["component"] == "nickel-sulfate"} >= {"virgin"}
    assert 0 <= _by_type(nickel["cfp"])["preProduction"]["ghgEmission"] - mine < 1e-5
    assert nickel["amountRequired"] == 1.6248 and nickel["amountRequiredUnit"] == "kilogram"
    assert nickel["terminatedFlag"] is True
    # The platform's own total: preComponentTotal = sum of the children's preProduction
    # (usecase/cfp_usecase_datastore_impl.go, C-3); each rounded up, so it may exceed the
    # parent's figure by up to 0.00001 per child.
    children = math.fsum(
        _by_type(p["cfp"])["preProduction"]["ghgEmission"] for p in document["parts"]
    )
    assert 0 <= children - parent["preComponent"]["ghgEmission"] <= 1e-5 * len(document["parts"])
    # Stages the record has no place for are stated with their figures.
    excluded = document["cfpEngine"]["excludedStages"]["kgCO2ePerDeclaredUnit"]
    assert excluded["distribution"] == pytest.approx(
        disclosure.stages_kg_co2e["distribution"], rel=1e-5
    )
    assert excluded["end_of_life"] == pytest.approx(
        disclosure.stages_kg_co2e["end_of_life"], rel=1e-5
    )


def test_ratings_by_hand(eu_2031):
    disclosure, _, document = eu_2031
    pedigree = {i["activity"]: i["pedigree"] for i in disclosure.dqi_inputs}
    production = [i for i in disclosure.result["line_items"] if i["stage"] == "production"]
    rated = [
        (abs(i["kg_co2e"]), pedigree[i["activity"]])
        for i in production
        if i["activity"] in pedigree
    ]
    assert len(rated) >= 2  # assembly, electricity (and heat): a real weighting
    weight = sum(w for w, _ in rated)
    expected = {
        name: sum(w * p[indicator] for w, p in rated) / weight
        for name, indicator in (
            ("TeR", "technological"),
            ("GeR", "geographical"),
            ("TiR", "temporal"),
        )
    }
    got = _by_type(document["product"]["cfp"])["mainProduction"]["dqrValue"]
    for name, value in expected.items():
        assert 0 <= got[name] - value < 1e-5, name  # rounded up
        assert 1 <= got[name] <= 5  # the pedigree (and PEF) scale
    # A part none of whose inputs carries 5 % of the emissions has no rating: null, not 0.
    cobalt = next(p for p in document["parts"] if p["partsName"] == "cobalt-sulfate")
    assert _by_type(cobalt["cfp"])["preProduction"]["dqrValue"] == {
        "TeR": None,
        "GeR": None,
        "TiR": None,
    }
    # A part with one rated input has exactly that input's scores.
    nickel = next(p for p in document["parts"] if p["partsName"] == "nickel-sulfate")
    (virgin,) = [a for a in pedigree if "nickel sulfate" in a]
    assert _by_type(nickel["cfp"])["preProduction"]["dqrValue"] == {
        "TeR": pedigree[virgin]["technological"],
        "GeR": pedigree[virgin]["geographical"],
        "TiR": pedigree[virgin]["temporal"],
    }


def test_rounding_up_to_five_decimals():
    assert ouranos_figure(0.000011, "x") == 0.00002
    assert ouranos_figure(1.5, "x") == 1.5
    assert ouranos_figure(24.426328434764628, "x") == 24.42633
    assert ouranos_figure(0.0, "x") == 0
    assert ouranos_figure(99999.99999, "x") == 99999.99999
    for bad in (-0.1, 99999.999991, float("nan"), float("inf")):
        with pytest.raises(SpecError):
            ouranos_figure(bad, "x")


def test_declared_unit_of_two_pieces_is_divided(builtin_table):
    spec = spec_from_dict(
        {
            "product": {"id": "bottles", "name": "two bottles", "declared_unit": "2 piece"},
            "components": [{"id": "body", "material": "PET", "mass": "46 g"}],
            "stages": {"production": [{"activity": "electricity, grid, JP", "amount": "0.03 kWh"}]},
        }
    )
    disclosure = make_disclosure(spec, facts=FACTS)
    document = json.loads(render_label(disclosure, "ouranos", product=spec))
    parent = _by_type(document["product"]["cfp"])
    assert parent["mainProduction"]["ghgDeclaredUnit"] == "kgCO2e/unit"
    per_piece = disclosure.stages_kg_co2e["production"] / 2
    assert 0 <= parent["mainProduction"]["ghgEmission"] - per_piece < 1e-5
    assert document["parts"][0]["amountRequired"] == 0.023  # 46 g for two pieces


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_writes_the_records(builtin_table, tmp_path):
    out = tmp_path / "ouranos.json"
    result = run("label", EXAMPLE, "--format", "ouranos", "-o", out, *LABEL_FACTS)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["dataModel"]["license"].startswith("MIT")
    assert "preProcessing" in document["cfpEngine"]["mapping"]
    assert document["extensions"][0]["data"]["engine"] == "cfp-engine"


def test_cli_refuses_a_part_name_the_platform_cannot_hold(builtin_table, tmp_path):
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    long_id = "a-component-id-that-is-longer-than-fifty-characters-x"
    (manganese,) = [c for c in document["components"] if c["id"] == "manganese-sulfate"]
    manganese["id"] = long_id  # in no variant and no battery element
    spec = tmp_path / "long.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = tmp_path / "ouranos.json"
    result = run("label", spec, "--format", "ouranos", "-o", out, *LABEL_FACTS)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert "partsName holds at most 50 characters" in result.output
    assert "Traceback" not in result.output and not out.exists()
