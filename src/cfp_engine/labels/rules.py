"""The rules a label must follow, shared by ``cfp label`` (refuse to write) and ``cfp verify``.

One function per rule, each returning the problems it finds (an empty list: none), so
writing and verifying a label cannot drift apart: what :func:`cfp_engine.labels.facts.label_facts`
refuses to write, :mod:`cfp_engine.verify.checks` fails, and the other way round.

- Ids (PACT v3.0 / v2.3 ``companyIds``, ``productIds``): a non-empty list of URNs.
- Validity (PACT: ``validityPeriodStart`` on or after ``referencePeriodEnd``; at most
  3 years): the validity period starts on or after the reference period ends, ends on or
  after it starts, and ends at most 3 *calendar* years after the reference period ends
  (dates are compared, never days / 365.25: 2025-12-31 + 3 years is 2028-12-31, leap day
  or not).
- Exempted emissions: 0 to 5 % in PACT v2.3, 0 to 3 % in Catena-X (its rulebook),
  0 to 100 % otherwise.
- Figures: finite decimals of a sane size (:func:`finite_decimal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_VALIDITY_YEARS = 3
#: PACT v2.3: exemptedEmissionsPercent "MUST be ... between 0.0 and 5"; Catena-X PCF
#: Rulebook: "the cut-off shall not exceed 3 %".
MAX_EXEMPTED_PERCENT = {"pact-v2": Decimal(5), "catena-x": Decimal(3)}
#: The largest decimal exponent a label figure may have (either way): a footprint of
#: 10^30 kg CO2e, or of 10^-30, is no real product's; beyond it a figure is refused
#: before any arithmetic (``1e999999999`` would overflow Decimal's context).
MAX_DECIMAL_EXPONENT = 30


def finite_decimal(value: Any) -> Decimal | None:
    """``value`` (a decimal string or a JSON number) as an exact, finite, sane Decimal.

    None when it is not a number, not finite, or its exponent is beyond
    :data:`MAX_DECIMAL_EXPONENT` either way (zero is always fine). A float is taken at
    its shortest repr, the way it was written.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float | int):
        value = repr(value)
    if not isinstance(value, str) or len(value) > 100:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number and abs(number.adjusted()) > MAX_DECIMAL_EXPONENT:
        return None
    return number


def add_years(day: date, years: int) -> date:
    """``day`` plus calendar ``years`` (29 February goes to 28 February in a common year)."""
    if day.year + years > date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_problems(reference_end: date, start: date | None, end: date) -> list[str]:
    """What breaks PACT's validity rules for a validity period ``start``-``end`` (dates).

    ``start`` may be None (PACT makes it optional).
    """
    problems = []
    if start is not None and start < reference_end:
        problems.append(
            f"the validity period starts {start}, before the reference period ends "
            f"({reference_end})"
        )
    if start is not None and end < start:
        problems.append(f"the validity period ends {end}, before it starts ({start})")
    elif start is None and end < reference_end:
        problems.append(
            f"the validity period ends {end}, before the reference period ends ({reference_end})"
        )
    latest = add_years(reference_end, MAX_VALIDITY_YEARS)
    if end > latest:
        problems.append(
            f"the validity period ends {end}, more than {MAX_VALIDITY_YEARS} years after "
            f"the reference period ends ({reference_end}; at most {latest})"
        )
    return problems


def urn_problems(key: str, values: Any) -> list[str]:
    """A problem unless ``values`` is a non-empty list of URNs (``urn:...``)."""
    if (
        isinstance(values, Sequence)
        and not isinstance(values, str)
        and values
        and all(isinstance(v, str) and v.lower().startswith("urn:") and len(v) > 4 for v in values)
    ):
        return []
    return [f"{key} must be a non-empty list of URNs (urn:...), got {values!r}"[:200]]


def exempted_problems(percent: Any, fmt: str | None = None) -> list[str]:
    """A problem unless ``percent`` is a number from 0 to the format's limit (5 % in PACT v2)."""
    number = finite_decimal(percent)
    high = MAX_EXEMPTED_PERCENT.get(fmt or "", Decimal(100))
    if number is None or not 0 <= number <= high:
        return [f"exempted emissions {percent!r} % is not a number from 0 to {high} %"[:200]]
    return []
