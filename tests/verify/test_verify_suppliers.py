"""``cfp verify`` re-checks the supplier footprints a label used against the stored copies.

A label of a 23 g resin part is made in a copy of the session's supplier home; it
verifies, then fails once the stored payload is changed or removed, naming the footprint.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.store.imports.pact_payloads import payload_path, payload_sha256
from cfp_engine.verify.suppliers import online_check, supplier_checks

import make_pact as mp
from conftest import copy_home

SPEC = f"""product:
  id: resin-part
  name: resin part
  declared_unit: 1 piece
components:
  - id: body
    virgin: "SUP::{mp.RESIN_GTIN}"
    mass: 23 g
label:
  company_name: Bottle Co
  company_ids: ["urn:company:bottle"]
  product_ids: ["urn:gtin:1111111111111"]
  reference_period: {{start: "2025-01-01", end: "2025-12-31"}}
"""


@pytest.fixture
def labelled(supplier_home, tmp_path, monkeypatch):
    """(spec, label) made in a private copy of the supplier home, made current."""
    home = copy_home(supplier_home[0], tmp_path / "home")
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    spec = tmp_path / "part.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    label = tmp_path / "part.pact.json"
    made = CliRunner().invoke(cli, ["label", str(spec), "-o", str(label)])
    assert made.exit_code == 0, made.output
    return spec, label


def verify(spec, label):
    return CliRunner().invoke(cli, ["verify", str(label), "--spec", str(spec)])


def test_a_label_with_a_supplier_footprint_verifies(labelled):
    spec, label = labelled
    result = verify(spec, label)
    assert result.exit_code == 0, result.output
    assert f"pass] supplier footprint {mp.RESIN_ID}" in result.output


def test_a_tampered_stored_footprint_fails_naming_it(labelled):
    spec, label = labelled
    stored = payload_path(payload_sha256(mp.resin()))
    text = stored.read_text(encoding="utf-8")
    assert '"fossilGhgEmissions":"1.8"' in text
    stored.write_text(text.replace('"fossilGhgEmissions":"1.8"', '"fossilGhgEmissions":"1.7"'))
    result = verify(spec, label)
    assert result.exit_code == 1
    assert f"FAIL] supplier footprint {mp.RESIN_ID}" in result.output
    assert "the stored copy changed since it was imported" in result.output


def test_a_missing_stored_footprint_fails_naming_it(labelled):
    spec, label = labelled
    payload_path(payload_sha256(mp.resin())).unlink()
    result = verify(spec, label)
    assert result.exit_code == 1
    assert f"FAIL] supplier footprint {mp.RESIN_ID}" in result.output
    assert "no stored copy" in result.output


def test_figures_that_differ_from_the_stored_copy_fail(labelled):
    _, label = labelled
    result = json.loads(label.read_text())["extensions"][0]["data"]["result"]
    record = result["provenance"]["supplier_footprints"][0]
    record["figures_per_unit"]["fossil"] = 1.7
    (check,) = supplier_checks(result)
    assert check.passed is False and "fossil: used 1.7, stored 1.8" in check.detail
    record["figures_per_unit"]["fossil"] = 1.8
    assert supplier_checks(result)[0].passed is True


def test_the_online_check_skips_a_footprint_imported_from_a_file():
    check = online_check({"id": mp.RESIN_ID, "activity": "SUP::x", "source": "file:s.json"})
    assert check.passed is None and "imported from file:s.json: no host to ask" in check.detail
    assert supplier_checks({"provenance": {}}) == []


def test_the_online_check_fails_without_a_pull_of_that_host(in_supplier_home):
    record = {"id": mp.RESIN_ID, "database": "SUP", "source": "https://127.0.0.1:9"}
    check = online_check(record)
    assert check.passed is False
    assert "this store has no pull of SUP from it" in check.detail
