"""Pedigree GSDs, spec distributions and their parsing errors (no Brightway)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bw_processing import UNCERTAINTY_DTYPE

from cfp_engine.errors import SpecError
from cfp_engine.spec.distributions import (
    Distribution,
    lognormal_fields,
    pedigree_gsd,
    sample_parameters,
)
from cfp_engine.spec.product import spec_from_dict
from cfp_engine.store.inventories import to_importer_data


def test_pedigree_gsd_by_hand():
    # U_b = 1.05; reliability 2 (1.05), completeness 3 (1.05), temporal 1, geographical 3
    # (1.02), technological 4 (1.5): GSD^2 = exp(sqrt(3 ln(1.05)^2 + ln(1.02)^2 + ln(1.5)^2))
    scores = dict(reliability=2, completeness=3, temporal=1, geographical=3, technological=4)
    total = 3 * math.log(1.05) ** 2 + math.log(1.02) ** 2 + math.log(1.5) ** 2
    assert pedigree_gsd(1.05, scores) == pytest.approx(math.exp(math.sqrt(total) / 2), rel=1e-12)


def test_all_ones_gives_the_basic_factor_only():
    ones = dict.fromkeys(
        ("reliability", "completeness", "temporal", "geographical", "technological"), 1
    )
    assert pedigree_gsd(1.5, ones) ** 2 == pytest.approx(1.5, rel=1e-12)


def test_missing_pedigree_is_the_worst_score():
    worst = dict.fromkeys(
        ("reliability", "completeness", "temporal", "geographical", "technological"), 5
    )
    assert pedigree_gsd(1.05, None) == pytest.approx(pedigree_gsd(1.05, worst), rel=1e-12)


def test_bad_pedigree_score():
    with pytest.raises(SpecError, match="pedigree reliability = 7"):
        pedigree_gsd(1.05, {"reliability": 7})


def test_lognormal_fields_negative_amount():
    fields = lognormal_fields(-2.0, 1.2)
    assert fields["uncertainty type"] == 2
    assert fields["loc"] == pytest.approx(math.log(2.0))
    assert fields["scale"] == pytest.approx(math.log(1.2))
    assert fields["negative"] is True


def test_builtin_exchanges_carry_lognormals():
    datasets = [
        {
            "code": "a",
            "source": {},
            "name": "A",
            "unit": "kilogram",
            "location": "GLO",
            "pedigree": dict(
                reliability=1, completeness=1, temporal=1, geographical=1, technological=1
            ),
            "exchanges": [
                {"flow": "Methane, fossil", "categories": ["air"], "amount": 0.1},
                {"activity": "transport, lorry", "amount": 2.0},
            ],
        },
        {
            "code": "t",
            "source": {},
            "name": "transport, lorry",
            "unit": "ton kilometer",
            "location": "GLO",
            "category": "transport",
            "exchanges": [],
        },
    ]
    activity = to_importer_data(datasets, "db")[0]
    production, methane, transport = activity["exchanges"]
    assert "uncertainty type" not in production
    assert methane["uncertainty type"] == 2
    assert math.exp(2 * methane["scale"]) == pytest.approx(1.5)  # GSD^2 = U_b with all 1s
    assert math.exp(2 * transport["scale"]) == pytest.approx(2.0)  # transport service


def _spec(mass="23 g", recycled="30 %", amount="1 kWh"):
    return spec_from_dict(
        {
            "product": {"id": "p", "name": "P", "declared_unit": "1 piece"},
            "components": [
                {
                    "id": "body",
                    "virgin": "x",
                    "recycled": "y",
                    "mass": mass,
                    "recycled_content": recycled,
                }
            ],
            "stages": {"production": [{"activity": "e", "amount": amount}]},
        },
        source="s.yaml",
    )


def test_plus_minus_relative_mass():
    spec = _spec(mass="23 g ± 5 %")
    component = spec.components[0]
    assert component.mass_kg == pytest.approx(0.023)
    distribution = component.distributions["mass"]
    assert distribution.kind == "normal"
    assert distribution.spread == pytest.approx(0.05 * 0.023)


def test_explicit_distributions():
    spec = _spec(
        mass={"amount": "23 g", "distribution": "lognormal", "gsd": 1.1},
        recycled={"amount": "30 %", "distribution": "triangular", "min": "20 %", "max": "50 %"},
        amount={"amount": "1 kWh", "distribution": "normal", "sd": "100 Wh"},
    )
    component = spec.components[0]
    assert component.recycled_content == pytest.approx(0.3)
    assert component.distributions["mass"].spread == pytest.approx(1.1)
    assert component.distributions["recycled_content"].low == pytest.approx(0.2)
    assert spec.stages["production"][0].distribution.spread == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("mass", "message"),
    [
        ("23 g ± 150 %", r"components\[0\]\.mass: ± '150 %' must be a relative spread"),
        ("23 g ± -5 %", r"components\[0\]\.mass: ± '-5 %' must be a relative spread"),
        ("23 g ± -1 g", r"components\[0\]\.mass: ± '-1 g' must be a positive spread"),
        ("23 g ± 2 kWh", r"components\[0\]\.mass: '2 kWh' is an energy"),
        ({"amount": "23 g", "distribution": "lognormal", "gsd": 0.9}, r"mass\.gsd"),
        ({"amount": "23 g", "distribution": "weibull"}, r"mass\.distribution"),
        (
            {"amount": "23 g", "distribution": "triangular", "min": "25 g", "max": "30 g"},
            "min <= amount",
        ),
    ],
)
def test_bad_mass_uncertainty(mass, message):
    with pytest.raises(SpecError, match=message):
        _spec(mass=mass)


def test_bad_share_uncertainty():
    with pytest.raises(SpecError, match=r"recycled_content \(± spread\).*outside 0-100 %"):
        _spec(recycled="30 % ± 150 %")


def test_truncated_normal_stays_in_bounds():
    share = Distribution("normal", 0.95, 0.1, low=0.0, high=1.0)
    u = np.random.default_rng(1).random(100_000)
    values = share.ppf(u)
    assert values.min() >= 0.0 and values.max() <= 1.0
    # The median of a truncated normal lies below the mode when the upper tail is cut.
    assert np.median(values) < 0.95


def test_triangular_ppf_matches_its_mean():
    triangle = Distribution("triangular", 0.3, 0.0, 0.2, 0.5)
    values = triangle.ppf(np.random.default_rng(2).random(200_000))
    assert values.mean() == pytest.approx((0.2 + 0.3 + 0.5) / 3, abs=2e-3)


def test_sample_parameters_lognormal_median_and_gsd():
    params = np.zeros(
        1,
        dtype=UNCERTAINTY_DTYPE,
    )
    params[0] = (2, math.log(3.0), math.log(1.4), np.nan, np.nan, np.nan, True)
    values = sample_parameters(params, np.random.default_rng(3), 100_000)[:, 0]
    assert np.all(values < 0)
    assert np.median(-values) == pytest.approx(3.0, rel=0.01)
    assert math.exp(np.std(np.log(-values))) == pytest.approx(1.4, rel=0.01)
