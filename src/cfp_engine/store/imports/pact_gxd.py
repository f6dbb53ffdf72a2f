"""Read the Green x Digital Consortium's PACT data-model extension of a supplier footprint.

Japan's Green x Digital Consortium (JEITA) publishes a PACT data-model extension for
footprints made under its CO2 Visualization Framework:
https://github.com/Green-x-Digital-Consortium/data-model-extensions
(``specs/GxD_extension_en.md`` and ``specs/GxD_schema_en.json``, updated 2025-03-26, MIT
licence, see NOTICE.md). Its data: ``calcMethod`` (``"0"`` product-based, ``"1"``
organization-based: organisation Scope 1-3 emissions allocated to a customer),
``FWedition`` (the Framework edition), and optional ``organization`` (distribution levels
and indices), ``certificate`` (amount and type, e.g. J-Credits from renewable energy) and
``gateToGate`` (the supplier's own gate-to-gate emissions) objects.

:data:`GXD_SCHEMA` transcribes that schema's fields and value lists, except one of its
``required`` lists: ``organization`` requires ``declaredUnit`` and
``crossSectoralStandardsUsed``, which are no properties of it (PACT ``pcf`` fields); they
are left out here, or no organization object could be valid.

The extension never changes the figures: it is kept whole in the stored payload, and
:func:`gxd_notes` says what it declares, in the import report, and, for an
organization-based footprint, in the warnings of every result that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LEVELS = ["organization", "site", "building", "production line"]
_INDICES = ["volume", "unit", "production"]
GXD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["calcMethod", "FWedition"],
    "properties": {
        "calcMethod": {"type": "string", "enum": ["0", "1"]},
        "FWedition": {"type": "string"},
        "organization": {
            "type": "object",
            "required": [
                "scope1DistributionLevel",
                "scope2DistributionLevel",
                "scope3DistributionLevel",
            ],
            "properties": {
                "scope3Category": {"type": "array", "items": {"type": "string"}},
                **{f"scope{i}DistributionLevel": {"enum": _LEVELS} for i in (1, 2, 3)},
                **{f"scope{i}DistributionIndex": {"enum": _INDICES} for i in (1, 2, 3)},
                "distributionLevelComment": {"type": "string"},
                "distributionIndexComment": {"type": "string"},
            },
        },
        "certificate": {
            "type": "object",
            "properties": {
                "certificateAmount": {"type": "string"},
                "certificateType": {"type": "string"},
            },
        },
        "gateToGate": {
            "type": "object",
            "properties": {
                "gateToGateFossilGhgEmissions": {"type": "string"},
                "gateToGateBiogenicCarbonContent": {"type": "string"},
                "unitaryProductAmountComment": {"type": "string"},
            },
        },
    },
}
_METHODS = {"0": "product-based calculation", "1": "organization-based calculation"}


def is_gxd(extension: Any) -> bool:
    """Whether ``extension`` is the Green x Digital Consortium's (by its ``dataSchema``)."""
    if not isinstance(extension, Mapping):
        return False
    schema = str(extension.get("dataSchema", ""))
    return "Green-x-Digital-Consortium" in schema or "GxD_schema" in schema


def gxd_notes(footprint: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What the footprint's Green x Digital extension declares: (report lines, warnings).

    Warnings (which travel into results) are only for what changes what the footprint
    means: an organization-based calculation, or data that do not follow the schema.
    """
    import jsonschema

    lines: list[str] = []
    warnings: list[str] = []
    for extension in footprint.get("extensions") or ():
        if not is_gxd(extension):
            continue
        data = extension.get("data")
        validator = jsonschema.Draft202012Validator(GXD_SCHEMA)
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '(data)'}: {e.message}"
            for e in validator.iter_errors(data)
        ]
        if problems:
            warnings.append(
                "Green x Digital extension does not follow its schema (kept, not read): "
                + "; ".join(problems[:3])
            )
            continue
        method = _METHODS[data["calcMethod"]]
        line = (
            f"Green x Digital extension: {method}, CO2 Visualization Framework {data['FWedition']}"
        )
        certificate = data.get("certificate") or {}
        if certificate:
            line += (
                f"; certificate {certificate.get('certificateType', '?')} "
                f"{certificate.get('certificateAmount', '?')}"
            )
        gate = data.get("gateToGate") or {}
        if gate.get("gateToGateFossilGhgEmissions"):
            line += f"; gate-to-gate {gate['gateToGateFossilGhgEmissions']} (excluding biogenic)"
        lines.append(line)
        if data["calcMethod"] == "1":
            organization = data.get("organization") or {}
            levels = ", ".join(
                f"scope {i} by {organization.get(f'scope{i}DistributionLevel', '?')}"
                for i in (1, 2, 3)
            )
            warnings.append(
                "the supplier calculated it organization-based (Green x Digital extension: "
                f"organisation emissions allocated to the product, {levels}), not by a "
                "product life cycle assessment"
            )
    return lines, warnings
