"""Read supplier PACT ProductFootprints (v2.x, v3.0): validate them, figures per unit.

A file holds one footprint, a list of them, or a host's list response ``{"data": [...]}``.
Each footprint is checked on its own (:func:`footprint_problems`): the project's own
structural schema of its ``specVersion`` (:mod:`cfp_engine.store.imports.pact_schema`,
written from the PACT data model; the official schema files are not shipped, see
NOTICE.md), and the official OpenAPI schema as well when its folder is given. A valid
footprint becomes a :class:`SupplierFootprint`: its figures per *one* declared unit
(PACT figures are per ``declaredUnitAmount`` / ``unitaryProductAmount`` units), its unit as
Brightway names it, its data-quality ratings on the pedigree scale and what the engine
cannot represent of it (:attr:`SupplierFootprint.notes`).

The GHG split. The engine's methods give a sub-indicator for fossil, biogenic and
land-use-change emissions (``methods/methods.yaml``); a footprint's figures go to them as:

========================  =============================================  ===========================
sub-indicator             PACT v3 fields                                 PACT v2 fields
========================  =============================================  ===========================
fossil                    fossilGhgEmissions,                            fossilGhgEmissions
                          landManagementFossilGhgEmissions
land_use_change           landUseChangeGhgEmissions,                     dLucGhgEmissions,
                          landManagementBiogenicCO2Emissions             landManagementGhgEmissions
biogenic                  biogenicNonCO2Emissions                        otherBiogenicGhgEmissions
========================  =============================================  ===========================

and the total is ``pcfExcludingBiogenicUptake`` (v2 ``pCfExcludingBiogenic``), the figure the
engine's own labels state as the footprint: its IPCC methods leave biogenic CO2 uptake and
release out. What the itemised fields do not add up to (suppliers' rounding; PACT's own
examples differ by 0.002) is counted as fossil, so that the total is the supplier's, and
said in the notes. Biogenic uptake and removals (``biogenicCO2Uptake``,
``landManagementBiogenicCO2Removals``, v2 ``biogenicCarbonWithdrawal``) cannot be
represented (the methods count no uptake): a non-zero one is a note, and a warning in every
result that uses the footprint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.store.imports.pact_gxd import gxd_notes, is_gxd
from cfp_engine.store.imports.pact_payloads import payload_sha256
from cfp_engine.store.imports.pact_schema import official_schema_problems, schema_problems

#: PACT declared units -> Brightway unit names (:data:`cfp_engine.spec.conversion.BRIGHTWAY_UNITS`).
UNITS = {
    "liter": "liter",
    "kilogram": "kilogram",
    "cubic meter": "cubic meter",
    "kilowatt hour": "kilowatt hour",
    "megajoule": "megajoule",
    "ton kilometer": "ton kilometer",
    "square meter": "square meter",
    "piece": "piece",
    "hour": "hour",  # v3.0
    "megabit second": "megabit second",  # v3.0; pint reads it as megabit * second
}
#: PACT v2.3 DQRs run 1 (good) - 3 (poor), v3.0 1 - 5; the engine keeps the pedigree scale
#: 1 (best) - 5 (worst) (:mod:`cfp_engine.labels.data_quality`): v2 ratings are mapped
#: linearly (1 -> 1, 2 -> 3, 3 -> 5), the inverse of what the PACT v2 export does.
DQR_WORST = {2: 3, 3: 5}
_PEDIGREE = {
    "technologicalDQR": "technological",
    "temporalDQR": "temporal",
    "geographicalDQR": "geographical",
    "completenessDQR": "completeness",
    "reliabilityDQR": "reliability",
}
#: PACT v3 removed completenessDQR and reliabilityDQR. A v3 footprint's missing ones are
#: counted as the worst score (5): an unrated aspect must not improve a label's DQI.
UNRATED_PEDIGREE = 5

_FIELDS = {  # version -> (total, {sub-indicator: fields}, uptake fields, unit, amount)
    3: (
        "pcfExcludingBiogenicUptake",
        {
            "fossil": ("fossilGhgEmissions", "landManagementFossilGhgEmissions"),
            "land_use_change": (
                "landUseChangeGhgEmissions",
                "landManagementBiogenicCO2Emissions",
            ),
            "biogenic": ("biogenicNonCO2Emissions",),
        },
        ("biogenicCO2Uptake", "landManagementBiogenicCO2Removals"),
        "declaredUnitOfMeasurement",
        "declaredUnitAmount",
    ),
    2: (
        "pCfExcludingBiogenic",
        {
            "fossil": ("fossilGhgEmissions",),
            "land_use_change": ("dLucGhgEmissions", "landManagementGhgEmissions"),
            "biogenic": ("otherBiogenicGhgEmissions",),
        },
        ("biogenicCarbonWithdrawal",),
        "declaredUnit",
        "unitaryProductAmount",
    ),
}
#: Relative difference between the total and its itemised parts treated as rounding.
ROUNDING = 1e-9


@dataclass(frozen=True)
class SupplierFootprint:
    """One valid supplier footprint, per one declared unit (kg CO2e per unit)."""

    id: str
    spec_version: str
    version: int | None
    status: str
    created: str
    updated: str | None
    company_name: str
    product_ids: tuple[str, ...]
    product_name: str
    unit: str  # Brightway unit name
    declared_unit: str  # as the footprint names it
    declared_amount: float
    mass_per_unit_kg: float | None
    location: str
    total_kg_co2e: float
    ghg_kg_co2e: Mapping[str, float]  # fossil, biogenic, land_use_change
    ipcc: tuple[str, ...]
    pedigree: Mapping[str, float]
    primary_data_share: float | None  # percent
    extensions: tuple[Mapping[str, Any], ...]
    payload: Mapping[str, Any]
    sha256: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def figures(self) -> dict[str, float]:
        """The figures per unit the engine must give back: total and the three parts."""
        return {"total": self.total_kg_co2e, **self.ghg_kg_co2e}


@dataclass(frozen=True)
class Rejected:
    """A footprint that was not imported, and why."""

    position: int
    id: str
    reasons: tuple[str, ...]


def read_footprint_file(path: str | Path) -> list[Any]:
    """The footprints a file holds: one, a list, or a host's ``{"data": [...]}`` response.

    Raises
    ------
    SpecError
        The file is not JSON, or holds none of those shapes.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{source}: cannot read the file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    if isinstance(document, dict) and "data" in document and "pcf" not in document:
        document = document["data"]  # a list (or get) response of a PACT host
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list) and document:
        return document
    raise SpecError(
        f"{source}: expected a PACT ProductFootprint, a list of them or a host's "
        '{"data": [...]} response'
    )


def major_version(footprint: Mapping[str, Any]) -> int | None:
    """2 or 3 from ``specVersion`` (``2.0.0`` - ``2.3.x``, ``3.0.x``); None otherwise."""
    text = str(footprint.get("specVersion", ""))
    head = text.split(".", 1)[0]
    return int(head) if head in ("2", "3") and text.count(".") == 2 else None


def footprint_problems(footprint: Any, *, schema_dir: str | Path | None = None) -> list[str]:
    """Why ``footprint`` cannot be imported (empty when it can)."""
    if not isinstance(footprint, dict):
        return [f"not a JSON object but {type(footprint).__name__}"]
    version = major_version(footprint)
    if version is None:
        return [f"specVersion {footprint.get('specVersion')!r}: expected 2.x.y or 3.0.y"]
    problems = schema_problems(footprint, version)
    if schema_dir is not None and not problems:
        official = official_schema_problems(footprint, version, Path(schema_dir))
        problems = [f"{problem} (official schema)" for problem in official]
    if problems:
        return problems
    _, _, _, unit_field, amount_field = _FIELDS[version]
    pcf = footprint["pcf"]
    if pcf[unit_field] not in UNITS:
        problems.append(f"pcf.{unit_field} {pcf[unit_field]!r} is not a PACT unit")
    if not _number(pcf[amount_field]) > 0:
        problems.append(f"pcf.{amount_field} {pcf[amount_field]!r} is not positive")
    return problems


def _number(value: Any) -> float:
    """A PACT Decimal (a string) or a v2 JSON number as a float; NaN when neither."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return math.nan


def read_footprint(footprint: Mapping[str, Any]) -> SupplierFootprint:
    """A valid footprint (see :func:`footprint_problems`) as figures per one declared unit."""
    version = major_version(footprint)
    total_field, parts, uptake_fields, unit_field, amount_field = _FIELDS[version]
    pcf = footprint["pcf"]
    amount = _number(pcf[amount_field])

    def per_unit(key: str) -> float:
        value = _number(pcf.get(key, 0))
        return 0.0 if math.isnan(value) else value / amount

    ghg = {ind: math.fsum(per_unit(k) for k in keys) for ind, keys in parts.items()}
    total = per_unit(total_field)
    notes = []
    itemised = math.fsum(ghg.values())
    rest = total - itemised
    if abs(rest) > ROUNDING * max(abs(total), 1e-12):
        ghg["fossil"] += rest
        notes.append(
            f"{total_field} {total:.6g} kg CO2e per {UNITS[pcf[unit_field]]} is not the sum "
            f"of its itemised parts ({itemised:.6g}); the difference {rest:+.6g} is counted as "
            "fossil so that the total is the supplier's"
        )
    for key in uptake_fields:
        uptake = per_unit(key)
        if uptake:
            notes.append(
                f"{key} {uptake:.6g} kg CO2e per {UNITS[pcf[unit_field]]} is not represented: "
                "the engine's methods count no biogenic CO2 uptake or removal"
            )
    notes += gxd_notes(footprint)[1]
    mass = _number(pcf.get("productMassPerDeclaredUnit"))
    ipcc = pcf.get("ipccCharacterizationFactors") or pcf.get("ipccCharacterizationFactorsSources")
    ipcc = tuple(
        ipcc or ([pcf["characterizationFactors"]] if "characterizationFactors" in pcf else [])
    )
    share = _number(pcf.get("primaryDataShare"))
    return SupplierFootprint(
        id=str(footprint["id"]),
        spec_version=str(footprint["specVersion"]),
        version=footprint.get("version"),
        status=str(footprint["status"]),
        created=str(footprint["created"]),
        updated=footprint.get("updated"),
        company_name=str(footprint["companyName"]),
        product_ids=tuple(footprint["productIds"]),
        product_name=str(footprint["productNameCompany"]),
        unit=UNITS[pcf[unit_field]],
        declared_unit=pcf[unit_field],
        declared_amount=amount,
        mass_per_unit_kg=None if math.isnan(mass) or mass <= 0 else mass / amount,
        location=_location(pcf),
        total_kg_co2e=total,
        ghg_kg_co2e=ghg,
        ipcc=tuple(str(i) for i in ipcc),
        pedigree=_pedigree(pcf.get("dqi"), version),
        primary_data_share=None if math.isnan(share) else share,
        extensions=tuple(footprint.get("extensions") or ()),
        payload=footprint,
        sha256=payload_sha256(footprint),
        notes=tuple(notes),
    )


def _location(pcf: Mapping[str, Any]) -> str:
    for key in ("geographyCountry", "geographyCountrySubdivision", "geographyRegionOrSubregion"):
        if pcf.get(key):
            return str(pcf[key])
    return "GLO"


def _pedigree(dqi: Any, version: int) -> dict[str, float]:
    """The footprint's DQRs on the pedigree scale (1 best - 5 worst); empty without a dqi."""
    if not isinstance(dqi, dict):
        return {}
    worst = DQR_WORST[version]
    scores = {}
    for key, name in _PEDIGREE.items():
        value = _number(dqi.get(key))
        if not math.isnan(value):
            scores[name] = 1 + (value - 1) * 4 / (worst - 1)
    if not scores:
        return {}
    return {name: scores.get(name, UNRATED_PEDIGREE) for name in _PEDIGREE.values()}


def extension_summaries(footprint: Mapping[str, Any]) -> list[str]:
    """One line per data-model extension: its ``dataSchema`` and the fields it carries.

    Every extension is kept whole in the stored payload; this names them for the report.
    The Green x Digital Consortium's is read (:mod:`cfp_engine.store.imports.pact_gxd`).
    """
    lines = gxd_notes(footprint)[0]
    for extension in footprint.get("extensions") or ():
        if not isinstance(extension, dict) or is_gxd(extension):
            continue
        data = extension.get("data")
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        lines.append(f"{extension.get('dataSchema', '(no dataSchema)')}: {keys}")
    return lines
