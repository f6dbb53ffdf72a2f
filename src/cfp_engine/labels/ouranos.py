"""The CFP records of Japan's battery supply-chain data platform (``--format ouranos``).

Ouranos Ecosystem's data-transaction-system (https://github.com/ouranos-ecosystem-idi/
data-transaction-system, v1.2.0, MIT, (c) 2024 NTT DATA Group Corporation) exchanges a part's
carbon footprint as four ``traceability.CfpModel`` records, registered together with
``PUT /api/v1/datatransport?dataTarget=cfp`` (its ``docs/openapi.yaml``): for one part
(``traceId``), the GHG emissions (``ghgEmission``, in ``ghgDeclaredUnit``, e.g.
``kgCO2e/kilowatt-hour``) of the pre-processing stage (``pre...``) and the main production
stage (``main...``), each split into the company's own emissions (``...Production``) and
those of the parts it buys (``...Component``); and per stage (``dqrType``
``preProcessing`` / ``mainProcessing``) the data-quality ratings TeR, GeR and TiR
(technological, geographical, time-related representativeness). The field names, value
lists and limits are transcribed in ``schemas/ouranos-cfp.schema.json``.

How the engine's figures map (written into every output under ``cfpEngine.mapping``):

- Parts: the product is the parent part; each spec component is a child part. A child's
  figures are its contribution to one declared unit of the product, so the platform's own
  total (``preComponentTotal`` = the sum of the children's ``preProduction``, with no unit
  conversion, as its ``GetCfp`` use case adds them) equals the parent's ``preComponent``.
- Stages: the engine's ``raw_materials`` stage is pre-processing (raw material acquisition
  and pre-processing), its ``production`` stage main production, as Annex II of
  Regulation (EU) 2023/1542 names them. Distribution, use and end of life have no place
  in the record; they are listed, with their figures, under ``cfpEngine.excludedStages``.
- Own or bought: line items of a component (its material) are the ``...Component`` figures
  of the parent and the ``...Production`` figures of the child; the spec's stage
  activities (not tied to a component) are the parent's ``...Production`` figures.
- Data quality: the engine's pedigree scores (1 best - 5 worst, as the PEF ratings TeR,
  GeR and TiR) of the inputs that carry 5 % or more of the product's emissions
  (:mod:`cfp_engine.labels.data_quality`), weighted by each one's emissions in the part's
  stage; ``null`` (allowed by the model) when no such input is in it.
- Rounding: the platform keeps five decimal places and asks to round the sixth up
  ("第6位を切り上げ"), so every figure is rounded up (``decimal.ROUND_CEILING``) to 0.00001.
- ``traceId``: a stable UUID (version 5) of product, variant and part, a stand-in for the
  one the platform issues when the part is registered; ``cfpId`` is ``null``, which the
  platform reads as a new registration.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.rounding import decimal_string
from cfp_engine.spec.product import ProductSpec

DATA_MODEL = {
    "name": "Ouranos Ecosystem data-transaction-system, traceability.CfpModel",
    "version": "v1.2.0",
    "request": "PUT /api/v1/datatransport?dataTarget=cfp, one request body per traceId",
    "source": "https://github.com/ouranos-ecosystem-idi/data-transaction-system "
    "(docs/openapi.yaml)",
    "license": "MIT, Copyright (c) 2024 NTT DATA Group Corporation",
}
#: The four records of one part, in the order of the platform's examples:
#: (cfpType, dqrType, engine stage, own emissions or the bought parts').
RECORDS = (
    ("preProduction", "preProcessing", "raw_materials", "own"),
    ("mainProduction", "mainProcessing", "production", "own"),
    ("preComponent", "preProcessing", "raw_materials", "parts"),
    ("mainComponent", "mainProcessing", "production", "parts"),
)
#: dqrType -> engine stage.
DQR_STAGES = {"preProcessing": "raw_materials", "mainProcessing": "production"}
#: PEF data-quality criterion -> pedigree indicator of the engine's datasets.
DQR_CRITERIA = {"TeR": "technological", "GeR": "geographical", "TiR": "temporal"}
#: PACT declared unit (the disclosure's) -> the platform's ghgDeclaredUnit.
GHG_DECLARED_UNITS = {
    "piece": "kgCO2e/unit",
    "kilogram": "kgCO2e/kilogram",
    "kilowatt hour": "kgCO2e/kilowatt-hour",
    "square meter": "kgCO2e/square-meter",
    "liter": "kgCO2e/liter",
    "ton kilometer": "kgCO2e/ton-kilometer",
}
#: The largest figure the platform takes, and its step (five decimal places).
MAXIMUM = Decimal("99999.99999")
STEP = Decimal("0.00001")
#: ``partsName`` holds at most 50 characters.
PARTS_NAME_LENGTH = 50
ROUNDING_RULE = (
    "ghgEmission and TeR/GeR/TiR rounded up to 5 decimal places (decimal.ROUND_CEILING), "
    "as the platform asks; amountRequired to 5 decimal places (ROUND_HALF_EVEN)"
)
EXCLUDED_STAGES = ("distribution", "use", "end_of_life")


def ouranos_figure(value: float, where: str) -> float:
    """``value`` rounded up to 5 decimal places, or :class:`SpecError` if the platform
    cannot take it (negative, above 99999.99999 or not finite)."""
    if not math.isfinite(value):
        raise SpecError(f"{where}: {value!r} is not a finite number")
    rounded = Decimal(repr(value)).quantize(STEP, rounding=ROUND_CEILING)
    if rounded < 0 or rounded > MAXIMUM:
        raise SpecError(
            f"{where} is {decimal_string(value)} kg CO2e; the Ouranos record holds 0 to "
            f"{MAXIMUM} (a smaller declared unit may fit)"
        )
    return float(rounded)


def _amount(value: float) -> float:
    return float(Decimal(repr(value)).quantize(STEP, rounding=ROUND_HALF_EVEN))


def trace_id(disclosure: Disclosure, part: str | None) -> str:
    """The stand-in traceId of ``part`` (None: the product), stable across runs."""
    name = f"cfp-engine:ouranos:{disclosure.product_id}:{disclosure.variant or ''}:{part or ''}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _ratings(items: Sequence[Mapping[str, Any]], pedigree: Mapping[str, Mapping]) -> dict:
    """TeR/GeR/TiR of ``items``: their rated inputs' pedigree, weighted by emissions."""
    weights: dict[str, float] = {}
    for item in items:
        if item["activity"] in pedigree:
            weights[item["activity"]] = weights.get(item["activity"], 0.0) + abs(item["kg_co2e"])
    whole = math.fsum(weights.values())
    ratings: dict[str, Any] = {}
    for criterion, indicator in DQR_CRITERIA.items():
        if whole == 0:
            ratings[criterion] = None
            continue
        score = math.fsum(w * float(pedigree[a][indicator]) for a, w in weights.items()) / whole
        ratings[criterion] = ouranos_figure(score, f"{criterion}")
    return ratings


def _records(
    tid: str, unit: str, figures: Mapping[str, float], ratings: Mapping[str, dict], where: str
) -> list[dict[str, Any]]:
    return [
        {
            "cfpId": None,
            "traceId": tid,
            "ghgEmission": ouranos_figure(figures[cfp_type], f"{where} {cfp_type}"),
            "ghgDeclaredUnit": unit,
            "cfpType": cfp_type,
            "dqrType": dqr_type,
            "dqrValue": dict(ratings[dqr_type]),
        }
        for cfp_type, dqr_type, _, _ in RECORDS
    ]


def _coverage(items, pedigree) -> float | None:
    """Share (percent) of the items' emissions the ratings rest on; None without emissions."""
    whole = math.fsum(abs(i["kg_co2e"]) for i in items)
    rated = math.fsum(abs(i["kg_co2e"]) for i in items if i["activity"] in pedigree)
    return float(decimal_string(100 * rated / whole)) if whole else None


def to_ouranos(
    disclosure: Disclosure, product: ProductSpec, *, study_url: str | None = None
) -> dict[str, Any]:
    """The Ouranos CFP records of the product and of each of its parts, and the mapping used.

    Parameters
    ----------
    disclosure
        The label's values, per declared unit.
    product
        The spec it was made from, with the variant applied (its components are the parts).
    study_url
        Not used: the record has no field for a study (accepted like the battery formats).

    Returns
    -------
    dict
        ``product`` and ``parts``: each part's name, stand-in ``traceId`` and ``cfp``, the
        four ``traceability.CfpModel`` records to register for it (children also carry
        ``amountRequired``: kg per declared unit of the product); ``cfpEngine``: the
        mapping, the stages left out and the notes; ``extensions``: the engine's result
        and integrity hashes, for ``cfp verify``.

    Raises
    ------
    SpecError
        A declared unit the platform has no unit for, a part name longer than 50
        characters, or a figure outside 0-99999.99999.
    """
    unit = GHG_DECLARED_UNITS.get(disclosure.declared_unit_of_measurement)
    if unit is None:
        raise SpecError(
            f"product.declared_unit {disclosure.declared_unit!r}: the Ouranos record has no "
            f"unit for {disclosure.declared_unit_of_measurement!r} (it takes "
            f"{', '.join(GHG_DECLARED_UNITS.values())})"
        )
    per_unit = 1 / disclosure.declared_unit_amount
    pedigree = {i["activity"]: i["pedigree"] for i in disclosure.dqi_inputs}
    components = [c.id for c in product.components]
    too_long = [p for p in [disclosure.product_id, *components] if len(p) > PARTS_NAME_LENGTH]
    if too_long:
        raise SpecError(
            f"{product.source}: Ouranos partsName holds at most {PARTS_NAME_LENGTH} "
            f"characters: {too_long[0]!r} is longer; shorten the id"
        )
    # line items by (component, stage); component None: the spec's stage activities
    groups: dict[tuple[str | None, str], list[Mapping[str, Any]]] = {}
    for item in disclosure.result.get("line_items", []):
        groups.setdefault((item["component"], item["stage"]), []).append(item)
    own_and_bought = {None: ([None], components), **{c: ([c], []) for c in components}}
    coverage: dict[str, dict[str, float | None]] = {}
    made: dict[str | None, dict[str, Any]] = {}

    def items(stage: str, of: list[str | None]) -> list[Mapping[str, Any]]:
        return [i for member in of for i in groups.get((member, stage), [])]

    for part, (own, bought) in own_and_bought.items():
        figures = {
            cfp_type: per_unit
            * math.fsum(i["kg_co2e"] for i in items(stage, own if origin == "own" else bought))
            for cfp_type, _, stage, origin in RECORDS
        }
        everything = {d: items(s, [*own, *bought]) for d, s in DQR_STAGES.items()}
        ratings = {d: _ratings(found, pedigree) for d, found in everything.items()}
        coverage[part or disclosure.product_id] = {
            d: _coverage(found, pedigree) for d, found in everything.items()
        }
        tid = trace_id(disclosure, part)
        where = f"part {part!r}" if part else "the product's"
        made[part] = {"traceId": tid, "cfp": _records(tid, unit, figures, ratings, where)}
    document_product = {
        "partsName": disclosure.product_id,
        "supportPartsName": disclosure.variant,
        "traceId": made[None]["traceId"],
        "terminatedFlag": False,
        "cfp": made[None]["cfp"],
    }
    masses = {c["id"]: c["mass_kg"] for c in disclosure.result.get("components", [])}
    parts = [
        {
            "partsName": cid,
            "supportPartsName": None,
            "traceId": made[cid]["traceId"],
            "amountRequired": _amount(masses.get(cid, 0.0) * per_unit),
            "amountRequiredUnit": "kilogram",
            "terminatedFlag": True,
            "cfp": made[cid]["cfp"],
        }
        for cid in components
    ]
    excluded = {
        stage: float(decimal_string(disclosure.stages_kg_co2e.get(stage, 0.0) * per_unit))
        for stage in EXCLUDED_STAGES
    }
    return {
        "dataModel": dict(DATA_MODEL),
        "product": document_product,
        "parts": parts,
        "cfpEngine": {
            "productId": disclosure.product_id,
            "productName": disclosure.product_name,
            "variant": disclosure.variant,
            "declaredUnit": disclosure.declared_unit,
            "ghgDeclaredUnit": unit,
            "method": disclosure.method,
            "approach": disclosure.approach,
            "mapping": {
                "preProcessing": "engine stage raw_materials (raw material acquisition and "
                "pre-processing, Annex II of Regulation (EU) 2023/1542)",
                "mainProcessing": "engine stage production (main product production)",
                "parts": "the product is the parent part; each spec component is a child part "
                "whose figures are its share of one declared unit of the product",
                "preProduction/mainProduction": "the part's own emissions: for the product, "
                "the spec's stage activities; for a component, its material's line items",
                "preComponent/mainComponent": "emissions of the parts bought: for the product, "
                "the sum of its components' line items; 0 for a component (no sub-parts)",
                "dqrValue": "TeR/GeR/TiR = technological/geographical/temporal pedigree score "
                "(1 best - 5 worst) of the inputs with 5 % or more of the product's emissions, "
                "weighted by their emissions in the part's stage; null when none is in it",
                "traceId": "stand-in UUID v5 of product, variant and part; replace it with "
                "the traceId the platform issued when the part was registered",
            },
            "excludedStages": {
                "kgCO2ePerDeclaredUnit": excluded,
                "reason": "the Ouranos CFP record holds pre-processing and main production only",
            },
            "dqrCoveragePercent": coverage,
            "rounding": ROUNDING_RULE,
            "notes": [
                "Figures per 1 unit of the declared unit ("
                f"{disclosure.declared_unit} in the spec), kg CO2e.",
                "Each part's figures are rounded up separately, so the sum of the children's "
                "may exceed the parent's preComponent by up to 0.00001 per child.",
            ],
        },
        "extensions": [disclosure.extension()],
    }
