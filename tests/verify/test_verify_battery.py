"""``cfp verify`` on labels made from the spec's sections: battery-passport, eu-battery, ouranos.

A label written by ``cfp label`` verifies (exit 0); a forged figure or field, a changed spec
and a malformed document fail (exit 1) or are refused (exit 2), never with a traceback.
"""

import copy
import functools
import json
from decimal import Decimal

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfp_engine.cli import cli
from cfp_engine.errors import CfpError
from cfp_engine.verify.spec_formats import content_problems, detect, facts_for

from conftest import EXAMPLES, SHARED_REFERENCE

EXAMPLE = EXAMPLES / "li-ion-battery-bom.yaml"
FORMATS = ("battery-passport", "eu-battery", "ouranos")
STUDY = "https://example.org/cfp-study.pdf"
CONTENT = "content: every field against the re-computation"
STRUCTURE = "structure: required fields and ranges"
LABEL_FACTS = (
    "--company-name", "X", "--company-id", "urn:x:c", "--product-id", "urn:x:p",
    "--reference-period", "2025-01-01:2025-12-31",
)  # fmt: skip


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def no_traceback(result):
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.fixture(scope="module")
def labels(tmp_path_factory, builtin_table):
    """A label of each format of the battery example (variant eu-2031), by ``cfp label``."""
    folder = tmp_path_factory.mktemp("battery-labels")
    made = {}
    for fmt in FORMATS:
        out = folder / f"{fmt}.json"
        result = run(
            "label", EXAMPLE, "--format", fmt, "--variant", "eu-2031", "--study-url", STUDY,
            "-o", out, *LABEL_FACTS,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made[fmt] = json.loads(out.read_text(encoding="utf-8"))
    return folder, made


def verify_document(tmp_path, document, *options, spec=EXAMPLE):
    path = tmp_path / "label.json"
    path.write_text(
        document if isinstance(document, str) else json.dumps(document), encoding="utf-8"
    )
    return run("verify", path, "--spec", spec, "--format", "json", *options)


def failed(result):
    return {
        c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_label_written_by_cfp_label_verifies(labels, fmt):
    folder, made = labels
    assert detect(made[fmt]) == fmt
    result = run("verify", folder / f"{fmt}.json", "--spec", EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == fmt and report["passed"]
    names = {c["name"] for c in report["checks"] if c["status"] == "pass"}
    assert {
        "structure: required fields and ranges",
        "figures: label against re-computation",
        "content: every field against the re-computation",
        "hash: spec_sha256",
        "hash: figures_sha256",
    } <= names
    assert any(name.startswith("rule: ") for name in names)


FORGERIES = {
    "battery-passport": [
        (("CarbonFootprint", "payload", "batteryCarbonFootprint"), 0.2),
        (("CarbonFootprint", "payload", "carbonFootprintPerLifecycleStage", 1, "carbonFootprint"),
         0.01),
        (("Circularity", "payload", "recycledContent", 0, "postConsumerShare"), 26.0),
    ],
    "eu-battery": [
        (("carbonFootprint", "kgCO2ePerKWh"), 0.1),
        (("lifeCycleStages", 0, "kgCO2ePerKWh"), 0.01),
        (("functionalUnit", "serviceLifeYears"), 10),
    ],
    "ouranos": [
        (("product", "cfp", 1, "ghgEmission"), "step"),  # one step of 0.00001 up
        (("product", "cfp", 2, "ghgEmission"), 20.0),
        (("parts", 0, "cfp", 0, "dqrValue", "TeR"), 1.0),
    ],
}  # fmt: skip


def _get(document, path):
    for step in path:
        document = document[step]
    return document


def _set(document, path, value):
    _get(document, path[:-1])[path[-1]] = value


@pytest.mark.parametrize(
    ("fmt", "path", "value"), [(f, p, v) for f, forged in FORGERIES.items() for p, v in forged]
)
def test_a_forged_figure_fails(labels, tmp_path, fmt, path, value):
    document = copy.deepcopy(labels[1][fmt])
    if value == "step":
        value = float(Decimal(repr(_get(document, path))) + Decimal("0.00001"))
    assert _get(document, path) != value
    _set(document, path, value)
    result = verify_document(tmp_path, document)
    no_traceback(result)
    assert result.exit_code == 1, result.output
    problems = failed(result)
    assert any(str(path[-1]) in detail for detail in problems.values()), problems


@pytest.mark.parametrize(
    ("fmt", "path", "value", "check"),
    [
        ("battery-passport", ("Circularity", "payload", "recycledContent", 0, "recycledMaterial"),
         "Lead", CONTENT),
        # the study URL is a fact the label states (re-written as given): its form is checked
        ("battery-passport", ("CarbonFootprint", "payload", "carbonFootprintStudy"), "not a url",
         STRUCTURE),
        ("eu-battery", ("lifeCycleStages", 1, "stage"), "Use", CONTENT),
        ("ouranos", ("product", "cfp", 0, "cfpType"), "mainComponent", STRUCTURE),
        ("ouranos", ("parts", 1, "traceId"), "d9a38406-cae2-4679-b052-15a75f5531f6", CONTENT),
        ("ouranos", ("product", "cfp", 3, "dqrType"), "preProcessing", STRUCTURE),
    ],
)  # fmt: skip
def test_a_forged_field_fails(labels, tmp_path, fmt, path, value, check):
    document = copy.deepcopy(labels[1][fmt])
    _set(document, path, value)
    result = verify_document(tmp_path, document)
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert check in failed(result)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_changed_spec_fails(labels, tmp_path, fmt):
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    (graphite,) = [c for c in document["components"] if c["id"] == "graphite"]
    graphite["mass"] = "0.9 kg"
    spec = tmp_path / "changed.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = verify_document(tmp_path, labels[1][fmt], spec=spec)
    no_traceback(result)
    assert result.exit_code == 1, result.output
    problems = failed(result)
    assert "hash: spec_sha256" in problems
    assert "figures: label against re-computation" in problems


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_spec_changed_without_changing_a_figure_fails_its_hash(labels, tmp_path, fmt):
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["variants"]["unused"] = {"description": "not labelled"}
    spec = tmp_path / "changed.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = verify_document(tmp_path, labels[1][fmt], spec=spec)
    no_traceback(result)
    assert result.exit_code == 1, result.output
    problems = failed(result)
    assert "hash: spec_sha256" in problems
    # no figure changed (the CFF warnings name the spec's path, so the result may differ)
    assert not {"figures: label against re-computation", CONTENT} & set(problems)


@pytest.mark.parametrize("fmt", FORMATS)
def test_malformed_documents(labels, tmp_path, fmt):
    made = labels[1][fmt]
    # not JSON, or no cfp-engine extension: unusable, exit 2 with one line
    for text in ("{", json.dumps({k: v for k, v in made.items() if k != "extensions"})):
        result = verify_document(tmp_path, text)
        no_traceback(result)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1
    # the format's main part replaced by garbage: a failed check, exit 1, or refused, exit 2
    key = {"battery-passport": "Circularity", "eu-battery": "lifeCycleStages", "ouranos": "parts"}
    for garbage in (None, [], "x", 5, {"payload": []}):
        document = copy.deepcopy(made)
        document[key[fmt]] = garbage
        result = verify_document(tmp_path, document)
        no_traceback(result)
        assert result.exit_code in (1, 2), (garbage, result.output)
        if result.exit_code == 1 and not (fmt == "ouranos" and garbage == []):
            assert STRUCTURE in failed(result), garbage  # (a product without parts is well formed)


def test_official_battery_pass_schema(labels, tmp_path):
    schemas = SHARED_REFERENCE / "batterypass"
    if not (schemas / "io.BatteryPass.CarbonFootprint").is_dir():
        pytest.skip(f"Battery Pass schemas not found at {schemas} (../shared/reference)")
    # Without a performance class (none is defined yet) the record misses a required field.
    result = verify_document(tmp_path, labels[1]["battery-passport"], "--schema-dir", schemas)
    assert result.exit_code == 1
    assert (
        "'carbonFootprintPerformanceClass' is a required property"
        in failed(result)["official schema"]
    )
    # With one in the spec, the label is valid against both schemas and verifies.
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["battery"]["performance_class"] = "B"
    spec = tmp_path / "with-class.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = tmp_path / "passport.json"
    made = run(
        "label", spec, "--format", "battery-passport", "--variant", "eu-2031", "--study-url",
        STUDY, "-o", out, *LABEL_FACTS,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    result = run("verify", out, "--spec", spec, "--schema-dir", schemas, "--format", "json")
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert checks["official schema"] == "pass"
    # The other two formats have no official schema file: skipped, not passed.
    result = verify_document(tmp_path, labels[1]["ouranos"], "--schema-dir", schemas)
    assert result.exit_code == 0
    checks = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert checks["official schema"] == "skipped"


def test_stand_in_facts_only_fill_what_the_spec_lacks():
    from cfp_engine.spec.product import load_spec

    spec = load_spec(EXAMPLE)
    assert set(facts_for(spec)) == {
        "company_name",
        "company_ids",
        "product_ids",
        "reference_period",
    }
    assert content_problems({"a": [1.0, "x"]}, {"a": [1.0000001, "x"]}) == []
    assert content_problems({"a": 1.00001}, {"a": 1.0}, exact=True) == [
        "a: label 1.00001, re-computed 1.0"
    ]
    assert content_problems({"a": None}, {"a": 2.0}) == ["a: label 'None', re-computed '2.0'"]


# -- property: no changed figure passes --------------------------------------------------------


def _figure_paths(document, prefix=()):
    if isinstance(document, dict):
        for key, value in document.items():
            if key != "extensions":
                yield from _figure_paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _figure_paths(value, (*prefix, index))
    elif isinstance(document, (int, float)) and not isinstance(document, bool):
        yield prefix


@pytest.fixture(scope="module")
def recomputations():
    """Disclosures already calculated, by spec and options (shared by a module's tests)."""
    return {}


@pytest.fixture
def fast_verify(labels, recomputations, monkeypatch):
    """``verify_label`` with the re-computation memoised (a mutated label does not change it).

    Keyed by the spec's hash, variant and options; the patch lasts for one test only, so
    the other tests of the module (in any order) calculate as the engine does.
    """
    from cfp_engine.labels import make as labels_module
    from cfp_engine.spec.product import load_spec
    from cfp_engine.verify.recompute import verify_label

    original = labels_module.make_disclosure

    def make_disclosure(spec, **kwargs):
        key = (spec.sha256, spec.variant, repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        if key not in recomputations:
            recomputations[key] = original(spec, **kwargs)
        return recomputations[key]

    monkeypatch.setattr(labels_module, "make_disclosure", make_disclosure)
    return functools.partial(verify_label, spec=load_spec(EXAMPLE))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_changed_figure_fails(labels, fast_verify, tmp_path, fmt):
    made = labels[1][fmt]
    paths = list(_figure_paths(made))
    assert len(paths) > 10
    for path in paths:
        document = copy.deepcopy(made)
        value = _get(document, path)
        _set(document, path, value * 1.001 + (0 if value else 1) if value else 1)
        label = tmp_path / "mutated.json"
        label.write_text(json.dumps(document), encoding="utf-8")
        try:
            report = fast_verify(label)
        except CfpError:
            continue  # refused as unusable (exit 2): not a pass
        assert not report.passed, path


def _leaf_paths(document, prefix=()):
    """Every path of the document outside the extensions, leaves and groups alike."""
    if prefix:
        yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            if key != "extensions":
                yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _leaf_paths(value, (*prefix, index))


_GARBAGE = (None, [], {}, "x", -1, 1e300, True, [None], {"a": 1}, "2.5")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
    derandomize=True,
)
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_one_field_of_garbage_never_passes_nor_crashes(labels, fast_verify, tmp_path, data, fmt):
    document = copy.deepcopy(labels[1][fmt])
    path = data.draw(st.sampled_from(sorted(_leaf_paths(document), key=repr)), label="path")
    value = data.draw(st.sampled_from(_GARBAGE), label="value")
    if _get(document, path) == value and type(_get(document, path)) is type(value):
        return  # not a change
    _set(document, path, value)
    label = tmp_path / f"garbage-{fmt}.json"
    label.write_text(json.dumps(document), encoding="utf-8")
    try:
        report = fast_verify(label)
    except CfpError:
        return  # refused as unusable (exit 2): not a pass
    assert not report.passed, (path, value)
