"""The facts a label states that no calculation can know: company, product ids, periods.

They come from the spec's ``label:`` section or from command-line options; a missing one
is an error, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.rules import exempted_problems, urn_problems, validity_problems
from cfp_engine.spec.product import ProductSpec
from cfp_engine.spec.units import parse_amount

NO_EXEMPTIONS = "No exemptions: every input of the spec is included."
REQUIRED_FACTS = ("company_name", "company_ids", "product_ids", "reference_period")


@dataclass(frozen=True)
class LabelFacts:
    """Facts about the product and the declaration, from the spec or the command line."""

    company_name: str
    company_ids: tuple[str, ...]
    product_ids: tuple[str, ...]
    reference_period: tuple[date, date]
    validity_period: tuple[date, date] | None = None
    id: str | None = None
    version: int = 1
    product_description: str = ""
    product_classifications: tuple[str, ...] = ()
    product_category_cpc: str | None = None
    mass_per_declared_unit_kg: float | None = None
    cross_sectoral_standards: tuple[str, ...] = ("ISO14067",)
    product_or_sector_specific_rules: tuple[str, ...] = ()
    exempted_emissions_percent: float = 0.0
    exempted_emissions_description: str = NO_EXEMPTIONS
    report_url: str | None = None
    comment: str = ""
    created: datetime | None = None


def label_facts(spec: ProductSpec, overrides: Mapping[str, Any] | None = None) -> LabelFacts:
    """The label facts of ``spec`` (its ``label:`` section), with ``overrides`` on top.

    Raises :class:`SpecError` naming every missing fact and where to give it.
    """
    given = {**spec.label, **{k: v for k, v in (overrides or {}).items() if v not in (None, ())}}
    missing = [f"label.{key} (or the {key} fact)" for key in REQUIRED_FACTS if not given.get(key)]
    if missing:
        raise SpecError(
            f"{spec.source}: a label needs {', '.join(missing)}; nothing is filled in by the engine"
        )
    where = f"{spec.source}: label"
    reference = _period(given["reference_period"], f"{where}.reference_period")
    validity = (
        _period(given["validity_period"], f"{where}.validity_period")
        if given.get("validity_period")
        else None
    )
    exempted = given.get("exempted_emissions") or {}
    if not isinstance(exempted, Mapping):
        raise SpecError(f"{where}.exempted_emissions: expected percent and description")
    # The rules `cfp verify` checks (label_rules): what it would reject is never written.
    problems = urn_problems("company_ids", given["company_ids"])
    problems += urn_problems("product_ids", given["product_ids"])
    if validity is not None:
        problems += validity_problems(reference[1], *validity)
    problems += exempted_problems(exempted.get("percent", 0))
    if problems:
        raise SpecError(f"{where}: {'; '.join(problems)}")
    mass = given.get("mass_per_declared_unit")
    return LabelFacts(
        company_name=str(given["company_name"]),
        company_ids=tuple(given["company_ids"]),
        product_ids=tuple(given["product_ids"]),
        reference_period=reference,
        validity_period=validity,
        id=given.get("id"),
        version=int(given.get("version", 1)),
        product_description=given.get("product_description") or spec.name,
        product_classifications=tuple(given.get("product_classifications", ())),
        product_category_cpc=given.get("product_category_cpc"),
        mass_per_declared_unit_kg=(
            float(
                parse_amount(mass, "mass", where=f"{where}.mass_per_declared_unit")
                .to("kg")
                .magnitude
            )
            if mass is not None
            else None
        ),
        cross_sectoral_standards=tuple(given.get("cross_sectoral_standards", ("ISO14067",))),
        product_or_sector_specific_rules=tuple(given.get("product_or_sector_specific_rules", ())),
        exempted_emissions_percent=float(exempted.get("percent", 0)),
        exempted_emissions_description=exempted.get("description", NO_EXEMPTIONS),
        report_url=given.get("report_url"),
        comment=given.get("comment", ""),
        created=given.get("created"),
    )


def start_of_day(day: date) -> str:
    """``day`` at 00:00:00 UTC as an RFC 3339 date-time: where a label's period starts."""
    return f"{day.isoformat()}T00:00:00Z"


def end_of_day(day: date) -> str:
    """``day`` at 23:59:59 UTC as an RFC 3339 date-time: where a label's period ends."""
    return f"{day.isoformat()}T23:59:59Z"


def with_exemptions(facts: LabelFacts, exemptions: Sequence[str]) -> LabelFacts:
    """``facts`` whose exemptions description also states what the footprint left out.

    ``exemptions`` are a result's (treatments not modelled, flows dropped at import);
    they replace the default "no exemptions" text and follow a given one.
    The percentage stays as given: what was left out was never quantified.
    """
    if not exemptions:
        return facts
    stated = "Not in the footprint: " + " ".join(
        f"({n}) {text}." for n, text in enumerate(exemptions, start=1)
    )
    given = facts.exempted_emissions_description
    if stated in given:  # a label read back for `cfp verify` states it already
        return facts
    description = stated if given == NO_EXEMPTIONS else f"{given} {stated}"
    return replace(facts, exempted_emissions_description=description)


def _period(value: Any, where: str) -> tuple[date, date]:
    if isinstance(value, str) and ":" in value and value.count("-") == 4:
        start_text, end_text = value.split(":", 1)
        value = {"start": start_text, "end": end_text}
    try:
        start, end = (
            v if isinstance(v, date) else date.fromisoformat(str(v))
            for v in (value["start"], value["end"])
        )
    except (KeyError, TypeError, ValueError):
        raise SpecError(
            f"{where}: expected start and end dates (YYYY-MM-DD), got {value!r}"
        ) from None
    if end < start:
        raise SpecError(f"{where}: ends ({end}) before it starts ({start})")
    return start, end
