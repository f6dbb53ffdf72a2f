"""What every check of ``cfp verify`` shares: the :class:`Check` outcome, small readers and
the comparison of a figure with its re-computation (:func:`figure_problem`).

The format-specific modules (:mod:`~cfp_engine.verify.catenax`,
:mod:`~cfp_engine.verify.spec_formats`, :mod:`~cfp_engine.verify.structure`) and the checks
of figures, hashes and rules (:mod:`~cfp_engine.verify.checks`) all build on these, so none
needs another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    Context,
    Decimal,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Any

from cfp_engine.labels.rounding import rounding_tolerance
from cfp_engine.labels.rules import finite_decimal, validity_problems


@dataclass(frozen=True)
class Check:
    """One check of a verification: its name, outcome and what was compared."""

    name: str
    passed: bool | None  # None: skipped
    detail: str = ""

    @property
    def status(self) -> str:
        return {True: "pass", False: "FAIL", None: "skipped"}[self.passed]


def first_object(payload: Mapping[str, Any], *path: str) -> dict[str, Any]:
    """The first object at ``path`` (each step a one-element array), or ``{}``."""
    node: Any = payload
    for key in path:
        group = node.get(key) if isinstance(node, Mapping) else None
        node = group[0] if isinstance(group, list) and group else {}
    return node if isinstance(node, dict) else {}


def engine_extension(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The cfp-engine extension data (result, figures, integrity) of a label, if any.

    PACT and Catena-X labels carry it alike, in a top-level ``extensions`` list.
    """
    extensions = document.get("extensions")
    for extension in extensions if isinstance(extensions, list) else []:
        data = extension.get("data") if isinstance(extension, dict) else None
        if isinstance(data, dict) and data.get("engine") == "cfp-engine":
            return data
    return None


def ids_of(value: Any) -> tuple[Any, ...]:
    """A label's ids as a tuple, whatever was written (the rules judge them, not this)."""
    if isinstance(value, list):
        return tuple(value)
    return () if value in (None, "") else (value,)


def _day(value: Any) -> date | None:
    """The date of an RFC 3339 date-time (its first 10 characters), or None."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def validity_check(reference_end: Any, validity_start: Any, validity_end: Any) -> Check:
    """PACT's validity rules (:func:`~cfp_engine.labels.rules.validity_problems`) on a label."""
    name = "rule: validity within 3 years after the reference period"
    if validity_end is None and validity_start is None:
        return Check(name, None, "no validity period declared")
    reference, start, end = (_day(v) for v in (reference_end, validity_start, validity_end))
    unreadable = [
        f"{key} {str(value)[:40]!r} is not a date"
        for key, value, day in (
            ("referencePeriodEnd", reference_end, reference),
            ("validityPeriodStart", validity_start, start),
            ("validityPeriodEnd", validity_end, end),
        )
        if day is None and (value is not None or key != "validityPeriodStart")
    ]
    if unreadable:
        return Check(name, False, "; ".join(unreadable))
    problems = validity_problems(reference, start, end)
    return Check(
        name,
        not problems,
        "; ".join(problems)
        or f"validity {start or '(from creation)'} to {end}, reference period ends {reference}",
    )


#: Exact arithmetic for figure comparisons: label figures are bounded by
#: label_rules.MAX_DECIMAL_EXPONENT, re-computed ones by the float range, so a
#: thousand digits hold every difference exactly.
_EXACT = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Overflow])


def figure_problem(label_value: Any, expected_value: Any) -> str | None:
    """Why a label's figure differs from the re-computed one (None: it agrees).

    Exact Decimal arithmetic: the allowed difference is the rounding of both figures plus
    one part in 10^9 of the re-computed one; a figure that is not a finite decimal of
    sane size (:func:`~cfp_engine.labels.rules.finite_decimal`) never agrees.
    """
    got = finite_decimal(label_value)
    if got is None:
        return "not a finite decimal of sane size"
    with localcontext(_EXACT):
        text = repr(expected_value) if isinstance(expected_value, float) else str(expected_value)
        want = Decimal(text)
        slack = (
            rounding_tolerance(str(got))
            + rounding_tolerance(str(want))
            + abs(want) * Decimal("1e-9")
        )
        return None if abs(got - want) <= slack else "differs"
