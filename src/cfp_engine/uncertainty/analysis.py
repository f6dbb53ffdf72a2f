"""Monte Carlo footprints: the product's foreground vectorised over iterations.

Every product (base and variants) becomes line items whose amount in iteration ``s``
is ``unit * size_s * (coef_0 + sum_k g_k (p_k,s - p_k,0))``: ``size`` is the
component mass (kg) or the stage amount, ``p`` the uncertain shares (R1, R2, R3) and
``g`` the exact slope of the allocation coefficient in each share (the formulas of
:mod:`cfp_engine.engine.circularity` are affine in each share on the allowed region). The
scores of one unit of each activity come from :mod:`cfp_engine.store.sampled_scores`, one draw of
the background per iteration for all products, so the base and every variant see the
same draw of every shared exchange (common random numbers). Spec parameters are shared
the same way: a parameter is keyed by product, component and field, and one uniform
number per key and iteration (seeded by ``SeedSequence(seed, spawn_key=(1, block,
crc32(key)))``) is turned into each product's value by its own distribution.

Recycled content and end-of-life rates are truncated to [0, 1]; a draw with
R2 + R3 > 1 is scaled down proportionally to R2 + R3 = 1.
"""

from __future__ import annotations

import math
import os
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cfp_engine.engine.circularity import ENERGY_ROLES
from cfp_engine.engine.footprint import (
    DEFAULT_APPROACH,
    FootprintCalculator,
    plan_coefficients,
    plan_component,
    role_activity,
)
from cfp_engine.engine.results import FootprintResult
from cfp_engine.errors import CalculationError, SpecError
from cfp_engine.spec.distributions import Distribution
from cfp_engine.spec.product import ACTIVITY_STAGES, STAGES, ProductSpec
from cfp_engine.spec.units import convert_to_activity_unit, registry
from cfp_engine.store.sampled_scores import BLOCK_SIZE, DEFAULT_CHUNK, iter_scores
from cfp_engine.uncertainty.checks import check_scores, explain_non_finite
from cfp_engine.uncertainty.statistics import StreamingSummary, summarise

SHARE_FIELDS = {"R1": "recycled_content", "R2": "recycling", "R3": "energy_recovery"}


@dataclass(frozen=True)
class McItem:
    """One line item as a function of the sampled parameters."""

    stage: str
    activity: int  # index in the score table
    unit: float  # activity units per unit of size
    size_key: str
    size: float  # nominal size (kg of material, or the stage amount as written)
    coefficient: float  # nominal coefficient (per kg), 1 for stage items
    gradients: tuple[tuple[str, float, float], ...] = ()  # (share key, slope, nominal)

    def footprints(self, values: dict[str, np.ndarray], scores: np.ndarray) -> np.ndarray:
        """kg CO2e in each iteration: the sampled amount times the activity's ``scores``."""
        coefficient = np.full(scores.shape[0], self.coefficient)
        for key, slope, at in self.gradients:
            coefficient += slope * (values[key] - at)
        return self.unit * values[self.size_key] * coefficient * scores


@dataclass(frozen=True)
class McModel:
    """A product's items and the distributions of its parameters (by key)."""

    result: FootprintResult
    items: tuple[McItem, ...]
    distributions: dict[str, Distribution] = field(default_factory=dict)
    nominal: dict[str, float] = field(default_factory=dict)
    share_pairs: tuple[tuple[str, str], ...] = ()  # (R2 key, R3 key) per component
    #: Where each parameter is in the spec (``spec.yaml: components[0].mass``), for errors.
    labels: dict[str, str] = field(default_factory=dict)
    source: str = "<spec>"


def build_model(
    calculator: FootprintCalculator,
    spec: ProductSpec,
    *,
    variant: str | None = None,
    approach: str | None = None,
) -> McModel:
    """The deterministic footprint and the line items of ``spec`` as sampled functions."""
    result = calculator.calculate(spec, variant=variant, approach=approach)
    product = spec.with_variant(variant)
    approach = approach or product.approach or DEFAULT_APPROACH
    table = calculator.table_for(product)
    materials, _ = calculator.materials_for(product)
    ureg = registry()
    items: list[McItem] = []
    distributions: dict[str, Distribution] = {}
    nominal: dict[str, float] = {}
    labels: dict[str, str] = {}
    pairs = []
    for component in product.components:
        plan = plan_component(component, materials, table, product, approach)
        prefix = f"{spec.id}/{component.id}"
        size_key = f"{prefix}/mass"
        nominal[size_key] = component.mass_kg
        labels[size_key] = f"{component.where}.mass"
        if "mass" in component.distributions:
            distributions[size_key] = component.distributions["mass"]
        uncertain = dict(component.distributions)
        if component.end_of_life is not None:
            uncertain.update(component.end_of_life.distributions)
        params = plan.parameters
        for name, spec_field in SHARE_FIELDS.items():
            key = f"{prefix}/{spec_field}"
            nominal[key] = getattr(params, name)
            end_of_life = "end_of_life." if name != "R1" else ""
            labels[key] = f"{component.where}.{end_of_life}{spec_field}"
            if spec_field in uncertain:
                distributions[key] = uncertain[spec_field]
        pairs.append((f"{prefix}/recycling", f"{prefix}/energy_recovery"))

        def coefficients(p, plan=plan):
            # The deterministic demand's roles: no end of life, no blank treatment.
            return plan_coefficients(plan, approach, p)

        base = coefficients(params)
        slopes: dict[tuple[str, str], list[tuple[str, float, float]]] = {}
        for name, spec_field in SHARE_FIELDS.items():
            key = f"{prefix}/{spec_field}"
            if key not in distributions:
                continue
            high = {"R1": 1.0, "R2": 1.0 - params.R3, "R3": 1.0 - params.R2}[name]
            if high <= 0.0:
                continue
            low_c = coefficients(replace(params, **{name: 0.0}))
            high_c = coefficients(replace(params, **{name: high}))
            for stage, roles in high_c.items():
                for role in set(roles) | set(low_c.get(stage, {})):
                    slope = (roles.get(role, 0.0) - low_c[stage].get(role, 0.0)) / high
                    if slope != 0.0:
                        slopes.setdefault((stage, role), []).append(
                            (key, slope, getattr(params, name))
                        )
        keys = {(s, r) for s, roles in base.items() for r, v in roles.items() if v != 0.0}
        for stage, role in sorted(keys | set(slopes), key=lambda k: (STAGES.index(k[0]), k[1])):
            per_kg = base.get(stage, {}).get(role, 0.0)
            info = role_activity(plan, role, per_kg or 1.0, table)
            one = ureg.Quantity(1.0, "megajoule" if role in ENERGY_ROLES else "kilogram")
            unit = convert_to_activity_unit(
                one, info.unit, where=f"{component.where}.mass", activity=info.name
            )
            items.append(
                McItem(
                    stage,
                    info.index,
                    unit,
                    size_key,
                    component.mass_kg,
                    per_kg,
                    tuple(slopes.get((stage, role), ())),
                )
            )
    for stage in ACTIVITY_STAGES:
        for index, entry in enumerate(product.stages.get(stage, ())):
            info = table.find(entry.activity, where=f"{entry.where}.activity")
            unit = convert_to_activity_unit(
                ureg.Quantity(1.0, entry.amount.units),
                info.unit,
                where=f"{entry.where}.amount",
                activity=info.name,
            )
            key = f"{spec.id}/stages/{stage}/{index}/{entry.activity}"
            nominal[key] = float(entry.amount.magnitude)
            labels[key] = f"{entry.where}.amount"
            if entry.distribution is not None:
                distributions[key] = entry.distribution
            items.append(McItem(stage, info.index, unit, key, nominal[key], 1.0))
    return McModel(
        result, tuple(items), distributions, nominal, tuple(pairs), labels, product.source
    )


# -- sampling -------------------------------------------------------------------------


def parameter_uniforms(seed: int, key: str, iterations: int, first_block: int = 0) -> np.ndarray:
    """The uniform numbers of one spec parameter, block by block (see module docstring).

    ``iterations`` numbers from block ``first_block`` on (iteration ``first_block *
    BLOCK_SIZE``): a part of a longer run gets the same numbers as the whole run.
    """
    tag = zlib.crc32(key.encode("utf-8"))
    parts = []
    for block in range(first_block, first_block + math.ceil(iterations / BLOCK_SIZE)):
        sequence = np.random.SeedSequence(seed, spawn_key=(1, block, tag))
        parts.append(np.random.Generator(np.random.PCG64(sequence)).random(BLOCK_SIZE))
    return np.concatenate(parts)[:iterations]


def _parameter_values(
    model: McModel, seed: int, iterations: int, first_block: int = 0
) -> dict[str, np.ndarray]:
    values = {}
    for key, value in model.nominal.items():
        distribution = model.distributions.get(key)
        if distribution is None:
            values[key] = np.full(iterations, value)
        else:
            uniforms = parameter_uniforms(seed, key, iterations, first_block)
            values[key] = distribution.ppf(uniforms)
    for r2_key, r3_key in model.share_pairs:
        total = values[r2_key] + values[r3_key]
        over = total > 1.0
        if over.any():
            values[r2_key] = np.where(over, values[r2_key] / total, values[r2_key])
            values[r3_key] = np.where(over, values[r3_key] / total, values[r3_key])
    return values


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
                f"--mc {self.n}: the samples of more than {summary.exact_limit:,} iterations "
                f"are not kept (only their statistics); use --mc {summary.exact_limit} or fewer"
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
        return document

    def to_dict(self) -> dict[str, Any]:
        document = self.result.to_dict()
        document["mc"] = self.statistics()
        return document


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
        raise SpecError(f"--mc {iterations}: the number of iterations must be >= 1")
    seed = draw_seed() if seed is None else int(seed)
    if seed < 0:
        raise SpecError(f"--seed {seed}: a seed is an integer >= 0")
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
                values = _parameter_values(model, seed, count, done // BLOCK_SIZE)
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


def write_samples(results: Sequence[McResult], path: str | Path) -> None:
    """Write the samples as Parquet (long format, one row per product and iteration).

    Written atomically: a temporary file in the same folder, then renamed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    columns: dict[str, list] = {"product_id": [], "variant": [], "iteration": []}
    columns.update({"total_kg_co2e": []}, **{f"{s}_kg_co2e": [] for s in STAGES})
    for each in results:
        columns["product_id"].extend([each.result.product_id] * each.n)
        columns["variant"].extend([each.result.variant] * each.n)
        columns["iteration"].extend(range(each.n))
        columns["total_kg_co2e"].extend(each.total.tolist())
        for stage in STAGES:
            columns[f"{stage}_kg_co2e"].extend(each.stages[stage].tolist())
    table = pa.table(columns)
    seed = results[0].seed if results else None
    table = table.replace_schema_metadata(
        {"seed": str(seed), "iterations": str(len(columns["iteration"]))}
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plot_distributions(
    results: Sequence[McResult], path: str | Path, *, title: str, declared_unit: str
) -> None:
    """Histograms of each product's total and of each variant's difference to the base."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    panels = 2 if len(results) > 1 else 1
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.2), dpi=120, squeeze=False)
    axes = axes[0]
    low = min(np.percentile(r.total, 0.5) for r in results)
    high = max(np.percentile(r.total, 99.5) for r in results)
    bins = np.linspace(low, high, 60) if high > low else 30
    for each in results:
        label = each.result.variant or "base"
        axes[0].hist(each.total, bins=bins, histtype="step", linewidth=1.2, label=label)
        axes[0].axvline(each.result.total_kg_co2e, linestyle=":", linewidth=0.8)
    axes[0].set_xlabel(f"carbon footprint (kg CO2e per {declared_unit})")
    axes[0].set_ylabel("iterations")
    axes[0].set_title(f"{title} (n = {results[0].n}; dotted: deterministic)", fontsize="small")
    axes[0].legend(fontsize="small")
    if panels == 2:
        base = results[0]
        for each in results[1:]:
            stats = compare_statistics(base, each)
            axes[1].hist(
                each.total - base.total,
                bins=60,
                histtype="step",
                linewidth=1.2,
                label=f"{each.result.variant}: P(< base) = {stats['p_lower_than_base']:.3f}",
            )
        axes[1].axvline(0.0, color="black", linewidth=0.8)
        axes[1].set_xlabel(f"variant - base (kg CO2e per {declared_unit})")
        axes[1].set_ylabel("iterations")
        axes[1].set_title("paired differences (common random numbers)", fontsize="small")
        axes[1].legend(fontsize="small")
    figure.tight_layout()
    from cfp_engine.files.atomic import save_figure_atomically

    save_figure_atomically(figure, path)


# -- command-line helpers (library side of ``cfp calc/compare --mc``) -------------------


def compare_with_uncertainty(
    specs: Sequence[ProductSpec],
    calculator: FootprintCalculator,
    *,
    iterations: int,
    seed: int | None = None,
    approach: str | None = None,
    workers: int = 1,
) -> tuple[list[dict[str, Any]], list[McResult]]:
    """``cfp compare --mc``: section-3 documents with ``"mc"`` and paired statistics.

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


def render_mc_table(result: McResult) -> str:
    """Deterministic value and MC statistics side by side, total and stages."""
    stats = result.statistics()
    r = result.result
    name = r.product_name + (f" [{r.variant}]" if r.variant else "")
    lines = [
        f"{name}: Monte Carlo, n = {stats['n']}, seed = {stats['seed']} "
        f"(kg CO2e per {r.declared_unit}, {r.method}, {r.approach})",
        f"{'':16} {'determ.':>11} {'mean':>11} {'median':>11} {'sd':>11} "
        f"{'p2.5':>11} {'p97.5':>11}",
    ]
    rows = [("total", {**stats, "deterministic": stats["deterministic"]})]
    rows += [(s, v) for s, v in stats["stages"].items() if v["deterministic"] or v["sd"]]
    for label, v in rows:
        lines.append(
            f"{label:16} {v['deterministic']:11.4g} {v['mean']:11.4g} {v['median']:11.4g} "
            f"{v['sd']:11.4g} {v['p2_5']:11.4g} {v['p97_5']:11.4g}"
        )
    return "\n".join(lines)


def render_mc_comparison(documents: Sequence[dict[str, Any]]) -> str:
    """One line per product: deterministic, median, 95 % interval, P(< base), reduction."""
    first = documents[0]
    lines = [
        f"Monte Carlo comparison, n = {first['mc']['n']}, seed = {first['mc']['seed']} "
        f"(kg CO2e per {first['declared_unit']}; paired draws)",
        f"{'product / variant':28} {'approach':15} {'determ.':>10} {'median':>10} "
        f"{'95 % interval':>23} {'P(<base)':>9} {'reduction, 95 % interval':>30}",
    ]
    for d in documents:
        mc = d["mc"]
        name = d["product_id"] + (f" [{d['variant']}]" if d["variant"] else "")
        interval = f"{mc['p2_5']:.4g} - {mc['p97_5']:.4g}"
        p = d.get("p_lower_than_base")
        reduction = mc.get("reduction_vs_base")
        red = (
            f"{reduction['mean']:.1%} ({reduction['p2_5']:.1%} - {reduction['p97_5']:.1%})"
            if reduction
            else "(reference)"
        )
        lines.append(
            f"{name[:28]:28} {d['approach']:15} {mc['deterministic']:10.4g} "
            f"{mc['median']:10.4g} {interval:>23} {'' if p is None else f'{p:.3f}':>9} {red:>30}"
        )
    return "\n".join(lines)
