"""The integrity hashes of a label: spec, data, engine version and the label's own figures.

They let a certification body check that a label was made from a given spec and data by
a given engine, and that its figures were not changed afterwards
(:mod:`cfp_engine.verify.recompute`). The functions take the figures and the provenance
themselves, not a disclosure, so the disclosure model can use them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cfp_engine.labels.rounding import decimal_string
from cfp_engine.spec.product import canonical_json
from cfp_engine.version import __version__


def sha256_json(document: Any) -> str:
    """SHA-256 (hex) of ``document`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def labelled_figures(
    figures: Mapping[str, float], stages_kg_co2e: Mapping[str, float]
) -> dict[str, str]:
    """The figures of a label as decimal strings: what its figures hash covers.

    Parameters
    ----------
    figures
        The PACT / ISO 14067 figures by name, kg CO2e (or kg C) per declared unit.
    stages_kg_co2e
        The footprint of each life-cycle stage, kg CO2e per declared unit.
    """
    labelled = {key: decimal_string(value) for key, value in figures.items()}
    labelled.update({f"stage:{s}": decimal_string(v) for s, v in stages_kg_co2e.items()})
    return labelled


def integrity_hashes(provenance: Mapping[str, Any], labelled: Mapping[str, str]) -> dict[str, str]:
    """The integrity block of a label.

    Parameters
    ----------
    provenance
        The result's provenance, with the ``spec_sha256`` and ``data_sha256`` of its inputs.
    labelled
        The label's figures as :func:`labelled_figures` writes them.
    """
    return {
        "spec_sha256": provenance["spec_sha256"],
        "data_sha256": provenance["data_sha256"],
        "engine_sha256": sha256_json({"engine": "cfp-engine", "version": __version__}),
        "figures_sha256": sha256_json(labelled),
        "canonical_json": "sorted keys, separators (',', ':'), UTF-8; numbers as Python repr",
    }
