"""Supplier PACT footprints imported as a database: validation, figures, references, re-import.

The session's ``supplier_home`` (tests/conftest.py) holds the six footprints of
``make_pact`` imported as ``SUP``; tests that change the store copy it first.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.store.imports.pact_footprints import (
    footprint_problems,
    read_footprint,
    read_footprint_file,
)
from cfp_engine.store.imports.pact_payloads import payload_path, payload_sha256

import make_pact as mp
from conftest import SHARED_REFERENCE, copy_home

PACT = SHARED_REFERENCE / "pact"
REL = 1e-6  # Brightway keeps exchange amounts as float32


# -- reading, without the store ---------------------------------------------------------------


def test_resin_figures_per_unit_are_the_footprints():
    fp = read_footprint(mp.resin())
    assert fp.figures() == {"total": 2.0, "fossil": 1.8, "land_use_change": 0.2, "biogenic": 0.0}
    assert (fp.unit, fp.mass_per_unit_kg, fp.primary_data_share) == ("kilogram", 1.0, 50.0)
    assert fp.notes == ()


def test_v2_figures_are_divided_by_the_declared_amount_and_dqrs_put_on_the_pedigree_scale():
    fp = read_footprint(mp.liquid())
    assert fp.unit == "liter"
    assert fp.total_kg_co2e == pytest.approx(1.0, rel=1e-12)  # 2.0 per 2 liter
    assert fp.ghg_kg_co2e["fossil"] == pytest.approx(0.73, rel=1e-12)
    assert fp.ghg_kg_co2e["biogenic"] == pytest.approx(0.27, rel=1e-12)
    assert fp.mass_per_unit_kg == pytest.approx(0.9, rel=1e-12)  # 1.8 kg per 2 liter
    # v2 rates 1-3: 2 is the middle, 3 on the pedigree scale 1-5
    assert fp.pedigree == {k: 3.0 for k in fp.pedigree} and len(fp.pedigree) == 5


def test_v3_unrated_completeness_and_reliability_count_as_the_worst():
    assert read_footprint(mp.resin()).pedigree == {
        "technological": 2.0,
        "temporal": 1.0,
        "geographical": 2.0,
        "completeness": 5,
        "reliability": 5,
    }
    assert read_footprint(mp.part()).pedigree == {}  # no dqi: no rating


@pytest.mark.skipif(not PACT.is_dir(), reason="../shared/reference/pact is absent")
def test_pact_example_4_uptake_is_noted_and_the_rest_of_the_total_counted_as_fossil():
    """example-4: 0.42 total; itemised 0.17 fossil + 0.05 land-management fossil + 0.2 LUC +
    0.001 biogenic = 0.421; the -0.001 goes to fossil; uptake -0.37 is not represented."""
    fp = read_footprint(json.loads((PACT / "v3/examples/example-4.json").read_text()))
    assert fp.total_kg_co2e == pytest.approx(0.42, rel=1e-12)
    assert fp.ghg_kg_co2e["fossil"] == pytest.approx(0.17 + 0.05 - 0.001, rel=1e-9)
    assert fp.ghg_kg_co2e["land_use_change"] == pytest.approx(0.2, rel=1e-12)
    assert fp.ghg_kg_co2e["biogenic"] == pytest.approx(0.001, rel=1e-12)
    assert any("biogenicCO2Uptake -0.37" in n for n in fp.notes)
    assert any("difference -0.001" in n for n in fp.notes)
    assert fp.location == "Latin America and the Caribbean"


@pytest.mark.skipif(not PACT.is_dir(), reason="../shared/reference/pact is absent")
@pytest.mark.parametrize(
    "name",
    [
        "v3/examples/example-1.json",
        "v3/examples/example-2.json",
        "v3/examples/example-3.json",
        "v3/examples/example-4.json",
        "v3/examples/list-footprints-response.json",
        "v2/examples/get-footprint-response.json",
        "v2/examples/list-footprints-response.json",
    ],
)
def test_the_official_examples_pass_the_engines_and_the_official_schema(name):
    for footprint in read_footprint_file(PACT / name):
        assert footprint_problems(footprint) == []
        assert footprint_problems(footprint, schema_dir=PACT) == []


@pytest.mark.skipif(not PACT.is_dir(), reason="../shared/reference/pact is absent")
def test_the_official_invalid_v2_example_is_rejected_by_both_schemas():
    (footprint,) = read_footprint_file(PACT / "v2/examples/invalid-response-all-properties.json")
    assert any("updated" in p for p in footprint_problems(footprint))
    official = footprint_problems({**footprint, "updated": "2023-01-08T14:47:32Z"})
    assert official == []  # the date is the only fault the engine's schema sees


def test_problems_name_the_field():
    problems = footprint_problems(mp.invalid())
    assert any("pcfExcludingBiogenicUptake" in p for p in problems)
    assert any(p.startswith("pcf/fossilGhgEmissions") for p in problems)
    assert footprint_problems({"specVersion": "1.0.0"}) == [
        "specVersion '1.0.0': expected 2.x.y or 3.0.y"
    ]


def test_the_hash_is_of_the_canonical_payload_whatever_the_key_order():
    footprint = mp.resin()
    reordered = dict(reversed(list(footprint.items())))
    assert payload_sha256(footprint) == payload_sha256(reordered)
    changed = mp.resin(fossil="1.7", luc="0.3")
    assert payload_sha256(changed) != payload_sha256(footprint)


# -- the import ----------------------------------------------------------------------------------


def test_the_report_lists_imported_and_rejected_footprints(in_supplier_home):
    report = in_supplier_home
    assert sorted(i["id"] for i in report.imported) == sorted(
        [mp.RESIN_ID, mp.LIQUID_ID, mp.PART_ID, mp.POWER_ID]
    )
    rejected = {r["id"]: r for r in report.rejected}
    assert set(rejected) == {mp.INVALID_ID, mp.DEPRECATED_ID}
    assert rejected[mp.INVALID_ID]["position"] == 5
    assert any("pcfExcludingBiogenicUptake" in r for r in rejected[mp.INVALID_ID]["reasons"])
    assert "Deprecated" in rejected[mp.DEPRECATED_ID]["reasons"][0]
    text = report.render()
    assert "4 imported, 2 rejected" in text
    # the unknown extension is named with its fields, and kept in the stored payload
    assert "some-extension/1.0.0/data-model.json: recycledContentShare" in text


def test_the_registry_keeps_each_footprints_provenance_and_payload(in_supplier_home):
    from cfp_engine.store.registry import read_registry

    record = read_registry()["databases"]["SUP"]
    assert record["format"] == "pact" and record["activities"] == 4
    resin = record["footprints"][mp.RESIN_ID]
    assert resin["sha256"] == payload_sha256(mp.resin())
    assert resin["source"] == "file:suppliers.json"
    assert (resin["specVersion"], resin["status"]) == ("3.0.0", "Active")
    assert payload_path(resin["sha256"]).is_file()
    assert not any(f == mp.INVALID_ID for f in record["footprints"])
    liquid = json.loads(payload_path(record["footprints"][mp.LIQUID_ID]["sha256"]).read_text())
    assert liquid["extensions"][0]["data"] == {"recycledContentShare": "0.3"}


@pytest.mark.parametrize(
    "reference", [f"SUP::{mp.RESIN_GTIN}", f"SUP::{mp.RESIN_ID}", "SUP::PET resin (supplier)"]
)
def test_a_footprint_is_referenced_by_product_id_footprint_id_or_name(in_supplier_home, reference):
    from cfp_engine.store.access import open_store

    table = open_store()
    info = table.find(reference)
    assert info.code == mp.RESIN_ID
    scores = table.vector("IPCC 2021 GWP100")[:, info.index]
    # total, fossil, biogenic, land use change per kg
    assert scores == pytest.approx([2.0, 1.8, 0.0, 0.2], rel=REL)


def test_biogenic_non_co2_comes_back_exactly_under_the_footprints_ar6(in_supplier_home):
    from cfp_engine.store.access import open_store

    table = open_store()
    info = table.find(f"SUP::{mp.LIQUID_GTIN}")
    assert info.unit == "liter" and info.mass_per_unit_kg == pytest.approx(0.9, rel=1e-12)
    scores = table.vector("IPCC 2021 GWP100")[:, info.index]
    assert scores == pytest.approx([1.0, 0.73, 0.27, 0.0], rel=REL)
    # IPCC 2013 counts the same 0.01 kg non-fossil methane at its own factor
    ar5 = table.vector("IPCC 2013 GWP100")[:, info.index]
    assert ar5[1] == pytest.approx(0.73, rel=REL) and ar5[2] != pytest.approx(0.27, rel=1e-3)


def test_no_valid_footprint_imports_nothing_and_exits_2(fresh_home, tmp_path):
    from cfp_engine.store.registry import read_registry

    source = tmp_path / "bad.json"
    source.write_text(json.dumps([mp.invalid(), mp.deprecated()]), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["data", "import", str(source), "--format", "pact", "--name", "BAD"]
    )
    assert result.exit_code == 2
    assert "no valid footprint, nothing imported" in result.output
    assert "Traceback" not in result.output
    assert read_registry()["databases"] == {}


def test_options_of_other_formats_are_refused(fresh_home, tmp_path):
    from cfp_engine.store.imports import import_database

    source = mp.write_supplier_file(tmp_path / "s.json")
    with pytest.raises(SpecError, match="allocation do not apply to PACT"):
        import_database(source, format="pact", name="S", allocation="price")


def test_reimport_replaces_the_database_and_keeps_the_earlier_payloads(
    supplier_home, tmp_path, monkeypatch
):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import read_registry

    home = copy_home(supplier_home[0], tmp_path / "home")
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    newer_id = "3fa85f64-5717-4562-b3fc-2c963f66afa7"
    source = tmp_path / "newer.json"
    source.write_text(json.dumps(mp.resin("2.2", "2.0", fid=newer_id)), encoding="utf-8")
    report = import_database(source, format="pact", name="SUP")
    assert report.replaced == sorted([mp.RESIN_ID, mp.LIQUID_ID, mp.PART_ID, mp.POWER_ID])
    assert (
        f"{mp.RESIN_GTIN}: footprint {mp.RESIN_ID} -> {newer_id}, 2 -> 2.2 kg CO2e per kilogram"
        in report.changes
    )
    assert f"{mp.PART_GTIN}: no longer supplied (footprint {mp.PART_ID})" in report.changes
    record = read_registry()["databases"]["SUP"]
    assert list(record["footprints"]) == [newer_id]
    earlier = {r["id"]: r for r in record["earlier"]}
    assert set(earlier) == {mp.RESIN_ID, mp.LIQUID_ID, mp.PART_ID, mp.POWER_ID}
    assert payload_path(earlier[mp.RESIN_ID]["sha256"]).is_file()
    info = open_store().find(f"SUP::{mp.RESIN_GTIN}")
    assert info.code == newer_id
    assert open_store().vector("IPCC 2021 GWP100")[0, info.index] == pytest.approx(2.2, rel=REL)


def test_a_database_of_another_format_is_not_replaced(supplier_home, tmp_path, monkeypatch):
    from cfp_engine.store.imports.pact_import import import_footprints
    from cfp_engine.store.registry import read_registry

    home = copy_home(supplier_home[0], tmp_path / "home")
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    registry = read_registry()
    registry["databases"]["SUP"]["format"] = "excel"
    (home / "imports" / "registry.json").write_text(json.dumps(registry), encoding="utf-8")
    source = mp.write_supplier_file(tmp_path / "s.json")
    with pytest.raises(SpecError, match="already imported \\(format excel\\)"):
        import_footprints(source, name="SUP")


def test_the_engines_own_labels_import_as_supplier_footprints(fresh_home, tmp_path):
    """A resin maker labels 'PET resin' per kg with cfp (v3 and v2.3); its customer imports
    both labels and gets the label's figures back per kg."""
    from cfp_engine.labels.make import make_disclosure
    from cfp_engine.labels.pact import to_pact_v2, to_pact_v3
    from cfp_engine.spec.product import spec_from_dict
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    resin_spec = spec_from_dict(
        {
            "product": {"id": "pet-resin", "name": "PET resin", "declared_unit": "1 kg"},
            "components": [{"id": "resin", "material": "PET", "mass": "1 kg"}],
            "label": {
                "company_name": "Resin Co",
                "company_ids": ["urn:company:resin"],
                "product_ids": ["urn:gtin:4901234567894"],
                "product_category_cpc": "34720",
                "reference_period": {"start": "2025-01-01", "end": "2025-12-31"},
            },
        }
    )
    disclosure = make_disclosure(resin_spec)
    labels = [to_pact_v3(disclosure), to_pact_v2(disclosure)]
    labels[1]["id"] = "00000000-0000-4000-8000-000000000002"  # two footprints, two ids
    source = tmp_path / "resin-labels.json"
    source.write_text(json.dumps(labels), encoding="utf-8")
    report = import_database(source, format="pact", name="RESINCO")
    assert len(report.imported) == 2 and report.rejected == []
    table = open_store()
    for label in labels:
        info = table.find(f"RESINCO::{label['id']}")
        total = float(
            label["pcf"].get("pcfExcludingBiogenicUptake") or label["pcf"]["pCfExcludingBiogenic"]
        )
        assert table.vector("IPCC 2021 GWP100")[0, info.index] == pytest.approx(total, rel=REL)
        # the label rounds to 6 significant digits
        assert total == pytest.approx(disclosure.total_kg_co2e, rel=1e-5)


GXD_SCHEMA_URL = (
    "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/"
    "GxD_schema_en.json"
)


def with_gxd(data) -> dict:
    footprint = mp.resin()
    footprint["extensions"] = [
        {"specVersion": "2.0.0", "dataSchema": GXD_SCHEMA_URL, "data": data},
    ]
    return footprint


def test_a_product_based_green_x_digital_extension_is_named_in_the_report_only():
    from cfp_engine.store.imports.pact_footprints import extension_summaries

    footprint = with_gxd(
        {
            "calcMethod": "0",
            "FWedition": "2.0",
            "certificate": {"certificateType": "J-Credit", "certificateAmount": "0.1"},
        }
    )
    fp = read_footprint(footprint)
    assert fp.notes == () and fp.figures()["total"] == 2.0  # figures unchanged
    (line,) = extension_summaries(footprint)
    assert line == (
        "Green x Digital extension: product-based calculation, CO2 Visualization Framework "
        "2.0; certificate J-Credit 0.1"
    )
    assert fp.extensions[0]["data"]["certificate"]["certificateType"] == "J-Credit"


def test_an_organization_based_footprint_warns_every_result_that_uses_it():
    organization = {f"scope{i}DistributionLevel": "site" for i in (1, 2, 3)}
    fp = read_footprint(
        with_gxd({"calcMethod": "1", "FWedition": "2.0", "organization": organization})
    )
    (note,) = fp.notes
    assert "organization-based" in note and "scope 1 by site" in note


def test_a_green_x_digital_extension_off_its_schema_is_kept_and_said():
    fp = read_footprint(with_gxd({"calcMethod": "2", "FWedition": "2.0"}))
    (note,) = fp.notes
    assert "does not follow its schema" in note and "calcMethod" in note
    assert fp.payload["extensions"][0]["data"]["calcMethod"] == "2"


def test_the_cli_imports_and_reports_as_json(fresh_home, tmp_path):
    source = mp.write_supplier_file(tmp_path / "suppliers.json")
    result = CliRunner().invoke(
        cli,
        [
            "data",
            "import",
            str(source),
            "--format",
            "pact",
            "--name",
            "SUP",
            "--report-format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["imported"]) == 4 and len(report["rejected"]) == 2
    listed = CliRunner().invoke(cli, ["data", "list", "--format", "json"])
    assert [(d["name"], d["format"], d["activities"]) for d in json.loads(listed.output)] == [
        ("SUP", "pact", 4)
    ]
