"""Read and check the labels made from the spec's own sections: Battery Pass, EU battery, Ouranos.

``cfp label --format battery-passport | eu-battery | ouranos`` write documents that are no
PACT footprint; this module tells them apart (:func:`detect`), says what a re-computation
needs that the spec does not hold (:func:`facts_for`, :func:`study_url_of`), and checks
them as :mod:`cfp_engine.verify.structure` and :mod:`cfp_engine.verify.catenax` check the
others: the project's own check of each format's fields, value lists and ranges
(:func:`check_structure`; for Ouranos against the transcribed schema
``labels/schemas/ouranos-cfp.schema.json`` and the platform's PUT rules), the official
Battery Pass schemas when their folder is given (:func:`check_official_schema`), every
field against the re-computed document (:func:`content_problems`) and each format's
arithmetic rules (:func:`rule_checks`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.battery import CARBON_FOOTPRINT_ASPECT, CIRCULARITY_ASPECT, LIFECYCLE_STAGES
from cfp_engine.labels.eu_battery import ANNEX_II_STAGES
from cfp_engine.labels.ouranos import RECORDS
from cfp_engine.labels.rounding import rounding_tolerance
from cfp_engine.spec.battery import ELEMENTS
from cfp_engine.spec.product import ProductSpec
from cfp_engine.verify.common import Check, figure_problem

#: Facts every label needs (:data:`cfp_engine.labels.facts.REQUIRED_FACTS`) that these
#: formats never write: when the spec lacks them, the re-computation takes these
#: stand-ins, which reach no figure and no field of the three formats.
STAND_IN_FACTS = {
    "company_name": "(not part of the format)",
    "company_ids": ("urn:cfp-engine:not-part-of-the-format",),
    "product_ids": ("urn:cfp-engine:not-part-of-the-format",),
}
STAND_IN_PERIODS = {"reference_period": "2000-01-01:2000-01-01", "validity_period": None}
#: What the re-computation uses when a battery-passport label has no study URL: it
#: differs from anything the label could hold, so the content check fails, not the run.
NO_STUDY = "(no carbonFootprintStudy in the label)"
EU_DECLARATION = "Regulation (EU) 2023/1542, Article 7 and Annex II"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FIVE_DECIMALS = re.compile(r"^[0-9]+(\.[0-9]{1,5})?$")


def detect(document: Mapping[str, Any]) -> str | None:
    """The format of ``document`` if it is one of these three, else None."""
    carbon = document.get("CarbonFootprint")
    if isinstance(carbon, dict) and str(carbon.get("aspect", "")).startswith(
        "urn:samm:io.BatteryPass.CarbonFootprint"
    ):
        return "battery-passport"
    if EU_DECLARATION in str(document.get("declaration", "")):
        return "eu-battery"
    model = document.get("dataModel")
    if isinstance(model, dict) and str(model.get("name", "")).startswith("Ouranos"):
        return "ouranos"
    return None


def facts_for(spec: ProductSpec) -> dict[str, Any]:
    """The label facts a re-computation takes: the spec's, stand-ins for missing ones."""
    given = spec.label
    facts = {key: value for key, value in STAND_IN_FACTS.items() if not given.get(key)}
    if not given.get("reference_period"):
        # A stand-in reference period must not clash with the spec's validity period.
        facts["reference_period"] = STAND_IN_PERIODS["reference_period"]
        if given.get("validity_period"):
            facts["validity_period"] = "2000-01-01:2000-12-31"
    return facts


def study_url_of(document: Mapping[str, Any], fmt: str) -> str | None:
    """The carbon footprint study URL the label states, to write the re-computation with."""
    if fmt == "battery-passport":
        payload = _object(_object(document.get("CarbonFootprint")).get("payload"))
        url = payload.get("carbonFootprintStudy")
        return url if isinstance(url, str) and url else NO_STUDY
    if fmt == "eu-battery":
        url = document.get("carbonFootprintStudy")
        return url if isinstance(url, str) and url else None
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- structure -------------------------------------------------------------------------------


def check_structure(document: Mapping[str, Any], fmt: str) -> list[str]:
    """Problems with the fields, value lists and ranges of a label of ``fmt``."""
    if fmt == "battery-passport":
        return _battery_passport_problems(document)
    if fmt == "eu-battery":
        return _eu_battery_problems(document)
    return ouranos_problems(document)


def _battery_passport_problems(document: Mapping[str, Any]) -> list[str]:
    problems = [f"missing {k}" for k in ("CarbonFootprint", "Circularity") if k not in document]
    carbon, circularity = (_object(document.get(k)) for k in ("CarbonFootprint", "Circularity"))
    if carbon.get("aspect") != CARBON_FOOTPRINT_ASPECT:
        problems.append(f"CarbonFootprint.aspect is not {CARBON_FOOTPRINT_ASPECT}")
    if circularity.get("aspect") != CIRCULARITY_ASPECT:
        problems.append(f"Circularity.aspect is not {CIRCULARITY_ASPECT}")
    payload = _object(carbon.get("payload"))
    for key in ("batteryCarbonFootprint", "absoluteCarbonFootprint"):
        if not _number(payload.get(key)):
            problems.append(f"CarbonFootprint.payload.{key} = {payload.get(key)!r} is no number")
    url = payload.get("carbonFootprintStudy")
    if not (isinstance(url, str) and re.match(r"^https?://\S+$", url)):
        problems.append(f"carbonFootprintStudy = {str(url)[:60]!r} is not a URL")
    stages = payload.get("carbonFootprintPerLifecycleStage")
    if not isinstance(stages, list):
        problems.append("carbonFootprintPerLifecycleStage is not an array")
        stages = []
    names = [_object(s).get("lifecycleStage") for s in stages]
    if sorted(map(str, names)) != sorted(LIFECYCLE_STAGES.values()):
        problems.append(
            f"carbonFootprintPerLifecycleStage has {names}, not the four stages of Annex II "
            f"({', '.join(LIFECYCLE_STAGES.values())}) once each"
        )
    problems += [
        f"carbonFootprintPerLifecycleStage[{i}].carbonFootprint is no number"
        for i, s in enumerate(stages)
        if not _number(_object(s).get("carbonFootprint"))
    ]
    performance = payload.get("carbonFootprintPerformanceClass")
    if performance is not None and not isinstance(performance, str):
        problems.append("carbonFootprintPerformanceClass is not a text")
    content = _object(circularity.get("payload")).get("recycledContent")
    if not isinstance(content, list):
        return [*problems, "Circularity.payload.recycledContent is not an array"]
    materials = []
    for i, row in enumerate(content):
        row = _object(row)
        where = f"recycledContent[{i}]"
        materials.append(row.get("recycledMaterial"))
        if row.get("recycledMaterial") not in ELEMENTS.values():
            problems.append(
                f"{where}.recycledMaterial is not one of {', '.join(ELEMENTS.values())}"
            )
        shares = [row.get("preConsumerShare"), row.get("postConsumerShare")]
        if not all(_number(s) and 0 <= s <= 100 for s in shares):
            problems.append(f"{where}: the shares {shares} are not percentages (0-100)")
        elif sum(shares) > 100 + 1e-9:
            problems.append(f"{where}: pre- and post-consumer shares add up to over 100 %")
    if len(set(map(str, materials))) != len(materials):
        problems.append("recycledContent names a material more than once")
    return problems


_EU_REQUIRED = (
    "declaration",
    "methodology",
    "battery",
    "functionalUnit",
    "carbonFootprint",
    "lifeCycleStages",
    "excludedStages",
    "circularFootprintFormula",
    "electricity",
    "cutOff",
    "recycledContent",
    "choices",
)


def _eu_battery_problems(document: Mapping[str, Any]) -> list[str]:
    problems = [f"missing {key}" for key in _EU_REQUIRED if key not in document]
    footprint = _object(document.get("carbonFootprint"))
    for key in ("kgCO2ePerKWh", "absoluteKgCO2ePerBattery"):
        if not _number(footprint.get(key)):
            problems.append(f"carbonFootprint.{key} = {footprint.get(key)!r} is no number")
    unit = _object(document.get("functionalUnit"))
    for key in ("usableCapacityKWh", "fullEquivalentCyclesPerYear", "serviceLifeYears"):
        if not (_number(unit.get(key)) and unit.get(key) > 0):
            problems.append(f"functionalUnit.{key} = {unit.get(key)!r} is no positive number")
    stages = document.get("lifeCycleStages")
    stages = stages if isinstance(stages, list) else []
    names = [_object(s).get("stage") for s in stages]
    if names != list(ANNEX_II_STAGES.values()):
        problems.append(f"lifeCycleStages are {names}, not Annex II's four in order")
    for i, stage in enumerate(stages):
        for key in ("kgCO2ePerKWh", "sharePercent"):
            if not _number(_object(stage).get(key)):
                problems.append(f"lifeCycleStages[{i}].{key} is no number")
    if not str(_object(document.get("methodology")).get("status", "")).startswith("draft"):
        problems.append("methodology.status does not say the delegated act is a draft")
    return problems


def _ouranos_schema() -> dict[str, Any]:
    text = resources.files("cfp_engine.labels").joinpath("schemas/ouranos-cfp.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def ouranos_problems(document: Mapping[str, Any]) -> list[str]:
    """Problems with an Ouranos label: each part's four records against the transcribed
    schema, and the PUT rules the schema cannot state."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        _ouranos_schema(), format_checker=jsonschema.FormatChecker()
    )
    parts = [("product", document.get("product"))]
    listed = document.get("parts")
    if not isinstance(listed, list):
        return ["parts is not an array", *([] if "product" in document else ["missing product"])]
    parts += [(f"parts[{i}]", part) for i, part in enumerate(listed)]
    problems: list[str] = []
    for where, part in parts:
        if not isinstance(part, dict):
            problems.append(f"{where} is not an object")
            continue
        body = part.get("cfp")
        problems += [
            f"{where}.cfp/{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(body)
        ]
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            continue
        problems += _put_rule_problems(where, part, body)
    trace_ids = [p.get("traceId") for _, p in parts if isinstance(p, dict)]
    if len(set(map(str, trace_ids))) != len(trace_ids):
        problems.append("two parts share a traceId")
    return problems


def _put_rule_problems(where: str, part: Mapping[str, Any], body: list[dict]) -> list[str]:
    """The rules of ``PUT dataTarget=cfp`` (docs/openapi.yaml) beyond the schema."""
    problems = []
    types = sorted(str(r.get("cfpType")) for r in body)
    if types != sorted(t for t, _, _, _ in RECORDS):
        problems.append(f"{where}: the four cfpTypes are not each there once ({types})")
    pairs = {t: d for t, d, _, _ in RECORDS}
    problems += [
        f"{where}: cfpType {r.get('cfpType')} goes with dqrType {pairs[r['cfpType']]}"
        for r in body
        if isinstance(r.get("cfpType"), str)
        and r["cfpType"] in pairs
        and r.get("dqrType") != pairs[r["cfpType"]]
    ]
    for key in ("cfpId", "traceId", "ghgDeclaredUnit"):
        if len({json.dumps(r.get(key)) for r in body}) != 1:
            problems.append(f"{where}: the four records do not share one {key}")
    if body and body[0].get("traceId") != part.get("traceId"):
        problems.append(f"{where}: the records' traceId is not the part's")
    by_dqr: dict[str, set] = {}
    for record in body:
        by_dqr.setdefault(str(record.get("dqrType")), set()).add(
            json.dumps(record.get("dqrValue"), sort_keys=True)
        )
    problems += [
        f"{where}: the records of dqrType {d} state different dqrValues"
        for d, values in by_dqr.items()
        if len(values) > 1
    ]
    for record in body:
        values = [record.get("ghgEmission"), *_object(record.get("dqrValue")).values()]
        for value in values:
            if _number(value) and not _FIVE_DECIMALS.match(_plain(value)):
                problems.append(
                    f"{where}: {value!r} in {record.get('cfpType')} has more than 5 decimal places"
                )
    return problems


def _plain(value: float | int) -> str:
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


# -- official schema ----------------------------------------------------------------------------

_BATTERY_PASS = {
    "CarbonFootprint": (
        "io.BatteryPass.CarbonFootprint/1.2.0/gen/CarbonFootprintForBatteries-schema.json"
    ),
    "Circularity": "io.BatteryPass.Circularity/1.2.0/gen/Circularity-schema.json",
}


def check_official_schema(
    document: Mapping[str, Any], fmt: str, schema_dir: str | Path
) -> list[str] | None:
    """The Battery Pass records against the official schemas in ``schema_dir`` (or its
    ``batterypass`` folder); None for the formats without an official schema file."""
    if fmt != "battery-passport":
        return None
    import jsonschema

    schema_dir = Path(schema_dir)
    problems = []
    for key, name in _BATTERY_PASS.items():
        candidates = (schema_dir / name, schema_dir / "batterypass" / name)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SpecError(f"{schema_dir}: no {name} (the Battery Pass 1.2.0 schemas)")
        schema = json.loads(path.read_text(encoding="utf-8"))
        if key == "Circularity":
            # Only its recycledContent part: the engine makes none of the other aspects.
            schema = {
                **schema,
                "properties": {"recycledContent": schema["properties"]["recycledContent"]},
                "required": ["recycledContent"],
            }
        payload = _object(document.get(key)).get("payload")
        validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        problems += [
            f"{key}/{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(payload)
        ]
    return problems


# -- content and rules ----------------------------------------------------------------------


def content_problems(got: Any, want: Any, *, exact: bool = False, where: str = "") -> list[str]:
    """Where the label differs from the re-computed document, outside ``extensions``:
    texts, flags, ids and nulls exactly; numbers within the rounding of both (6 significant
    digits), or exactly with ``exact`` (Ouranos: both rounded up to 0.00001 by one rule, so
    a tolerance of a digit would let a forged step through)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where or '(top)'}: not an object"]
        found = [f"{where}{k}: not in the re-computation" for k in got if k not in want]
        for key, value in want.items():
            if key == "extensions" and not where:
                continue
            if key not in got:
                found.append(f"{where}{key}: missing")
                continue
            found += content_problems(got[key], value, exact=exact, where=f"{where}{key}.")
        return found
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where[:-1]}: label {str(got)[:40]}, re-computed {len(want)} entries"]
        return [
            p
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for p in content_problems(g, w, exact=exact, where=f"{where}{i}.")
        ]
    if _number(want) and _number(got):
        same = got == want if exact else figure_problem(got, want) is None
        return [] if same else [f"{where[:-1]}: label {got}, re-computed {want}"]
    if got == want and type(got) is type(want):
        return []
    return [f"{where[:-1]}: label {str(got)[:40]!r}, re-computed {str(want)[:40]!r}"]


def rule_checks(document: Mapping[str, Any], fmt: str) -> list[Check]:
    """Each format's arithmetic: the stages add up, per-kWh x energy is the absolute figure,
    the Ouranos parent's bought emissions are the sum of its parts'."""
    if fmt == "battery-passport":
        payload = _object(_object(document.get("CarbonFootprint")).get("payload"))
        stages = payload.get("carbonFootprintPerLifecycleStage")
        parts = [_object(s).get("carbonFootprint") for s in _list(stages)]
        energy = _object(document.get("cfpEngine")).get("functionalUnit", {})
        energy = _object(energy).get("totalEnergyKWh")
        return [
            _sum_check("rule: the four stages add up to batteryCarbonFootprint", parts,
                       payload.get("batteryCarbonFootprint")),
            _product_check("rule: per kWh x total energy delivered = absoluteCarbonFootprint",
                           payload.get("batteryCarbonFootprint"), energy,
                           payload.get("absoluteCarbonFootprint")),
        ]  # fmt: skip
    if fmt == "eu-battery":
        footprint = _object(document.get("carbonFootprint"))
        stages = [_object(s) for s in _list(document.get("lifeCycleStages"))]
        unit = _object(document.get("functionalUnit"))
        capacity, cycles, years, energy = (
            unit.get(k)
            for k in (
                "usableCapacityKWh",
                "fullEquivalentCyclesPerYear",
                "serviceLifeYears",
                "totalEnergyKWh",
            )
        )
        per_battery_year = cycles * years if _number(cycles) and _number(years) else None
        return [
            _sum_check(
                "rule: Annex II's four stages add up to the footprint per kWh",
                [s.get("kgCO2ePerKWh") for s in stages],
                footprint.get("kgCO2ePerKWh"),
            ),
            _sum_check(
                "rule: the stage shares add up to 100 %",
                [s.get("sharePercent") for s in stages],
                100 if footprint.get("kgCO2ePerKWh") else 0,  # the writer's 0 % for no footprint
            ),
            _product_check(
                "rule: capacity x cycles per year x service life = total energy",
                capacity,
                per_battery_year,
                energy,
            ),
            _product_check(
                "rule: per kWh x total energy delivered = absolute footprint",
                footprint.get("kgCO2ePerKWh"),
                energy,
                footprint.get("absoluteKgCO2ePerBattery"),
            ),
        ]
    return _ouranos_rules(document)


def _tolerance(values: list[Any]) -> float:
    """The rounding of 6 significant digits of each value, as a float."""
    return sum(float(rounding_tolerance(repr(float(v)))) for v in values) + 1e-12


def _sum_check(name: str, parts: list[Any], total: Any) -> Check:
    if not parts or not all(_number(p) for p in [*parts, total]):
        return Check(name, False, f"not numbers: {str(parts)[:60]}, total {str(total)[:40]}")
    ok = abs(math.fsum(parts) - total) <= _tolerance([*parts, total])
    return Check(name, ok, f"sum {math.fsum(parts)!r}, stated {total!r}")


def _product_check(name: str, a: Any, b: Any, product: Any) -> Check:
    if not all(_number(v) for v in (a, b, product)):
        return Check(name, False, f"not numbers: {str(a)[:30]}, {str(b)[:30]}, {str(product)[:30]}")
    want = a * b
    # a's rounding (half a unit in its 6th digit) grows by b; the product has its own.
    slack = float(rounding_tolerance(repr(float(a)))) * abs(b)
    slack += float(rounding_tolerance(repr(float(b)))) * abs(a) + _tolerance([product])
    ok = abs(want - product) <= slack
    return Check(name, ok, f"{a!r} x {b!r} = {want!r}, stated {product!r}")


def _figures_by_type(part: Any) -> dict[str, Any]:
    """A part's ghgEmission by cfpType (records that are no objects, or name no type, left out)."""
    records = _list(_object(part).get("cfp"))
    return {
        r["cfpType"]: r.get("ghgEmission")
        for r in records
        if isinstance(r, dict) and isinstance(r.get("cfpType"), str)
    }


def _ouranos_rules(document: Mapping[str, Any]) -> list[Check]:
    parent = _figures_by_type(document.get("product"))
    children = [_figures_by_type(p) for p in _list(document.get("parts"))]
    checks = []
    for mine, theirs in (("preComponent", "preProduction"), ("mainComponent", "mainProduction")):
        name = f"rule: the product's {mine} is the sum of its parts' {theirs}"
        values = [c.get(theirs) for c in children]
        if not all(_number(v) for v in [*values, parent.get(mine)]):
            checks.append(Check(name, False, "not numbers"))
            continue
        # each figure rounded up to 0.00001: the parts' sum is at most one step per part above
        gap = math.fsum(values) - parent[mine]
        ok = -1e-5 - 1e-9 <= gap <= 1e-5 * max(len(values), 1) + 1e-9
        checks.append(Check(name, ok, f"parts {math.fsum(values)!r}, product {parent[mine]!r}"))
    return checks
