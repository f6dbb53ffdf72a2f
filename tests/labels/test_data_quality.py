"""Data-quality ratings on each label format's own scale, for built-in, own and mixed data.

PACT v3 and Catena-X 9.0.0 / 10.0.0 rate 1-5, PACT v2.3 1-3 (1 best everywhere, as the
ecoinvent pedigree scores the built-in datasets carry). A rating no data supports is left
out, never written as 0. Expected ratings are worked out here from the pedigree scores
typed in from ``inventories/*.yaml`` and the inputs' shares of the emissions.
"""

from __future__ import annotations

import copy
import json
import shutil
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.labels.data_quality import data_quality, dqr_on_scale

from conftest import EXAMPLES, SHARED_REFERENCE

PET = EXAMPLES / "pet-bottle.yaml"
FORMATS = {  # name -> label options
    "pact": ("--format", "pact"),
    "pact-v2": ("--format", "pact-v2"),
    "catena-x 9.0.0": ("--format", "catena-x", "--catena-x-version", "9.0.0"),
    "catena-x 10.0.0": ("--format", "catena-x", "--catena-x-version", "10.0.0"),
}
SCALES = {"pact": (1, 5), "pact-v2": (1, 3), "catena-x 9.0.0": (1, 5), "catena-x 10.0.0": (1, 5)}
FACTS = (
    "--company-name",
    "X",
    "--company-id",
    "urn:x:c",
    "--product-id",
    "urn:x:p",
    "--product-category-cpc",
    "36490",
    "--reference-period",
    "2025-01-01:2025-12-31",
    "--validity-period",
    "2026-01-01:2026-12-31",
    "--created",
    "2026-02-01T09:00:00Z",
)
# Only hand-made data: the widget from the hand-made inventory, carried by its own lorry.
OWN_SPEC = """\
product: {id: widget, name: Widget, declared_unit: 1 piece}
components: [{id: shell, material: widget, mass: 1 kg}]
stages: {distribution: [{activity: "handmade::hand transport", amount: 100 kg*km}]}
"""
# The same widget made with 1 kWh of the built-in JP grid (about 9 % of the emissions)
# and carried by the built-in lorry (under 1 %, below the 5 % threshold).
MIXED_SPEC = """\
product: {id: widget, name: Widget, declared_unit: 1 piece}
components: [{id: shell, material: widget, mass: 1 kg}]
stages:
  production: [{activity: "electricity, grid, JP", amount: 1 kWh}]
  distribution: [{activity: "transport, lorry", amount: 100 kg*km}]
"""
# Pedigree scores of inventories/*.yaml (reliability, completeness, temporal, geographical,
# technological), typed in by hand.
GRID_JP = {
    "reliability": 2,
    "completeness": 3,
    "temporal": 1,
    "geographical": 1,
    "technological": 1,
}
PLASTICS = {
    "reliability": 2,
    "completeness": 2,
    "temporal": 2,
    "geographical": 3,
    "technological": 2,
}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def dqrs(document, fmt) -> dict | None:
    """The format's DQI block (PACT ``pcf.dqi``; Catena-X's DQRs), None when left out."""
    if fmt.startswith("pact"):
        return document["pcf"].get("dqi")
    quality = document["pcfAssessmentAndMethodology"][0]["dataSourcesAndQuality"][0]
    found = {k: v for k, v in quality.items() if k.endswith("DQR")}
    return found or None


def official_schema_problems(document, fmt) -> list[str]:
    from cfp_engine.verify.structure import check_official_schema

    folder = SHARED_REFERENCE / ("pact" if fmt.startswith("pact") else "catena-x")
    if not folder.is_dir():
        pytest.skip(f"official schemas not present ({folder})")
    return check_official_schema(document, fmt.split()[0], folder)


@pytest.fixture(scope="module")
def labels(builtin_table, handmade, tmp_path_factory) -> dict:
    """Every format of the built-in example, the own-data widget and the mixed widget."""
    folder = tmp_path_factory.mktemp("dqr")
    for path in handmade.values():
        shutil.copy(path, folder / path.name)
    (folder / "own.yaml").write_text(OWN_SPEC, encoding="utf-8")
    (folder / "mixed.yaml").write_text(MIXED_SPEC, encoding="utf-8")
    user_data = (
        "--inventory",
        folder / "handmade.xlsx",
        "--materials",
        folder / "handmade-materials.csv",
    )
    cases = {
        "builtin": (PET, ()),
        "own": (folder / "own.yaml", user_data),
        "mixed": (folder / "mixed.yaml", user_data),
    }
    made = {}
    for case, (spec, extra) in cases.items():
        calc = run("calc", spec, *extra, "--format", "json")
        assert calc.exit_code == 0, calc.output
        made[case, "calc"] = json.loads(calc.stdout)
        for fmt, options in FORMATS.items():
            out = folder / f"{case}-{fmt.replace(' ', '-')}.json"
            result = run("label", spec, *options, *FACTS, *extra, "-o", out)
            assert result.exit_code == 0, result.output
            made[case, fmt] = (out, spec, extra, json.loads(out.read_text(encoding="utf-8")))
    return made


def shares(calc) -> dict[str, float]:
    """Each activity's share of the emissions (absolute values), from the calculation."""
    totals: dict[str, float] = {}
    for item in calc["line_items"]:
        totals[item["activity"]] = totals.get(item["activity"], 0.0) + item["kg_co2e"]
    whole = sum(abs(v) for v in totals.values())
    return {k: abs(v) / whole for k, v in totals.items()}


def verify(label_path, spec, extra, fmt):
    schema = SHARED_REFERENCE / ("pact" if fmt.startswith("pact") else "catena-x")
    options = ("--schema-dir", schema) if schema.is_dir() else ()
    return run("verify", label_path, "--spec", spec, *extra, *options, "--format", "json")


# -- the scale and the weighting, without Brightway ----------------------------------------


def test_pedigree_scores_map_onto_each_scale():
    assert [dqr_on_scale(p, 5) for p in (1, 2, 3, 4, 5)] == [1, 2, 3, 4, 5]
    assert [dqr_on_scale(p, 3) for p in (1, 2, 3, 4, 5)] == [1, 1.5, 2, 2.5, 3]


def _weigh(items, pedigrees):
    result = SimpleNamespace(
        line_items=[SimpleNamespace(activity=a, kg_co2e=v) for a, v in items.items()]
    )
    by_reference = {a: SimpleNamespace(pedigree=pedigrees.get(a, {})) for a in items}
    return data_quality(result, by_reference)


def test_only_rated_inputs_of_five_percent_or_more_weigh_in():
    # 10 kg CO2e in all: a (6, no pedigree), b (3, grid scores), c (0.6, plastics
    # scores), d (-0.4, a credit, plastics scores: 4 % in absolute value, below 5 %).
    dqi, inputs = _weigh(
        {"a": 6.0, "b": 3.0, "c": 0.6, "d": -0.4}, {"b": GRID_JP, "c": PLASTICS, "d": PLASTICS}
    )
    assert [i["activity"] for i in inputs] == ["b", "c"]
    assert dqi["coveragePercent"] == pytest.approx(36.0, abs=1e-12)  # (3 + 0.6) / 10
    # geographical: (3 * 1 + 0.6 * 3) / 3.6 = 4.8 / 3.6
    assert dqi["geographicalDQR"] == pytest.approx(4.8 / 3.6, rel=1e-12)
    assert dqi["completenessDQR"] == pytest.approx((3 * 3 + 0.6 * 2) / 3.6, rel=1e-12)


def test_no_rated_input_means_no_rating_not_zero():
    assert _weigh({"a": 6.0, "b": 4.0}, {}) == ({}, ())
    # rated, but below the threshold: still no rating
    assert _weigh({"a": 6.0, "b": 0.2}, {"b": GRID_JP}) == ({}, ())
    assert _weigh({"a": 0.0}, {"a": GRID_JP}) == ({}, ())


# -- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_builtin_example_rates_on_the_format_scale(labels, fmt):
    _, _, _, document = labels["builtin", fmt]
    share = shares(labels["builtin", "calc"])
    # The inputs of 5 % or more and their (geographical, technological) pedigree scores:
    # PET virgin and recycled, HDPE virgin (3, 2), the JP grid (1, 1) and the incineration
    # of PET with energy recovery (2, 2).
    heavy = {k.split("::")[1]: v for k, v in share.items() if v >= 0.05}
    scores = {
        "PET, virgin": (3, 2),
        "PET, recycled": (3, 2),
        "HDPE, virgin": (3, 2),
        "electricity, grid, JP": (1, 1),
        "incineration with energy recovery, PET": (2, 2),
    }
    assert set(heavy) == set(scores)
    weighed = sum(heavy.values())
    geographical = sum(heavy[k] * g for k, (g, _) in scores.items()) / weighed
    technological = sum(heavy[k] * t for k, (_, t) in scores.items()) / weighed
    assert 2.5 < geographical < 3 and 1.8 < technological < 2  # mostly the plastics
    low, high = SCALES[fmt]
    expected = {
        "geographicalDQR": dqr_on_scale(geographical, high),
        "technologicalDQR": dqr_on_scale(technological, high),
    }
    found = dqrs(document, fmt)
    for name, value in expected.items():
        assert float(found[name]) == pytest.approx(value, abs=0.006)
    assert all(low <= float(v) <= high for k, v in found.items() if k.endswith("DQR"))
    if fmt == "pact-v2":
        assert found["coveragePercent"] == pytest.approx(100 * weighed, abs=0.006)
        assert set(found) == {
            "coveragePercent",
            "technologicalDQR",
            "temporalDQR",
            "geographicalDQR",
            "completenessDQR",
            "reliabilityDQR",
        }
    assert official_schema_problems(document, fmt) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_own_data_without_pedigree_leaves_the_rating_out(labels, fmt):
    path, spec, extra, document = labels["own", fmt]
    assert dqrs(document, fmt) is None
    assert official_schema_problems(document, fmt) == []
    result = verify(path, spec, extra, fmt)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert {c["status"] for c in report["checks"]} <= {"pass", "skipped"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_mixed_data_rates_only_the_inputs_with_pedigree(labels, fmt):
    path, spec, extra, document = labels["mixed", fmt]
    share = shares(labels["mixed", "calc"])
    grid = share["cfp-builtin::electricity, grid, JP::JP"]
    assert 0.05 <= grid < 0.5  # the grid weighs in; the lorry (built-in too) does not
    assert share["cfp-builtin::transport, lorry::GB"] < 0.05
    # One rated input: the ratings are its own pedigree scores, on the format's scale.
    high = SCALES[fmt][1]
    found = dqrs(document, fmt)
    assert float(found["geographicalDQR"]) == 1.0
    assert float(found["technologicalDQR"]) == 1.0
    assert float(found["temporalDQR"]) == 1.0
    if fmt == "pact-v2":
        assert found["completenessDQR"] == dqr_on_scale(3, high) == 2.0
        assert found["reliabilityDQR"] == dqr_on_scale(2, high) == 1.5
        assert found["coveragePercent"] == pytest.approx(100 * grid, abs=0.006)
    assert official_schema_problems(document, fmt) == []
    result = verify(path, spec, extra, fmt)
    assert result.exit_code == 0, result.output


def _with_pact_dqr(document, fmt, value):
    changed = copy.deepcopy(document)
    dqi = changed["pcf"].setdefault(
        "dqi", {"technologicalDQR": "1", "geographicalDQR": "1", "temporalDQR": "1"}
    )
    dqi["technologicalDQR"] = value if fmt == "pact" else float(value)
    return changed


@pytest.mark.parametrize(
    ("fmt", "value", "rule"),
    [("pact", "0", "1-5"), ("pact", "6", "1-5"), ("pact-v2", "4", "1-3")],
)
def test_verify_rejects_a_rating_off_the_format_scale(labels, tmp_path, fmt, value, rule):
    path, spec, extra, document = labels["builtin", fmt]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_with_pact_dqr(document, fmt, value)), encoding="utf-8")
    result = run("verify", bad, "--spec", spec, "--format", "json")
    assert result.exit_code == 1, result.output
    failed = {
        c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"
    }
    assert f"rule: DQRs within {rule}" in failed
    assert f"technologicalDQR = {value}" in failed[f"rule: DQRs within {rule}"]
    assert "structure: required fields and ranges" in failed


def test_verify_rejects_a_rating_the_data_does_not_support(labels, tmp_path):
    path, spec, extra, document = labels["own", "pact"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_with_pact_dqr(document, "pact", "2")), encoding="utf-8")
    result = run("verify", bad, "--spec", spec, *extra, "--format", "json")
    assert result.exit_code == 1, result.output
    failed = {
        c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL"
    }
    assert (
        "no input of the re-computation has pedigree scores"
        in failed["figures: label against re-computation"]
    )


def test_catenax_check_rejects_a_rating_off_its_scale(labels):
    from cfp_engine.verify.catenax import check_catenax

    _, _, _, document = labels["builtin", "catena-x 9.0.0"]
    changed = copy.deepcopy(document)
    changed["pcfAssessmentAndMethodology"][0]["dataSourcesAndQuality"][0]["temporalDQR"] = 0.0
    assert any("temporalDQR" in p for p in check_catenax(changed, "9.0.0"))


def test_readable_label_says_when_nothing_is_rated(labels, tmp_path):
    _, spec, extra, _ = labels["own", "pact"]
    out = tmp_path / "label.md"
    result = run("label", spec, "--format", "md", *FACTS, *extra, "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "not rated: no input of 5 % or more of the emissions has pedigree scores" in text
    assert "DQR coverage" not in text
