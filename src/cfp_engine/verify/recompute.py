"""Re-compute a published label and check it: figures, hashes, schema and rules.

A certification body runs ``cfp verify LABEL --spec SPEC``: the engine reads the label,
takes the variant, method and approach it records, re-computes the product from the
spec and the data, and reports every check as pass or fail:

- the label's figures against the re-computed ones, within the label's rounding;
- the integrity hashes (spec, data, engine version, the label's own figures);
- the structure of the document (the project's own check of PACT's, Catena-X's, the
  Battery Pass's, the EU declaration's and Ouranos's required fields and ranges; the
  official PACT, Catena-X or Battery Pass schema too when its directory is given);
- for the formats made from the spec's own sections (battery-passport, eu-battery,
  ouranos, :mod:`~cfp_engine.verify.spec_formats`), every other field of the document
  against the re-computed one;
- the rules: AR6 characterisation factors, exempted emissions at most 5 % (PACT v2),
  DQRs on each format's own scale (PACT v3 and Catena-X 1-5, PACT v2 1-3), validity
  at most 3 years after the reference period, stage sums.

:func:`verify_label` runs the verification and gathers its :class:`VerificationReport`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.formats import SPEC_FORMATS
from cfp_engine.spec.product import ProductSpec
from cfp_engine.verify import spec_formats
from cfp_engine.verify.checks import (
    content_check,
    extension_checks,
    figure_checks,
    hash_checks,
    monte_carlo_check,
    official_schema_check,
    rule_checks,
    structure_check,
)
from cfp_engine.verify.common import Check, engine_extension
from cfp_engine.verify.reading import (
    catenax_version,
    facts_from,
    label_format,
    read_label,
)
from cfp_engine.verify.suppliers import supplier_checks


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of ``cfp verify``: every check of one label; it passes if none failed."""

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


# -- verification ---------------------------------------------------------------------------


def verify_label(
    label_path: str | Path,
    spec: ProductSpec,
    *,
    inventories: Sequence[str | Path] = (),
    materials: Sequence[str | Path] = (),
    schema_dir: str | Path | None = None,
    online: bool = False,
) -> VerificationReport:
    """Re-compute the label at ``label_path`` from ``spec`` and check it.

    With ``online``, each supplier footprint used is also checked at its supplier's host
    (:func:`cfp_engine.verify.suppliers.online_check`).

    Raises :class:`SpecError` when the label cannot be used at all (malformed, unknown
    format, not made by cfp-engine); otherwise every problem is a failed check.
    """
    from cfp_engine.labels.make import make_disclosure, render_label

    document = read_label(label_path)
    fmt = label_format(document, where=str(label_path))
    extension = engine_extension(document)
    if extension is None:
        raise SpecError(
            f"{label_path}: no cfp-engine extension; the label does not say how it "
            "was calculated, so it cannot be re-computed"
        )
    result = extension.get("result") if isinstance(extension.get("result"), dict) else {}
    for key in ("variant", "method", "approach"):
        if not isinstance(result.get(key), str | None):
            raise SpecError(
                f"{label_path}: the cfp-engine extension's result.{key} is "
                f"{str(result.get(key))[:40]!r}, not a name; the label cannot be re-computed"
            )
    made_from_spec = fmt in SPEC_FORMATS
    # The formats made from the spec's sections write no company facts: the spec's, or
    # stand-ins that reach no field, make the re-computation.
    facts = spec_formats.facts_for(spec) if made_from_spec else facts_from(document, fmt)
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
        render_label(
            recomputed,
            fmt,
            catena_x_version=catenax_version(document, fmt),
            product=spec.with_variant(result.get("variant")) if made_from_spec else None,
            study_url=spec_formats.study_url_of(document, fmt),
        )
    )
    checks: list[Check] = []
    checks.append(structure_check(document, fmt))
    checks.append(official_schema_check(document, fmt, schema_dir))
    checks.extend(figure_checks(document, expected, fmt))
    if made_from_spec:
        checks.append(content_check(document, expected, fmt))
    checks.extend(extension_checks(extension, recomputed))
    checks.extend(hash_checks(extension, recomputed))
    checks.extend(rule_checks(document, extension, fmt))
    checks.extend(supplier_checks(result, online=online))
    if isinstance(result.get("mc"), dict):
        checks.append(monte_carlo_check(result["mc"], spec, result, inventories, materials))
    elif result.get("mc") is not None:
        checks.append(
            Check(
                "uncertainty: Monte Carlo re-run with the recorded seed", False, "mc is no object"
            )
        )
    return VerificationReport(str(label_path), fmt, tuple(checks))
