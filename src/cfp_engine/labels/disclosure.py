"""Labelling-ready disclosure: a footprint result turned into the values a label needs.

:func:`build_disclosure` gathers, from a :class:`~cfp_engine.engine.results.FootprintResult`
and its spec, everything ISO 14067 (clause 7) asks a CFP report to show separately and
what PACT and Catena-X exchange: fossil, biogenic and land-use-change emissions,
aircraft and packaging emissions, carbon contents, stages covered, declared unit and
mass, method, allocation, exemptions, data quality (DQRs from the datasets'
pedigree scores) and the primary-data share; plus the integrity hashes that let a
certification body re-compute and check a label (:mod:`cfp_engine.verify.recompute`).

This module holds the :class:`Disclosure` model and assembles it; the parts live beside
it: :mod:`~cfp_engine.labels.facts` (facts from the spec or options),
:mod:`~cfp_engine.labels.data_quality` (DQI, primary share, sources),
:mod:`~cfp_engine.labels.statements` (allocation, boundary and uncertainty text),
:mod:`~cfp_engine.labels.rounding` (decimal strings) and
:mod:`~cfp_engine.labels.integrity` (hashes).

Facts the calculation cannot know (company, product ids, reference period) come from the
spec's ``label:`` section or from options; a missing one is an error, never invented.
The exporters (:mod:`cfp_engine.labels.pact`, :mod:`cfp_engine.labels.catenax`,
:mod:`cfp_engine.labels.readable.render`) only re-shape a :class:`Disclosure`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from cfp_engine.engine.results import FootprintResult
from cfp_engine.errors import SpecError
from cfp_engine.labels.data_quality import data_quality, primary_share, secondary_sources
from cfp_engine.labels.facts import LabelFacts, with_exemptions
from cfp_engine.labels.integrity import integrity_hashes, labelled_figures
from cfp_engine.labels.rounding import ROUNDING_RULE
from cfp_engine.labels.statements import (
    allocation_description,
    boundary_description,
    uncertainty_description,
)
from cfp_engine.spec.product import STAGES, ProductSpec
from cfp_engine.spec.units import describe_dimensionality, parse_quantity, registry
from cfp_engine.store.scores import ScoreTable
from cfp_engine.version import __version__

EXTENSION_SCHEMA = "https://cfp-engine.example/schemas/cfp-result/1.0.0/data-model.json"


@dataclass(frozen=True)
class Disclosure:
    """Everything a label shows, in kg CO2e per declared unit unless named otherwise."""

    id: str
    version: int
    created: str  # ISO 8601, UTC
    product_id: str
    product_name: str
    variant: str | None
    facts: LabelFacts
    declared_unit: str  # as written in the spec
    declared_unit_of_measurement: str  # PACT v3 vocabulary (piece, kilogram, ...)
    declared_unit_amount: float
    mass_per_declared_unit_kg: float
    mass_source: str
    geography_country: str | None
    figures: Mapping[str, float]  # the PACT/ISO 14067 figures, unrounded
    stages_kg_co2e: Mapping[str, float]
    stages_covered: tuple[str, ...]
    packaging_emissions_included: bool
    carbon_content_note: str
    method: str
    ipcc_characterization_factors: tuple[str, ...]
    gwp_source: str
    approach: str
    allocation_rules_description: str
    boundary_processes_description: str
    primary_data_share: float  # percent
    # coveragePercent and the five DQRs on the pedigree scale (1 best - 5 worst); empty
    # when no input of 5 % or more has pedigree scores (the formats then leave it out)
    dqi: Mapping[str, float]
    dqi_inputs: tuple[Mapping[str, Any], ...]
    secondary_emission_factor_sources: tuple[Mapping[str, str], ...]
    uncertainty_assessment_description: str
    result: Mapping[str, Any]  # the section-3 document of the calculation
    integrity: Mapping[str, str] = field(default_factory=dict)

    @property
    def total_kg_co2e(self) -> float:
        return self.figures["pcfExcludingBiogenicUptake"]

    def labelled_figures(self) -> dict[str, str]:
        """The figures as decimal strings, by name and ``stage:<stage>``: what the hash covers."""
        return labelled_figures(self.figures, self.stages_kg_co2e)

    def extension(self) -> dict[str, Any]:
        """The PACT data-model extension that carries the result and the integrity data."""
        return {
            "specVersion": "2.0.0",
            "dataSchema": EXTENSION_SCHEMA,
            "data": {
                "engine": "cfp-engine",
                "engineVersion": __version__,
                "rounding": ROUNDING_RULE,
                "figures": self.labelled_figures(),
                "result": dict(self.result),
                "integrity": dict(self.integrity),
            },
        }


# -- building --------------------------------------------------------------------------

_PACT_UNITS = {  # dimension -> (PACT unit, pint unit to express the amount in)
    "count": ("piece", "piece"),
    "mass": ("kilogram", "kilogram"),
    "energy": ("kilowatt hour", "kilowatt_hour"),
    "area": ("square meter", "meter ** 2"),
    "volume": ("liter", "liter"),
    "transport": ("ton kilometer", "metric_ton * kilometer"),
}


def _declared_unit(text: str, where: str) -> tuple[str, float]:
    quantity = parse_quantity(text, where=where)
    ureg = registry()
    for dimension, (pact_unit, unit) in _PACT_UNITS.items():
        if quantity.dimensionality == ureg.Quantity(1, unit).dimensionality:
            del dimension
            return pact_unit, float(quantity.to(unit).magnitude)
    raise SpecError(
        f"{where}: {text!r} ({describe_dimensionality(quantity)}) has no PACT "
        "declared unit (piece, kilogram, liter, kilowatt hour, square meter, "
        "ton kilometer)"
    )


def build_disclosure(
    result: FootprintResult,
    spec: ProductSpec,
    table: ScoreTable,
    facts: LabelFacts,
    *,
    uncertainty: Mapping[str, Any] | None = None,
) -> Disclosure:
    """The disclosure of ``result`` (a footprint of ``spec``) with the given facts.

    Parameters
    ----------
    result
        The footprint, kg CO2e per declared unit.
    spec
        The product spec ``result`` was calculated from.
    table
        The score table of the calculation (its activities tell air freight and data
        sources; its manifest the databases).
    facts
        The label facts the calculation cannot know (company, ids, periods).
    uncertainty
        The ``"mc"`` statistics of a Monte Carlo run of the same product
        (:meth:`cfp_engine.uncertainty.analysis.McResult.statistics`); it becomes the
        uncertainty statement and travels with the result.
    """
    unit_name, amount = _declared_unit(
        result.declared_unit, f"{spec.source}: product.declared_unit"
    )
    mass, mass_source = _mass_per_declared_unit(result, facts)
    by_reference = {a.reference: a for a in table.activities}
    databases = table.manifest.get("databases", {})
    items = result.line_items
    dqi, dqi_inputs = data_quality(result, by_reference)
    disclosure = Disclosure(
        id=facts.id or _default_id(result),
        version=facts.version,
        created=_created(facts),
        product_id=result.product_id,
        product_name=result.product_name,
        variant=result.variant,
        facts=with_exemptions(facts, result.exemptions),
        declared_unit=result.declared_unit,
        declared_unit_of_measurement=unit_name,
        declared_unit_amount=amount,
        mass_per_declared_unit_kg=mass,
        mass_source=mass_source,
        geography_country=spec.geography if spec.geography not in (None, "GLO") else None,
        figures=_figures(result, by_reference),
        stages_kg_co2e=dict(result.stages_kg_co2e),
        stages_covered=tuple(s for s in STAGES if any(i.stage == s for i in items)),
        packaging_emissions_included=any(c.packaging for c in result.components),
        carbon_content_note=_carbon_content_note(result),
        method=result.method,
        ipcc_characterization_factors=(_ipcc_report(result.method),),
        gwp_source=result.provenance.get("gwp_source", ""),
        approach=result.approach,
        allocation_rules_description=allocation_description(result),
        boundary_processes_description=boundary_description(result, items),
        primary_data_share=primary_share(result, by_reference, databases),
        dqi=dqi,
        dqi_inputs=dqi_inputs,
        secondary_emission_factor_sources=secondary_sources(result, by_reference, databases),
        uncertainty_assessment_description=uncertainty_description(uncertainty),
        result=_shareable(result.to_dict(), spec.source, uncertainty),
    )
    integrity = integrity_hashes(result.provenance, disclosure.labelled_figures())
    return replace(disclosure, integrity=integrity)


def _shareable(
    document: dict[str, Any], source: str, uncertainty: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The result as a label carries it: messages name the spec as ``spec``, not its path.

    A label is shared, and verified against a copy of the spec wherever the verifier keeps
    it; the path of the maker's file is neither their business nor part of the result.
    """
    prefix = f"{source}: "
    for key in ("warnings", "exemptions"):
        document[key] = [
            f"spec: {text[len(prefix) :]}" if text.startswith(prefix) else text
            for text in document.get(key, ())
        ]
    if uncertainty:
        document["mc"] = dict(uncertainty)
    return document


def _default_id(result: FootprintResult) -> str:
    """A stable UUID of the product and variant, when the facts give no label id."""
    name = f"cfp-engine:{result.product_id}:{result.variant or ''}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _created(facts: LabelFacts) -> str:
    """The creation time the facts give (or now), in UTC, ISO 8601 with a ``Z``."""
    created = (facts.created or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return created.isoformat(timespec="seconds").replace("+00:00", "Z")


def _mass_per_declared_unit(result: FootprintResult, facts: LabelFacts) -> tuple[float, str]:
    """The product mass per declared unit (kg) and where it comes from."""
    if facts.mass_per_declared_unit_kg is not None:
        return facts.mass_per_declared_unit_kg, "label.mass_per_declared_unit"
    # PACT v3 / Catena-X: the mass of the product excluding packaging
    mass = math.fsum(c.mass_kg for c in result.components if not c.packaging)
    return mass, "sum of the component masses, packaging excluded"


def _figures(result: FootprintResult, by_reference: Mapping[str, Any]) -> dict[str, float]:
    """The PACT / ISO 14067 figures, kg CO2e (carbon contents kg C) per declared unit."""
    items = result.line_items
    aircraft = math.fsum(i.kg_co2e for i in items if by_reference[i.activity].air_freight)
    packaging = math.fsum(c.kg_co2e for c in result.components if c.packaging)
    fossil_c = [c.fossil_carbon_kg for c in result.components]
    biogenic_c = [c.biogenic_carbon_kg for c in result.components]
    return {
        "pcfExcludingBiogenicUptake": result.total_kg_co2e,
        "pcfIncludingBiogenicUptake": result.total_kg_co2e,
        "fossilGhgEmissions": result.ghg_kg_co2e["fossil"],
        "biogenicNonCO2Emissions": result.ghg_kg_co2e["biogenic"],
        "biogenicCO2Uptake": 0.0,
        "landUseChangeGhgEmissions": result.ghg_kg_co2e["land_use_change"],
        "aircraftGhgEmissions": aircraft,
        "packagingGhgEmissions": packaging,
        "outboundLogisticsGhgEmissions": result.stages_kg_co2e["distribution"],
        "fossilCarbonContent": math.fsum(c for c in fossil_c if c is not None),
        "biogenicCarbonContent": math.fsum(c for c in biogenic_c if c is not None),
    }


def _carbon_content_note(result: FootprintResult) -> str:
    """Where the carbon contents come from, and which components have none."""
    unknown = [
        c.id
        for c in result.components
        if c.fossil_carbon_kg is None and c.biogenic_carbon_kg is None
    ]
    return (
        "Carbon contents from the materials tables (kg C per kg, stoichiometric where "
        "cited); "
        + (
            f"no carbon content data for: {', '.join(unknown)}, counted as 0."
            if unknown
            else "all components have carbon content data."
        )
    )


def _ipcc_report(method_name: str) -> str:
    from cfp_engine.spec.methods import resolve_method

    return resolve_method(method_name).ipcc_report
