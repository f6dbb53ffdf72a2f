"""A label's primaryDataShare and DQI with supplier footprints (labels/data_quality.py).

Spec: resin 1 kg (2.0 kg CO2e, 50 % primary, DQRs technological 2, geographical 2,
temporal 1 of PACT v3: pedigree 2, 2, 1, completeness and reliability unrated = 5),
solvent 0.9 kg = 1 liter (1.0, 20 % primary, PACT v2 DQRs all 2 of 1-3 = pedigree 3), and
one hinge per piece (3.0, no primaryDataShare, no dqi). Total 6.0.

- primaryDataShare = (2.0 x 50 % + 1.0 x 20 % + 3.0 x 0) / 6.0 = 20 %.
- coverage = (2.0 + 1.0) / 6.0 = 50 % (the hinge has no ratings);
  technological = (2.0 x 2 + 1.0 x 3) / 3.0 = 7/3, temporal = (2 x 1 + 3) / 3 = 5/3,
  completeness = (2 x 5 + 3) / 3 = 13/3.
"""

from __future__ import annotations

import pytest

from cfp_engine.labels.make import make_disclosure
from cfp_engine.labels.pact import to_pact_v3
from cfp_engine.spec.product import spec_from_dict

import make_pact as mp

REL = 1e-6

FACTS = {
    "company_name": "Bottle Co",
    "company_ids": ["urn:company:bottle"],
    "product_ids": ["urn:gtin:1111111111111"],
    "reference_period": {"start": "2025-01-01", "end": "2025-12-31"},
}


def disclosure(components, stages=None):
    document = {
        "product": {"id": "mixed", "name": "mixed", "declared_unit": "1 piece"},
        "components": components,
        "label": FACTS,
    }
    if stages:
        document["stages"] = stages
    return make_disclosure(spec_from_dict(document))


def test_primary_share_and_dqi_weigh_each_supplier_by_its_contribution(in_supplier_home):
    d = disclosure(
        [
            {"id": "resin", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "1 kg"},
            {"id": "solvent", "virgin": f"SUP::{mp.LIQUID_GTIN}", "mass": "0.9 kg"},
        ],
        {"production": [{"activity": f"SUP::{mp.PART_GTIN}", "amount": "1 piece"}]},
    )
    assert d.total_kg_co2e == pytest.approx(6.0, rel=REL)
    assert d.primary_data_share == pytest.approx(20.0, rel=REL)
    assert d.dqi["coveragePercent"] == pytest.approx(50.0, rel=REL)
    assert d.dqi["technologicalDQR"] == pytest.approx(7 / 3, rel=REL)
    assert d.dqi["temporalDQR"] == pytest.approx(5 / 3, rel=REL)
    assert d.dqi["completenessDQR"] == pytest.approx(13 / 3, rel=REL)
    pcf = to_pact_v3(d)["pcf"]
    assert pcf["primaryDataShare"] == "20"
    assert pcf["dqi"]["technologicalDQR"] == "2.33"  # three significant digits
    # supplier footprints are no emission-factor database
    assert "secondaryEmissionFactorSources" not in pcf


def test_resin_alone_passes_its_own_share_and_ratings_on(in_supplier_home):
    d = disclosure([{"id": "resin", "virgin": f"SUP::{mp.RESIN_GTIN}", "mass": "23 g"}])
    pcf = to_pact_v3(d)["pcf"]
    assert pcf["primaryDataShare"] == "50"
    assert pcf["dqi"] == {"technologicalDQR": "2", "geographicalDQR": "2", "temporalDQR": "1"}
    assert (pcf["fossilGhgEmissions"], pcf["landUseChangeGhgEmissions"]) == ("0.0414", "0.0046")


def test_a_footprint_without_a_primary_share_counts_none(in_supplier_home):
    d = disclosure([{"id": "hinges", "virgin": f"SUP::{mp.PART_GTIN}", "mass": "1 kg"}])
    assert d.primary_data_share == 0.0
    assert d.dqi == {}  # no ratings: none invented
