"""Every example spec, and every variant of it, calculates and adds up."""

import math

import pytest

from cfp_engine.core import calculate_footprint
from cfp_engine.spec import load_spec

from conftest import EXAMPLES

SPECS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_calculates(builtin_table, path):
    spec = load_spec(path)
    for variant in (None, *spec.variant_names):
        result = calculate_footprint(spec, variant=variant, table=builtin_table)
        assert result.total_kg_co2e > 0
        assert math.fsum(result.stages_kg_co2e.values()) == result.total_kg_co2e
        assert result.virgin_baseline_kg_co2e >= result.total_kg_co2e - 1e-12
        assert 0.0 <= result.recycled_content_share <= 1.0
        datasets = result.provenance["datasets"]
        assert datasets and all(d["licence"] for d in datasets)


def test_the_priority_products_have_examples():
    names = {p.stem for p in SPECS}
    assert {
        "pet-bottle",
        "aluminium-can",
        "cotton-t-shirt",
        "polyester-jacket",
        "li-ion-battery-pack",
        "pv-module",
        "steel-office-chair",
    } <= names


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("pet-bottle", "rpet-100"),
        ("aluminium-can", "recycled-90"),
        ("cotton-t-shirt", "recycled-100"),
        ("polyester-jacket", "recycled-all"),
        ("steel-office-chair", "circular"),
    ],
)
def test_recycled_variants_cut_the_footprint(builtin_table, name, variant):
    spec = load_spec(EXAMPLES / f"{name}.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    recycled = calculate_footprint(spec, variant=variant, table=builtin_table)
    assert recycled.total_kg_co2e < base.total_kg_co2e
    assert recycled.reduction_vs_virgin > base.reduction_vs_virgin


def test_pv_module_is_its_peak_power(builtin_table):
    # Fraunhofer ISE (2021): 810 kg CO2e/kWp; 210 Wp per m2 in the example.
    result = calculate_footprint(load_spec(EXAMPLES / "pv-module.yaml"), table=builtin_table)
    assert result.total_kg_co2e == pytest.approx(0.210 * 810, rel=1e-6)


def test_recycled_aluminium_foil_cuts_the_cell_bom_by_hand_computed_amount(builtin_table):
    # 0.1533 kg of foil per kWh, half of it recycled: 0.1533 x 0.5 x (0.995 - 9.116) kg CO2e
    # (DESNZ recycled and virgin aluminium, rounded to 3 decimals here) = -0.6225.
    spec = load_spec(EXAMPLES / "li-ion-battery-bom.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    recycled = calculate_footprint(spec, variant="aluminium-foil-recycled-50", table=builtin_table)
    assert recycled.total_kg_co2e - base.total_kg_co2e == pytest.approx(-0.6225, abs=0.001)


def test_eu_2036_recycled_content_cuts_raw_materials_by_hand_computed_amount(builtin_table):
    # Art. 8 shares for 2036 on the precursors, recycled by the hydrometallurgical route
    # (kg CO2e/kg, virgin GREET 2022 minus recycled computed from EverBatt 2023):
    # Ni 1.6248 kg x 15 % x (7.568934 - 2.430124) = 1.252429
    # Co 0.2034 kg x 26 % x (6.914060 - 2.435160) = 0.236862
    # Li 0.3143 kg x 12 % x (24.24358 - 12.04288) = 0.460161; sum 1.949452.
    spec = load_spec(EXAMPLES / "li-ion-battery-bom.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    eu_2036 = calculate_footprint(spec, variant="eu-2036", table=builtin_table)
    cut = eu_2036.stages_kg_co2e["raw_materials"] - base.stages_kg_co2e["raw_materials"]
    assert cut == pytest.approx(-1.949452, abs=1e-4)
    assert eu_2036.total_kg_co2e - base.total_kg_co2e == pytest.approx(cut, abs=1e-9)
