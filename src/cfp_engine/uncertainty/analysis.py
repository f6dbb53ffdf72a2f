"""Monte Carlo runs: several products sampled together, their statistics and comparisons.

Each product's model (:mod:`cfp_engine.uncertainty.model`) is evaluated on the same draws
of the background (common random numbers), part by part, and folded into streamed
statistics (:mod:`cfp_engine.uncertainty.statistics`); a figure that is not a finite number
is traced to its input (:mod:`cfp_engine.uncertainty.checks`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.results import FootprintResult
from cfp_engine.errors import CalculationError, SpecError
from cfp_engine.spec.product import STAGES, ProductSpec
from cfp_engine.store.sampled_scores import BLOCK_SIZE, DEFAULT_CHUNK, iter_scores
from cfp_engine.uncertainty.checks import check_scores, explain_non_finite
from cfp_engine.uncertainty.model import McModel, build_model, parameter_values
from cfp_engine.uncertainty.statistics import StreamingSummary, summarise


@dataclass(frozen=True)
class McResult:
    """Monte Carlo statistics of one product (or variant), with its deterministic result.

    The samples themselves (:attr:`total`, :attr:`stages`) are kept up to
    :data:`cfp_engine.uncertainty.statistics.EXACT_LIMIT` iterations; beyond it only streamed
    statistics are (:mod:`cfp_engine.uncertainty.statistics`).
    """

    result: FootprintResult
    seed: int
    n: int
    summaries: dict[str, StreamingSummary]  # "total" and each stage
    #: Paired with the first product of the run: ``p_lower_than_base``,
    #: ``difference_kg_co2e`` and ``reduction`` (None for the first product itself).
    paired: dict[str, Any] | None = None

    @property
    def total(self) -> np.ndarray:
        """(n,) kg CO2e per declared unit."""
        return self._samples("total")

    @property
    def stages(self) -> dict[str, np.ndarray]:
        """stage -> (n,) kg CO2e per declared unit."""
        return {stage: self._samples(stage) for stage in STAGES}

    def _samples(self, key: str) -> np.ndarray:
        summary = self.summaries[key]
        if not summary.exact:
            raise SpecError(
                f"iterations = {self.n}: the samples of more than {summary.exact_limit:,} "
                "iterations are not kept (only their statistics); use "
                f"{summary.exact_limit} iterations or fewer"
            )
        return summary.samples

    def statistics(self) -> dict[str, Any]:
        """The ``"mc"`` block of contract section 9, with per-stage statistics."""
        document: dict[str, Any] = {"n": self.n, "seed": self.seed}
        document.update(self.summaries["total"].statistics())
        document["deterministic"] = self.result.total_kg_co2e
        document["stages"] = {
            stage: {
                **self.summaries[stage].statistics(),
                "deterministic": self.result.stages_kg_co2e[stage],
            }
            for stage in STAGES
        }
        per_kwh = _per_kwh_statistics(self.result.per_kwh_delivered, document)
        if per_kwh is not None:
            document["per_kwh_delivered"] = per_kwh
        return document

    def to_dict(self) -> dict[str, Any]:
        document = self.result.to_dict()
        document["mc"] = self.statistics()
        return document


#: The statistics that scale with a constant divisor (all of :func:`summarise`'s but n).
_SCALED = ("mean", "median", "sd", "p2_5", "p97_5", "deterministic")


def _per_kwh_statistics(
    block: dict[str, Any] | None, document: dict[str, Any]
) -> dict[str, Any] | None:
    """The total's statistics per kWh delivered, when they follow from the total's.

    The energy delivered is not sampled, so each statistic of the total divides by it;
    a stage the functional unit leaves out (the battery's use) must then be 0 in every
    draw, else the per-kWh statistics are not given.
    """
    if block is None:
        return None
    stages = document["stages"]
    if any(stages[s]["mean"] or stages[s]["sd"] for s in block["excluded_stages"]):
        return None
    energy = block["kwh_per_declared_unit"]
    return {
        "unit": "kg CO2e per kWh delivered (the energy is not sampled)",
        **{key: document[key] / energy for key in _SCALED},
    }


def draw_seed() -> int:
    """A fresh seed (recorded in the output so the run can be repeated)."""
    return secrets.randbits(32)


def sample_footprints(
    products: Sequence[tuple[ProductSpec, str | None]],
    calculator: FootprintCalculator,
    *,
    iterations: int,
    seed: int | None = None,
    approach: str | None = None,
    chunk: int = DEFAULT_CHUNK,
    workers: int = 1,
    background=None,
) -> list[McResult]:
    """Monte Carlo footprints of several products with common random numbers.

    Parameters
    ----------
    products
        ``(spec, variant)`` pairs; all must use the same data (inventories).
    iterations
        Number of Monte Carlo iterations (>= 1).
    seed
        Seed of every random number; drawn (and recorded in the results) when None.
    chunk, workers
        Iterations solved together and worker processes; neither changes the results.
    background
        A :class:`cfp_engine.store.sampled_scores.BackgroundSystem` to use instead of the
        project's (tests).
    """
    if iterations < 1:
        raise SpecError(f"iterations = {iterations}: the number of iterations must be >= 1")
    seed = draw_seed() if seed is None else int(seed)
    if seed < 0:
        raise SpecError(f"seed = {seed}: a seed is an integer >= 0")
    models = [build_model(calculator, s, variant=v, approach=approach) for s, v in products]
    tables = {calculator.table_for(s.with_variant(v)).fingerprint for s, v in products}
    if len(tables) > 1:
        raise SpecError(
            "Monte Carlo comparisons need all products on the same data; these specs "
            "use different inventory files"
        )
    table = calculator.table_for(products[0][0].with_variant(products[0][1]))
    if background is None:
        from cfp_engine.store.queries import load_background

        background = load_background(table, calculator.method.name)
    activities = sorted({item.activity for m in models for item in m.items})
    position = {a: i for i, a in enumerate(activities)}
    if activities:
        parts = iter_scores(
            background,
            background.activity_rows[activities],
            iterations,
            seed,
            chunk=chunk,
            workers=workers,
            part=PART_ITERATIONS,
        )
    else:
        parts = (
            np.zeros((min(PART_ITERATIONS, iterations - start), 0))
            for start in range(0, iterations, PART_ITERATIONS)
        )
    summaries = [{key: StreamingSummary() for key in ("total", *STAGES)} for _ in models]
    paired = [_PairedSummary() for _ in models[1:]]
    done = 0
    for scores in parts:
        check_scores(scores, activities, table)
        count = scores.shape[0]
        base_total = None
        for index, model in enumerate(models):
            # Overflows are found below and named; numpy's warnings would only add noise.
            with np.errstate(over="ignore", invalid="ignore"):
                values = parameter_values(model, seed, count, done // BLOCK_SIZE)
                stages = _stage_samples(model, values, scores, position)
                total = np.sum([stages[s] for s in STAGES], axis=0)
            summary = summaries[index]
            summary["total"].add(total)
            for stage in STAGES:
                summary[stage].add(stages[stage])
            bad = [key for key in (*STAGES, "total") if not summary[key].finite]
            if bad:
                raise explain_non_finite(
                    model, values, scores, position, table, output=bad[0], first_iteration=done
                )
            if index == 0:
                base_total = total
            else:
                paired[index - 1].add(base_total, total, model.source)
        done += count
    return [
        McResult(
            model.result, seed, iterations, summary, None if i == 0 else paired[i - 1].result()
        )
        for i, (model, summary) in enumerate(zip(models, summaries, strict=True))
    ]


#: Iterations sampled and folded into the statistics at a time (a multiple of
#: BLOCK_SIZE): memory ~ PART_ITERATIONS x (activities + parameters) x 8 bytes.
PART_ITERATIONS = 100_000


def _stage_samples(
    model: McModel, values: dict[str, np.ndarray], scores: np.ndarray, position: dict[int, int]
) -> dict[str, np.ndarray]:
    """The stage footprints of ``model`` in one part of the iterations."""
    stages = {stage: np.zeros(scores.shape[0]) for stage in STAGES}
    for item in model.items:
        stages[item.stage] += item.footprints(values, scores[:, position[item.activity]])
    return stages


class _PairedSummary:
    """:func:`compare_statistics` folded in part by part (the same numbers while exact)."""

    def __init__(self):
        self.n = 0
        self.lower = 0
        self.difference = StreamingSummary()
        self.reduction = StreamingSummary()

    def add(self, base: np.ndarray, variant: np.ndarray, source: str) -> None:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            difference = variant - base
            reduction = np.where(base != 0, -difference / base, np.nan)
        self.n += base.size
        self.lower += int(np.count_nonzero(variant < base))
        self.difference.add(difference)
        self.reduction.add(reduction[np.isfinite(reduction)])
        # Both totals are finite here; only extremes of opposite sign, or a base within
        # ~1e-150 of zero, can overflow these.
        for name, summary in (("difference", self.difference), ("reduction", self.reduction)):
            if not summary.finite:
                raise CalculationError(
                    f"{source}: the Monte Carlo {name} to the base is not a finite number "
                    "in some iterations (footprints of opposite sign beyond 1e150, or a base "
                    "footprint near zero); check the amounts and their distributions"
                )

    def result(self) -> dict[str, Any]:
        return {
            "p_lower_than_base": self.lower / self.n,
            "difference_kg_co2e": self.difference.statistics(),
            "reduction": self.reduction.statistics() if self.reduction.n else None,
        }


# -- comparisons ----------------------------------------------------------------------


def compare_statistics(base: McResult, variant: McResult) -> dict[str, Any]:
    """P(variant < base), and the difference and the reduction, paired by iteration."""
    difference = variant.total - base.total
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = np.where(base.total != 0, -difference / base.total, np.nan)
    finite = reduction[np.isfinite(reduction)]
    return {
        "p_lower_than_base": float(np.mean(variant.total < base.total)),
        "difference_kg_co2e": summarise(difference),
        "reduction": summarise(finite) if finite.size else None,
    }


def compare_with_uncertainty(
    specs: Sequence[ProductSpec],
    calculator: FootprintCalculator,
    *,
    iterations: int,
    seed: int | None = None,
    approach: str | None = None,
    workers: int = 1,
) -> tuple[list[dict[str, Any]], list[McResult]]:
    """Compared footprints with Monte Carlo: documents with ``"mc"`` and paired statistics.

    Every spec's base and variants are sampled together (common random numbers); each
    is compared with the first spec's base under the same approach.
    """
    from cfp_engine.engine.scenarios import compare_designs, expand_approaches

    seed = draw_seed() if seed is None else seed
    documents, samples = [], []
    for each in expand_approaches(approach):
        compared = compare_designs(specs, calculator, approach=each)
        pairs = [(s, v) for s in specs for v in (None, *s.variant_names)]
        results = sample_footprints(
            pairs, calculator, iterations=iterations, seed=seed, approach=each, workers=workers
        )
        for index, (entry, mc) in enumerate(zip(compared, results, strict=True)):
            document = entry.to_dict()
            document["mc"] = mc.statistics()
            if index > 0:
                paired = mc.paired
                document["p_lower_than_base"] = paired["p_lower_than_base"]
                document["mc"]["difference_to_base_kg_co2e"] = paired["difference_kg_co2e"]
                document["mc"]["reduction_vs_base"] = paired["reduction"]
            documents.append(document)
        samples.extend(results)
    return documents, samples
