"""openLCA JSON-LD uncertainty to stats_arrays, scaled as bw2io scaled the amount."""

from __future__ import annotations

import math

import pytest

from cfp_engine.store.imports.uncertainty import (
    olca_uncertainty_to_stats_arrays,
    stash_olca_amounts,
)


def _run(uncertainty: dict, amount: float, converted: float) -> dict:
    """One exchange through both strategies; bw2io's conversion is ``converted / amount``."""
    raw = {"processes": {"p": {"exchanges": [{"amount": amount, "uncertainty": uncertainty}]}}}
    exchange = stash_olca_amounts(raw)["processes"]["p"]["exchanges"][0]
    exchange["amount"] = converted  # what bw2io's unit conversion / allocation did
    (dataset,) = olca_uncertainty_to_stats_arrays([{"exchanges": [exchange]}])
    return dataset["exchanges"][0]


def test_lognormal_keeps_the_gsd_and_moves_the_median_with_the_unit():
    # 1000 g with GSD 1.5 -> 1 kg: loc = ln(1), scale = ln(1.5).
    got = _run(
        {"distributionType": "LOG_NORMAL_DISTRIBUTION", "geomMean": 1000.0, "geomSd": 1.5},
        1000.0,
        1.0,
    )
    assert got["uncertainty type"] == 2
    assert got["loc"] == pytest.approx(0.0, abs=1e-12)
    assert got["scale"] == pytest.approx(math.log(1.5), rel=1e-12)
    assert "cfp_olca_amount" not in got


def test_normal_triangular_uniform_scale_with_the_conversion():
    # 2 kWh (sd 0.5 kWh) -> 7.2 MJ: factor 3.6.
    normal = _run({"distributionType": "NORMAL_DISTRIBUTION", "mean": 2.0, "sd": 0.5}, 2.0, 7.2)
    assert (normal["uncertainty type"], normal["loc"]) == (3, pytest.approx(7.2, rel=1e-12))
    assert normal["scale"] == pytest.approx(1.8, rel=1e-12)
    triangle = _run(
        {"distributionType": "TRIANGLE_DISTRIBUTION", "minimum": 1.0, "mode": 2.0, "maximum": 4.0},
        2.0,
        7.2,
    )
    assert triangle["uncertainty type"] == 5
    assert (triangle["minimum"], triangle["loc"], triangle["maximum"]) == pytest.approx(
        (3.6, 7.2, 14.4), rel=1e-12
    )
    uniform = _run(
        {"distributionType": "UNIFORM_DISTRIBUTION", "minimum": 1.0, "maximum": 3.0}, 2.0, 7.2
    )
    assert uniform["uncertainty type"] == 4
    assert (uniform["minimum"], uniform["maximum"]) == pytest.approx((3.6, 10.8), rel=1e-12)


@pytest.mark.parametrize(
    "uncertainty",
    [
        {"distributionType": "UNDEFINED_DISTRIBUTION"},
        {"distributionType": "LOG_NORMAL_DISTRIBUTION", "geomMean": 1.0, "geomSd": 1.0},
        {"distributionType": "NORMAL_DISTRIBUTION", "mean": 1.0},
        {"distributionType": "UNIFORM_DISTRIBUTION", "minimum": 2.0, "maximum": 1.0},
    ],
)
def test_missing_or_degenerate_distributions_stay_fixed(uncertainty):
    assert _run(uncertainty, 1.0, 1.0)["uncertainty type"] == 0


def test_exchanges_without_uncertainty_are_untouched():
    raw = {"processes": {"p": {"exchanges": [{"amount": 1.0}]}}}
    (exchange,) = stash_olca_amounts(raw)["processes"]["p"]["exchanges"]
    (dataset,) = olca_uncertainty_to_stats_arrays([{"exchanges": [exchange]}])
    assert dataset["exchanges"][0] == {"amount": 1.0}
