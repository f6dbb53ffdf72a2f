"""openLCA JSON-LD uncertainty as stats_arrays distributions, for Monte Carlo on imports.

bw2io reads the uncertainty of ecospold2, SimaPro CSV and Brightway Excel/CSV exchanges
into stats_arrays fields (``uncertainty type``, ``loc``, ``scale``, ``minimum``,
``maximum``), but its JSON-LD importer leaves openLCA's ``Uncertainty`` object in place
("Transform uncertainties" is still a to-do in bw2io 0.9), so Monte Carlo would hold
every imported openLCA exchange fixed. Two strategies close that gap:

* :func:`stash_olca_amounts` runs first, on the raw export, and records each exchange's
  amount as written (in the exchange's own unit, before allocation);
* :func:`olca_uncertainty_to_stats_arrays` runs last, when bw2io has converted the amount
  to the flow's reference unit (and allocated it): the ratio of the two amounts scales
  the distribution's parameters the same way.

olca-schema 2 ``Uncertainty`` (https://greendelta.github.io/olca-schema/classes/Uncertainty.html):
``LOG_NORMAL_DISTRIBUTION`` (``geomMean``, ``geomSd``), ``NORMAL_DISTRIBUTION``
(``mean``, ``sd``), ``TRIANGLE_DISTRIBUTION`` (``minimum``, ``mode``, ``maximum``),
``UNIFORM_DISTRIBUTION`` (``minimum``, ``maximum``). An exchange without one keeps no
distribution (type 0): data without uncertainty stay fixed. No Brightway import here.
"""

from __future__ import annotations

import math
from typing import Any

from cfp_engine.spec.distributions import LOGNORMAL, NO_UNCERTAINTY, NORMAL, TRIANGULAR, UNIFORM

_STASH = "cfp_olca_amount"


def stash_olca_amounts(data: dict[str, Any]) -> dict[str, Any]:
    """Record the amount of every exchange that has an openLCA uncertainty (raw export)."""
    for process in data.get("processes", {}).values():
        for exchange in process.get("exchanges", ()):
            if isinstance(exchange.get("uncertainty"), dict):
                exchange[_STASH] = float(exchange.get("amount", 0.0))
    return data


def olca_uncertainty_to_stats_arrays(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn each stashed exchange's openLCA uncertainty into stats_arrays fields."""
    for dataset in data:
        for exchange in dataset.get("exchanges", ()):
            original = exchange.pop(_STASH, None)
            if original is None:
                continue
            fields = _stats_arrays(exchange["uncertainty"], float(exchange["amount"]), original)
            exchange.update(fields)
    return data


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _stats_arrays(uncertainty: dict[str, Any], amount: float, original: float) -> dict[str, Any]:
    """stats_arrays fields for one exchange (``amount`` converted, ``original`` as written)."""
    kind = uncertainty.get("distributionType")
    if original == 0.0 or amount == 0.0:
        return {"uncertainty type": NO_UNCERTAINTY}
    factor = amount / original  # unit conversion and allocation, as bw2io applied them
    if kind == "LOG_NORMAL_DISTRIBUTION":
        gsd = _number(uncertainty.get("geomSd"))
        median = _number(uncertainty.get("geomMean")) or original
        if gsd is None or gsd <= 1.0:
            return {"uncertainty type": NO_UNCERTAINTY}
        return {
            "uncertainty type": LOGNORMAL,
            "loc": math.log(abs(median * factor)),
            "scale": math.log(gsd),
            "negative": amount < 0,
        }
    if kind == "NORMAL_DISTRIBUTION":
        sd = _number(uncertainty.get("sd"))
        mean = _number(uncertainty.get("mean"))
        if sd is None or sd <= 0.0:
            return {"uncertainty type": NO_UNCERTAINTY}
        return {
            "uncertainty type": NORMAL,
            "loc": (original if mean is None else mean) * factor,
            "scale": sd * abs(factor),
            "negative": amount < 0,
        }
    if kind in ("TRIANGLE_DISTRIBUTION", "UNIFORM_DISTRIBUTION"):
        low, high = _number(uncertainty.get("minimum")), _number(uncertainty.get("maximum"))
        if low is None or high is None or not low < high:
            return {"uncertainty type": NO_UNCERTAINTY}
        low, high = sorted((low * factor, high * factor))
        fields = {"minimum": low, "maximum": high, "negative": amount < 0}
        if kind == "UNIFORM_DISTRIBUTION":
            return {"uncertainty type": UNIFORM, "loc": amount, **fields}
        mode = _number(uncertainty.get("mode"))
        loc = amount if mode is None else mode * factor
        return {"uncertainty type": TRIANGULAR, "loc": loc, **fields}
    return {"uncertainty type": NO_UNCERTAINTY}
