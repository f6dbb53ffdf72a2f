"""Every example spec, and every variant of it, calculates and adds up."""

import math

import pytest

from cfp_engine.core import calculate_footprint
from cfp_engine.spec import load_spec

from conftest import EXAMPLES

SPECS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_calculates(builtin_table, path):
    spec = load_spec(path)
    for variant in (None, *spec.variant_names):
        result = calculate_footprint(spec, variant=variant, table=builtin_table)
        assert result.total_kg_co2e > 0
        assert math.fsum(result.stages_kg_co2e.values()) == result.total_kg_co2e
        assert result.stages_kg_co2e["raw_materials"] > 0
        assert result.virgin_baseline_kg_co2e >= result.total_kg_co2e - 1e-12
        assert 0.0 <= result.recycled_content_share <= 1.0
        datasets = result.provenance["datasets"]
        assert datasets and all(d["licence"] for d in datasets)


def test_there_are_examples():
    assert len(SPECS) >= 3
