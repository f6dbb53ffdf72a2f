"""Check the structure of a PACT label: required fields, decimal strings, signs, ranges.

:func:`check_pact` is the project's own check, written from the PACT data model (v3.0 /
v2.3); :func:`check_official_schema` validates against the official OpenAPI schema when
its files are at hand (Catena-X payloads go to :mod:`cfp_engine.verify.catenax`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from cfp_engine.labels.pact import V2_DQR_WORST, V3_DQR_WORST
from cfp_engine.labels.rules import finite_decimal, urn_problems
from cfp_engine.store.imports.pact_schema import (
    V2_PCF_REQUIRED,
    V3_PCF_REQUIRED,
    official_schema_problems,
)
from cfp_engine.verify import catenax

#: Each version's DQR scale, 1 best (PACT v3.0.3: "The value MUST be between `1` and `5`
#: inclusive"; v2.3.3: "between `1` and `3` inclusive").
DQR_RANGES = {"pact": (1, V3_DQR_WORST), "pact-v2": (1, V2_DQR_WORST)}
_V3_REQUIRED = (
    "id",
    "specVersion",
    "created",
    "status",
    "companyName",
    "companyIds",
    "productDescription",
    "productIds",
    "productNameCompany",
    "pcf",
)
_V3_NON_NEGATIVE = (
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "fossilGhgEmissions",
    "landUseChangeGhgEmissions",
    "biogenicNonCO2Emissions",
    "aircraftGhgEmissions",
    "packagingGhgEmissions",
    "outboundLogisticsGhgEmissions",
)
_V3_NON_POSITIVE = ("biogenicCO2Uptake",)
_V2_REQUIRED = (
    "id",
    "specVersion",
    "version",
    "created",
    "status",
    "comment",
    "companyName",
    "companyIds",
    "productDescription",
    "productIds",
    "productCategoryCpc",
    "productNameCompany",
    "pcf",
)
_V2_NON_NEGATIVE = (
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "dLucGhgEmissions",
    "otherBiogenicGhgEmissions",
    "aircraftGhgEmissions",
    "packagingGhgEmissions",
)


def parse_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal of sane size if it is a decimal string, else None.

    See :func:`cfp_engine.labels.rules.finite_decimal` (a JSON number is no decimal string).
    """
    return finite_decimal(value) if isinstance(value, str) else None


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_TIMES = ("created", "updated", "validityPeriodStart", "validityPeriodEnd")
_PCF_DATE_TIMES = ("referencePeriodStart", "referencePeriodEnd")


def check_pact(document: dict[str, Any], fmt: str) -> list[str]:
    """Problems with the PACT structure: required fields, decimal strings, signs, ranges.

    The project's own check, written from the PACT data model (v3.0 / v2.3); it does not
    need the official schema files.
    """
    required, pcf_required, non_negative = (
        (_V3_REQUIRED, V3_PCF_REQUIRED, _V3_NON_NEGATIVE)
        if fmt == "pact"
        else (_V2_REQUIRED, V2_PCF_REQUIRED, _V2_NON_NEGATIVE)
    )
    problems = [f"missing {key}" for key in required if key not in document]
    pcf = document.get("pcf") if isinstance(document.get("pcf"), dict) else {}
    problems += [f"missing pcf.{key}" for key in pcf_required if key not in pcf]
    for key in ("companyIds", "productIds"):
        problems += urn_problems(key, document.get(key))
    for key, value in pcf.items():
        if (
            key in non_negative
            or key in _V3_NON_POSITIVE
            or key.startswith("pcf")
            or key
            in (
                "pCfExcludingBiogenic",
                "pCfIncludingBiogenic",
                "declaredUnitAmount",
                "unitaryProductAmount",
                "productMassPerDeclaredUnit",
            )
        ):
            number = parse_decimal(value)
            if number is None:
                problems.append(f"pcf.{key} = {value!r} is not a decimal string")
            elif key in non_negative and number < 0:
                problems.append(f"pcf.{key} = {value} is negative")
            elif key in _V3_NON_POSITIVE and number > 0:
                problems.append(f"pcf.{key} = {value} is positive")
    for where, keys in ((document, _DATE_TIMES), (pcf, _PCF_DATE_TIMES)):
        for key in keys:
            if key in where and not (isinstance(where[key], str) and _RFC3339.match(where[key])):
                problems.append(f"{key} = {where[key]!r} is not an RFC 3339 date-time")
    problems += dqr_problems(pcf.get("dqi"), fmt)
    return problems


def dqr_problems(dqi: Any, fmt: str) -> list[str]:
    """Problems with the DQRs of a PACT ``dqi`` block: not numbers, or off the version's scale.

    A missing block is no problem (it is optional, and left out when no data supports a
    rating); a DQR of 0 is one.
    """
    if dqi is None:
        return []
    if not isinstance(dqi, dict):
        return [f"pcf.dqi = {dqi!r} is not an object"]
    low, high = DQR_RANGES[fmt]
    problems = []
    for key, value in dqi.items():
        if not key.endswith("DQR"):
            continue
        number = parse_decimal(value) if fmt == "pact" else value
        if isinstance(number, bool) or not isinstance(number, (int, float, Decimal)):
            kind = "a decimal string" if fmt == "pact" else "a number"
            problems.append(f"pcf.dqi.{key} = {value!r} is not {kind}")
        elif not low <= number <= high:
            problems.append(f"pcf.dqi.{key} = {value} is outside {low}-{high} ({fmt})")
    return problems


def check_official_schema(document: dict[str, Any], fmt: str, schema_dir: Path) -> list[str]:
    """Validate against the official PACT OpenAPI schema found in ``schema_dir``."""
    version = {"pact": 3, "pact-v2": 2}.get(fmt)
    if version is None:
        return catenax.check_official_schema(document, schema_dir)
    return official_schema_problems(document, version, schema_dir)
