"""Catena-X PCF aspect-model payloads (``io.catenax.pcf`` 9.0.0 and 10.0.0) of a Disclosure.

Implements the Catena-X "Product (Carbon) Footprint" SAMM aspect model of Eclipse
Tractus-X (https://github.com/eclipse-tractusx/sldt-semantic-models, ``io.catenax.pcf``):
**9.0.0**, the latest release, and **10.0.0**, a release candidate (open pull request
#993) that may still change. The model is (c) ZF Friedrichshafen AG, T-Systems
International GmbH, Robert Bosch Manufacturing Solutions GmbH, Siemens AG, SAP AG,
BASF SE and Contributors to the Eclipse Foundation, made available under CC-BY-4.0
(https://creativecommons.org/licenses/by/4.0/). The field names, value lists and ranges
in :mod:`cfp_engine.labels.catenax_model` are taken from it; the model files are not
shipped (tests check against them).

How a :class:`~cfp_engine.labels.disclosure.Disclosure` maps (the model's own descriptions):

- ``distributionStage`` holds our ``distribution`` stage ("Distribution stage emissions
  (outbound) are to be reported separately from the production stage emissions").
- ``productionStage`` holds every other stage: raw material acquisition, production,
  use and end of life. The model has no use or end-of-life group; a PCF covering them is
  declared ``Cradle-to-grave`` in ``partialFullPcf``, so the production stage plus the
  distribution stage is the engine's total and the PACT export's figures.
- ``packagingStage`` holds the components marked ``packaging: true``, which are *part
  of* the production stage ("included in the production stage emissions (avoid double
  accounting!)").
- Facts the engine does not know are declared the model's way: no mass balancing, no
  CCS; verification shares, attestations and land-management figures are left out.
  A required fact that is missing (the validity period, a UUID id) is a
  :class:`~cfp_engine.errors.SpecError` naming the spec field, never a guess.

Numbers are JSON numbers rounded as :data:`cfp_engine.labels.rounding.ROUNDING_RULE` says
(the PACT export's rounding). The section-3 result, the engine version and the
integrity hashes travel in a top-level ``extensions`` list, as in PACT: every object of
the model allows additional properties, and ``cfp verify`` reads them there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.catenax_model import (
    CATENAX_DQR_FIELDS,
    CATENAX_DQR_WORST,
    LATEST_RELEASE,
    MODEL_VERSIONS,
    NOT_APPLICABLE,
    REGION_OF_COUNTRY,
    SPEC_VERSION_URN,
    STANDARDS,
    STANDARDS_V10,
    UUID,
    range_of,
)
from cfp_engine.labels.data_quality import dqr_on_scale
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.facts import end_of_day, start_of_day
from cfp_engine.labels.rounding import LABEL_SIGNIFICANT_DIGITS, decimal_string
from cfp_engine.labels.rules import exempted_problems
from cfp_engine.labels.statements import STAGE_NAMES

GHG_KEYS = {  # line-item GHG split -> Catena-X category (positions A, C, E)
    "fossil": "FossilGhgEmissions",
    "biogenic": "BiogenicNonCO2Emissions",
    "land_use_change": "LandUseChangeGhgEmissions",
}


def _num(value: float, digits: int = LABEL_SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded as the PACT export rounds it, as a JSON number."""
    return float(decimal_string(value, digits))


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


# -- the payload ---------------------------------------------------------------------------


def to_catenax(disclosure: Disclosure, *, version: str = LATEST_RELEASE) -> dict[str, Any]:
    """A Catena-X PCF payload (aspect model ``io.catenax.pcf`` ``version``).

    Parameters
    ----------
    disclosure
        The label's values; figures in kg CO2e per declared unit.
    version
        ``"9.0.0"`` (latest release) or ``"10.0.0"`` (release candidate).

    Raises
    ------
    SpecError
        A fact the model requires is missing or cannot be declared (named as the spec
        field to give), or a figure is outside the model's range.
    """
    if version not in MODEL_VERSIONS:
        raise SpecError(f"Catena-X model version {version!r}: one of {', '.join(MODEL_VERSIONS)}")
    d, facts = disclosure, disclosure.facts
    _check_facts(d)
    notes = [facts.comment] if facts.comment else []
    payload: dict[str, Any] = {
        "scopeOfPcfForm": [
            {
                "specVersion": SPEC_VERSION_URN + version,
                "partialFullPcf": _partial_full(d),
            }
        ],
        "companyAndProductInformation": [_company_and_product(d)],
        "pcfAssessmentAndMethodology": [_assessment_and_methodology(d, version, notes)],
        "productLifeCycleStagesAndEmissions": [_stages(d, notes)],
        "carbonContent": [_carbon_content(d)],
    }
    notes.append(d.carbon_content_note)
    if facts.report_url:
        notes.append(f"Report: {facts.report_url}")
    payload["general"] = [{"comment": " ".join(notes)}]
    payload["extensions"] = [d.extension()]
    return payload


def _check_facts(d: Disclosure) -> None:
    """The facts the model requires and the engine cannot supply or must not guess."""
    facts = d.facts
    if not UUID.fullmatch(d.id):
        raise SpecError(
            f"label.id: Catena-X needs a UUID (or urn:uuid:...) as the PCF id, got {d.id!r}"
        )
    if facts.validity_period is None:
        raise SpecError(
            "label.validity_period (or the validity_period fact) is needed for Catena-X "
            "(validityPeriodEnd is mandatory; the engine does not choose it)"
        )
    created = date.fromisoformat(d.created[:10])
    reference_end = facts.reference_period[1]
    if reference_end >= created:
        # A reference period still running is a prospective PCF, of one of four kinds
        # the engine cannot tell apart (retroOrProspectivePcfType).
        raise SpecError(
            f"label.reference_period ends {reference_end}, not before the label is created "
            f"({created}): Catena-X would need a prospective PCF type, which cfp-engine does "
            "not declare; give a reference period that has ended"
        )
    if facts.validity_period[0] <= reference_end:
        raise SpecError(
            f"label.validity_period starts {facts.validity_period[0]}: for a retrospective "
            f"Catena-X PCF it starts after the reference period ends ({reference_end})"
        )
    # The model allows 0-10 %, the PCF Rulebook (which `cfp verify` checks) at most 3 %.
    problems = exempted_problems(facts.exempted_emissions_percent, "catena-x")
    if problems:
        raise SpecError(f"label.exempted_emissions.percent: {problems[0]} (Catena-X PCF Rulebook)")
    if d.geography_country and d.geography_country not in REGION_OF_COUNTRY:
        raise SpecError(
            f"product.geography: {d.geography_country!r} is not an ISO 3166-1 country with a "
            "UN M49 region (geographyRegionOrSubregion)"
        )


def _partial_full(d: Disclosure) -> str:
    beyond_gate = any(s in d.stages_covered for s in ("use", "end_of_life"))
    return "Cradle-to-grave" if beyond_gate else "Cradle-to-gate"


def _company_and_product(d: Disclosure) -> dict[str, Any]:
    facts = d.facts
    product: dict[str, Any] = {
        "productNameCompany": d.product_name,
        "productIds": list(facts.product_ids),
        "productDescription": facts.product_description,
        "declaredUnitOfMeasurement": d.declared_unit_of_measurement,
        "declaredUnitAmount": _num(d.declared_unit_amount),
        "productMassPerDeclaredUnit": _num(d.mass_per_declared_unit_kg),
    }
    if facts.product_classifications:
        product["productClassifications"] = list(facts.product_classifications)
    company = {"companyName": facts.company_name, "companyIds": list(facts.company_ids)}
    return {"companyInformation": [company], "productInformation": [product]}


def _assessment_and_methodology(d: Disclosure, version: str, notes: list[str]) -> dict:
    facts = d.facts
    country = d.geography_country
    # No geography is a global PCF, as in PACT (a spec without geography or with GLO).
    geography: dict[str, Any] = {
        "geographyRegionOrSubregion": REGION_OF_COUNTRY[country] if country else "Global"
    }
    if country:
        geography["geographyCountry"] = country
    time = {
        "referencePeriodStart": start_of_day(facts.reference_period[0]),
        "referencePeriodEnd": end_of_day(facts.reference_period[1]),
        "created": d.created,
        "validityPeriodStart": start_of_day(facts.validity_period[0]),
        "validityPeriodEnd": end_of_day(facts.validity_period[1]),
    }
    information = {
        "idAndVersion": [
            {
                "id": d.id,
                # "must be set to the default value 0" / "active" for Catena-X
                "version": 0,
                "status": "Active",
                # _check_facts allows only reference periods that have ended
                "retroOrProspectivePcfType": "Retrospective PCF",
            }
        ],
        "boundarySpecifications": [
            {
                "exemptedEmissionsPercent": _num(facts.exempted_emissions_percent),
                "exemptedEmissionsDescription": facts.exempted_emissions_description,
            }
        ],
        # The engine accounts no technological CO2 capture (no CCS/BECCS in its data).
        "technology": [
            {
                "ccsTechnologicalCO2CaptureIncluded": False,
                "boundaryProcessesDescription": d.boundary_processes_description,
            }
        ],
        "geography": [geography],
        "time": [time],
    }
    mass_balancing: dict[str, Any] = {"massBalancingUsed": False}
    if version == "9.0.0":  # both required in 9.0.0, "only if mass balancing used"
        mass_balancing["freeAttributionInMassBalancing"] = NOT_APPLICABLE
        mass_balancing["massBalancingCertificateScheme"] = NOT_APPLICABLE
    allocation = {
        "allocationWasteIncineration": _waste_incineration(d),
        "allocationRulesDescription": d.allocation_rules_description,
    }
    if d.approach == "cut-off":  # CFF and avoided burden are neither of the model's two
        allocation["allocationRecycledCarbon"] = "cut-off"
    ipcc = d.ipcc_characterization_factors[0] if d.ipcc_characterization_factors else ""
    methodology = {
        "standards": [
            {
                "crossSectoralStandards": _standards(
                    facts.cross_sectoral_standards, version, notes
                ),
                "productOrSectorSpecificRules": list(facts.product_or_sector_specific_rules),
            }
        ],
        "gwpCharacterizationFactorDetails": [
            {
                "ipccCharacterizationFactors": ipcc
                if ipcc in ("AR4", "AR5", "AR6")
                else "unspecified"
            }
        ],
        "allocationInForeground": [allocation],
        "massBalancingInformation": [mass_balancing],
    }
    return {
        "pcfAssessmentInformation": [information],
        "pcfMethodology": [methodology],
        "dataSourcesAndQuality": [_data_quality(d)],
    }


def _standards(standards: tuple[str, ...], version: str, notes: list[str]) -> Any:
    named = [STANDARDS.get(s, s) for s in standards]
    if version == "9.0.0":  # an open list of names
        return named
    first = named[0] if named and named[0] in STANDARDS_V10 else "Other"
    if len(standards) > 1 or first == "Other":  # 10.0.0 takes one value of a closed list
        notes.append(f"Cross-sectoral standards applied: {', '.join(standards)}.")
    return first


def _waste_incineration(d: Disclosure) -> str:
    """The model's name for how the engine shares incineration with energy recovery.

    Cut-off burdens the product with the incineration (R3 E_ER) and credits nothing: the
    polluter pays. The CFF and avoided burden credit the recovered energy ((1-B) R3): a
    system expansion, unless B = 1 everywhere, which leaves the burden to the energy user.
    """
    if d.approach == "cut-off":
        return "polluter pays principle"
    bs = [c["parameters"].get("B", 0.0) for c in d.result["components"]]
    return "cut-off" if bs and all(b == 1 for b in bs) else "system expansion"


def _data_quality(d: Disclosure) -> dict[str, Any]:
    quality: dict[str, Any] = {"primaryDataShare": _num(d.primary_data_share, 4)}
    if d.secondary_emission_factor_sources:
        quality["secondaryEmissionFactorSources"] = [
            f"{s['name']} {s.get('version', '')}".strip()
            for s in d.secondary_emission_factor_sources
        ]
    if d.dqi:  # optional; left out when no input has pedigree scores, never 0
        # Both versions rate 1-5, 1 best (DqiNumberTrait; TfS Guideline v3.0, 5.2.11.2):
        # the pedigree scale itself. The model has no coverage field.
        for name in CATENAX_DQR_FIELDS:
            quality[name] = _num(dqr_on_scale(d.dqi[name], CATENAX_DQR_WORST), 3)
    return quality


# -- emissions by life-cycle stage ----------------------------------------------------------


def _split(items: list[Mapping[str, Any]]) -> dict[str, float]:
    """Total and GHG categories (kg CO2e per declared unit) of some line items."""
    split = {"total": math.fsum(i["kg_co2e"] for i in items)}
    for key in GHG_KEYS:
        split[key] = math.fsum(i["ghg_kg_co2e"].get(key, 0.0) for i in items)
    return split


def _stage_fields(prefix: str, split: Mapping[str, float], uptake: float) -> dict[str, Any]:
    """The T1/T2 totals and positions A, C, D, E of one stage group, named with ``prefix``."""

    def name(suffix: str) -> str:
        return _lower_first(prefix + suffix)

    fields = {
        name("PcfExcludingBiogenicUptake"): split["total"],
        name("PcfIncludingBiogenicUptake"): split["total"] + uptake,
        name("BiogenicCO2Uptake"): uptake,
    }
    fields.update({name(suffix): split[key] for key, suffix in GHG_KEYS.items()})
    return fields


def _stages(d: Disclosure, notes: list[str]) -> dict[str, Any]:
    """The production, distribution and packaging groups, each figure range-checked."""
    items = list(d.result["line_items"])
    distribution_items = [i for i in items if i["stage"] == "distribution"]
    production = _split([i for i in items if i["stage"] != "distribution"])
    production["total"] = math.fsum(v for s, v in d.stages_kg_co2e.items() if s != "distribution")
    # The method does not characterise biogenic uptake (see boundary description); the
    # figure (0 or not) belongs to the product, so to the production stage.
    uptake = d.figures["biogenicCO2Uptake"]
    production_fields = _stage_fields("", production, uptake)
    distribution_included = "distribution" in d.stages_covered
    distribution: dict[str, Any] = {"distributionStageIncluded": distribution_included}
    if distribution_included:
        split = {**_split(distribution_items), "total": d.stages_kg_co2e["distribution"]}
        distribution.update(_stage_fields("distributionStage", split, 0.0))
    packaging: dict[str, Any] = {"packagingEmissionsIncluded": d.packaging_emissions_included}
    if d.packaging_emissions_included:
        ids = {c["id"] for c in d.result["components"] if c.get("packaging")}
        split = _split([i for i in items if i.get("component") in ids])
        split["total"] = d.figures["packagingGhgEmissions"]  # the PACT figure itself
        packaging.update(_stage_fields("packaging", split, 0.0))
    # Aircraft emissions are known in total only; split them when one group has them all.
    aircraft = d.figures["aircraftGhgEmissions"]
    if aircraft == 0 or not distribution_included:
        production_fields["aircraftGhgEmissions"] = aircraft
        if distribution_included:
            distribution["distributionStageAircraftGhgEmissions"] = 0.0
        if d.packaging_emissions_included and aircraft == 0:
            packaging["packagingAircraftGhgEmissions"] = 0.0
    else:
        notes.append(
            f"Aircraft emissions: {decimal_string(aircraft)} kg CO2e per declared unit in "
            "the production and distribution stages together (not split by stage)."
        )
    groups = {
        "productionStage": production_fields,
        "distributionStage": distribution,
        "packagingStage": packaging,
    }
    for group, fields in groups.items():
        for key, value in fields.items():
            if isinstance(value, float):
                fields[key] = _checked_emission(d, f"{group}.{key}", value)
    notes.append(_stage_note(d))
    return {group: [fields] for group, fields in groups.items()}


def _checked_emission(d: Disclosure, path: str, value: float) -> float:
    """``value`` rounded, or a :class:`SpecError` when the model's range excludes it."""
    number = _num(value)
    low, high = range_of(path.rsplit(".", 1)[1]) or (None, None)
    if low is not None and number < low:
        raise SpecError(
            f"Catena-X {path} must be >= 0 kg CO2e, but the {d.approach} footprint gives "
            f"{decimal_string(value)}: the model takes no net credits or removals here "
            "(the Catena-X PCF Rulebook counts no credits; try approach='cut-off')"
        )
    if high is not None and number > high:
        raise SpecError(f"Catena-X {path} must be <= 0 kg CO2e, got {decimal_string(value)}")
    return number


def _stage_note(d: Disclosure) -> str:
    inside = [s for s in STAGE_NAMES if s != "distribution"]
    parts = ", ".join(
        f"{STAGE_NAMES[s]} {decimal_string(d.stages_kg_co2e.get(s, 0.0))}"
        for s in (*inside, "distribution")
    )
    return (
        f"cfp-engine: productionStage covers {', '.join(STAGE_NAMES[s] for s in inside)} "
        f"({_partial_full(d)}); distributionStage is reported separately; packagingStage "
        f"is part of productionStage. Per stage, kg CO2e per declared unit: {parts}."
    )


def _carbon_content(d: Disclosure) -> dict[str, Any]:
    fossil, biogenic = d.figures["fossilCarbonContent"], d.figures["biogenicCarbonContent"]
    content = {
        "fossilCarbonContent": _num(fossil),
        "biogenicCarbonContent": _num(biogenic),
        "carbonContentTotal": _num(fossil + biogenic),
    }
    known = [
        c["biogenic_carbon_kg"]
        for c in d.result["components"]
        if c.get("packaging") and c.get("biogenic_carbon_kg") is not None
    ]
    if known:  # optional; left out when no packaging component has carbon data
        content["packagingBiogenicCarbonContent"] = _num(math.fsum(known))
    return content
