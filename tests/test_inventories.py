"""The built-in data: every dataset cited, every figure reproduced, every reference resolvable."""

import csv

import pytest

from cfp_engine.inventories import PEDIGREE_FIELDS, SOURCE_FIELDS, read_builtin_datasets
from cfp_engine.materials import load_materials

from conftest import ROOT

DATASETS = read_builtin_datasets()
CITED = list(csv.DictReader((ROOT / "tests" / "data" / "cited_figures.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d["code"])
def test_every_dataset_names_its_source_and_quality(dataset):
    source = dataset["source"]
    for field in SOURCE_FIELDS:
        assert source.get(field), f"{dataset['name']}: source.{field} missing"
    assert str(source["url"]).startswith("http")
    assert 1990 <= int(source["year"]) <= 2026
    for field in PEDIGREE_FIELDS:
        assert dataset["pedigree"][field] in (1, 2, 3, 4, 5), (dataset["name"], field)
    assert isinstance(dataset.get("co2e_only"), bool)


def test_every_dataset_has_a_cited_figure():
    assert {row["dataset_name"] for row in CITED} == {d["name"] for d in DATASETS}


@pytest.mark.parametrize("row", CITED, ids=lambda r: r["dataset_name"])
def test_dataset_reproduces_its_cited_figure(builtin_table, row):
    info = builtin_table.find(f"cfp-builtin::{row['dataset_name']}")
    engine = float(builtin_table.indicator("IPCC 2021 GWP100", "total")[info.index])
    expected = float(row["expected_kg_co2e_per_unit"])
    assert engine == pytest.approx(expected, rel=float(row["tolerance_rel"]), abs=1e-9)


def test_every_material_resolves_to_existing_activities(builtin_table):
    table = load_materials([])
    assert len(table) >= 4
    for material in table:
        for role in ("virgin", "recycled", "eol_recycling", "disposal", "energy_recovery"):
            reference = getattr(material, role)
            if reference:
                builtin_table.find(reference, where=f"{material.material}.{role}")
