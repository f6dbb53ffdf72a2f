"""Monte Carlo statistics in bounded memory: exact up to a limit, then streamed."""

from __future__ import annotations

import numpy as np
import pytest
from test_montecarlo import SPEC, _system  # noqa: F401  (the hand-made background)

from cfp_engine.errors import SpecError
from cfp_engine.store.sampled_scores import BLOCK_SIZE, iter_scores, sample_scores
from cfp_engine.uncertainty import statistics as mc_statistics
from cfp_engine.uncertainty.statistics import StreamingSummary, summarise


def _lognormal(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(mean=0.7, sigma=0.4, size=n)


def test_below_the_limit_the_statistics_are_those_of_all_samples():
    values = _lognormal(5_000)
    summary = StreamingSummary(exact_limit=5_000)
    for start in range(0, values.size, 1_300):
        summary.add(values[start : start + 1_300])
    assert summary.exact
    assert summary.statistics() == summarise(values)  # the same floats, not approximately
    np.testing.assert_array_equal(summary.samples, values)


def test_by_hand_three_samples():
    summary = StreamingSummary()
    summary.add(np.array([1.0, 2.0]))
    summary.add(np.array([6.0]))
    # mean 3, sd sqrt(((1-3)^2 + (2-3)^2 + (6-3)^2) / 2) = sqrt(7), median 2,
    # p2.5 at rank 0.05 -> 1.05, p97.5 at rank 1.95 -> 2 + 0.95 * 4 = 5.8
    assert summary.statistics() == pytest.approx(
        {"mean": 3.0, "median": 2.0, "sd": 7**0.5, "p2_5": 1.05, "p97_5": 5.8}, rel=1e-12
    )


def test_above_the_limit_quantiles_are_within_the_stated_error():
    values = _lognormal(200_000, seed=3)
    summary = StreamingSummary(exact_limit=10_000, bins=4096)
    for start in range(0, values.size, 7_000):
        summary.add(values[start : start + 7_000])
    assert not summary.exact
    with pytest.raises(ValueError, match="folded into a histogram"):
        _ = summary.samples
    stats = summary.statistics()
    first = values[:10_000]
    width = (first.max() - first.min()) / 4096  # one bin
    assert width / 2 <= stats["quantile_error"] <= 2 * width
    assert stats["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert stats["sd"] == pytest.approx(values.std(ddof=1), rel=1e-9)
    exact = summarise(values)
    for key in ("median", "p2_5", "p97_5"):
        assert abs(stats[key] - exact[key]) <= stats["quantile_error"], key
        # and the bound is tight enough to matter: well under 1 % of the sd
        assert stats["quantile_error"] < 0.01 * exact["sd"]


def test_a_quantile_outside_the_first_samples_range_is_bounded_by_min_and_max():
    # The first 100 samples are all 1.0; the rest lie far above: the 97.5th percentile
    # falls above the histogram's range and is bounded by the exact maximum.
    values = np.concatenate([np.ones(100), np.linspace(10.0, 20.0, 900)])
    summary = StreamingSummary(exact_limit=100, bins=16)
    summary.add(values[:100])
    summary.add(values[100:])
    stats = summary.statistics()
    exact = summarise(values)
    assert 10.0 <= stats["p97_5"] <= 20.0
    assert abs(stats["p97_5"] - exact["p97_5"]) <= stats["quantile_error"]
    # the median's slot (above the range) spans 1 .. 20: the bound is honest, not small
    assert stats["quantile_error"] <= 19.0


@pytest.mark.parametrize(
    ("values", "finite"),
    [
        ([1.0, 2.0], True),
        ([1.0, np.inf], False),
        ([1.0, np.nan], False),
        ([-np.inf, 1.0], False),
        # n = 2: the sums stay finite while 4 x peak^2 x 2 <= 1.797e308, peak <= 4.7e153
        ([1e153, -1e153], True),
        ([1e154, 1.0], False),
        ([1e308, 1e308], False),  # finite samples, their sum (the mean) is not
    ],
)
def test_finite_tells_whether_the_statistics_can_be_finite_numbers(values, finite):
    import warnings

    summary = StreamingSummary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow is reported by ``finite``, not warned
        summary.add(np.array(values))
    assert summary.finite is finite
    if finite:
        assert all(np.isfinite(v) for v in summary.statistics().values())


def test_finite_is_checked_in_histogram_mode_too():
    summary = StreamingSummary(exact_limit=3, bins=4)
    summary.add(np.array([1.0, 2.0, 3.0, 4.0]))
    assert not summary.exact and summary.finite
    summary.add(np.array([np.nan]))
    assert not summary.finite


def test_a_non_finite_background_score_names_its_activity():
    from cfp_engine.errors import CalculationError
    from cfp_engine.store.scores import ActivityInfo, ScoreTable
    from cfp_engine.uncertainty.checks import check_scores

    activities = [
        ActivityInfo(index=i, database="mine", code=c, name=c, location="GLO", unit="kg")
        for i, c in enumerate(["steel", "wild", "tame"])
    ]
    table = ScoreTable(activities, {}, {})
    scores = np.ones((4, 2))
    check_scores(scores, [2, 1], table)  # all finite: no error
    scores[[1, 3], 1] = np.inf  # column 1 is activity 1, "wild", in 2 of 4 iterations
    with pytest.raises(
        CalculationError,
        match=r"score of 'mine::wild::GLO' is not a finite "
        r"number in 2 iteration\(s\): .*database 'mine'",
    ):
        check_scores(scores, [2, 1], table)


def test_scores_in_parts_are_the_scores_of_the_whole_run():
    iterations = 5 * BLOCK_SIZE + 123
    whole = sample_scores(_system(), [0, 1], iterations, seed=11)
    parts = list(iter_scores(_system(), [0, 1], iterations, seed=11, part=2 * BLOCK_SIZE))
    assert [p.shape[0] for p in parts] == [1000, 1000, 623]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_a_part_size_that_is_not_whole_blocks_is_refused():
    from cfp_engine.errors import CalculationError

    with pytest.raises(CalculationError, match="multiple of 500"):
        next(iter_scores(_system(), [0, 1], 1000, seed=1, part=700))


# -- footprints (built-in data) --------------------------------------------------------


@pytest.fixture(scope="module")
def can(tmp_path_factory, builtin_table):
    from cfp_engine.spec.product import load_spec

    path = tmp_path_factory.mktemp("mc-stream") / "can.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return load_spec(path)


def _run(builtin_table, can, iterations):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints

    calculator = FootprintCalculator(table=builtin_table)
    return sample_footprints(
        [(can, None), (can, "lighter")], calculator, iterations=iterations, seed=4
    )


def test_footprints_in_parts_give_the_same_numbers(builtin_table, can, monkeypatch):
    from cfp_engine.uncertainty import analysis as uncertainty_analysis
    from cfp_engine.uncertainty.analysis import compare_statistics

    whole = _run(builtin_table, can, 2_300)
    monkeypatch.setattr(uncertainty_analysis, "PART_ITERATIONS", 2 * BLOCK_SIZE)
    parts = _run(builtin_table, can, 2_300)
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_array_equal(a.total, b.total)
        assert a.statistics() == b.statistics()
    assert parts[1].paired == compare_statistics(parts[0], parts[1])


def test_above_the_limit_only_statistics_are_kept(builtin_table, can, monkeypatch):
    from cfp_engine.uncertainty import analysis as uncertainty_analysis

    exact = _run(builtin_table, can, 6_000)
    monkeypatch.setattr(uncertainty_analysis, "PART_ITERATIONS", 2 * BLOCK_SIZE)
    monkeypatch.setattr(mc_statistics, "EXACT_LIMIT", 1_500)
    streamed = _run(builtin_table, can, 6_000)
    for a, b in zip(exact, streamed, strict=True):
        with pytest.raises(SpecError, match="samples of more than 1,500 iterations"):
            _ = b.total
        want, got = a.statistics(), b.statistics()
        assert got["n"] == 6_000 and got["mean"] == pytest.approx(want["mean"], rel=1e-12)
        assert got["sd"] == pytest.approx(want["sd"], rel=1e-9)
        for key in ("median", "p2_5", "p97_5"):
            assert abs(got[key] - want[key]) <= got["quantile_error"], key
    assert streamed[1].paired["p_lower_than_base"] == exact[1].paired["p_lower_than_base"]


# -- command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option", "target"),
    [("calc", "--samples", "s.parquet"), ("compare", "--plot", "p.png")],
)
def test_options_that_need_every_sample_are_refused_above_the_limit(
    tmp_path, monkeypatch, command, option, target
):
    from click.testing import CliRunner

    from cfp_engine.cli import cli

    from conftest import EXAMPLES

    monkeypatch.setattr(mc_statistics, "EXACT_LIMIT", 1_000)
    path = tmp_path / target
    spec = str(EXAMPLES / "aluminium-can.yaml")
    result = CliRunner().invoke(cli, [command, spec, "--mc", "1001", option, str(path)])
    assert result.exit_code == 2, result.output
    assert f"{option} needs every sample" in result.output
    assert "up to 1,000 iterations" in result.output
    assert not path.exists()
