"""Read Catena-X PCF payloads back and check them (``cfp verify``), without schema files.

:func:`check_catenax` is the project's own check of a payload of ``io.catenax.pcf`` 9.0.0 or
10.0.0 (required fields per version, types, value lists, ranges, ids and timestamps),
written from the model (Eclipse Tractus-X, CC-BY-4.0; see :mod:`cfp_engine.labels.catenax`);
:func:`check_official_schema` validates against the official schema files when given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.catenax_model import (
    LATEST_RELEASE,
    M49_REGIONS,
    MODEL_VERSIONS,
    NOT_APPLICABLE,
    SPEC_VERSION_URN,
    STANDARDS_V10,
    UUID,
    range_of,
)
from cfp_engine.labels.rules import exempted_problems
from cfp_engine.verify.common import Check, first_object, ids_of, validity_check

# -- reading a payload back (cfp verify) ----------------------------------------------------


def detect_version(payload: Mapping[str, Any]) -> str:
    """The model version of ``payload`` (from ``specVersion``; 9.0.0 if it does not say)."""
    spec_version = str(first_object(payload, "scopeOfPcfForm").get("specVersion", ""))
    found = spec_version.rsplit(":", 1)[-1]
    return found if found in MODEL_VERSIONS else LATEST_RELEASE


def facts_from(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The label facts written in a payload, as overrides for a re-computation."""
    company = first_object(payload, "companyAndProductInformation", "companyInformation")
    product = first_object(payload, "companyAndProductInformation", "productInformation")
    info = ("pcfAssessmentAndMethodology", "pcfAssessmentInformation")
    time = first_object(payload, *info, "time")
    facts: dict[str, Any] = {
        "company_name": company.get("companyName"),
        "company_ids": ids_of(company.get("companyIds")),
        "product_ids": ids_of(product.get("productIds")),
        "id": first_object(payload, *info, "idAndVersion").get("id"),
    }
    for name, key in (
        ("reference_period", "referencePeriod"),
        ("validity_period", "validityPeriod"),
    ):
        start, end = (str(time.get(f"{key}{s}", ""))[:10] for s in ("Start", "End"))
        if start and end:
            facts[name] = {"start": start, "end": end}
    # Not the exempted emissions: they are the spec's (label.exempted_emissions), as in
    # PACT, so a label that declares others fails its figures instead of defining them.
    return facts


# -- the project's own check ----------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3])"
    r":[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
)
_AIP = "pcfAssessmentAndMethodology.pcfAssessmentInformation"
_METHODOLOGY = "pcfAssessmentAndMethodology.pcfMethodology"
_STAGES = "productLifeCycleStagesAndEmissions"
#: Required keys of each group (a dotted path of arrays of objects), from the model.
REQUIRED = {
    "": "scopeOfPcfForm companyAndProductInformation pcfAssessmentAndMethodology general "
    "productLifeCycleStagesAndEmissions carbonContent",
    "scopeOfPcfForm": "specVersion partialFullPcf",
    "companyAndProductInformation.companyInformation": "companyName companyIds",
    "companyAndProductInformation.productInformation": "productNameCompany productIds "
    "declaredUnitOfMeasurement declaredUnitAmount productMassPerDeclaredUnit",
    "pcfAssessmentAndMethodology": "dataSourcesAndQuality",
    _AIP: "idAndVersion boundarySpecifications technology geography time",
    f"{_AIP}.idAndVersion": "id version status retroOrProspectivePcfType",
    f"{_AIP}.boundarySpecifications": "exemptedEmissionsPercent",
    f"{_AIP}.technology": "ccsTechnologicalCO2CaptureIncluded",
    f"{_AIP}.geography": "geographyRegionOrSubregion",
    f"{_AIP}.time": "referencePeriodStart referencePeriodEnd created validityPeriodEnd",
    _METHODOLOGY: "standards gwpCharacterizationFactorDetails allocationInForeground "
    "massBalancingInformation",
    f"{_METHODOLOGY}.standards": "crossSectoralStandards productOrSectorSpecificRules",
    f"{_METHODOLOGY}.gwpCharacterizationFactorDetails": "ipccCharacterizationFactors",
    f"{_METHODOLOGY}.allocationInForeground": "allocationWasteIncineration",
    f"{_METHODOLOGY}.massBalancingInformation": "massBalancingUsed",
    _STAGES: "productionStage packagingStage distributionStage",
    f"{_STAGES}.productionStage": "pcfExcludingBiogenicUptake pcfIncludingBiogenicUptake",
    f"{_STAGES}.packagingStage": "packagingEmissionsIncluded",
    f"{_STAGES}.distributionStage": "distributionStageIncluded",
    "attestationOfConformance": "attestationType standardName attestationStandard "
    "attestationOfConformanceId providerName",
}
#: Required in 9.0.0 only; 10.0.0 asks for them "only if mass balancing used".
REQUIRED_V9 = {
    f"{_METHODOLOGY}.massBalancingInformation": "massBalancingUsed "
    "freeAttributionInMassBalancing massBalancingCertificateScheme",
}
_UNITS = "liter|kilogram|cubic meter|kilowatt hour|megajoule|ton kilometer|square meter|piece|hour"
#: Closed value lists, "|"-separated.
ENUMS = {
    "partialFullPcf": "Cradle-to-gate|Cradle-to-grave",
    "status": "Active|Deprecated",
    "retroOrProspectivePcfType": "Retrospective PCF|Prospective PCF without forerunner|"
    "Prospective PCF of further developed product with forerunner|"
    "Prospective PCF for current product for future production date|Progressive PCF",
    "ipccCharacterizationFactors": "AR5|AR6|AR4|unspecified",
    "allocationWasteIncineration": "cut-off|reverse cut-off|system expansion|"
    "polluter pays principle",
    "allocationRecycledCarbon": "upstream system expansion|cut-off",
    "geographyRegionOrSubregion": "|".join(M49_REGIONS)
    + "|Africa|Americas|Asia|Europe|Oceania|Global|Several",
}
ENUMS_BY_VERSION = {
    "9.0.0": {
        "declaredUnitOfMeasurement": _UNITS + "|megabit|second",
        "freeAttributionInMassBalancing": f"true|false|{NOT_APPLICABLE}",
    },
    "10.0.0": {
        "declaredUnitOfMeasurement": _UNITS + "|megabit second",
        "crossSectoralStandards": "|".join(STANDARDS_V10),
    },
}
BOOLEANS = {
    "ccsTechnologicalCO2CaptureIncluded",
    "massBalancingUsed",
    "packagingEmissionsIncluded",
    "distributionStageIncluded",
}
#: Fields that are arrays of values, not groups.
VALUE_LISTS = {
    "companyIds",
    "productIds",
    "crossSectoralStandards",
    "productOrSectorSpecificRules",
    "productClassifications",
    "secondaryEmissionFactorSources",
    "precedingPfIds",
}


def _objects(payload: Any, path: str) -> list[tuple[str, dict]]:
    """Every object at a dotted ``path`` of groups, with its indexed location."""
    found = [("", payload)] if isinstance(payload, dict) else []
    for key in [k for k in path.split(".") if k]:
        deeper = []
        for where, node in found:
            group = node.get(key)
            if isinstance(group, list):
                deeper += [(f"{where}{key}[{i}].", o) for i, o in enumerate(group)]
        found = deeper
    return found


def check_catenax(payload: Mapping[str, Any], version: str) -> list[str]:
    """Problems with a Catena-X PCF payload: required fields, types, value lists, ranges.

    The project's own check, written from the aspect model (``version`` 9.0.0 or 10.0.0);
    it does not read the official schema files. An empty list means no problem found.
    """
    if version not in MODEL_VERSIONS:
        return [f"unknown Catena-X model version {version!r}"]
    if not isinstance(payload, Mapping):
        return ["the payload is not a JSON object"]
    problems: list[str] = []
    required = {**REQUIRED, **(REQUIRED_V9 if version == "9.0.0" else {})}
    for path, keys in required.items():
        for where, node in _objects(dict(payload), path):
            problems += [f"missing {where}{key}" for key in keys.split() if key not in node]
    problems += _check_values(dict(payload), version)
    spec_version = str(first_object(payload, "scopeOfPcfForm").get("specVersion", ""))
    if "scopeOfPcfForm" in payload and spec_version != SPEC_VERSION_URN + version:
        problems.append(f"specVersion {spec_version!r} is not {SPEC_VERSION_URN + version}")
    return problems


def _check_values(node: Any, version: str, where: str = "") -> list[str]:
    """Types, value lists and ranges of every field, wherever it is."""
    problems: list[str] = []
    for key, value in node.items() if isinstance(node, dict) else ():
        here = f"{where}{key}"
        if key == "extensions":
            continue
        values = VALUE_LISTS - ({"precedingPfIds"} if version == "9.0.0" else set())
        if isinstance(value, dict) or (isinstance(value, list) and key not in values):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                problems.append(f"{here} must be an array of objects")
                continue
            for i, item in enumerate(value):
                problems += _check_values(item, version, f"{here}[{i}].")
            continue
        problem = _field_problem(key, value, version, where)
        if problem:
            problems.append(f"{here} = {value!r} {problem}")
    return problems


def _field_problem(key: str, value: Any, version: str, where: str) -> str | None:
    """What is wrong with one field's value (None: nothing the model forbids)."""
    enums = {**ENUMS, **ENUMS_BY_VERSION[version]}
    bounds = range_of(key)
    if key in enums:
        ok = isinstance(value, str) and value in enums[key].split("|")
        return None if ok else "is not one of the model's values"
    if key in BOOLEANS or key == "freeAttributionInMassBalancing":
        return None if isinstance(value, bool) else "is not a boolean"
    if bounds is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a JSON number"
        low, high = bounds
        if (low is not None and value < low) or (key == "declaredUnitAmount" and value <= 0):
            return "is below the model's range"
        return "is above the model's range" if high is not None and value > high else None
    if key in ("companyIds", "productIds"):
        ok = value and all(isinstance(v, str) and ":" in v for v in value)
        return None if ok else "must be a non-empty list of URIs"
    if key in VALUE_LISTS:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "must be a list of texts"
    if key == "id" and where.endswith("idAndVersion[0]."):
        ok = isinstance(value, str) and UUID.fullmatch(value)
        return None if ok else "is not a UUID"
    if key.endswith(("PeriodStart", "PeriodEnd")) or key in ("created", "completedAt"):
        ok = isinstance(value, str) and _TIMESTAMP.search(value)
        return None if ok else "is not a timestamp"
    if key == "geographyCountry":
        ok = isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value)
        return None if ok else "is not an ISO 3166-1 alpha-2 code"
    if key in ("companyName", "productNameCompany", "massBalancingCertificateScheme"):
        return None if isinstance(value, str) and value else "must be a non-empty text"
    return None


def check_official_schema(payload: Mapping[str, Any], schema_dir: str | Path) -> list[str]:
    """Validate against the official ``Pcf-schema.json`` of the payload's version.

    ``schema_dir`` is a folder holding ``v9.0.0/Pcf-schema.json`` and
    ``v10.0.0/Pcf-schema.json`` (or that file itself, or a folder with a ``catena-x``
    folder of them).
    """
    import json

    import jsonschema

    version, schema_dir = detect_version(payload), Path(schema_dir)
    candidates = [
        schema_dir / f"v{version}" / "Pcf-schema.json",
        schema_dir / "catena-x" / f"v{version}" / "Pcf-schema.json",
        schema_dir / "Pcf-schema.json",
        schema_dir,
    ]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise SpecError(f"{schema_dir}: no v{version}/Pcf-schema.json (Catena-X {version})")
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(dict(payload))
    ]


# -- rules (cfp verify) ----------------------------------------------------------------------


def rule_checks(payload: Mapping[str, Any], extension: Mapping[str, Any]) -> list[Check]:
    """The Catena-X rules ``cfp verify`` checks."""
    info = ("pcfAssessmentAndMethodology", "pcfAssessmentInformation")
    stages = first_object(payload, "productLifeCycleStagesAndEmissions")
    production = first_object(stages, "productionStage")
    distribution = first_object(stages, "distributionStage")
    exempted = first_object(payload, *info, "boundarySpecifications").get(
        "exemptedEmissionsPercent", 0
    )
    time = first_object(payload, *info, "time")
    # Without validityPeriodStart, "created" is the start (the model's description).
    valid_from = time.get("validityPeriodStart") or time.get("created")
    result = extension.get("result") if isinstance(extension.get("result"), dict) else {}
    problems = exempted_problems(exempted, "catena-x")
    checks = [
        Check(
            "rule: exempted emissions <= 3 % (Catena-X PCF Rulebook)",
            isinstance(exempted, (int, float)) and not problems,
            "; ".join(problems) or f"{exempted} %",
        ),
        Check(
            "rule: validity starts after the reference period (retrospective PCF)",
            isinstance(valid_from, str)
            and valid_from[:19] > str(time.get("referencePeriodEnd", ""))[:19],
            f"validity from {str(valid_from)[:40]}, reference period to "
            f"{str(time.get('referencePeriodEnd'))[:40]}",
        ),
        validity_check(time.get("referencePeriodEnd"), valid_from, time.get("validityPeriodEnd")),
    ]
    parts = [production.get("pcfExcludingBiogenicUptake", math.nan)]
    parts.append(distribution.get("distributionStagePcfExcludingBiogenicUptake", 0.0))
    total = result.get("total_kg_co2e")
    numbers = all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p)
        for p in [*parts, total]
    )
    tolerance = sum(abs(p) for p in parts) * 1e-5 + 1e-12 if numbers else 0.0  # 6 digits each
    ok = numbers and abs(math.fsum(parts) - total) <= tolerance
    checks.append(
        Check(
            "rule: production and distribution stages add up to the total",
            ok,
            f"production {str(parts[0])[:40]} + distribution {str(parts[1])[:40]}, "
            f"total {str(total)[:40]}",
        )
    )
    return checks
