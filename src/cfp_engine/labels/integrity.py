"""The integrity hashes of a label: spec, data, engine version and the label's own figures.

They let a certification body check that a label was made from a given spec and data by
a given engine, and that its figures were not changed afterwards
(:mod:`cfp_engine.verify.recompute`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cfp_engine.labels.rounding import decimal_string
from cfp_engine.spec.product import canonical_json
from cfp_engine.version import __version__

if TYPE_CHECKING:
    from cfp_engine.labels.disclosure import Disclosure


def sha256_json(document: Any) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def labelled_figures(disclosure: Disclosure) -> dict[str, str]:
    """The figures of a label as decimal strings: what its figures hash covers."""
    figures = {key: decimal_string(value) for key, value in disclosure.figures.items()}
    figures.update({f"stage:{s}": decimal_string(v) for s, v in disclosure.stages_kg_co2e.items()})
    return figures


def with_integrity(disclosure: Disclosure) -> Disclosure:
    """``disclosure`` with its integrity hashes filled in."""
    provenance = disclosure.result["provenance"]
    integrity = {
        "spec_sha256": provenance["spec_sha256"],
        "data_sha256": provenance["data_sha256"],
        "engine_sha256": sha256_json({"engine": "cfp-engine", "version": __version__}),
        "figures_sha256": sha256_json(labelled_figures(disclosure)),
        "canonical_json": "sorted keys, separators (',', ':'), UTF-8; numbers as Python repr",
    }
    return replace(disclosure, integrity=integrity)
