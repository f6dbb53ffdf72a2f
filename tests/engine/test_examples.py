"""Every example spec, and every variant of it, calculates and adds up."""

import math

import pytest

from cfp_engine.engine.footprint import calculate_footprint
from cfp_engine.spec.product import load_spec

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
        ("pv-module-bom", "recycled-glass-and-frame"),
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


def test_pv_module_bill_of_materials_adds_up_by_hand(builtin_table):
    # IEA PVPS 2020 LCI masses per m2 times the built-in per-unit scores (see
    # inventories/pv_module_bom.yaml and tests/data/cited_figures.csv).
    spec = load_spec(EXAMPLES / "pv-module-bom.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    materials = (
        8.8125 * 1.43  # solar glass (NGA flat glass)
        + 2.125 * 9.1159013  # frame, virgin aluminium
        + 0.875 * 2.9650779  # EVA as LDPE
        + 0.34562 * 3.8639013  # backsheet PET
        + 0.11187 * 23.3  # backsheet PVF (Tedlar)
        + 0.1025 * 2.8  # copper
        + 0.41687 * 3.1724993  # junction box, average plastics
        + 0.7625 * 1.1997254  # cardboard box
    )
    production = (
        0.93541 * 49.237233  # cells, with wafer, ingot, polysilicon and MG-Si
        + 7.436947  # module assembly
        + 16.638 * 0.034709739  # freight train
        + 2.7739 * 0.12526627  # lorry
    )
    assert base.stages_kg_co2e["raw_materials"] == pytest.approx(materials, rel=1e-6)
    assert base.stages_kg_co2e["production"] == pytest.approx(production, rel=1e-6)

    glass = calculate_footprint(spec, variant="recycled-glass", table=builtin_table)
    # 50 % of 8.8125 kg from cullet, which saves 0.70 kg CO2e per kg (AGC Glass Europe)
    assert base.total_kg_co2e - glass.total_kg_co2e == pytest.approx(8.8125 * 0.5 * 0.70, rel=1e-6)
    frame = calculate_footprint(spec, variant="recycled-frame", table=builtin_table)
    assert base.total_kg_co2e - frame.total_kg_co2e == pytest.approx(
        2.125 * 0.77 * (9.1159013 - 0.9950779), rel=1e-6
    )


def test_pv_module_recycling_earns_its_credit_only_outside_cut_off(builtin_table):
    # Same module, same end-of-life rates; only the R2 terms of the CFF (A = 0.5) differ
    # from cut-off: (1 - A) x R2 x (ErecEoL - E*v) per kg. Disposal and energy recovery
    # are the same in both.
    spec = load_spec(EXAMPLES / "pv-module-bom.yaml")
    cut_off = calculate_footprint(spec, variant="eol-recycling", table=builtin_table)
    cff = calculate_footprint(spec, variant="eol-recycling-cff", table=builtin_table)
    r2_terms = (
        8.8125 * 0.5 * 0.9 * (0.83971727 - 1.43)  # glass: cullet route vs virgin glass
        + 2.125 * 0.5 * 1.0 * (1.10479517 - 9.1159013)  # frame: remelting vs primary
        + 0.1025 * 0.5 * 1.0 * (0.00468568 - 2.8)  # copper (steel collection as proxy)
        + 0.7625 * 0.5 * 0.948 * (1.0981144 - 1.1997254)  # cardboard box, Japan R2
    )
    difference = cff.stages_kg_co2e["end_of_life"] - cut_off.stages_kg_co2e["end_of_life"]
    assert difference == pytest.approx(r2_terms, rel=1e-6)
    assert cff.total_kg_co2e < cut_off.total_kg_co2e


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


def test_pv_module_per_kwh_delivered_by_hand(builtin_table):
    # Japan roof-top (IEA PVPS 2020 LCI: 17.9 %, 1024 kWh/kWp a year = 1365 kWh/m2 at PR
    # 0.75), 30 years, the default ratio including ageing (T12-18:2020, 3.1.3):
    # 1365 x 0.179 x 0.75 x 30 = 5497.5375 kWh per m2.
    spec = load_spec(EXAMPLES / "pv-module-bom.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    block = base.per_kwh_delivered
    assert block["kwh_per_declared_unit"] == pytest.approx(5497.5375, rel=1e-12)
    assert block["kg_co2e_per_kwh"] == pytest.approx(base.total_kg_co2e / 5497.5375, rel=1e-12)
    for stage, value in base.stages_kg_co2e.items():
        assert block["stages_kg_co2e_per_kwh"][stage] == pytest.approx(value / 5497.5375, rel=1e-12)
    assert "T12-18:2020" in block["rule"]
    assert base.to_dict()["per_kwh_delivered"] == block
    # Published comparison (inventories/README.md): Fraunhofer ISE's whole module, 810 kg
    # CO2e/kWp, at the same yield (1365 x 0.75 x 30 = 30,712.5 kWh/kWp) is 26.4 g/kWh; the
    # BOM gives two thirds of it (the grid factor and the inputs left out).
    fraunhofer_per_kwh = 810 / (block["kwh_per_declared_unit"] / 0.179)  # 0.179 kWp per m2
    assert fraunhofer_per_kwh == pytest.approx(0.02637, abs=1e-5)
    assert 0.6 < block["kg_co2e_per_kwh"] / fraunhofer_per_kwh < 0.75

    # Ground-mounted: default PR 0.80, same footprint per m2, per kWh x 0.75 / 0.80.
    ground = calculate_footprint(spec, variant="ground-mounted", table=builtin_table)
    assert ground.total_kg_co2e == pytest.approx(base.total_kg_co2e, rel=1e-12)
    assert ground.per_kwh_delivered["kg_co2e_per_kwh"] == pytest.approx(
        block["kg_co2e_per_kwh"] * 0.75 / 0.80, rel=1e-12
    )
    # Site-specific PR 0.80 with 0.7 %-points a year: x (1 - 0.007 x 30 / 2) = 0.895.
    site = calculate_footprint(spec, variant="site-pr-with-degradation", table=builtin_table)
    assert site.per_kwh_delivered["kwh_per_declared_unit"] == pytest.approx(
        1365 * 0.179 * 0.80 * 30 * 0.895, rel=1e-12
    )


def test_specs_without_a_service_life_have_no_per_kwh_figures(builtin_table):
    result = calculate_footprint(load_spec(EXAMPLES / "pet-bottle.yaml"), table=builtin_table)
    assert result.per_kwh_delivered is None
    assert "per_kwh_delivered" not in result.to_dict()


def test_direct_recycled_graphite_cuts_the_cell_bom_by_hand_computed_amount(builtin_table):
    # 0.8661 kg of graphite per kWh, half of it recovered by direct recycling:
    # 0.8661 x 0.5 x (3.465914 - 9.111659) kg CO2e (EverBatt 2023 direct, GREET 2022 virgin).
    spec = load_spec(EXAMPLES / "li-ion-battery-bom.yaml")
    base = calculate_footprint(spec, table=builtin_table)
    recycled = calculate_footprint(spec, variant="graphite-recycled-50", table=builtin_table)
    assert recycled.total_kg_co2e - base.total_kg_co2e == pytest.approx(
        0.8661 * 0.5 * (3.465914 - 9.111659), rel=1e-4
    )
