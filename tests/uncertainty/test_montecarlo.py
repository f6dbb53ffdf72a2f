"""Monte Carlo: hand-made systems with known answers, and the built-in data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bw_processing import UNCERTAINTY_DTYPE

from cfp_engine.errors import SpecError
from cfp_engine.store.sampled_scores import BLOCK_SIZE, BackgroundSystem, sample_scores

MEDIAN, GSD = 2.0, 1.5


def _params(rows):
    out = np.zeros(len(rows), dtype=UNCERTAINTY_DTYPE)
    for i, row in enumerate(rows):
        out[i] = row
    return out


def _fixed(value):
    return (0, value, np.nan, np.nan, np.nan, np.nan, False)


LOGNORMAL_CO2 = (2, math.log(MEDIAN), math.log(GSD), np.nan, np.nan, np.nan, False)


def _system(co2_of_b=LOGNORMAL_CO2):
    """Two activities: a needs 0.5 of b and emits 1 kg CO2; b emits lognormal CO2.

    Score of b = CO2 of b (median 2, GSD 1.5); score of a = 1 + 0.5 x score of b.
    """
    return BackgroundSystem(
        size=2,
        tech_rows=np.array([0, 1, 1]),
        tech_cols=np.array([0, 1, 0]),
        tech_amounts=np.array([1.0, 1.0, -0.5]),  # matrix values (after the flip)
        tech_params=_params([_fixed(1.0), _fixed(1.0), _fixed(0.5)]),
        tech_flip=np.array([False, False, True]),
        bio_rows=np.array([0, 0]),
        bio_cols=np.array([0, 1]),
        bio_amounts=np.array([1.0, MEDIAN]),
        bio_params=_params([_fixed(1.0), co2_of_b]),
        bio_flip=np.array([False, False]),
        characterization=np.array([1.0]),
        activity_rows=np.array([0, 1]),
    )


def test_one_lognormal_exchange_matches_the_analytic_median_and_gsd():
    scores = sample_scores(_system(), [0, 1], 20_000, seed=7)
    b = scores[:, 1]
    # sampling error of the median of a lognormal: ~1.25 sigma / sqrt(n) in log space
    assert np.median(b) == pytest.approx(MEDIAN, rel=0.01)
    assert math.exp(np.std(np.log(b), ddof=1)) == pytest.approx(GSD, rel=0.01)
    np.testing.assert_allclose(scores[:, 0], 1.0 + 0.5 * b, rtol=1e-12)


def test_without_uncertainty_every_sample_is_deterministic():
    scores = sample_scores(_system().without_uncertainty(), [0, 1], 700, seed=1)
    np.testing.assert_allclose(scores[:, 1], MEDIAN, rtol=1e-12)
    np.testing.assert_allclose(scores[:, 0], 1.0 + 0.5 * MEDIAN, rtol=1e-12)


def test_uncertain_technosphere_exchange_is_solved_exactly():
    system = _system()
    params = system.tech_params.copy()
    params[2] = (2, math.log(0.5), math.log(1.3), np.nan, np.nan, np.nan, False)
    from dataclasses import replace

    system = replace(system, tech_params=params)
    scores = sample_scores(system, [0, 1], 1000, seed=3)
    # score of a = 1 + (sampled input of b) x score of b; input median 0.5, GSD 1.3
    ratio = (scores[:, 0] - 1.0) / scores[:, 1]
    assert np.median(ratio) == pytest.approx(0.5, rel=0.03)
    assert math.exp(np.std(np.log(ratio))) == pytest.approx(1.3, rel=0.05)


@pytest.mark.parametrize("chunk", [1, 37, 250, BLOCK_SIZE])
def test_results_do_not_depend_on_chunk_size(chunk):
    reference = sample_scores(_system(), [0, 1], BLOCK_SIZE + 123, seed=11, chunk=100)
    other = sample_scores(_system(), [0, 1], BLOCK_SIZE + 123, seed=11, chunk=chunk)
    np.testing.assert_allclose(other, reference, rtol=1e-13)


def test_seed_reproducibility_and_prefix_property():
    first = sample_scores(_system(), [1], 1200, seed=5)
    again = sample_scores(_system(), [1], 1200, seed=5)
    shorter = sample_scores(_system(), [1], 600, seed=5)
    other = sample_scores(_system(), [1], 1200, seed=6)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[:600], shorter)
    assert not np.allclose(first, other)


def test_workers_give_the_same_samples():
    one = sample_scores(_system(), [0, 1], 3 * BLOCK_SIZE, seed=9)
    two = sample_scores(_system(), [0, 1], 3 * BLOCK_SIZE, seed=9, workers=2)
    np.testing.assert_allclose(one, two, rtol=1e-13)


# -- the built-in data --------------------------------------------------------------

SPEC = """
product: {id: can, name: can, declared_unit: 1 piece, geography: JP}
components:
  - id: body
    material: aluminium
    mass: 11.0 g ± 5 %
    recycled_content: {amount: 50 %, distribution: triangular, min: 40 %, max: 60 %}
  - {id: lid, material: aluminium, mass: 2.5 g}
stages:
  production:
    - activity: "electricity, grid, JP"
      amount: {amount: 0.02 kWh, distribution: lognormal, gsd: 1.2}
  distribution:
    - {activity: "transport, lorry", amount: 13.5 kg*km}
variants:
  lighter: {components: {body: {mass: 10.0 g ± 5 %}}}
"""


@pytest.fixture(scope="module")
def can(tmp_path_factory, builtin_table):
    from cfp_engine.spec.product import load_spec

    path = tmp_path_factory.mktemp("mc") / "can.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return load_spec(path)


def test_builtin_background_without_uncertainty_equals_the_score_table(builtin_table):
    from cfp_engine.spec.methods import resolve_method
    from cfp_engine.store.queries import load_background

    method = resolve_method(None).name
    system = load_background(builtin_table, method).without_uncertainty()
    scores = sample_scores(system, system.activity_rows, 50, seed=1)
    expected = builtin_table.indicator(method, "total")
    np.testing.assert_allclose(scores, np.broadcast_to(expected, scores.shape), rtol=1e-8)


def test_builtin_exchanges_are_uncertain(builtin_table):
    from cfp_engine.store.queries import load_background

    system = load_background(builtin_table, "IPCC 2021 GWP100")
    assert np.all(system.bio_params["uncertainty_type"] == 2)
    assert system.uncertain_entries >= len(system.bio_params)


def test_footprint_samples_without_any_uncertainty_equal_the_deterministic_result(
    builtin_table, tmp_path
):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.queries import load_background
    from cfp_engine.uncertainty.analysis import sample_footprints

    plain = (
        SPEC.replace(" ± 5 %", "")
        .replace("{amount: 50 %, distribution: triangular, min: 40 %, max: 60 %}", "50 %")
        .replace("{amount: 0.02 kWh, distribution: lognormal, gsd: 1.2}", "0.02 kWh")
    )
    path = tmp_path / "plain.yaml"
    path.write_text(plain, encoding="utf-8")
    spec = load_spec(path)
    calculator = FootprintCalculator(table=builtin_table)
    background = load_background(builtin_table, calculator.method.name).without_uncertainty()
    (result,) = sample_footprints(
        [(spec, None)], calculator, iterations=300, seed=3, background=background
    )
    np.testing.assert_allclose(result.total, result.result.total_kg_co2e, rtol=1e-8)
    for stage, values in result.stages.items():
        np.testing.assert_allclose(
            values, result.result.stages_kg_co2e[stage], rtol=1e-8, atol=1e-15
        )


def test_the_model_items_at_nominal_values_are_the_deterministic_demand(builtin_table, can):
    """The Monte Carlo items come from the engine's demand terms: same activities, amounts."""
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.model import build_model

    model = build_model(FootprintCalculator(table=builtin_table), can)
    nominal: dict[tuple[str, str], float] = {}
    for item in model.items:
        key = (item.stage, builtin_table.activities[item.activity].reference)
        nominal[key] = nominal.get(key, 0.0) + item.unit * item.size * item.coefficient
    demand: dict[tuple[str, str], float] = {}
    for line in model.result.line_items:
        demand[(line.stage, line.activity)] = demand.get((line.stage, line.activity), 0.0)
        demand[(line.stage, line.activity)] += line.amount
    assert nominal == pytest.approx(demand, rel=1e-12)
    # The body's recycled content is uncertain: its virgin and recycled routes vary with it.
    body = [i for i in model.items if i.size_key == "can/body/mass"]
    assert {k for i in body for k, _, _ in i.gradients} == {"can/body/recycled_content"}


def test_common_random_numbers_make_a_strict_reduction_certain(builtin_table, can):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import compare_statistics, sample_footprints

    calculator = FootprintCalculator(table=builtin_table)
    base, lighter = sample_footprints(
        [(can, None), (can, "lighter")], calculator, iterations=2000, seed=4
    )
    stats = compare_statistics(base, lighter)
    assert stats["p_lower_than_base"] == 1.0
    assert stats["difference_kg_co2e"]["p97_5"] < 0
    # ... while the two distributions overlap: independent draws would not give 1.
    assert lighter.statistics()["p97_5"] > base.statistics()["p2_5"]


def test_footprint_statistics_are_reproducible_and_chunk_invariant(builtin_table, can):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints

    calculator = FootprintCalculator(table=builtin_table)
    (a,) = sample_footprints([(can, None)], calculator, iterations=1100, seed=8, chunk=64)
    (b,) = sample_footprints([(can, None)], calculator, iterations=1100, seed=8, chunk=500)
    np.testing.assert_allclose(a.total, b.total, rtol=1e-12)
    stats = a.statistics()
    assert stats["n"] == 1100 and stats["seed"] == 8
    assert stats["p2_5"] < stats["median"] < stats["p97_5"]
    assert stats["deterministic"] == pytest.approx(a.result.total_kg_co2e)
    assert set(stats["stages"]) == set(a.result.stages_kg_co2e)


def test_bad_iteration_count(builtin_table, can):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints

    with pytest.raises(SpecError, match=r"^iterations = 0: the number of iterations must be >= 1$"):
        sample_footprints([(can, None)], FootprintCalculator(table=builtin_table), iterations=0)


def test_samples_parquet_round_trip(builtin_table, can, tmp_path):
    import pyarrow.parquet as pq

    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints
    from cfp_engine.uncertainty.output import write_samples

    results = sample_footprints(
        [(can, None)], FootprintCalculator(table=builtin_table), iterations=100, seed=2
    )
    path = tmp_path / "samples.parquet"
    write_samples(results, path)
    table = pq.read_table(path)
    assert table.num_rows == 100
    np.testing.assert_array_equal(table.column("total_kg_co2e").to_numpy(), results[0].total)
    assert table.schema.metadata[b"seed"] == b"2"


def test_per_kwh_statistics_are_the_totals_over_the_energy_delivered(builtin_table):
    # The energy is not sampled: every statistic of the total divides by it
    # (PV example: 1365 x 0.179 x 0.75 x 30 = 5497.5375 kWh per m2).
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import load_spec
    from cfp_engine.uncertainty.analysis import sample_footprints

    from conftest import EXAMPLES

    calculator = FootprintCalculator(table=builtin_table)
    spec = load_spec(EXAMPLES / "pv-module-bom.yaml")
    (result,) = sample_footprints([(spec, None)], calculator, iterations=200, seed=5)
    stats = result.statistics()
    per_kwh = stats["per_kwh_delivered"]
    for key in ("mean", "median", "sd", "p2_5", "p97_5", "deterministic"):
        assert per_kwh[key] == pytest.approx(stats[key] / 5497.5375, rel=1e-12)
    assert per_kwh["sd"] > 0
    # No functional unit, no per-kWh statistics.
    plain = load_spec(EXAMPLES / "pet-bottle.yaml")
    (bottle,) = sample_footprints([(plain, None)], calculator, iterations=50, seed=5)
    assert "per_kwh_delivered" not in bottle.statistics()


def test_per_kwh_statistics_need_the_excluded_stages_to_be_zero():
    from cfp_engine.uncertainty.analysis import _per_kwh_statistics

    block = {"kwh_per_declared_unit": 480.0, "excluded_stages": ["use"]}
    stats = {"mean": 48.0, "median": 47.0, "sd": 4.8, "p2_5": 40.0, "p97_5": 57.6}
    stats["deterministic"] = 48.0
    zero = {"mean": 0.0, "sd": 0.0}
    document = {**stats, "stages": {"use": zero, "production": {"mean": 48.0, "sd": 4.8}}}
    per_kwh = _per_kwh_statistics(block, document)
    assert per_kwh["mean"] == pytest.approx(0.1) and per_kwh["p97_5"] == pytest.approx(0.12)
    # A use stage that varies cannot be taken out of the total's percentiles.
    document["stages"]["use"] = {"mean": 1.0, "sd": 0.1}
    assert _per_kwh_statistics(block, document) is None
    assert _per_kwh_statistics(None, document) is None
