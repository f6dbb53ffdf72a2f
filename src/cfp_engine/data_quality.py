"""Data quality of a footprint as a label states it: PACT DQI, primary-data share, sources.

The PACT data-quality ratings (DQRs, 1 best - 3 worst) come from the datasets' ecoinvent
pedigree scores, weighted by each input's share of the emissions (PACT 4.2.3); the
primary-data share counts the emissions from the user's own inventory files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .results import FootprintResult

#: Inputs above this share of emissions weigh in the data-quality ratings (PACT 4.2.3).
DQR_CONTRIBUTION_THRESHOLD = 0.05
#: ecoinvent pedigree (1 best - 5 worst) -> PACT DQR (1 best - 3 worst), linearly.
PEDIGREE_TO_DQR = {1: 1.0, 2: 1.5, 3: 2.0, 4: 2.5, 5: 3.0}
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


def data_quality(result: FootprintResult, by_reference) -> tuple[dict, tuple]:
    """PACT DQI: coverage and the five DQRs, weighted by contribution (inputs >= 5 %)."""
    contributions = {k: abs(v) for k, v in _contributions(result).items()}
    whole = math.fsum(contributions.values())
    if whole == 0:
        return {"coveragePercent": 0.0, **{f: 0.0 for f in DQR_FIELDS.values()}}, ()
    rated = {k: v for k, v in contributions.items() if by_reference[k].pedigree}
    coverage = 100.0 * math.fsum(rated.values()) / whole
    weighed = {k: v for k, v in rated.items() if v / whole >= DQR_CONTRIBUTION_THRESHOLD}
    weight = math.fsum(weighed.values())
    dqi: dict[str, float] = {"coveragePercent": coverage}
    for pedigree_name, field_name in DQR_FIELDS.items():
        dqi[field_name] = (
            (
                math.fsum(
                    v * PEDIGREE_TO_DQR[int(by_reference[k].pedigree[pedigree_name])]
                    for k, v in weighed.items()
                )
                / weight
            )
            if weight
            else 0.0
        )
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


def primary_share(result: FootprintResult, by_reference, databases) -> float:
    """The share of the emissions (percent) from primary data."""
    contributions = {k: abs(v) for k, v in _contributions(result).items()}
    whole = math.fsum(contributions.values())
    primary = math.fsum(
        v for k, v in contributions.items() if _is_primary(by_reference[k].database, databases)
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
        elif not _is_primary(info.database, databases):
            record = databases.get(info.database) or {}
            sha = str(record.get("sha256", ""))[:12]
            sources[info.database] = {"name": info.database, "version": f"sha256:{sha}"}
    return tuple(sources[k] for k in sorted(sources))
