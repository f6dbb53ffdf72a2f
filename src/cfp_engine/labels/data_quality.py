"""Data quality of a footprint as a label states it: DQRs, coverage, primary share, sources.

The data-quality ratings (DQRs) are the datasets' ecoinvent pedigree scores (1 best - 5
worst), weighted by each input's share of the emissions; only inputs with 5 % or more of
the emissions weigh in (PACT Methodology 4.2.3; PACT v2.3 data model: "weighted average
of all inputs representing >5% of PCF emissions"). The disclosure keeps them on that 1-5 scale; each
label format puts them on its own scale with :func:`dqr_on_scale`:

- PACT v3 (OpenAPI 3.0.3, ``DataQualityIndicators``): "The value MUST be between `1` and
  `5` inclusive." (technological, geographical, temporal; ``coveragePercent``,
  ``completenessDQR`` and ``reliabilityDQR`` were removed in 3.0).
- PACT v2.3 (OpenAPI 2.3.3, ``FloatBetween1And3``): "The value MUST be between `1` and `3`
  inclusive.", from the data quality matrix of the PACT Methodology (Table 9), whose
  levels run from 1 (good) to 3 (poor).
- Catena-X 9.0.0 and 10.0.0 (``DqiNumberTrait``): "a decimal between 1 and 5 including",
  rated by TfS PCF Guideline v3.0, 5.2.11.2, Tables 5.14-5.16.

Direction: every one of these scales rates 1 as the best, as ecoinvent's pedigree matrix
does (Weidema et al. 2013, ch. 10: score 1 is the best of each indicator). The PACT v3
text gives only the range ("now range between 1 and 5", changelog 3.0.0); it keeps v2's
data quality matrix, 1 best. So a pedigree score goes to a 1-5 scale unchanged and to a
1-3 scale linearly (1 -> 1, 3 -> 2, 5 -> 3).

Supplier PACT footprints (``cfp data import --format pact``) bring their own ratings:
their ``dqi`` put on the pedigree scale (v3 as given, 1-5; v2's 1-3 linearly, 1 -> 1,
2 -> 3, 3 -> 5), v3's missing completeness and reliability counted as 5, the worst
(:mod:`cfp_engine.store.imports.pact_footprints`). They weigh in like any dataset.

When no input at or above the threshold has pedigree scores (the built-in data and
supplier footprints with a ``dqi`` have them; ``--inventory`` files and other imported
databases do not), there is no rating: the DQI is empty and the formats leave it out,
never writing 0.

Primary data (:func:`primary_share`): the user's own inventory files are primary; a
supplier footprint is primary data for the share of it its supplier declares
(``primaryDataShare``), so it counts ``primaryDataShare`` % of its contribution (PACT
Methodology: a supplier-specific PCF is primary data to its customer, in the proportion
of the primary data it was made from); a footprint that declares no share counts none.
The built-in data and other imported databases are secondary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cfp_engine.engine.results import FootprintResult

#: Inputs with this share of the emissions or more weigh in the ratings (PACT 4.2.3).
DQR_CONTRIBUTION_THRESHOLD = 0.05
#: The pedigree scale of the datasets: 1 best, 5 worst (ecoinvent).
PEDIGREE_BEST, PEDIGREE_WORST = 1, 5
#: ecoinvent pedigree indicator -> DQR field name (PACT and Catena-X spell them alike).
DQR_FIELDS = {
    "technological": "technologicalDQR",
    "temporal": "temporalDQR",
    "geographical": "geographicalDQR",
    "completeness": "completenessDQR",
    "reliability": "reliabilityDQR",
}
BUILTIN_DATABASE = "cfp-builtin"


def _contributions(result: FootprintResult) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in result.line_items:
        totals[item.activity] = totals.get(item.activity, 0.0) + item.kg_co2e
    return totals


def _has_pedigree(pedigree: Mapping[str, Any] | None) -> bool:
    return bool(pedigree) and all(pedigree.get(name) is not None for name in DQR_FIELDS)


def dqr_on_scale(score: float, worst: int) -> float:
    """A pedigree-scale rating (1 best - 5 worst) on a DQR scale of 1 best to ``worst``.

    Parameters
    ----------
    score : float
        A contribution-weighted pedigree score, 1-5 (dimensionless).
    worst : int
        The worst value of the target scale: 5 (PACT v3, Catena-X) or 3 (PACT v2.3).

    Returns
    -------
    float
        ``score`` mapped linearly so that 1 stays 1 and 5 becomes ``worst``.
    """
    span = PEDIGREE_WORST - PEDIGREE_BEST
    return PEDIGREE_BEST + (score - PEDIGREE_BEST) * (worst - PEDIGREE_BEST) / span


def data_quality(result: FootprintResult, by_reference) -> tuple[dict, tuple]:
    """The DQI of ``result``: coverage and the five DQRs on the pedigree scale (1-5).

    Parameters
    ----------
    result : FootprintResult
        The footprint; its line items give each input's emissions (kg CO2e).
    by_reference : Mapping[str, ActivityInfo]
        The activities by reference, with their pedigree scores (empty when unknown).

    Returns
    -------
    tuple
        ``(dqi, inputs)``. ``dqi`` holds ``coveragePercent`` (the share of the emissions,
        in percent, from the inputs that weigh in the ratings: with pedigree scores and at
        least 5 % of the emissions) and the five DQRs, each the contribution-weighted mean
        of those inputs' pedigree scores (1 best - 5 worst). It is empty when no input
        weighs in: no rating is better than a made-up one. ``inputs`` lists those inputs
        with their share and pedigree scores, largest first.
    """
    contributions = {k: abs(v) for k, v in _contributions(result).items()}
    whole = math.fsum(contributions.values())
    if whole == 0:
        return {}, ()
    weighed = {
        k: v
        for k, v in contributions.items()
        if _has_pedigree(by_reference[k].pedigree) and v / whole >= DQR_CONTRIBUTION_THRESHOLD
    }
    weight = math.fsum(weighed.values())
    if weight == 0:
        return {}, ()
    dqi: dict[str, float] = {"coveragePercent": 100.0 * weight / whole}
    for name, field_name in DQR_FIELDS.items():
        scores = (v * float(by_reference[k].pedigree[name]) for k, v in weighed.items())
        dqi[field_name] = math.fsum(scores) / weight
    inputs = tuple(
        {"activity": k, "share": v / whole, "pedigree": dict(by_reference[k].pedigree)}
        for k, v in sorted(weighed.items(), key=lambda kv: -kv[1])
    )
    return dqi, inputs


def _is_primary(database: str, databases: Mapping[str, Any]) -> bool:
    """User inventory files (``--inventory``) are primary data; the built-in data and
    databases imported with ``cfp data import`` (licensed, secondary) are not."""
    record = databases.get(database) or {}
    return database != BUILTIN_DATABASE and "imported_at" not in record


def _is_supplier(database: str, databases: Mapping[str, Any]) -> bool:
    return (databases.get(database) or {}).get("format") == "pact"


def _primary_fraction(info, databases: Mapping[str, Any]) -> float:
    """How much of an input's emissions is primary data (0-1); see the module doc."""
    if _is_supplier(info.database, databases):
        share = ((info.source or {}).get("pact") or {}).get("primary_data_share")
        return min(max(float(share), 0.0), 100.0) / 100.0 if share is not None else 0.0
    return 1.0 if _is_primary(info.database, databases) else 0.0


def primary_share(result: FootprintResult, by_reference, databases) -> float:
    """The share of the emissions (percent) from primary data (see the module doc)."""
    contributions = {k: abs(v) for k, v in _contributions(result).items()}
    whole = math.fsum(contributions.values())
    primary = math.fsum(
        v * _primary_fraction(by_reference[k], databases) for k, v in contributions.items()
    )
    return 100.0 * primary / whole if whole else 0.0


def secondary_sources(result: FootprintResult, by_reference, databases) -> tuple[dict, ...]:
    """Built-in sources (organisation, year) and imported databases (name, source hash)."""
    sources = {}
    for reference in _contributions(result):
        info = by_reference[reference]
        if info.database == BUILTIN_DATABASE and info.source:
            name = info.source.get("organisation", "")
            sources[name] = {"name": name, "version": str(info.source.get("year", ""))}
        elif not _is_primary(info.database, databases) and not _is_supplier(
            info.database, databases
        ):
            # A supplier footprint is no emission factor database: its own secondary
            # sources stay in its payload.
            record = databases.get(info.database) or {}
            sha = str(record.get("sha256", ""))[:12]
            sources[info.database] = {"name": info.database, "version": f"sha256:{sha}"}
    return tuple(sources[k] for k in sorted(sources))
