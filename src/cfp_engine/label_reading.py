"""Read a published label: parse its JSON, tell its format, find the cfp-engine extension.

Also recovers from a label what a re-computation needs to write the same label again:
its facts (company, product ids, reference period) and its Catena-X model version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import SpecError


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


def catenax_version(document: dict[str, Any], fmt: str) -> str:
    """The Catena-X model version to render the re-computed label in."""
    if fmt != "catena-x":
        return "9.0.0"
    from . import catenax_checks as catenax

    return catenax.detect_version(document)


def facts_from(document: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The facts a label states, as overrides for :func:`cfp_engine.label_facts.label_facts`."""
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
