"""What the database keeps of a PACT footprint: its validity period and its filter keys.

Pure functions of the payload, shared by publishing (which stores them) and the tests.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.exchange.database import CLASSIFICATION, COMPANY, GEOGRAPHY, PRODUCT

#: A footprint with no validity period is valid for 3 years from the end of its reference
#: period (PACT Technical Specifications v3.0, "Validity period"; the same in v2.3).
DEFAULT_VALIDITY_YEARS = 3
#: The longest id, classification or geography kept (the column width).
MAX_KEY_CHARS = 512
_GEOGRAPHY_FIELDS = (
    "geographyCountry",
    "geographyRegionOrSubregion",
    "geographyCountrySubdivision",
)


def parse_time(text: Any, *, what: str) -> datetime:
    """An RFC 3339 date-time as naive UTC; :class:`SpecError` if it is not one."""
    if not isinstance(text, str):
        raise SpecError(f"{what} = {text!r} is not an RFC 3339 date-time")
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(f"{what} = {text[:60]!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise SpecError(f"{what} = {text[:60]!r} has no time zone (e.g. ...Z)")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _plus_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def validity_period(document: dict[str, Any]) -> tuple[datetime, datetime]:
    """The footprint's validity period (naive UTC), given or by PACT's 3-year default."""
    pcf = document.get("pcf") or {}
    reference_end = parse_time(pcf.get("referencePeriodEnd"), what="pcf.referencePeriodEnd")
    start = document.get("validityPeriodStart")
    end = document.get("validityPeriodEnd")
    valid_from = parse_time(start, what="validityPeriodStart") if start else reference_end
    valid_to = (
        parse_time(end, what="validityPeriodEnd")
        if end
        else _plus_years(reference_end, DEFAULT_VALIDITY_YEARS)
    )
    if valid_to < valid_from:
        raise SpecError(f"validityPeriodEnd {end!r} is before validityPeriodStart {start!r}")
    return valid_from, valid_to


def filter_keys(document: dict[str, Any]) -> set[tuple[str, str]]:
    """``(kind, lower-cased value)`` for every id, classification and geography of a footprint.

    PACT asks the filters to match case-insensitively, so values are stored lower-cased.
    v2.3's ``productCategoryCpc`` counts as a classification.
    """
    keys: set[tuple[str, str]] = set()
    for kind, field in (
        (PRODUCT, "productIds"),
        (COMPANY, "companyIds"),
        (CLASSIFICATION, "productClassifications"),
    ):
        for value in document.get(field) or ():
            if isinstance(value, str) and value:
                keys.add((kind, value.lower()))
    cpc = document.get("productCategoryCpc")
    if isinstance(cpc, str) and cpc:
        keys.add((CLASSIFICATION, cpc.lower()))
    pcf = document.get("pcf") or {}
    for field in _GEOGRAPHY_FIELDS:
        value = pcf.get(field)
        if isinstance(value, str) and value:
            keys.add((GEOGRAPHY, value.lower()))
    for kind, value in keys:
        if len(value) > MAX_KEY_CHARS or "\x00" in value:
            raise SpecError(
                f"a {kind} id has at most {MAX_KEY_CHARS} characters and no NUL: {value[:60]!r}..."
            )
    return keys
