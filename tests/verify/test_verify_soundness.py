"""Issue 13: ``cfp verify`` is sound, and ``cfp label`` writes nothing it would reject.

Forged and broken labels (absurd and non-finite figures, labels that are no JSON object,
garbage dates, validity periods against PACT's rules) must fail a check or exit 2, never
pass and never end in a traceback; a property test mutates one field of valid labels of
every format and shows verify never passes the result.
"""

import copy
import functools
import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfp_engine.cli import cli
from cfp_engine.errors import VerificationError
from cfp_engine.labels.rules import (
    add_years,
    exempted_problems,
    finite_decimal,
    urn_problems,
    validity_problems,
)
from cfp_engine.verify.checks import figure_problem

SPEC = """
product: {id: bottle, name: "PET bottle, 500 mL", declared_unit: 1 piece, geography: JP}
components:
  - {id: body, material: PET, mass: 23 g, recycled_content: 30 %,
     end_of_life: {recycling: 85 %, energy_recovery: 10 %}}
  - {id: cap, material: HDPE, mass: 2.5 g}
stages:
  production: [{activity: "electricity, grid, JP", amount: 0.015 kWh}]
  distribution: [{activity: "transport, lorry", amount: 7.7 kg*km}]
label:
  company_name: Example Beverages K.K.
  company_ids: ["urn:example:company:example-beverages"]
  product_ids: ["urn:gtin:4901234567894"]
  product_category_cpc: "36490"
  reference_period: {start: "2025-01-01", end: "2025-12-31"}
  validity_period: {start: "2026-01-01", end: "2028-12-31"}
"""
FORMATS = ("pact", "pact-v2", "catena-x")
CREATED = "2026-11-29T00:00:00Z"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def no_traceback(result):
    """The command ended through click (exit 0/1/2), not an uncaught exception."""
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.fixture(scope="module")
def labels(tmp_path_factory, builtin_table):
    """A valid label of each format, written by ``cfp label``, and its spec."""
    folder = tmp_path_factory.mktemp("labels")
    spec = folder / "bottle.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    made = {}
    for fmt in FORMATS:
        out = folder / f"{fmt}.json"
        result = run("label", spec, "--format", fmt, "-o", out, "--created", CREATED)
        assert result.exit_code == 0, result.output
        made[fmt] = json.loads(out.read_text(encoding="utf-8"))
    return spec, made


def verify_document(tmp_path, spec, document, name="forged.json"):
    path = tmp_path / name
    path.write_text(
        document if isinstance(document, str) else json.dumps(document), encoding="utf-8"
    )
    return run("verify", path, "--spec", spec, "--format", "json")


# -- the shared rules ------------------------------------------------------------------------


def test_three_calendar_years_across_a_leap_year():
    assert add_years(date(2025, 12, 31), 3) == date(2028, 12, 31)
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert add_years(date(9998, 1, 1), 3) == date.max
    end = date(2025, 12, 31)
    assert validity_problems(end, date(2026, 1, 1), date(2028, 12, 31)) == []
    assert validity_problems(end, end, date(2028, 12, 31)) == []  # "at or after"
    (late,) = validity_problems(end, date(2026, 1, 1), date(2029, 1, 1))
    assert "at most 2028-12-31" in late
    (early,) = validity_problems(end, date(2025, 6, 1), date(2026, 6, 1))
    assert "before the reference period ends" in early
    (backwards,) = validity_problems(end, date(2027, 1, 1), date(2026, 6, 1))
    assert "before it starts" in backwards
    (no_start,) = validity_problems(end, None, date(2025, 6, 1))
    assert "before the reference period ends" in no_start
    assert validity_problems(end, None, date(2028, 12, 31)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.116106", Decimal("0.116106")),
        (0.5, Decimal("0.5")),
        ("0", Decimal(0)),
        ("1e400", None),
        ("1" + "0" * 400, None),
        ("-1e400", None),
        ("1e999999999", None),
        ("1e-999999999", None),
        ("NaN", None),
        ("Infinity", None),
        (float("inf"), None),
        (True, None),
        (None, None),
        ([], None),
        ("1,5", None),
    ],
)
def test_finite_decimal(value, expected):
    assert finite_decimal(value) == expected


def test_figure_problem_is_exact():
    # the rounding of both: half a unit in the 6th digit each, exactly 1e-6 here
    assert figure_problem("0.116107", "0.116106") is None
    assert figure_problem("0.116108", "0.116106") == "differs"
    assert figure_problem("1234570", 1234567.89) is None
    assert figure_problem("1234580", 1234567.89) == "differs"
    for forged in ("1e400", "1" + "0" * 400, "-1e400", "1e999999999", "NaN", "-Infinity"):
        assert figure_problem(forged, 0.1161064) is not None, forged


def test_ids_and_exemptions():
    assert urn_problems("companyIds", ["urn:x:c"]) == []
    for bad in (["https://x.example"], [], "urn:x:c", None, ["urn:"], [5]):
        assert urn_problems("companyIds", bad), bad
    assert exempted_problems("5", "pact-v2") == []
    assert exempted_problems("5.01", "pact-v2")
    assert exempted_problems(3, "catena-x") == [] and exempted_problems(3.5, "catena-x")
    assert exempted_problems("-1") and exempted_problems("1e400") and exempted_problems([])


# -- cfp verify on forged and broken labels --------------------------------------------------


def test_a_label_with_three_years_of_validity_across_a_leap_year_verifies(labels):
    spec, made = labels
    for fmt in FORMATS:
        assert made[fmt]  # written with 2026-01-01:2028-12-31, which must verify
    result = run("verify", spec.with_name("pact.json"), "--spec", spec, "--format", "json")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "forged",
    ["1e400", "1" + "0" * 400, "-1" + "0" * 400, "-1e400", "1e999999999", "NaN", "0,116"],
)
@pytest.mark.parametrize("fmt", ["pact", "pact-v2"])
def test_absurd_headline_figures_fail(labels, tmp_path, fmt, forged):
    spec, made = labels
    document = copy.deepcopy(made[fmt])
    key = "pcfExcludingBiogenicUptake" if fmt == "pact" else "pCfExcludingBiogenic"
    document["pcf"][key] = forged
    result = verify_document(tmp_path, spec, document)
    no_traceback(result)
    assert result.exit_code == 1
    failed = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"]
    assert any(key in c["detail"] for c in failed), failed


def test_failed_checks_leave_through_verification_error(labels, tmp_path):
    """A failed check is a VerificationError (exit code 1) after the report: one Error line."""
    spec, made = labels
    document = copy.deepcopy(made["pact"])
    document["pcf"]["pcfExcludingBiogenicUptake"] = "7"
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("verify", path, "--spec", spec)
    assert result.exit_code == VerificationError.exit_code == 1
    assert result.stdout.splitlines()[-1] == "RESULT: FAILED"
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: '{path}': 1 of ") and "checks failed (" in line
    assert "the report is on standard output" in line
    # With --debug the error is not turned into an exit code: it is the VerificationError.
    debug = run("--debug", "verify", path, "--spec", spec)
    assert isinstance(debug.exception, VerificationError)
    assert debug.stdout.splitlines()[-1] == "RESULT: FAILED"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1e999999999", "NaN", "Infinity"])
def test_a_non_finite_json_number_exits_2(labels, tmp_path, number):
    spec, made = labels
    text = json.dumps(made["catena-x"]).replace(
        '"partialFullPcf"', f'"x": {number}, "partialFullPcf"'
    )
    result = verify_document(tmp_path, spec, text)
    no_traceback(result)
    assert result.exit_code == 2
    assert "not a usable label" in result.stderr or "malformed JSON" in result.stderr


@pytest.mark.parametrize("text", ["[]", "null", '"label"', "3", "[" * 100000 + "]" * 100000])
def test_a_label_that_is_not_an_object_exits_2(labels, tmp_path, text):
    result = verify_document(tmp_path, labels[0], text)
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error:") and "forged.json" in result.stderr


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("pcf", "referencePeriodEnd", "garbage"),
        ("pcf", "referencePeriodEnd", ["2025-12-31"]),
        ("", "validityPeriodEnd", "2025-13-45T00:00:00Z"),
        ("", "validityPeriodEnd", 20281231),
        ("", "validityPeriodEnd", "2029-01-01T00:00:00Z"),  # 3 years and a day
        ("", "validityPeriodStart", "2025-06-01T00:00:00Z"),  # inside the reference period
        ("", "validityPeriodEnd", "2025-12-31T00:00:00Z"),  # before its start
        ("", "companyIds", ["example-beverages"]),
        ("", "companyIds", "urn:x:c"),
        ("", "extensions", {"engine": "cfp-engine"}),
        ("pcf", "exemptedEmissionsPercent", "1e999999999"),
        ("pcf", "dqi", []),
    ],
)
def test_broken_facts_and_rules_never_pass(labels, tmp_path, where, key, value):
    spec, made = labels
    for fmt in ("pact", "pact-v2"):
        document = copy.deepcopy(made[fmt])
        (document[where] if where else document)[key] = value
        result = verify_document(tmp_path, spec, document)
        no_traceback(result)
        assert result.exit_code in (1, 2), (fmt, key, value, result.output)


@pytest.mark.parametrize(
    "mc",
    [
        {"n": "x", "seed": 1},
        {"n": 10**12, "seed": 1},
        {"n": 100, "seed": -1},
        {"n": True, "seed": 1},
        "forged",
    ],
)
def test_a_forged_monte_carlo_statement_fails_without_a_rerun(labels, tmp_path, mc):
    spec, made = labels
    document = copy.deepcopy(made["pact"])
    document["extensions"][0]["data"]["result"]["mc"] = mc
    result = verify_document(tmp_path, spec, document)
    no_traceback(result)
    assert result.exit_code == 1
    failed = {c["name"] for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"}
    assert "uncertainty: Monte Carlo re-run with the recorded seed" in failed


# -- cfp label refuses what verify would reject ----------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--company-id", "example-beverages"), "URN"),
        (("--product-id", "https://example.com/p"), "URN"),
        (("--validity-period", "2026-01-01:2035-12-31"), "more than 3 years"),
        (("--validity-period", "2025-06-01:2026-06-01"), "before the reference period ends"),
        (("--validity-period", "2026-01-01:2029-01-01"), "at most 2028-12-31"),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_label_refuses_what_verify_rejects(labels, tmp_path, fmt, options, message):
    spec, _ = labels
    out = tmp_path / "refused.json"
    result = run("label", spec, "--format", fmt, "-o", out, "--created", CREATED, *options)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stdout == ""
    assert not out.exists()


def test_a_label_verifies_against_a_copy_of_its_spec_elsewhere(tmp_path, builtin_table):
    """A verifier keeps the spec where they like: the label names no path of the maker's.

    Under the CFF the result warns of PEF defaults, naming the spec's components; the
    label carries those warnings as ``spec: components[0]: ...``.
    """
    maker, verifier = tmp_path / "maker" / "private", tmp_path / "verifier"
    maker.mkdir(parents=True)
    verifier.mkdir()
    (maker / "bottle.yaml").write_text(SPEC, encoding="utf-8")
    (verifier / "received.yaml").write_text(SPEC, encoding="utf-8")
    out = tmp_path / "label.json"
    made = run("label", maker / "bottle.yaml", "--approach", "cff", "-o", out, "--created", CREATED)
    assert made.exit_code == 0, made.output
    text = out.read_text(encoding="utf-8")
    assert str(maker) not in text and "bottle.yaml" not in text
    warnings = json.loads(text)["extensions"][0]["data"]["result"]["warnings"]
    assert warnings and all(w.startswith("spec: components[") for w in warnings)
    checked = run("verify", out, "--spec", verifier / "received.yaml")
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize(("fmt", "percent"), [("pact-v2", 6), ("catena-x", 4)])
def test_label_refuses_exemptions_beyond_the_format_rule(tmp_path, builtin_table, fmt, percent):
    spec = tmp_path / "exempt.yaml"
    spec.write_text(
        SPEC + f"  exempted_emissions: {{percent: {percent}, description: cut-off}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "refused.json"
    result = run("label", spec, "--format", fmt, "-o", out, "--created", CREATED)
    assert result.exit_code == 2, result.output
    assert "exempted emissions" in result.stderr and not out.exists()


# -- property: one mutated field never passes ------------------------------------------------

_FORGED_NUMBERS = ("1e400", "-1e400", "1" + "0" * 400, "1e999999999", "NaN", None, [], "x")


def _figure_paths(document, prefix=()):
    """Paths to every figure ``cfp verify`` re-computes (outside extensions)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key != "extensions":
                yield from _figure_paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _figure_paths(value, (*prefix, index))
    elif isinstance(document, (int, float)) and not isinstance(document, bool):
        yield prefix
    elif isinstance(document, str) and prefix and prefix[0] in ("pcf",):
        try:
            Decimal(document)
        except ArithmeticError:
            return
        yield prefix


def _set(document, path, value):
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _get(document, path):
    for step in path:
        document = document[step]
    return document


def _changed(value, factor):
    """``value`` (a number or a decimal string) changed far beyond its rounding."""
    number = Decimal(str(value))
    new = number * factor if number else Decimal(1)
    if isinstance(value, str):
        return format(new, "f")
    if isinstance(value, float):
        return float(new)
    return int(new) if int(new) != number else int(number) + 1


_RULE_MUTATIONS = {
    "pact": [
        (("validityPeriodEnd",), "2029-01-01T00:00:00Z"),
        (("validityPeriodStart",), "2025-12-01T00:00:00Z"),
        (("companyIds",), ["example-beverages"]),
        (("pcf", "ipccCharacterizationFactors"), ["AR5"]),
        (("pcf", "referencePeriodEnd"), "2025-12-31"),
    ],
    "pact-v2": [
        (("validityPeriodEnd",), "2030-01-01T00:00:00Z"),
        (("productIds",), []),
        (("pcf", "ipccCharacterizationFactorsSources"), ["AR5"]),
        (("pcf", "exemptedEmissionsPercent"), 5.5),
    ],
    "catena-x": [
        (
            (
                "pcfAssessmentAndMethodology",
                0,
                "pcfAssessmentInformation",
                0,
                "time",
                0,
                "validityPeriodEnd",
            ),
            "2029-01-01T00:00:00Z",
        ),
        (
            (
                "pcfAssessmentAndMethodology",
                0,
                "pcfAssessmentInformation",
                0,
                "boundarySpecifications",
                0,
                "exemptedEmissionsPercent",
            ),
            3.5,
        ),
        (("companyAndProductInformation", 0, "companyInformation", 0, "companyIds"), ["x"]),
    ],
}


@pytest.fixture(scope="module")
def recomputations():
    """Disclosures already calculated, by spec and options (shared by a module's tests)."""
    return {}


@pytest.fixture
def fast_verify(labels, recomputations, monkeypatch):
    """``verify_label`` with the re-computation memoised by what it depends on.

    A mutation of a figure or a rule does not change the re-computation (it depends on the
    spec and the label's facts only), so each distinct spec and set of facts is calculated
    once. The patch lasts for one test only: other tests of this module (in any order)
    calculate as the engine does.
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
    return functools.partial(verify_label, spec=load_spec(labels[0]))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
    derandomize=True,  # the same 150 cases on every run
)
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_one_mutated_field_never_passes(labels, fast_verify, tmp_path, data, fmt):
    from cfp_engine.errors import CfpError

    document = copy.deepcopy(labels[1][fmt])
    figures = sorted(_figure_paths(document), key=repr)
    # and the cfp-engine extension's own result and figures (checked against the re-computation)
    for index, extension in enumerate(document["extensions"]):
        for part in ("result", "figures"):
            figures += [
                ("extensions", index, "data", part, *path)
                for path in _figure_paths(extension["data"][part])
                # provenance is metadata (dataset years, versions), not a figure; mc has
                # its own re-run check
                if path[:1] not in (("mc",), ("provenance",))
            ]
    if data.draw(st.booleans(), label="figure or rule"):
        path = data.draw(st.sampled_from(figures), label="figure")
        value = data.draw(
            st.one_of(
                st.sampled_from([Decimal("1.001"), Decimal("0.99"), Decimal(-1), Decimal(10)]).map(
                    lambda factor: _changed(_get(document, path), factor)
                ),
                st.sampled_from(_FORGED_NUMBERS),
            ),
            label="value",
        )
    else:
        path, value = data.draw(st.sampled_from(_RULE_MUTATIONS[fmt]), label="rule")
    assert value != _get(document, path)  # a real mutation, never a no-op
    _set(document, path, value)
    label = tmp_path / f"mutated-{fmt}.json"
    label.write_text(json.dumps(document), encoding="utf-8")
    try:
        report = fast_verify(label)
    except CfpError:
        return  # refused as unusable (exit 2): not a pass
    assert not report.passed, (path, value, [c for c in report.checks if c.passed is False])
