"""The built-in data: every dataset cited, every figure reproduced, every reference resolvable."""

import csv

import pytest

from cfp_engine.spec.materials import load_materials
from cfp_engine.store.inventories import PEDIGREE_FIELDS, SOURCE_FIELDS, read_builtin_datasets

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
    virgin = 0
    for material in table:
        for role in ("virgin", "recycled", "eol_recycling", "disposal", "energy_recovery"):
            reference = getattr(material, role)
            if not reference:
                continue
            # find() raises on a missing or ambiguous name; check it found the one named.
            info = builtin_table.find(reference, where=f"{material.material}.{role}")
            parts = reference.split("::")
            name = parts[1] if len(parts) > 1 else parts[0]
            assert info.name == name, (material.material, role, reference, info)
            assert info.database == (parts[0] if len(parts) > 1 else "cfp-builtin"), reference
            virgin += role == "virgin"
    assert virgin == len(table)  # every material has a production route


MATERIALS_CSV = ROOT / "inventories" / "materials.csv"
PARAMETER_COLUMNS = {"R2": "R2", "R3": "R3", "A": "A", "Qsin_Qp": "Qsin/Qp", "Qsout_Qp": "Qsout/Qp"}


@pytest.mark.parametrize(
    "row",
    list(csv.DictReader(MATERIALS_CSV.open(encoding="utf-8", newline=""))),
    ids=lambda r: r["material"],
)
def test_every_end_of_life_default_says_where_it_comes_from(row):
    # An R2, R3, A or Q value in the table is only traceable if the notes give it
    # together with its source or the reason for the default.
    for column, label in PARAMETER_COLUMNS.items():
        if row[column]:
            assert f"{label} = " in row["notes"], (row["material"], column)
            assert row[column] in row["notes"], (row["material"], column, row[column])
    r2, r3 = float(row["R2"] or 0), float(row["R3"] or 0)
    assert 0 <= r2 <= 1 and 0 <= r3 <= 1 and r2 + r3 <= 1, row["material"]


JAPANESE_UTILITIES = (
    "Hokkaido Electric",
    "Tohoku Electric",
    "TEPCO Energy Partner",
    "Chubu Electric Power Miraiz",
    "Hokuriku Electric",
    "Kansai Electric",
    "Chugoku Electric",
    "Shikoku Electric",
    "Kyushu Electric",
    "Okinawa Electric",
)


def test_every_japanese_utility_area_has_both_supplier_factors_of_one_year():
    by_name = {d["name"]: d for d in DATASETS}
    for utility in JAPANESE_UTILITIES:
        for kind in ("residual menu", "company average"):
            dataset = by_name[f"electricity, supplier, JP, {utility}, {kind}"]
            assert dataset["unit"] == "kilowatt hour"
            assert "R6年度実績" in dataset["source"]["document"], dataset["name"]
