"""Read a published label: parse its JSON and tell its format.

Also recovers from a label what a re-computation needs to write the same label again:
its facts (company, product ids, reference period) and its Catena-X model version.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.labels.catenax_model import LATEST_RELEASE
from cfp_engine.verify import catenax, spec_formats
from cfp_engine.verify.common import ids_of


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 overflows to inf
        raise ValueError(f"the number {text[:40]} is too large for a label figure")
    return number


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def read_label(path: str | Path) -> dict[str, Any]:
    """The label at ``path`` as a JSON object; :class:`SpecError` if it is not one.

    Non-finite numbers (``NaN``, ``Infinity``, ``1e400``) are refused here, so no check
    ever compares with an infinity.
    """
    path = Path(path)
    try:
        document = json.loads(
            path.read_text(encoding="utf-8-sig"),
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except FileNotFoundError:
        raise SpecError(f"{path}: no such label file") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the label ({exc})") from None
    except ValueError as exc:  # from the hooks above, or an int of too many digits
        raise SpecError(f"{path}: not a usable label: {str(exc)[:120]}") from None
    except RecursionError:
        raise SpecError(f"{path}: the label is nested too deeply to be a label") from None
    if not isinstance(document, dict):
        raise SpecError(
            f"{path}: a label is a JSON object, not {type(document).__name__} "
            f"({json.dumps(document)[:40]})"
        )
    return document


def label_format(document: dict[str, Any], *, where: str = "the label") -> str:
    """The format of a label document: a PACT version, Catena-X, or a format of the spec's
    own sections (:func:`cfp_engine.verify.spec_formats.detect`)."""
    made_from_spec = spec_formats.detect(document)
    if made_from_spec is not None:
        return made_from_spec
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
        f"{where}: neither a PACT ProductFootprint (specVersion 2.x or 3.x), a Catena-X PCF "
        "payload, Battery Pass records, an EU battery declaration nor Ouranos CFP records"
    )


def catenax_version(document: dict[str, Any], fmt: str) -> str:
    """The Catena-X model version to render the re-computed label in."""
    if fmt != "catena-x":
        return LATEST_RELEASE
    return catenax.detect_version(document)


def facts_from(document: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The facts a label states, as overrides for :func:`cfp_engine.labels.facts.label_facts`."""
    if fmt == "catena-x":
        return catenax.facts_from(document)
    pcf = document.get("pcf") if isinstance(document.get("pcf"), dict) else {}
    start, end = (str(pcf.get(k, ""))[:10] for k in ("referencePeriodStart", "referencePeriodEnd"))
    return {
        "company_name": document.get("companyName"),
        "company_ids": ids_of(document.get("companyIds")),
        "product_ids": ids_of(document.get("productIds")),
        "product_category_cpc": document.get("productCategoryCpc"),
        "reference_period": {"start": start, "end": end},
    }
