"""Specs that use supplier PACT footprints: hand-calculated figures, units, provenance.

The footprints are ``make_pact``'s, imported as ``SUP`` in the session's supplier home:
resin 2.0 kg CO2e/kg (1.8 fossil, 0.2 land-use change); solvent 1.0 kg CO2e/liter (0.73
fossil, 0.27 biogenic non-CO2; 0.9 kg/liter); hinge 3.0 kg CO2e/piece (0.5 kg/piece);
power 0.5 kg CO2e/kWh.
"""

from __future__ import annotations

import pytest

from cfp_engine.engine.footprint import calculate_footprint
from cfp_engine.errors import UnitError
from cfp_engine.spec.product import spec_from_dict

import make_pact as mp

REL = 1e-6  # Brightway keeps exchange amounts as float32


def spec(components=(), stages=None) -> object:
    document = {
        "product": {"id": "supplier-test", "name": "test product", "declared_unit": "1 piece"},
        "components": list(components),
    }
    if stages:
        document["stages"] = stages
    return spec_from_dict(document)


def test_resin_at_23_g_gives_46_g_split_as_the_supplier_says(in_supplier_home):
    """2.0 kg CO2e/kg x 0.023 kg = 0.046; fossil 1.8 x 0.023 = 0.0414, LUC 0.2 x 0.023 = 0.0046."""
    result = calculate_footprint(
        spec([{"id": "body", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "23 g"}])
    )
    assert result.total_kg_co2e == pytest.approx(0.046, rel=REL)
    assert result.ghg_kg_co2e["fossil"] == pytest.approx(0.0414, rel=REL)
    assert result.ghg_kg_co2e["biogenic"] == 0.0
    assert result.ghg_kg_co2e["land_use_change"] == pytest.approx(0.0046, rel=REL)


def test_a_per_liter_footprint_used_by_mass_goes_through_its_mass_per_liter(in_supplier_home):
    """0.45 kg / 0.9 kg per liter = 0.5 liter: 0.5 total, 0.365 fossil, 0.135 biogenic."""
    result = calculate_footprint(
        spec([{"id": "solvent", "virgin": f"SUP::{mp.LIQUID_ID}", "mass": "450 g"}])
    )
    assert result.total_kg_co2e == pytest.approx(0.5, rel=REL)
    assert result.ghg_kg_co2e["fossil"] == pytest.approx(0.365, rel=REL)
    assert result.ghg_kg_co2e["biogenic"] == pytest.approx(0.135, rel=REL)


def test_a_per_piece_footprint_used_by_mass_and_by_piece(in_supplier_home):
    """1 kg of 0.5 kg hinges = 2 pieces = 6.0; a stage item of 3 pieces = 9.0."""
    by_mass = calculate_footprint(
        spec([{"id": "hinges", "virgin": f"SUP::{mp.PART_GTIN}", "mass": "1 kg"}])
    )
    assert by_mass.total_kg_co2e == pytest.approx(6.0, rel=REL)
    by_piece = calculate_footprint(
        spec(
            [{"id": "body", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "1 g"}],
            {"production": [{"activity": f"SUP::{mp.PART_GTIN}", "amount": "3 piece"}]},
        )
    )
    assert by_piece.stages_kg_co2e["production"] == pytest.approx(9.0, rel=REL)


def test_a_kwh_footprint_used_in_megajoules(in_supplier_home):
    """36 MJ = 10 kWh x 0.5 kg CO2e/kWh = 5.0."""
    result = calculate_footprint(
        spec(
            [{"id": "body", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "1 g"}],
            {"production": [{"activity": f"SUP::{mp.POWER_URN}", "amount": "36 MJ"}]},
        )
    )
    assert result.stages_kg_co2e["production"] == pytest.approx(5.0, rel=REL)


def test_a_unit_without_a_mass_per_unit_is_still_an_error(in_supplier_home):
    with pytest.raises(UnitError, match="kilowatt hour"):
        calculate_footprint(spec([{"id": "p", "virgin": f"SUP::{mp.POWER_URN}", "mass": "1 kg"}]))


def test_the_provenance_names_each_supplier_footprint_used(in_supplier_home):
    result = calculate_footprint(
        spec(
            [{"id": "body", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "23 g"}],
            {"production": [{"activity": f"SUP::{mp.PART_GTIN}", "amount": "1 piece"}]},
        )
    )
    used = result.provenance["supplier_footprints"]
    assert [f["id"] for f in used] == sorted([mp.RESIN_ID, mp.PART_ID])
    resin = next(f for f in used if f["id"] == mp.RESIN_ID)
    assert resin["sha256"] == mp_sha(mp.resin())
    assert resin["figures_per_unit"]["total"] == 2.0
    assert resin["source"] == "file:suppliers.json"
    # the database record is summarised: only the footprints used are listed
    assert result.provenance["databases"]["SUP"]["footprints"] == 4


def test_a_result_without_suppliers_has_no_supplier_provenance(builtin_table):
    result = calculate_footprint(
        spec_from_dict(
            {
                "product": {"id": "x", "name": "x", "declared_unit": "1 piece"},
                "components": [{"id": "c", "material": "PET", "mass": "10 g"}],
            }
        ),
        table=builtin_table,
    )
    assert "supplier_footprints" not in result.provenance


def test_what_cannot_be_represented_is_a_warning(in_supplier_home, tmp_path):
    from cfp_engine.engine.footprint import calculate_footprint as calc

    result = calc(spec([{"id": "s", "virgin": f"SUP::{mp.LIQUID_GTIN}", "mass": "1 kg"}]))
    assert any(mp.LIQUID_ID in w and "exact under IPCC 2021 GWP100" in w for w in result.warnings)


def mp_sha(payload):
    from cfp_engine.store.imports.pact_payloads import payload_sha256

    return payload_sha256(payload)


def test_a_supplier_footprint_as_the_recycled_route_of_a_component(in_supplier_home):
    """1 kg, half recycled (cut-off): 0.5 kg of the built-in virgin PET + 0.5 kg of the
    supplier's resin at 2.0 = the virgin half + 1.0."""
    from cfp_engine.store.access import open_store

    virgin = open_store().find("PET, virgin")
    per_kg = open_store().vector("IPCC 2021 GWP100")[0, virgin.index]
    component = {
        "id": "body",
        "virgin": "PET, virgin",
        "recycled": f"SUP::{mp.RESIN_GTIN}",
        "recycled_content": "50 %",
        "mass": "1 kg",
    }
    result = calculate_footprint(spec([component]))
    assert result.total_kg_co2e == pytest.approx(0.5 * per_kg + 1.0, rel=REL)
    assert result.ghg_kg_co2e["land_use_change"] >= 0.1 * (1 - REL)  # 0.5 kg x 0.2


def test_a_materials_table_takes_a_route_from_a_supplier(in_supplier_home, tmp_path):
    """A user's material whose virgin route is the supplier's resin: 23 g = 0.046."""
    table = tmp_path / "materials.csv"
    table.write_text(f"material,virgin\nSupplier PET,SUP::{mp.RESIN_ID}\n", encoding="utf-8")
    result = calculate_footprint(
        spec([{"id": "body", "material": "Supplier PET", "mass": "23 g"}]), materials=[table]
    )
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(0.046, rel=REL)
