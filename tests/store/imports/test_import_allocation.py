"""Allocation of multi-output ecospold2 datasets by a product property (no Brightway).

A hand-made dataset in bw2io's extracted form: a sawmill making 2 m3 of boards (price
300 EUR/m3) and 500 kg of sawdust (price 0.12 EUR/kg), with 10 kWh of electricity and
4 kg of CO2. Economic allocation, by hand:
boards 2 x 300 = 600, sawdust 500 x 0.12 = 60, total 660;
factors 600/660 = 10/11 and 60/660 = 1/11.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfp_engine.store.imports.allocation import allocate_by_property, offered_properties
from cfp_engine.store.imports.checks import check_ecospold2_single_output


def _sawmill(sawdust_price: float | None = 0.12) -> dict:
    sawdust = {"type": "production", "name": "sawdust", "amount": 500.0, "unit": "kg"}
    sawdust["properties"] = (
        {"price": {"amount": sawdust_price, "unit": "EUR2005"}} if sawdust_price is not None else {}
    )
    return {
        "name": "sawing",
        "location": "SE",
        "filename": "sawing.spold",
        "exchanges": [
            {
                "type": "production",
                "name": "board",
                "amount": 2.0,
                "unit": "m3",
                "formula": "2",
                "properties": {
                    "price": {"amount": 300.0, "unit": "EUR2005"},
                    "dry mass": {"amount": 450.0, "unit": "kg"},
                },
            },
            sawdust,
            {
                "type": "technosphere",
                "name": "electricity",
                "amount": 10.0,
                "unit": "kWh",
                "formula": "5*2",
                "uncertainty type": 2,
                "loc": math.log(10.0),
                "scale": 0.1,
            },
            {
                "type": "biosphere",
                "name": "Carbon dioxide, fossil",
                "amount": 4.0,
                "unit": "kg",
                "uncertainty type": 3,
                "loc": 4.0,
                "scale": 0.4,
            },
        ],
    }


def _by_product(parts):
    return {p["cfp"]["allocation"]["product"]: p for p in parts}


def test_price_allocation_splits_by_amount_times_price():
    parts, skipped = allocate_by_property([_sawmill()], "price", "sawing.spold")
    assert skipped == []
    board, sawdust = _by_product(parts)["board"], _by_product(parts)["sawdust"]
    assert board["name"] == "board | sawing"
    assert sawdust["name"] == "sawdust | sawing"
    assert board["cfp"]["allocation"]["factor"] == pytest.approx(10 / 11, rel=1e-12)
    assert sawdust["cfp"]["allocation"]["factor"] == pytest.approx(1 / 11, rel=1e-12)
    amounts = {e["name"]: e["amount"] for e in board["exchanges"]}
    assert amounts == {
        "board": 2.0,
        "electricity": pytest.approx(100 / 11, rel=1e-12),
        "Carbon dioxide, fossil": pytest.approx(40 / 11, rel=1e-12),
    }
    assert [e["name"] for e in sawdust["exchanges"] if e["type"] == "production"] == ["sawdust"]
    # Formulas would undo the allocation when evaluated: kept aside, for the record.
    electricity = next(e for e in board["exchanges"] if e["name"] == "electricity")
    assert "formula" not in electricity and electricity["unallocated formula"] == "5*2"
    # Lognormal: loc is ln(amount), sigma unchanged; normal: loc and scale scale.
    assert electricity["loc"] == pytest.approx(math.log(100 / 11), rel=1e-12)
    assert electricity["scale"] == 0.1
    co2 = next(e for e in sawdust["exchanges"] if e["name"] == "Carbon dioxide, fossil")
    assert (co2["loc"], co2["scale"]) == pytest.approx((4 / 11, 0.4 / 11), rel=1e-12)


def test_property_name_is_matched_without_case_or_spacing():
    parts, _ = allocate_by_property([_sawmill()], "Price", "sawing.spold")
    assert len(parts) == 2


def test_a_product_without_the_property_is_an_error_naming_dataset_and_product():
    with pytest.raises(ValueError, match=r"allocation='dry mass': 1 multi-output dataset") as e:
        allocate_by_property([_sawmill()], "dry mass", "x.zip")
    assert "sawing [SE] (sawing.spold): 'sawdust' has no 'dry mass'" in str(e.value)
    assert "skip_invalid=True" in str(e.value) and "--" not in str(e.value)


def test_a_zero_total_is_an_error_and_skip_invalid_leaves_the_dataset_out():
    dataset = _sawmill()
    for exchange in dataset["exchanges"][:2]:
        exchange["properties"]["price"]["amount"] = 0.0
    with pytest.raises(ValueError, match=r"amount x price sums to 0"):
        allocate_by_property([dataset], "price", "x.zip")
    parts, skipped = allocate_by_property([dataset], "price", "x.zip", skip_invalid=True)
    assert skipped == [
        {
            "dataset": "sawing [SE] (sawing.spold)",
            "reason": "not allocatable by 'price': amount x price sums to 0",
        }
    ]
    assert parts == []  # listed once, with this reason (not again as "not allocated")


def test_refusal_without_allocation_lists_the_properties_the_file_offers():
    assert offered_properties([_sawmill()]) == ({"price": 2, "dry mass": 1}, 2)
    with pytest.raises(ValueError, match=r"1 dataset\(s\) are multi-output") as e:
        check_ecospold2_single_output("x.zip", [_sawmill()])
    assert (
        "allocation=NAME, a property of their products in the file: 'price' (2 of 2 "
        "products), 'dry mass' (1 of 2 products)"
    ) in str(e.value)
    assert "skip_invalid=True" in str(e.value) and "--" not in str(e.value)
    kept, skipped = check_ecospold2_single_output("x.zip", [_sawmill()], skip_invalid=True)
    assert kept == []
    assert skipped == [
        {
            "dataset": "sawing [SE] (sawing.spold)",
            "reason": "multi-output, not allocated (no allocation property given)",
        }
    ]


@given(
    price=st.floats(min_value=1e-3, max_value=1e3),
    amount=st.floats(min_value=1e-3, max_value=1e3),
)
def test_allocation_conserves_the_total_burden(price, amount):
    """Co-products' burdens add up to the unallocated dataset's, whatever the prices."""
    dataset = _sawmill(sawdust_price=price)
    dataset["exchanges"][1]["amount"] = amount
    parts, _ = allocate_by_property([dataset], "price", "x")
    co2 = [e["amount"] for p in parts for e in p["exchanges"] if e["type"] == "biosphere"]
    assert sum(co2) == pytest.approx(4.0, rel=1e-9)
