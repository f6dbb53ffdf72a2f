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
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.plan import ComponentPlan, component_term, stage_terms
from cfp_engine.engine.results import FootprintResult
from cfp_engine.spec.distributions import Distribution
from cfp_engine.spec.product import STAGES, ProductSpec
from cfp_engine.store.sampled_scores import BLOCK_SIZE
from cfp_engine.store.scores import ScoreTable

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
    """The deterministic footprint and the line items of ``spec`` as sampled functions.

    The items are the terms of the same plan and demand as the deterministic footprint
    (:mod:`cfp_engine.engine.plan`), plus the roles that only a varied share brings in.
    """
    plan = calculator.plan(spec, variant=variant, approach=approach)
    result = calculator.calculate_plan(plan)
    table = calculator.table_for(plan.product)
    model = _ModelParts()
    for component_plan in plan.components:
        _add_component(model, component_plan, plan.approach, table, prefix=spec.id)
    positions: dict[str, int] = {}
    for term in stage_terms(plan.product, table):
        index = positions[term.stage] = positions.get(term.stage, -1) + 1
        entry = term.item
        key = f"{spec.id}/stages/{term.stage}/{index}/{entry.activity}"
        model.nominal[key] = float(entry.amount.magnitude)
        model.labels[key] = term.where
        if entry.distribution is not None:
            model.distributions[key] = entry.distribution
        unit = term.unit_amount()
        item = McItem(term.stage, term.activity.index, unit, key, model.nominal[key], 1.0)
        model.items.append(item)
    return McModel(
        result,
        tuple(model.items),
        model.distributions,
        model.nominal,
        tuple(model.pairs),
        model.labels,
        plan.product.source,
    )


@dataclass
class _ModelParts:
    """The parts of an :class:`McModel` while it is built."""

    items: list[McItem] = field(default_factory=list)
    distributions: dict[str, Distribution] = field(default_factory=dict)
    nominal: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    pairs: list[tuple[str, str]] = field(default_factory=list)


def _add_component(
    model: _ModelParts, plan: ComponentPlan, approach: str, table: ScoreTable, *, prefix: str
) -> None:
    """Add the parameters and items of one component's plan to ``model``."""
    component = plan.component
    prefix = f"{prefix}/{component.id}"
    size_key = f"{prefix}/mass"
    model.nominal[size_key] = component.mass_kg
    model.labels[size_key] = f"{component.where}.mass"
    if "mass" in component.distributions:
        model.distributions[size_key] = component.distributions["mass"]
    uncertain = dict(component.distributions)
    if component.end_of_life is not None:
        uncertain.update(component.end_of_life.distributions)
    params = plan.parameters
    for name, spec_field in SHARE_FIELDS.items():
        key = f"{prefix}/{spec_field}"
        model.nominal[key] = getattr(params, name)
        end_of_life = "end_of_life." if name != "R1" else ""
        model.labels[key] = f"{component.where}.{end_of_life}{spec_field}"
        if spec_field in uncertain:
            model.distributions[key] = uncertain[spec_field]
    model.pairs.append((f"{prefix}/recycling", f"{prefix}/energy_recovery"))
    base = plan.coefficients(approach)
    slopes = _share_slopes(model, plan, approach, prefix)
    keys = {(s, r) for s, roles in base.items() for r, v in roles.items() if v != 0.0}
    for stage, role in sorted(keys | set(slopes), key=lambda k: (STAGES.index(k[0]), k[1])):
        per_kg = base.get(stage, {}).get(role, 0.0)
        term = component_term(plan, stage, role, per_kg, table)
        model.items.append(
            McItem(
                stage,
                term.activity.index,
                term.unit_amount(),
                size_key,
                component.mass_kg,
                per_kg,
                tuple(slopes.get((stage, role), ())),
            )
        )


def _share_slopes(
    model: _ModelParts, plan: ComponentPlan, approach: str, prefix: str
) -> dict[tuple[str, str], list[tuple[str, float, float]]]:
    """(stage, role) -> (share key, slope, nominal share) for each uncertain share.

    Each coefficient is affine in each share on the allowed region, so the slope is the
    difference of the coefficients at the two ends of the region over its width.
    """
    params = plan.parameters
    slopes: dict[tuple[str, str], list[tuple[str, float, float]]] = {}
    for name, spec_field in SHARE_FIELDS.items():
        key = f"{prefix}/{spec_field}"
        if key not in model.distributions:
            continue
        high = {"R1": 1.0, "R2": 1.0 - params.R3, "R3": 1.0 - params.R2}[name]
        if high <= 0.0:
            continue
        low_c = plan.coefficients(approach, replace(params, **{name: 0.0}))
        high_c = plan.coefficients(approach, replace(params, **{name: high}))
        for stage, roles in high_c.items():
            for role in set(roles) | set(low_c.get(stage, {})):
                slope = (roles.get(role, 0.0) - low_c[stage].get(role, 0.0)) / high
                if slope != 0.0:
                    slopes.setdefault((stage, role), []).append((key, slope, getattr(params, name)))
    return slopes


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


def parameter_values(
    model: McModel, seed: int, iterations: int, first_block: int = 0
) -> dict[str, np.ndarray]:
    """Every parameter of ``model`` in ``iterations`` iterations from block ``first_block``.

    Parameters without a distribution keep their nominal value; an R2, R3 pair that sums
    to more than 1 is scaled down to 1.
    """
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
