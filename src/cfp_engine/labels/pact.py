"""PACT ProductFootprint exports (v3.0 and v2.3) of a disclosure.

The disclosure is a :class:`~cfp_engine.labels.disclosure.Disclosure`.

Implements the WBCSD PACT Technical Specifications (data model of v3.0.3 and v2.3.3). This
is a Separate Derivative of the PACT specification, (c) WBCSD, used under its licence; the
specification files themselves are not shipped (see README, "PACT notice").

Numbers are decimal strings (the PACT ``Decimal`` type) rounded as
:data:`cfp_engine.labels.rounding.ROUNDING_RULE` says; the section-3 result document and the
integrity hashes travel in a data-model extension.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.data_quality import DQR_FIELDS, dqr_on_scale
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.facts import end_of_day, start_of_day
from cfp_engine.labels.rounding import decimal_string
from cfp_engine.labels.rules import exempted_problems

PACT_V3 = "3.0.0"
PACT_V2 = "2.3.0"
#: The DQRs of each version and the worst value of its scale (1 is the best in both):
#: v3.0.3 "MUST be between `1` and `5` inclusive", v2.3.3 "between `1` and `3` inclusive".
V3_DQR_FIELDS, V3_DQR_WORST = ("technologicalDQR", "geographicalDQR", "temporalDQR"), 5
V2_DQR_FIELDS, V2_DQR_WORST = tuple(DQR_FIELDS.values()), 3
V2_STANDARDS = {
    "ISO14067": "ISO Standard 14067",
    "GHGP-Product": "GHG Protocol Product standard",
    "ISO14040-44": "ISO Standard 14044",
}
#: The optional ``pcf`` fields both versions write alike, in each version's order.
V3_OPTIONAL_ORDER = (
    "packagingGhgEmissions",
    "geographyCountry",
    "productOrSectorSpecificRules",
    "secondaryEmissionFactorSources",
)
V2_OPTIONAL_ORDER = (
    "packagingGhgEmissions",
    "geographyCountry",
    "secondaryEmissionFactorSources",
    "productOrSectorSpecificRules",
)
V2_UNITS = (
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
)


def _common(disclosure: Disclosure) -> dict[str, Any]:
    """The top-level fields both versions share (before ``pcf``)."""
    facts = disclosure.facts
    document: dict[str, Any] = {
        "id": disclosure.id,
        "created": disclosure.created,
        "status": "Active",
        "companyName": facts.company_name,
        "companyIds": list(facts.company_ids),
        "productDescription": facts.product_description,
        "productIds": list(facts.product_ids),
        "productNameCompany": disclosure.product_name,
    }
    if facts.product_classifications:
        document["productClassifications"] = list(facts.product_classifications)
    if facts.validity_period:
        document["validityPeriodStart"] = start_of_day(facts.validity_period[0])
        document["validityPeriodEnd"] = end_of_day(facts.validity_period[1])
    if facts.comment:
        document["comment"] = facts.comment
    return document


def _optional_pcf(
    d: Disclosure, figure: Callable[[str], str], order: tuple[str, ...]
) -> dict[str, Any]:
    """The optional ``pcf`` fields both versions share, left out when the label has none.

    ``figure`` writes a figure of the disclosure as the version's decimal string (v2
    divides by the mass when it declares per kilogram); ``order`` is the version's order.
    """
    optional: dict[str, Any] = {}
    if d.packaging_emissions_included:
        optional["packagingGhgEmissions"] = figure("packagingGhgEmissions")
    if d.geography_country:
        optional["geographyCountry"] = d.geography_country
    if d.facts.product_or_sector_specific_rules:
        optional["productOrSectorSpecificRules"] = [
            {
                "operator": "Other",
                "otherOperatorName": "as declared",
                "ruleNames": list(d.facts.product_or_sector_specific_rules),
            }
        ]
    if d.secondary_emission_factor_sources:
        optional["secondaryEmissionFactorSources"] = [
            dict(s) for s in d.secondary_emission_factor_sources
        ]
    return {key: optional[key] for key in order if key in optional}


def to_pact_v3(disclosure: Disclosure) -> dict[str, Any]:
    """A PACT v3 ``ProductFootprint`` (spec 3.0.x)."""
    d, facts = disclosure, disclosure.facts

    def dec(key: str) -> str:
        return decimal_string(d.figures[key])

    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": d.declared_unit_of_measurement,
        "declaredUnitAmount": decimal_string(d.declared_unit_amount),
        "productMassPerDeclaredUnit": decimal_string(d.mass_per_declared_unit_kg),
        "referencePeriodStart": start_of_day(facts.reference_period[0]),
        "referencePeriodEnd": end_of_day(facts.reference_period[1]),
        "boundaryProcessesDescription": d.boundary_processes_description,
        "pcfExcludingBiogenicUptake": dec("pcfExcludingBiogenicUptake"),
        "pcfIncludingBiogenicUptake": dec("pcfIncludingBiogenicUptake"),
        "fossilCarbonContent": dec("fossilCarbonContent"),
        "biogenicCarbonContent": dec("biogenicCarbonContent"),
        "fossilGhgEmissions": dec("fossilGhgEmissions"),
        "landUseChangeGhgEmissions": dec("landUseChangeGhgEmissions"),
        "biogenicCO2Uptake": dec("biogenicCO2Uptake"),
        "biogenicNonCO2Emissions": dec("biogenicNonCO2Emissions"),
        "aircraftGhgEmissions": dec("aircraftGhgEmissions"),
        "packagingEmissionsIncluded": d.packaging_emissions_included,
        "outboundLogisticsGhgEmissions": dec("outboundLogisticsGhgEmissions"),
        "ipccCharacterizationFactors": list(d.ipcc_characterization_factors),
        "crossSectoralStandards": list(facts.cross_sectoral_standards),
        "exemptedEmissionsPercent": decimal_string(facts.exempted_emissions_percent),
        "exemptedEmissionsDescription": facts.exempted_emissions_description,
        "allocationRulesDescription": d.allocation_rules_description,
        "primaryDataShare": decimal_string(d.primary_data_share, 4),
    }
    if d.dqi:  # optional in v3; left out when no input has pedigree scores, never 0
        pcf["dqi"] = {
            field: decimal_string(dqr_on_scale(d.dqi[field], V3_DQR_WORST), 3)
            for field in V3_DQR_FIELDS
        }
    pcf.update(_optional_pcf(d, dec, V3_OPTIONAL_ORDER))
    return {"specVersion": PACT_V3, **_common(d), "pcf": pcf, "extensions": [d.extension()]}


def _v2_declared_unit(d: Disclosure) -> tuple[str, float, float]:
    """The v2 declared unit, its amount and the divisor of every figure (1 or the mass, kg).

    v2 has no ``piece`` unit: a product declared per piece is declared per kilogram with
    ``unitaryProductAmount`` = its mass, and every figure is divided by that mass (PACT
    v2 figures are per declared unit).
    """
    if d.declared_unit_of_measurement in V2_UNITS:
        return d.declared_unit_of_measurement, d.declared_unit_amount, 1.0
    if not d.mass_per_declared_unit_kg > 0:
        raise SpecError(
            f"PACT v2 has no unit {d.declared_unit_of_measurement!r}; the "
            "product mass is needed to declare it per kilogram "
            "(label.mass_per_declared_unit)"
        )
    return "kilogram", d.mass_per_declared_unit_kg, d.mass_per_declared_unit_kg


def to_pact_v2(disclosure: Disclosure) -> dict[str, Any]:
    """A PACT v2.3 ``ProductFootprint``, per kilogram if the declared unit is a piece.

    Raises
    ------
    SpecError
        No UN CPC code, exempted emissions above v2's limit, or a per-piece product
        without a mass.
    """
    d, facts = disclosure, disclosure.facts
    if not facts.product_category_cpc:
        raise SpecError(
            "PACT v2 needs the product's UN CPC code: label.product_category_cpc "
            "in the spec (or the product_category_cpc fact)"
        )
    problems = exempted_problems(facts.exempted_emissions_percent, "pact-v2")
    if problems:  # what `cfp verify` would fail is never written
        raise SpecError(f"label.exempted_emissions.percent: {problems[0]} (PACT v2.3)")
    unit, amount, per = _v2_declared_unit(d)

    def dec(key: str) -> str:
        return decimal_string(d.figures[key] / per)

    pcf: dict[str, Any] = {
        "declaredUnit": unit,
        "unitaryProductAmount": decimal_string(amount),
        "productMassPerDeclaredUnit": decimal_string(d.mass_per_declared_unit_kg / per),
        "pCfExcludingBiogenic": dec("pcfExcludingBiogenicUptake"),
        "pCfIncludingBiogenic": dec("pcfIncludingBiogenicUptake"),
        "fossilGhgEmissions": dec("fossilGhgEmissions"),
        "fossilCarbonContent": dec("fossilCarbonContent"),
        "biogenicCarbonContent": dec("biogenicCarbonContent"),
        "dLucGhgEmissions": dec("landUseChangeGhgEmissions"),
        "otherBiogenicGhgEmissions": dec("biogenicNonCO2Emissions"),
        "biogenicCarbonWithdrawal": dec("biogenicCO2Uptake"),
        "aircraftGhgEmissions": dec("aircraftGhgEmissions"),
        "characterizationFactors": d.ipcc_characterization_factors[0],
        "ipccCharacterizationFactorsSources": list(d.ipcc_characterization_factors),
        "crossSectoralStandardsUsed": [
            V2_STANDARDS[s] for s in facts.cross_sectoral_standards if s in V2_STANDARDS
        ]
        or ["ISO Standard 14067"],
        "boundaryProcessesDescription": d.boundary_processes_description,
        "referencePeriodStart": start_of_day(facts.reference_period[0]),
        "referencePeriodEnd": end_of_day(facts.reference_period[1]),
        "exemptedEmissionsPercent": facts.exempted_emissions_percent,
        "exemptedEmissionsDescription": facts.exempted_emissions_description,
        "packagingEmissionsIncluded": d.packaging_emissions_included,
        "allocationRulesDescription": d.allocation_rules_description,
        "uncertaintyAssessmentDescription": d.uncertainty_assessment_description,
        "primaryDataShare": round(d.primary_data_share, 2),
    }
    if d.dqi:  # optional in the schema; left out when no input has pedigree scores, never 0
        pcf["dqi"] = {
            "coveragePercent": round(d.dqi["coveragePercent"], 2),
            **{f: round(dqr_on_scale(d.dqi[f], V2_DQR_WORST), 2) for f in V2_DQR_FIELDS},
        }
    if per != 1.0:
        pcf["boundaryProcessesDescription"] += (
            f" Declared per kilogram: one {d.declared_unit_of_measurement} has "
            f"{decimal_string(per)} kg; the per-piece values are in the extension."
        )
    pcf.update(_optional_pcf(d, dec, V2_OPTIONAL_ORDER))
    return {
        "specVersion": PACT_V2,
        **_common(d),
        "version": d.version,
        "comment": facts.comment,
        "productCategoryCpc": facts.product_category_cpc or "",
        "pcf": pcf,
        "extensions": [d.extension()],
    }
