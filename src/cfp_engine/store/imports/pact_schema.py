"""The project's own structural schema of a PACT ProductFootprint (v2.x and v3.0).

Written from the PACT Technical Specifications' data model (v2.3.3 and v3.0.3, (c) WBCSD;
this is a Separate Derivative, see NOTICE.md): the required fields of ``ProductFootprint``
and ``CarbonFootprint``, decimal strings for the figures, the status values, URNs for
the ids, and the DQR ranges. The official OpenAPI files are not shipped (their licence
allows sharing them only unaltered and non-commercially); when the user has them,
:func:`official_schema_problems` checks against them as well.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError

#: A PACT ``Decimal``: a JSON string with an optional sign and a decimal point.
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
NON_NEGATIVE = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
NON_POSITIVE = {"type": "string", "pattern": r"^(-\d+(\.\d+)?|0+(\.0+)?)$"}
DATE_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}
URN_LIST = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": "^[uU][rR][nN]:"},
}
UUID = {
    "type": "string",
    "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
_COMMON = ("id", "specVersion", "created", "status", "companyName", "companyIds")
_COMMON += ("productDescription", "productIds", "productNameCompany", "pcf")


#: The ``pcf`` fields PACT v3.0 requires (Tech Specs v3.0, ``CarbonFootprint``).
V3_PCF_REQUIRED = (
    "declaredUnitOfMeasurement",
    "declaredUnitAmount",
    "productMassPerDeclaredUnit",
    "referencePeriodStart",
    "referencePeriodEnd",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "ipccCharacterizationFactors",
    "crossSectoralStandards",
    "exemptedEmissionsPercent",
)
#: The ``pcf`` fields PACT v2.x requires (Tech Specs v2.3, ``CarbonFootprint``).
V2_PCF_REQUIRED = (
    "declaredUnit",
    "unitaryProductAmount",
    "referencePeriodStart",
    "referencePeriodEnd",
    "pCfExcludingBiogenic",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "characterizationFactors",
    "ipccCharacterizationFactorsSources",
    "crossSectoralStandardsUsed",
    "boundaryProcessesDescription",
    "exemptedEmissionsPercent",
    "exemptedEmissionsDescription",
    "packagingEmissionsIncluded",
)


def _dqi(version: int) -> dict[str, Any]:
    if version == 3:
        rating = {"type": "string", "pattern": r"^[1-5](\.\d+)?$"}
        fields = ("technologicalDQR", "geographicalDQR", "temporalDQR")
    else:
        rating = {"type": "number", "minimum": 1, "maximum": 3}
        fields = (
            "technologicalDQR",
            "temporalDQR",
            "geographicalDQR",
            "completenessDQR",
            "reliabilityDQR",
        )
    properties: dict[str, Any] = {f: rating for f in fields}
    if version == 2:
        properties["coveragePercent"] = {"type": "number", "minimum": 0, "maximum": 100}
    return {"type": "object", "required": list(fields), "properties": properties}


@lru_cache(maxsize=2)
def footprint_schema(version: int) -> dict[str, Any]:
    """The structural JSON Schema of a version 2 or 3 ProductFootprint."""
    if version == 3:
        pcf_required = list(V3_PCF_REQUIRED)
        pcf_properties = {
            "declaredUnitAmount": DECIMAL,
            "productMassPerDeclaredUnit": NON_NEGATIVE,
            "pcfExcludingBiogenicUptake": DECIMAL,
            "pcfIncludingBiogenicUptake": DECIMAL,
            "fossilGhgEmissions": NON_NEGATIVE,
            "landUseChangeGhgEmissions": NON_NEGATIVE,
            "landManagementFossilGhgEmissions": NON_NEGATIVE,
            "landManagementBiogenicCO2Emissions": NON_NEGATIVE,
            "landManagementBiogenicCO2Removals": NON_POSITIVE,
            "biogenicNonCO2Emissions": NON_NEGATIVE,
            "biogenicCO2Uptake": NON_POSITIVE,
            "primaryDataShare": DECIMAL,
            "ipccCharacterizationFactors": {"type": "array", "minItems": 1},
            "referencePeriodStart": DATE_TIME,
            "referencePeriodEnd": DATE_TIME,
            "dqi": _dqi(3),
        }
        required = list(_COMMON)
    else:
        pcf_required = list(V2_PCF_REQUIRED)
        pcf_properties = {
            "unitaryProductAmount": DECIMAL,
            "productMassPerDeclaredUnit": NON_NEGATIVE,
            "pCfExcludingBiogenic": DECIMAL,
            "pCfIncludingBiogenic": DECIMAL,
            "fossilGhgEmissions": NON_NEGATIVE,
            "dLucGhgEmissions": NON_NEGATIVE,
            "landManagementGhgEmissions": DECIMAL,
            "otherBiogenicGhgEmissions": NON_NEGATIVE,
            "biogenicCarbonWithdrawal": NON_POSITIVE,
            "characterizationFactors": {"enum": ["AR5", "AR6"]},
            "primaryDataShare": {"type": "number", "minimum": 0, "maximum": 100},
            "referencePeriodStart": DATE_TIME,
            "referencePeriodEnd": DATE_TIME,
            "dqi": _dqi(2),
        }
        required = [*_COMMON, "version", "comment", "productCategoryCpc"]
    return {
        "type": "object",
        "required": required,
        "properties": {
            "id": UUID,
            "created": DATE_TIME,
            "updated": DATE_TIME,
            "status": {"enum": ["Active", "Deprecated"]},
            "companyName": {"type": "string", "minLength": 1},
            "companyIds": URN_LIST,
            "productIds": URN_LIST,
            "productNameCompany": {"type": "string", "minLength": 1},
            "version": {"type": "integer", "minimum": 0},
            "extensions": {"type": "array", "items": {"type": "object"}},
            "pcf": {"type": "object", "required": pcf_required, "properties": pcf_properties},
        },
    }


def schema_problems(footprint: dict[str, Any], version: int) -> list[str]:
    """Problems of ``footprint`` against :func:`footprint_schema`, one line each."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(footprint_schema(version))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(footprint), key=lambda e: list(e.absolute_path))
    ]


#: The official PACT OpenAPI files, by major version, within a user's schema folder.
OFFICIAL_FILES = {3: "v3/openapi-3.0.3.yaml", 2: "v2/openapi-2.3.3.yaml"}


def official_schema_problems(
    footprint: dict[str, Any], version: int, schema_dir: Path
) -> list[str]:
    """Problems (``path: message``) of ``footprint`` against the official PACT OpenAPI
    schema of ``version`` in ``schema_dir``.

    Raises
    ------
    SpecError
        The official file is not in ``schema_dir``.
    """
    path = Path(schema_dir) / OFFICIAL_FILES[version]
    if not path.is_file():
        raise SpecError(f"schema_dir: {path} is missing (the official PACT OpenAPI file)")
    stat = path.stat()
    validator = _official_validator(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(footprint)
    ]


@lru_cache(maxsize=4)
def _official_validator(path: str, _mtime_ns: int, _size: int):
    # Read and compiled once per file version: an import checks every footprint of a
    # pull against it, and the OpenAPI file is large.
    import jsonschema
    import yaml

    with open(path, encoding="utf-8") as stream:
        openapi = yaml.safe_load(stream)
    schema = {
        **openapi["components"]["schemas"]["ProductFootprint"],
        "components": openapi["components"],
    }
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
