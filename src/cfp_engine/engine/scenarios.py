"""Circular-design questions: compare variants and approaches, sweep recycled content.

Built on :class:`cfp_engine.engine.footprint.FootprintCalculator`, so the data are opened once and
each further footprint costs milliseconds: a 21-point sweep under three approaches is
63 footprints on the same score table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from cfp_engine.engine.circularity import APPROACHES
from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.results import FootprintResult
from cfp_engine.errors import SpecError
from cfp_engine.spec.product import ProductSpec


def expand_approaches(approach: str | None) -> list[str | None]:
    """``"all"`` -> every approach; ``None`` -> the spec's own; else that one."""
    if approach == "all":
        return list(APPROACHES)
    return [approach]


@dataclass(frozen=True)
class ComparedResult:
    """A footprint and its difference to the reference (the first product's base)."""

    result: FootprintResult
    difference_kg_co2e: float
    difference_share: float | None

    def to_dict(self) -> dict:
        document = self.result.to_dict()
        document["difference_to_base_kg_co2e"] = self.difference_kg_co2e
        document["difference_to_base"] = self.difference_share
        return document


def compare_designs(
    specs: Sequence[ProductSpec], calculator: FootprintCalculator, *, approach: str | None = None
) -> list[ComparedResult]:
    """Every spec's base product and variants, under one approach or ``"all"``.

    Results are ordered by approach, then spec, base first and variants in spec order;
    each is compared with the first spec's base product under the same approach.
    """
    compared = []
    for each in expand_approaches(approach):
        results = [
            calculator.calculate(spec, variant=variant, approach=each)
            for spec in specs
            for variant in (None, *spec.variant_names)
        ]
        reference = results[0].total_kg_co2e
        for result in results:
            difference = result.total_kg_co2e - reference
            share = difference / reference if reference else None
            compared.append(ComparedResult(result, difference, share))
    return compared


# -- sweeps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPoint:
    """The footprint at one recycled content of one component."""

    component: str
    recycled_content: float  # share, 0-1
    approach: str
    total_kg_co2e: float
    reduction_vs_virgin: float | None
    warnings: tuple[str, ...] = field(default=(), compare=False)  # the result's; not in JSON

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "warnings"}


@dataclass(frozen=True)
class TargetAnswer:
    """The lowest recycled content that reaches a reduction target under one approach."""

    approach: str
    target: float
    exact: float | None  # the recycled content where the target is met exactly, or None
    grid: float | None  # the lowest swept value that meets it, or None

    def describe(self) -> str:
        if self.exact is None:
            return (
                f"{self.approach}: a {self.target:.0%} reduction cannot be reached by "
                "this component's recycled content alone"
            )
        grid = f" (lowest swept value: {self.grid:.0%})" if self.grid is not None else ""
        return (
            f"{self.approach}: a {self.target:.0%} reduction needs at least "
            f"{self.exact:.1%} recycled content{grid}"
        )


_RANGE = re.compile(r"^\s*([\d.]+)\s*%?\s*:\s*([\d.]+)\s*%?\s*:\s*([\d.]+)\s*%?\s*$")


def parse_percent_range(text: str, *, where: str = "recycled content range") -> list[float]:
    """``"0:100:10"`` (percent, stop included) -> shares ``[0.0, 0.1, ..., 1.0]``.

    ``where`` names the text in messages (the CLI passes its option).
    """
    match = _RANGE.match(text or "")
    if not match:
        raise SpecError(f"{where} {text!r}: expected START:STOP:STEP in percent, e.g. 0:100:10")
    start, stop, step = (float(g) for g in match.groups())
    if step <= 0 or start > stop or stop > 100:
        raise SpecError(f"{where} {text!r}: need 0 <= START <= STOP <= 100 and STEP > 0")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 10) / 100.0 for i in range(count)]


def _with_recycled_content(product: ProductSpec, component_id: str, share: float) -> ProductSpec:
    components = tuple(
        replace(c, recycled_content=share) if c.id == component_id else c
        for c in product.components
    )
    return replace(product, components=components)


def sweep_recycled_content(
    spec: ProductSpec,
    component_id: str,
    shares: Sequence[float],
    calculator: FootprintCalculator,
    *,
    approach: str | None = None,
    variant: str | None = None,
) -> list[SweepPoint]:
    """The footprint at each recycled content of one component (others unchanged)."""
    product = spec.with_variant(variant)
    ids = [c.id for c in product.components]
    if component_id not in ids:
        raise SpecError(
            f"{spec.source}: the product has no component {component_id!r} "
            f"(components: {', '.join(ids) or 'none'})"
        )
    points = []
    for each in expand_approaches(approach):
        for share in shares:
            result = calculator.calculate(
                _with_recycled_content(product, component_id, share), approach=each
            )
            points.append(
                SweepPoint(
                    component_id,
                    share,
                    result.approach,
                    result.total_kg_co2e,
                    result.reduction_vs_virgin,
                    result.warnings,
                )
            )
    return points


def recycled_content_for_target(
    spec: ProductSpec,
    component_id: str,
    target: float,
    calculator: FootprintCalculator,
    points: Sequence[SweepPoint],
    *,
    variant: str | None = None,
) -> list[TargetAnswer]:
    """Per approach, the recycled content at which the reduction reaches ``target``.

    The footprint is linear in one component's recycled content and the virgin baseline
    does not depend on it, so two footprints (0 % and 100 %) give the exact answer.
    """
    product = spec.with_variant(variant)
    answers = []
    for approach in dict.fromkeys(p.approach for p in points):
        low = calculator.calculate(
            _with_recycled_content(product, component_id, 0.0), approach=approach
        )
        high = calculator.calculate(
            _with_recycled_content(product, component_id, 1.0), approach=approach
        )
        baseline = low.virgin_baseline_kg_co2e
        needed_total = (1.0 - target) * baseline
        exact = None
        if baseline > 0 and low.total_kg_co2e <= needed_total:
            exact = 0.0
        elif baseline > 0 and high.total_kg_co2e < low.total_kg_co2e:
            share = (low.total_kg_co2e - needed_total) / (low.total_kg_co2e - high.total_kg_co2e)
            exact = share if share <= 1.0 + 1e-12 else None
        grid = [
            p.recycled_content
            for p in points
            if p.approach == approach
            and p.reduction_vs_virgin is not None
            and p.reduction_vs_virgin >= target - 1e-12
        ]
        answers.append(TargetAnswer(approach, target, exact, min(grid) if grid else None))
    return answers
