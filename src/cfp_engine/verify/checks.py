"""The checks of ``cfp verify``, one concern each: structure, figures, hashes, rules, Monte Carlo.

Each function compares a published label with its re-computation (or with the rules of
PACT / ISO 14067) and returns :class:`Check` s; :func:`cfp_engine.verify.recompute.verify_label`
runs them all and gathers them in a report.
"""

from __future__ import annotations

import math
from decimal import (
    Decimal,
    InvalidOperation,
)
from pathlib import Path
from typing import Any

from cfp_engine.labels.formats import SPEC_FORMATS
from cfp_engine.labels.integrity import sha256_json
from cfp_engine.labels.rules import exempted_problems
from cfp_engine.verify import catenax, spec_formats
from cfp_engine.verify.common import Check, figure_problem, validity_check
from cfp_engine.verify.structure import (
    DQR_RANGES,
    check_official_schema,
    check_pact,
    dqr_problems,
)

#: The most Monte Carlo iterations verify re-runs for a label (a forged ``mc.n`` must not
#: make it run for hours); labels with more fail that check.
MAX_MC_RERUN = 1_000_000


def structure_check(document, fmt) -> Check:
    """The required fields and ranges of the label (PACT, Catena-X or a spec format)."""
    if fmt in SPEC_FORMATS:
        problems = spec_formats.check_structure(document, fmt)
    elif fmt == "catena-x":
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
        return Check("official schema", None, "no official schemas given (schema_dir=DIR)")
    if fmt in SPEC_FORMATS:
        problems = spec_formats.check_official_schema(document, fmt, Path(schema_dir))
        if problems is None:
            return Check(
                "official schema",
                None,
                f"no official schema file for {fmt} (the structure check covers its fields)",
            )
    else:
        problems = check_official_schema(document, fmt, Path(schema_dir))
    return Check(
        "official schema",
        not problems,
        "; ".join(problems[:5]) or f"valid against the official {fmt} schema",
    )


def _numbers(document: Any, prefix: str = "") -> dict[str, Any]:
    """Every numeric leaf (decimal strings and JSON numbers) by its path, as written."""
    found: dict[str, Any] = {}
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
        found[prefix[:-1]] = document
    elif isinstance(document, str) and prefix.startswith(
        ("pcf.", "productLifeCycle", "carbonContent", "pcfAssessment")
    ):
        try:
            if Decimal(document.strip()).is_finite():
                found[prefix[:-1]] = document
        except InvalidOperation:
            pass
    return found


def figure_checks(document, expected, fmt) -> list[Check]:
    """Every figure of the label against the re-computed label, within the label's rounding."""
    label_numbers, expected_numbers = _numbers(document), _numbers(expected)
    failures = []
    compared = 0
    for path, want in expected_numbers.items():
        if path not in label_numbers:
            failures.append(f"{path}: missing (re-computed {want})")
            continue
        compared += 1
        got = label_numbers[path]
        if figure_problem(got, want):
            failures.append(f"{path}: label {str(got)[:40]}, re-computed {want}")
    # A rating the re-computation has no data for (no pedigree scores) must not be there.
    failures += [
        f"{path}: label {str(text)[:40]}, but no input of the re-computation has pedigree scores"
        for path, text in label_numbers.items()
        if path.endswith(("DQR", "coveragePercent")) and path not in expected_numbers
    ]
    return [
        Check(
            "figures: label against re-computation",
            not failures,
            "; ".join(failures[:8]) or f"{compared} figures agree within the label's rounding",
        )
    ]


def _close(got: Any, want: float) -> bool:
    """``got`` is a JSON number (not a bool) close to ``want`` (a finite float)."""
    return (
        isinstance(got, (int, float))
        and not isinstance(got, bool)
        and math.isfinite(float(got))
        and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    )


#: Result keys not compared with the re-computation: the Monte Carlo statistics (re-run by
#: :func:`monte_carlo_check`) and provenance (file paths differ between machines; its
#: hashes are the hash checks).
_RESULT_NOT_COMPARED = ("mc", "provenance")


def _result_differences(got: Any, want: Any, where: str) -> list[str]:
    """Where the label's result differs from the re-computed one (numbers within 1e-9)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: label {str(got)[:40]}, re-computed an object"]
        found = [f"{where}.{key}: not in the re-computation" for key in got if key not in want]
        for key, value in want.items():
            found += _result_differences(got.get(key), value, f"{where}.{key}")
        return found
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: label {str(got)[:40]}, re-computed {len(want)} entries"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in _result_differences(g, w, f"{where}[{i}]")
        ]
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return (
            [] if _close(got, want) else [f"{where}: label {str(got)[:40]}, re-computed {want!r}"]
        )
    return (
        [] if got == want else [f"{where}: label {str(got)[:40]!r}, re-computed {str(want)[:40]!r}"]
    )


def content_check(document, expected, fmt) -> Check:
    """Every field of the label (texts, ids, flags and figures) against the re-computed one."""
    problems = spec_formats.content_problems(document, expected, exact=fmt == "ouranos")
    return Check(
        "content: every field against the re-computation",
        not problems,
        "; ".join(problems[:8]) or "every field agrees (figures within the label's rounding)",
    )


def extension_checks(extension, recomputed) -> list[Check]:
    """The cfp-engine extension's result and figures against the re-computation.

    Every entry of the result (totals, stages, components, line items, shares...) is
    compared, not only the headline ones: a label must not carry a changed figure anywhere.
    """
    import json

    label_result = _object(extension.get("result"))
    want = json.loads(json.dumps(dict(recomputed.result), default=str))
    failures = _result_differences(
        {k: v for k, v in label_result.items() if k not in _RESULT_NOT_COMPARED},
        {k: v for k, v in want.items() if k not in _RESULT_NOT_COMPARED},
        "result",
    )
    figures = _object(extension.get("figures"))
    for key, want_figure in recomputed.labelled_figures().items():
        if figures.get(key) != want_figure:
            failures.append(
                f"extension figure {key}: label {str(figures.get(key))[:40]!r}, "
                f"re-computed {want_figure!r}"
            )
    failures += [
        f"extension figure {key}: not in the re-computation"
        for key in figures
        if key not in recomputed.labelled_figures()
    ]
    return [
        Check(
            "result: extension figures against re-computation",
            not failures,
            "; ".join(failures[:8]) or "total, stages, components, line items and figures agree",
        )
    ]


def hash_checks(extension, recomputed) -> list[Check]:
    """The integrity hashes: spec, data and engine as now, figures as in the label."""
    given = _object(extension.get("integrity"))
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
    own = sha256_json(_object(extension.get("figures")))
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


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rule_checks(document, extension, fmt) -> list[Check]:
    """The rules: AR6, exemptions (PACT v2), DQR range, validity period, stage sums."""
    checks = []
    result = _object(extension.get("result"))
    if fmt == "catena-x":
        return catenax.rule_checks(document, extension)
    if fmt in SPEC_FORMATS:
        return spec_formats.rule_checks(document, fmt)
    pcf = _object(document.get("pcf"))
    factors = (
        pcf.get("ipccCharacterizationFactors")
        if fmt == "pact"
        else pcf.get("ipccCharacterizationFactorsSources")
    )
    checks.append(
        Check(
            "rule: AR6 characterisation factors",
            factors == ["AR6"],
            f"ipcc characterisation factors: {str(factors)[:60]}",
        )
    )
    if fmt == "pact-v2":
        exempted = pcf.get("exemptedEmissionsPercent", 0)
        problems = exempted_problems(exempted, fmt)
        checks.append(
            Check(
                "rule: exempted emissions <= 5 % (PACT v2)",
                not problems,
                "; ".join(problems) or f"{exempted} %",
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
    checks.append(
        validity_check(
            pcf.get("referencePeriodEnd"),
            document.get("validityPeriodStart"),
            document.get("validityPeriodEnd"),
        )
    )
    stages = result.get("stages_kg_co2e")
    total = result.get("total_kg_co2e")
    parts = list(stages.values()) if isinstance(stages, dict) else []
    numbers = all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts)
    ok = numbers and bool(parts) and _close(total, math.fsum(parts))
    checks.append(
        Check(
            "rule: stages add up to the total",
            ok,
            f"sum of stages {math.fsum(parts) if numbers else 'not numbers'!r}, "
            f"total {str(total)[:40]}",
        )
    )
    return checks


def monte_carlo_check(stats, spec, result, inventories, materials) -> Check:
    """Re-run the label's Monte Carlo with its recorded seed: the statistics must repeat."""
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.analysis import sample_footprints

    name = "uncertainty: Monte Carlo re-run with the recorded seed"
    n, seed = stats.get("n"), stats.get("seed")
    if not (
        isinstance(n, int)
        and isinstance(seed, int)
        and not isinstance(n, bool)
        and not isinstance(seed, bool)
        and 1 <= n <= MAX_MC_RERUN
        and 0 <= seed < 2**128
    ):
        return Check(
            name,
            False,
            f"mc.n {str(n)[:20]} and mc.seed {str(seed)[:20]} are not an iteration count "
            f"(1-{MAX_MC_RERUN}) and a seed (0 or more): not re-run",
        )
    calculator = FootprintCalculator(
        method=result.get("method"), inventories=inventories, materials=materials
    )
    (again,) = sample_footprints(
        [(spec, result.get("variant"))],
        calculator,
        iterations=n,
        seed=seed,
        approach=result.get("approach"),
    )
    now = again.statistics()
    differ = [
        f"{key}: label {str(stats.get(key))[:40]}, re-run {now[key]!r}"
        for key in ("mean", "median", "sd", "p2_5", "p97_5")
        if not _close(stats.get(key), now[key])
    ]
    return Check(
        name,
        not differ,
        "; ".join(differ) or f"{now['n']} iterations, seed {now['seed']}: statistics repeat",
    )
