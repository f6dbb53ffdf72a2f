"""Re-compute a published label and check it: figures, hashes, schema and rules.

A certification body runs ``cfp verify LABEL --spec SPEC``: the engine reads the label,
takes the variant, method and approach it records, re-computes the product from the
spec and the data, and reports every check as pass or fail:

- the label's figures against the re-computed ones, within the label's rounding;
- the integrity hashes (spec, data, engine version, the label's own figures);
- the structure of the document (the project's own check of PACT's required fields and
  ranges; the official PACT schema too when its directory is given);
- the rules: AR6 characterisation factors, exempted emissions at most 5 % (PACT v2),
  DQRs within 1-3, validity at most 3 years after the reference period, stage sums.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .disclosure import labelled_figures, rounding_tolerance, sha256_json
from .errors import SpecError
from .spec import ProductSpec

MAX_VALIDITY_YEARS = 3
MAX_EXEMPTED_PERCENT_V2 = 5.0


@dataclass(frozen=True)
class Check:
    """One check of a verification: its name, outcome and what was compared."""

    name: str
    passed: bool | None  # None: skipped
    detail: str = ""

    @property
    def status(self) -> str:
        return {True: "pass", False: "FAIL", None: "skipped"}[self.passed]


@dataclass(frozen=True)
class VerificationReport:
    label: str
    label_format: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "format": self.label_format,
            "passed": self.passed,
            "checks": [
                {"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks
            ],
        }


# -- reading ------------------------------------------------------------------------------


def read_label(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such label file") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the label ({exc})") from None


def label_format(document: dict[str, Any]) -> str:
    version = str(document.get("specVersion", ""))
    if version.startswith("3."):
        return "pact"
    if version.startswith("2."):
        return "pact-v2"
    if (
        "productLifeCycleStagesAndEmissions" in document
        or "pcfAssessmentAndMethodology" in document
    ):
        return "catena-x"
    raise SpecError(
        "the label is neither a PACT ProductFootprint (specVersion 2.x or 3.x) nor "
        "a Catena-X PCF payload"
    )


def engine_extension(document: dict[str, Any], fmt: str) -> dict[str, Any] | None:
    """The cfp-engine data-model extension of a label (its result and integrity data)."""
    if fmt == "catena-x":
        from . import catenax_checks as catenax

        return catenax.engine_extension(document)
    for extension in document.get("extensions") or []:
        data = extension.get("data") if isinstance(extension, dict) else None
        if isinstance(data, dict) and data.get("engine") == "cfp-engine":
            return data
    return None


# -- structure ------------------------------------------------------------------------------

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
_V3_PCF_REQUIRED = (
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
_V2_PCF_REQUIRED = (
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
_V2_NON_NEGATIVE = (
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "dLucGhgEmissions",
    "otherBiogenicGhgEmissions",
    "aircraftGhgEmissions",
    "packagingGhgEmissions",
)


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_TIMES = ("created", "updated", "validityPeriodStart", "validityPeriodEnd")
_PCF_DATE_TIMES = ("referencePeriodStart", "referencePeriodEnd")


def check_pact(document: dict[str, Any], fmt: str) -> list[str]:
    """Problems with the PACT structure: required fields, decimal strings, signs, ranges.

    The project's own check, written from the PACT data model (v3.0 / v2.3); it does not
    need the official schema files.
    """
    required, pcf_required, non_negative = (
        (_V3_REQUIRED, _V3_PCF_REQUIRED, _V3_NON_NEGATIVE)
        if fmt == "pact"
        else (_V2_REQUIRED, _V2_PCF_REQUIRED, _V2_NON_NEGATIVE)
    )
    problems = [f"missing {key}" for key in required if key not in document]
    pcf = document.get("pcf") if isinstance(document.get("pcf"), dict) else {}
    problems += [f"missing pcf.{key}" for key in pcf_required if key not in pcf]
    for key in ("companyIds", "productIds"):
        values = document.get(key)
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.lower().startswith("urn:") for v in values)
        ):
            problems.append(f"{key} must be a non-empty list of URNs")
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
            number = _decimal(value)
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
    dqi = pcf.get("dqi") or {}
    for key, value in dqi.items():
        if key.endswith("DQR"):
            number = float(_decimal(value) if isinstance(value, str) else value)
            if not 1.0 <= number <= 3.0:
                problems.append(f"pcf.dqi.{key} = {value} is outside 1-3")
    return problems


def check_official_schema(document: dict[str, Any], fmt: str, schema_dir: Path) -> list[str]:
    """Validate against the official PACT OpenAPI schema found in ``schema_dir``."""
    import jsonschema
    import yaml

    name = {"pact": "v3/openapi-3.0.3.yaml", "pact-v2": "v2/openapi-2.3.3.yaml"}.get(fmt)
    if name is None:
        from . import catenax_checks as catenax

        return catenax.check_official_schema(document, schema_dir)
    openapi = yaml.safe_load((schema_dir / name).read_text(encoding="utf-8"))
    schema = {
        **openapi["components"]["schemas"]["ProductFootprint"],
        "components": openapi["components"],
    }
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


# -- verification ---------------------------------------------------------------------------


def verify_label(
    label_path: str | Path,
    spec: ProductSpec,
    *,
    inventories: Sequence[str | Path] = (),
    materials: Sequence[str | Path] = (),
    schema_dir: str | Path | None = None,
) -> VerificationReport:
    """Re-compute the label at ``label_path`` from ``spec`` and check it.

    Raises :class:`SpecError` when the label cannot be used at all (malformed, unknown
    format, not made by cfp-engine); otherwise every problem is a failed check.
    """
    from .labels import make_disclosure, render_label

    document = read_label(label_path)
    fmt = label_format(document)
    extension = engine_extension(document, fmt)
    if extension is None:
        raise SpecError(
            f"{label_path}: no cfp-engine extension; the label does not say how it "
            "was calculated, so it cannot be re-computed"
        )
    result = extension.get("result") or {}
    facts = _facts_from(document, fmt)
    recomputed = make_disclosure(
        spec,
        variant=result.get("variant"),
        method=result.get("method"),
        approach=result.get("approach"),
        inventories=inventories,
        materials=materials,
        facts=facts,
    )
    expected = json.loads(
        render_label(recomputed, fmt, catena_x_version=_catenax_version(document, fmt))
    )
    checks: list[Check] = []
    checks.append(_structure_check(document, fmt))
    checks.append(_official_schema_check(document, fmt, schema_dir))
    checks.extend(_figure_checks(document, expected, fmt))
    checks.extend(_extension_checks(extension, recomputed))
    checks.extend(_hash_checks(extension, recomputed))
    checks.extend(_rule_checks(document, extension, fmt))
    if isinstance(result.get("mc"), dict):
        checks.append(_monte_carlo_check(result["mc"], spec, result, inventories, materials))
    return VerificationReport(str(label_path), fmt, tuple(checks))


def _monte_carlo_check(stats, spec, result, inventories, materials) -> Check:
    """Re-run the label's Monte Carlo with its recorded seed: the statistics must repeat."""
    from .core import FootprintCalculator
    from .uncertainty_analysis import sample_footprints

    calculator = FootprintCalculator(
        method=result.get("method"), inventories=inventories, materials=materials
    )
    (again,) = sample_footprints(
        [(spec, result.get("variant"))],
        calculator,
        iterations=int(stats["n"]),
        seed=int(stats["seed"]),
        approach=result.get("approach"),
    )
    now = again.statistics()
    differ = [
        f"{key}: label {stats.get(key)!r}, re-run {now[key]!r}"
        for key in ("mean", "median", "sd", "p2_5", "p97_5")
        if not math.isclose(float(stats.get(key, math.nan)), now[key], rel_tol=1e-9, abs_tol=1e-12)
    ]
    return Check(
        "uncertainty: Monte Carlo re-run with the recorded seed",
        not differ,
        "; ".join(differ) or f"{now['n']} iterations, seed {now['seed']}: statistics repeat",
    )


def _catenax_version(document: dict[str, Any], fmt: str) -> str:
    if fmt != "catena-x":
        return "9.0.0"
    from . import catenax_checks as catenax

    return catenax.detect_version(document)


def _facts_from(document: dict[str, Any], fmt: str) -> dict[str, Any]:
    if fmt == "catena-x":
        from . import catenax_checks as catenax

        return catenax.facts_from(document)
    pcf = document.get("pcf") or {}
    start, end = (str(pcf.get(k, ""))[:10] for k in ("referencePeriodStart", "referencePeriodEnd"))
    return {
        "company_name": document.get("companyName"),
        "company_ids": tuple(document.get("companyIds") or ()),
        "product_ids": tuple(document.get("productIds") or ()),
        "product_category_cpc": document.get("productCategoryCpc"),
        "reference_period": {"start": start, "end": end},
    }


def _structure_check(document, fmt) -> Check:
    if fmt == "catena-x":
        from . import catenax_checks as catenax

        problems = catenax.check_catenax(document, catenax.detect_version(document))
    else:
        problems = check_pact(document, fmt)
    return Check(
        "structure: required fields and ranges",
        not problems,
        "; ".join(problems[:8]) or f"{fmt} fields present and in range",
    )


def _official_schema_check(document, fmt, schema_dir) -> Check:
    if schema_dir is None:
        return Check("official schema", None, "no --schema-dir given")
    problems = check_official_schema(document, fmt, Path(schema_dir))
    return Check(
        "official schema",
        not problems,
        "; ".join(problems[:5]) or f"valid against the official {fmt} schema",
    )


def _numbers(document: Any, prefix: str = "") -> dict[str, str]:
    """Every numeric leaf (decimal strings and JSON numbers) by its path."""
    found: dict[str, str] = {}
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "extensions":
                continue
            found.update(_numbers(value, f"{prefix}{key}."))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.update(_numbers(value, f"{prefix}{index}."))
    elif isinstance(document, bool):
        pass
    elif isinstance(document, (int, float)):
        found[prefix[:-1]] = repr(document)
    elif (
        isinstance(document, str)
        and _decimal(document) is not None
        and prefix.startswith(("pcf.", "productLifeCycle", "carbonContent", "pcfAssessment"))
    ):
        found[prefix[:-1]] = document
    return found


def _figure_checks(document, expected, fmt) -> list[Check]:
    label_numbers, expected_numbers = _numbers(document), _numbers(expected)
    checks = []
    failures = []
    compared = 0
    for path, text in expected_numbers.items():
        if path not in label_numbers:
            failures.append(f"{path}: missing (re-computed {text})")
            continue
        compared += 1
        got, want = Decimal(label_numbers[path]), Decimal(text)
        slack = Decimal(
            repr(rounding_tolerance(label_numbers[path]) + rounding_tolerance(text))
        ) + abs(want) * Decimal("1e-9")
        if abs(got - want) > slack:
            failures.append(f"{path}: label {label_numbers[path]}, re-computed {text}")
    checks.append(
        Check(
            "figures: label against re-computation",
            not failures,
            "; ".join(failures[:8]) or f"{compared} figures agree within the label's rounding",
        )
    )
    return checks


def _extension_checks(extension, recomputed) -> list[Check]:
    label_result = extension.get("result") or {}
    failures = []
    for key in ("total_kg_co2e", "virgin_baseline_kg_co2e", "recycled_content_share"):
        got, want = label_result.get(key), recomputed.result.get(key)
        if not isinstance(got, (int, float)) or not math.isclose(
            got, want, rel_tol=1e-9, abs_tol=1e-12
        ):
            failures.append(f"result.{key}: label {got!r}, re-computed {want!r}")
    for stage, want in recomputed.result["stages_kg_co2e"].items():
        got = (label_result.get("stages_kg_co2e") or {}).get(stage)
        if not isinstance(got, (int, float)) or not math.isclose(
            got, want, rel_tol=1e-9, abs_tol=1e-12
        ):
            failures.append(f"result.stages_kg_co2e.{stage}: label {got!r}, re-computed {want!r}")
    figures = extension.get("figures") or {}
    for key, want in labelled_figures(recomputed).items():
        if figures.get(key) != want:
            failures.append(
                f"extension figure {key}: label {figures.get(key)!r}, re-computed {want!r}"
            )
    return [
        Check(
            "result: extension figures against re-computation",
            not failures,
            "; ".join(failures[:8]) or "total, stages, baseline and figures agree",
        )
    ]


def _hash_checks(extension, recomputed) -> list[Check]:
    given = extension.get("integrity") or {}
    now = recomputed.integrity
    checks = []
    names = {
        "spec_sha256": "the spec differs from the one the label was made from",
        "data_sha256": "the data (inventories, materials, method) differ",
        "engine_sha256": "another engine version made the label",
    }
    for key, meaning in names.items():
        same = given.get(key) == now[key]
        checks.append(
            Check(
                f"hash: {key}",
                same,
                "matches"
                if same
                else f"{meaning}: label {str(given.get(key))[:16]}..., now {now[key][:16]}...",
            )
        )
    own = sha256_json(extension.get("figures") or {})
    same = given.get("figures_sha256") == own
    checks.append(
        Check(
            "hash: figures_sha256",
            same,
            "the label's figures are the ones hashed"
            if same
            else "the label's figures were changed after it was made",
        )
    )
    return checks


def _years_after(start: date, end: date) -> float:
    return (end - start).days / 365.25


def _rule_checks(document, extension, fmt) -> list[Check]:
    checks = []
    result = extension.get("result") or {}
    if fmt == "catena-x":
        from . import catenax_checks as catenax

        return catenax.rule_checks(document, extension)
    pcf = document.get("pcf") or {}
    factors = (
        pcf.get("ipccCharacterizationFactors")
        if fmt == "pact"
        else pcf.get("ipccCharacterizationFactorsSources")
    )
    checks.append(
        Check(
            "rule: AR6 characterisation factors",
            factors == ["AR6"],
            f"ipcc characterisation factors: {factors}",
        )
    )
    if fmt == "pact-v2":
        exempted = float(pcf.get("exemptedEmissionsPercent", 0))
        checks.append(
            Check(
                "rule: exempted emissions <= 5 % (PACT v2)",
                exempted <= MAX_EXEMPTED_PERCENT_V2,
                f"{exempted:g} %",
            )
        )
    dqi = pcf.get("dqi") or {}
    values = [float(v) for k, v in dqi.items() if k.endswith("DQR")]
    checks.append(
        Check(
            "rule: DQRs within 1-3",
            all(1.0 <= v <= 3.0 for v in values),
            ", ".join(f"{k} {v}" for k, v in dqi.items() if k.endswith("DQR")),
        )
    )
    reference_end = str(pcf.get("referencePeriodEnd", ""))[:10]
    validity_end = str(document.get("validityPeriodEnd", ""))[:10]
    if validity_end:
        years = _years_after(date.fromisoformat(reference_end), date.fromisoformat(validity_end))
        checks.append(
            Check(
                "rule: validity <= 3 years after the reference period",
                years <= MAX_VALIDITY_YEARS + 1e-9,
                f"validity ends {validity_end}, {years:.2f} years after {reference_end}",
            )
        )
    else:
        checks.append(
            Check(
                "rule: validity <= 3 years after the reference period",
                None,
                "no validity period declared",
            )
        )
    stages = result.get("stages_kg_co2e") or {}
    total = result.get("total_kg_co2e")
    ok = isinstance(total, (int, float)) and math.isclose(
        math.fsum(stages.values()), total, rel_tol=1e-9, abs_tol=1e-12
    )
    checks.append(
        Check(
            "rule: stages add up to the total",
            ok,
            f"sum of stages {math.fsum(stages.values())!r}, total {total!r}",
        )
    )
    return checks
