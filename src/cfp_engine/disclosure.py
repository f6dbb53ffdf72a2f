"""Labelling-ready disclosure: a footprint result turned into the values a label needs.

:func:`build_disclosure` gathers, from a :class:`~cfp_engine.results.FootprintResult`
and its spec, everything ISO 14067 (clause 7) asks a CFP report to show separately and
what PACT and Catena-X exchange: fossil, biogenic and land-use-change emissions,
aircraft and packaging emissions, carbon contents, stages covered, declared unit and
mass, method, allocation, exemptions, data quality (PACT DQRs from the datasets'
pedigree scores) and the primary-data share; plus the integrity hashes that let a
certification body re-compute and check a label (:mod:`cfp_engine.verify`).

Facts the calculation cannot know (company, product ids, reference period) come from the
spec's ``label:`` section or from options; a missing one is an error, never invented.
The exporters (:mod:`cfp_engine.pact`, :mod:`cfp_engine.catenax`,
:mod:`cfp_engine.label_render`) only re-shape a :class:`Disclosure`.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from . import __version__
from .errors import SpecError
from .results import FootprintResult
from .scores import ScoreTable
from .spec import STAGES, ProductSpec, canonical_json
from .units import describe_dimensionality, parse_amount, parse_quantity, registry

#: Significant digits of every figure written to a label (PACT decimal strings).
LABEL_SIGNIFICANT_DIGITS = 6
ROUNDING_RULE = (
    f"{LABEL_SIGNIFICANT_DIGITS} significant digits, decimal.ROUND_HALF_EVEN, "
    "applied to the unrounded kg CO2e (Python Decimal, no float rounding)"
)
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
EXTENSION_SCHEMA = "https://cfp-engine.example/schemas/cfp-result/1.0.0/data-model.json"
REQUIRED_FACTS = {
    "company_name": "--company-name",
    "company_ids": "--company-id",
    "product_ids": "--product-id",
    "reference_period": "--reference-period",
}


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
    exempted_emissions_description: str = "No exemptions: every input of the spec is included."
    report_url: str | None = None
    comment: str = ""
    created: datetime | None = None


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
    dqi: Mapping[str, float]  # coveragePercent and the five DQRs (1-3)
    dqi_inputs: tuple[Mapping[str, Any], ...]
    secondary_emission_factor_sources: tuple[Mapping[str, str], ...]
    uncertainty_assessment_description: str
    result: Mapping[str, Any]  # the section-3 document of the calculation
    integrity: Mapping[str, str] = field(default_factory=dict)

    @property
    def total_kg_co2e(self) -> float:
        return self.figures["pcfExcludingBiogenicUptake"]

    def extension(self) -> dict[str, Any]:
        """The PACT data-model extension that carries the result and the integrity data."""
        return {
            "specVersion": "2.0.0",
            "dataSchema": EXTENSION_SCHEMA,
            "data": {
                "engine": "cfp-engine",
                "engineVersion": __version__,
                "rounding": ROUNDING_RULE,
                "figures": labelled_figures(self),
                "result": dict(self.result),
                "integrity": dict(self.integrity),
            },
        }


# -- numbers ---------------------------------------------------------------------------


def decimal_string(value: float, digits: int = LABEL_SIGNIFICANT_DIGITS) -> str:
    """``value`` rounded to ``digits`` significant digits as a plain decimal string.

    Rounding is done on the exact decimal expansion of the float with Decimal
    (ROUND_HALF_EVEN), never with float ``round``; no exponent notation.
    """
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    exact = Decimal(repr(value))
    if exact == 0:
        return "0"
    exponent = exact.adjusted() - digits + 1
    rounded = exact.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def rounding_tolerance(text: str) -> float:
    """Half a unit in the last significant digit of a label figure (its rounding)."""
    value = Decimal(text)
    if value == 0:
        return 0.0
    return float(Decimal(5).scaleb(value.adjusted() - LABEL_SIGNIFICANT_DIGITS))


def sha256_json(document: Any) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def labelled_figures(disclosure: Disclosure) -> dict[str, str]:
    """The figures of a label as decimal strings: what its figures hash covers."""
    figures = {key: decimal_string(value) for key, value in disclosure.figures.items()}
    figures.update({f"stage:{s}": decimal_string(v) for s, v in disclosure.stages_kg_co2e.items()})
    return figures


# -- facts -----------------------------------------------------------------------------


def label_facts(spec: ProductSpec, overrides: Mapping[str, Any] | None = None) -> LabelFacts:
    """The label facts of ``spec`` (its ``label:`` section), with ``overrides`` on top.

    Raises :class:`SpecError` naming every missing fact and where to give it.
    """
    given = {**spec.label, **{k: v for k, v in (overrides or {}).items() if v not in (None, ())}}
    missing = [
        f"label.{key} (or {option})" for key, option in REQUIRED_FACTS.items() if not given.get(key)
    ]
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
        exempted_emissions_percent=float(exempted.get("percent", 0.0)),
        exempted_emissions_description=exempted.get(
            "description", "No exemptions: every input of the spec is included."
        ),
        report_url=given.get("report_url"),
        comment=given.get("comment", ""),
        created=given.get("created"),
    )


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

    ``uncertainty`` is the ``"mc"`` statistics of a Monte Carlo run of the same product
    (:meth:`cfp_engine.uncertainty_analysis.McResult.statistics`); it becomes the
    uncertainty statement and travels with the result.
    """
    unit_name, amount = _declared_unit(
        result.declared_unit, f"{spec.source}: product.declared_unit"
    )
    if facts.mass_per_declared_unit_kg is not None:
        mass, mass_source = facts.mass_per_declared_unit_kg, "label.mass_per_declared_unit"
    else:
        # PACT v3 / Catena-X: the mass of the product excluding packaging
        mass = math.fsum(c.mass_kg for c in result.components if not c.packaging)
        mass_source = "sum of the component masses, packaging excluded"
    by_reference = {a.reference: a for a in table.activities}
    items = result.line_items
    aircraft = math.fsum(i.kg_co2e for i in items if by_reference[i.activity].air_freight)
    packaging_ids = {c.id for c in result.components if c.packaging}
    packaging = math.fsum(c.kg_co2e for c in result.components if c.id in packaging_ids)
    fossil_c = [c.fossil_carbon_kg for c in result.components]
    biogenic_c = [c.biogenic_carbon_kg for c in result.components]
    unknown_c = [
        c.id
        for c in result.components
        if c.fossil_carbon_kg is None and c.biogenic_carbon_kg is None
    ]
    figures = {
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
    dqi, dqi_inputs = _data_quality(result, by_reference)
    disclosure = Disclosure(
        id=facts.id
        or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"cfp-engine:{result.product_id}:{result.variant or ''}")
        ),
        version=facts.version,
        created=(facts.created or datetime.now(timezone.utc))
        .astimezone(timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        product_id=result.product_id,
        product_name=result.product_name,
        variant=result.variant,
        facts=facts,
        declared_unit=result.declared_unit,
        declared_unit_of_measurement=unit_name,
        declared_unit_amount=amount,
        mass_per_declared_unit_kg=mass,
        mass_source=mass_source,
        geography_country=spec.geography if spec.geography not in (None, "GLO") else None,
        figures=figures,
        stages_kg_co2e=dict(result.stages_kg_co2e),
        stages_covered=tuple(s for s in STAGES if any(i.stage == s for i in items)),
        packaging_emissions_included=bool(packaging_ids),
        carbon_content_note=(
            "Carbon contents from the materials tables (kg C per kg, stoichiometric where "
            "cited); "
            + (
                f"no carbon content data for: {', '.join(unknown_c)}, counted as 0."
                if unknown_c
                else "all components have carbon content data."
            )
        ),
        method=result.method,
        ipcc_characterization_factors=(_ipcc_report(result.method),),
        gwp_source=result.provenance.get("gwp_source", ""),
        approach=result.approach,
        allocation_rules_description=_allocation_description(result),
        boundary_processes_description=_boundary_description(result, items),
        primary_data_share=_primary_share(
            result, by_reference, table.manifest.get("databases", {})
        ),
        dqi=dqi,
        dqi_inputs=dqi_inputs,
        secondary_emission_factor_sources=_secondary_sources(
            result, by_reference, table.manifest.get("databases", {})
        ),
        uncertainty_assessment_description=_uncertainty_description(uncertainty),
        result={**result.to_dict(), **({"mc": dict(uncertainty)} if uncertainty else {})},
    )
    return _with_integrity(disclosure)


def _uncertainty_description(stats: Mapping[str, Any] | None) -> str:
    if not stats:
        return (
            "No uncertainty assessment: a deterministic calculation (cfp label --mc N gives a "
            "Monte Carlo one)."
        )
    return (
        f"Monte Carlo simulation, {stats['n']} iterations (seed {stats['seed']}): data "
        "uncertainty lognormal from the datasets' pedigree scores (ecoinvent pedigree "
        "method) and the spec's own distributions, common random numbers. Per declared "
        f"unit: median {decimal_string(stats['median'], 3)}, mean "
        f"{decimal_string(stats['mean'], 3)}, 95 % interval "
        f"{decimal_string(stats['p2_5'], 3)} to {decimal_string(stats['p97_5'], 3)} kg CO2e "
        f"(deterministic {decimal_string(stats['deterministic'], 3)})."
    )


def _ipcc_report(method_name: str) -> str:
    from .methods import resolve_method

    return resolve_method(method_name).ipcc_report


def _with_integrity(disclosure: Disclosure) -> Disclosure:
    from dataclasses import replace

    provenance = disclosure.result["provenance"]
    integrity = {
        "spec_sha256": provenance["spec_sha256"],
        "data_sha256": provenance["data_sha256"],
        "engine_sha256": sha256_json({"engine": "cfp-engine", "version": __version__}),
        "figures_sha256": sha256_json(labelled_figures(disclosure)),
        "canonical_json": "sorted keys, separators (',', ':'), UTF-8; numbers as Python repr",
    }
    return replace(disclosure, integrity=integrity)


def _contributions(result: FootprintResult) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in result.line_items:
        totals[item.activity] = totals.get(item.activity, 0.0) + item.kg_co2e
    return totals


def _data_quality(result: FootprintResult, by_reference) -> tuple[dict, tuple]:
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


def _primary_share(result: FootprintResult, by_reference, databases) -> float:
    contributions = {k: abs(v) for k, v in _contributions(result).items()}
    whole = math.fsum(contributions.values())
    primary = math.fsum(
        v for k, v in contributions.items() if _is_primary(by_reference[k].database, databases)
    )
    return 100.0 * primary / whole if whole else 0.0


def _secondary_sources(result: FootprintResult, by_reference, databases) -> tuple[dict, ...]:
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


def _allocation_description(result: FootprintResult) -> str:
    parts = [
        f"End-of-life allocation: {result.approach} (cfp-engine, contract section 4"
        + (
            "; PEF Circular Footprint Formula, Recommendation (EU) 2021/2279"
            if result.approach == "cff"
            else ""
        )
        + ")."
    ]
    for c in result.components:
        p = c.parameters
        text = (
            f"{c.id} ({c.material or 'explicit activities'}, {c.mass_kg:g} kg): "
            f"R1 {p['R1']:g}, R2 {p['R2']:g}, R3 {p['R3']:g}"
        )
        if result.approach != "cut-off":
            text += (
                f", A {p['A']:g}, B {p['B']:g}, Qsin/Qp {p['Qsin_Qp']:g}, "
                f"Qsout/Qp {p['Qsout_Qp']:g}"
            )
        parts.append(text + ".")
    parts.append("No multi-output allocation in the foreground.")
    return " ".join(parts)


STAGE_NAMES = {
    "raw_materials": "raw material acquisition",
    "production": "production",
    "distribution": "distribution",
    "use": "use",
    "end_of_life": "end of life",
}


def _boundary_description(result: FootprintResult, items) -> str:
    covered = [STAGE_NAMES[s] for s in STAGES if any(i.stage == s for i in items)]
    missing = [STAGE_NAMES[s] for s in STAGES if not any(i.stage == s for i in items)]
    text = f"Life-cycle stages included: {', '.join(covered)}."
    if missing:
        text += f" Stages with no inputs in the spec: {', '.join(missing)}."
    text += (
        " Biogenic CO2 uptake and emissions are not characterised by the method "
        f"({result.method}); biogenicCO2Uptake is reported as 0."
    )
    text += (
        " The PCF (pcfExcludingBiogenicUptake) covers all these stages; the outbound logistics"
        " figure repeats the distribution stage, which the PCF already includes."
    )
    return text
