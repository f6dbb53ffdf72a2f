"""The checks of ``cfp verify``, one concern each: structure, figures, hashes, rules, Monte Carlo.

Each function compares a published label with its re-computation (or with the rules of
PACT / ISO 14067) and returns :class:`Check` s; :func:`cfp_engine.verify.verify_label`
runs them all and gathers them in a report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .label_integrity import labelled_figures, sha256_json
from .label_rounding import rounding_tolerance
from .label_structure import (
    DQR_RANGES,
    check_official_schema,
    check_pact,
    dqr_problems,
    parse_decimal,
)

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


def structure_check(document, fmt) -> Check:
    """The required fields and ranges of the label (PACT or Catena-X)."""
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


def official_schema_check(document, fmt, schema_dir) -> Check:
    """The label against the official schema in ``schema_dir``; skipped without one."""
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
        and parse_decimal(document) is not None
        and prefix.startswith(("pcf.", "productLifeCycle", "carbonContent", "pcfAssessment"))
    ):
        found[prefix[:-1]] = document
    return found


def figure_checks(document, expected, fmt) -> list[Check]:
    """Every figure of the label against the re-computed label, within the label's rounding."""
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
    # A rating the re-computation has no data for (no pedigree scores) must not be there.
    failures += [
        f"{path}: label {text}, but no input of the re-computation has pedigree scores"
        for path, text in label_numbers.items()
        if path.endswith(("DQR", "coveragePercent")) and path not in expected_numbers
    ]
    checks.append(
        Check(
            "figures: label against re-computation",
            not failures,
            "; ".join(failures[:8]) or f"{compared} figures agree within the label's rounding",
        )
    )
    return checks


def extension_checks(extension, recomputed) -> list[Check]:
    """The cfp-engine extension's result and figures against the re-computation."""
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


def hash_checks(extension, recomputed) -> list[Check]:
    """The integrity hashes: spec, data and engine as now, figures as in the label."""
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


def rule_checks(document, extension, fmt) -> list[Check]:
    """The rules: AR6, exemptions (PACT v2), DQR range, validity period, stage sums."""
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
    low, high = DQR_RANGES[fmt]
    dqi = pcf.get("dqi")
    problems = dqr_problems(dqi, fmt)
    checks.append(
        Check(
            f"rule: DQRs within {low}-{high}",
            not problems,
            "; ".join(problems)
            or ", ".join(f"{k} {v}" for k, v in (dqi or {}).items() if k.endswith("DQR"))
            or "no dqi: no input above 5 % of the emissions has pedigree scores",
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


def monte_carlo_check(stats, spec, result, inventories, materials) -> Check:
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
