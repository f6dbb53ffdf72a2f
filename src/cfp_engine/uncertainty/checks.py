"""Monte Carlo figures that are not finite numbers, and the input that caused them.

A spec amount with a wild distribution (a lognormal with a GSD of 1e300, a mass of
1e307 kg with a spread) can draw values that overflow to ``inf`` or ``nan``, or samples so
large that their mean and sd overflow. The deterministic result cannot show it (it uses
the central value, which :func:`cfp_engine.engine.results.check_finite` already checked), so the
Monte Carlo run checks every part of its iterations and, on the first non-finite figure,
looks for its cause, in this order:

1. a spec parameter whose own draw is not a finite number;
2. a line item (a component's material or end of life, a stage amount) whose footprint
   is not finite in some iteration;
3. otherwise the line item with the largest footprint, which made the sum or the
   statistics overflow.

The background is checked before that: a per-unit score that is not finite is blamed on
the activity whose data (a user database's distributions) produced it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cfp_engine.errors import CalculationError

if TYPE_CHECKING:
    from cfp_engine.store.scores import ScoreTable
    from cfp_engine.uncertainty.model import McModel

HINT = "check the amount and its distribution (a realistic footprint is far below 1e100 kg CO2e)"


def check_scores(scores: np.ndarray, activities: list[int], table: ScoreTable) -> None:
    """Raise unless every sampled per-unit score is a finite number.

    ``scores`` has one column per activity of ``activities`` (indices into ``table``).

    Raises
    ------
    CalculationError
        Naming the first activity whose score is not finite.
    """
    bad = ~np.isfinite(scores)
    if not bad.any():
        return
    activity = table.activities[activities[int(np.flatnonzero(bad.any(axis=0))[0])]]
    raise CalculationError(
        f"the Monte Carlo score of {activity.reference!r} is not a finite number in "
        f"{int(bad.any(axis=1).sum())} iteration(s): the distributions of its data (database "
        f"{activity.database!r}, or a dataset it uses) allow values that overflow; check "
        "their uncertainty (a lognormal's scale, a normal's sd)"
    )


def explain_non_finite(
    model: McModel,
    values: dict[str, np.ndarray],
    scores: np.ndarray,
    position: dict[int, int],
    table: ScoreTable,
    *,
    output: str,
    first_iteration: int,
) -> CalculationError:
    """The error naming the input behind a non-finite Monte Carlo figure of ``model``.

    Parameters
    ----------
    values
        The model's parameter values in this part of the iterations (by key).
    scores, position
        The per-unit scores of this part, and each activity's column in them.
    output
        ``"total"`` or the stage whose samples or statistics are not finite.
    first_iteration
        The number of the part's first iteration (0-based, as in ``--samples``).
    """
    for key, distribution in model.distributions.items():
        drawn = values[key]
        bad = np.flatnonzero(~np.isfinite(drawn))
        if bad.size:
            iteration = first_iteration + int(bad[0])
            return CalculationError(
                f"{model.labels.get(key, key)}: its {distribution.describe()} distribution "
                f"draws {float(drawn[bad[0]])!r} in Monte Carlo iteration {iteration}, "
                f"not a finite number; {HINT}"
            )
    peaks = []  # (largest |footprint| in the part, inf when not finite; item)
    with np.errstate(over="ignore", invalid="ignore"):
        for item in model.items:
            if output != "total" and item.stage != output:
                continue
            footprint = item.footprints(values, scores[:, position[item.activity]])
            finite = bool(np.isfinite(footprint).all())
            peaks.append((float(np.abs(footprint).max()) if finite else np.inf, item))
    if not peaks:  # a stage without items has zero samples: not reached
        return CalculationError(f"{model.source}: the Monte Carlo {output} is not a finite number")
    peak, item = max(peaks, key=lambda pair: pair[0])  # the first of equals
    label = model.labels.get(item.size_key, item.size_key)
    given = model.distributions.get(item.size_key)
    spread = f" ({given.describe()})" if given is not None else ""
    activity = table.activities[item.activity].reference
    if np.isinf(peak):
        problem = "gives Monte Carlo footprints that are not finite numbers"
    else:
        what = "total" if output == "total" else f"{output} stage"
        problem = (
            f"gives Monte Carlo footprints up to {peak:.3g} kg CO2e, too large for the sum, "
            f"mean and sd of the {what} to be finite numbers"
        )
    return CalculationError(f"{label}{spread} with {activity!r} {problem}; {HINT}")
