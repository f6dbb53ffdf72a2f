"""Parameters frozen at import: formulas evaluated into amounts, kept as text."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from cfp_engine.errors import SpecError
from cfp_engine.import_parameters import freeze_parameters


def _importer(data, **extra):
    return SimpleNamespace(data=data, metadata={}, **extra)


def test_activity_and_database_parameters_evaluate_into_amounts():
    # 2 kg x 3 = 6 kg, then a lognormal's loc follows: ln 6.
    ds = {
        "name": "widget",
        "parameters": [{"name": "mass", "amount": 2.0}],
        "exchanges": [
            {"name": "steel", "amount": 0, "formula": "mass * factor", "uncertainty type": 2}
        ],
    }
    importer = _importer([ds], database_parameters=[{"name": "factor", "amount": 3.0}])
    counts = freeze_parameters(importer, source="w.xlsx", fmt="excel")
    exchange = ds["exchanges"][0]
    assert counts == {"evaluated": 1, "kept": 0}
    assert exchange["amount"] == pytest.approx(6.0, rel=1e-12)
    assert exchange["loc"] == pytest.approx(math.log(6.0), rel=1e-12)
    assert exchange["formula"] == "mass * factor"
    assert ds["cfp_parameters"] == {"mass": 2.0} and "parameters" not in ds
    assert importer.metadata["cfp_parameters"] == {"factor": 3.0}
    assert importer.database_parameters is None


def test_simapro_project_parameters_are_used():
    # Project input parameter a = 4; calculated b = a / 2 = 2; exchange b * 5 = 10.
    ds = {"name": "p", "exchanges": [{"name": "x", "amount": 1, "formula": "b * 5"}]}
    importer = _importer(
        [ds],
        global_parameters={"a": {"amount": 4.0}, "b": {"formula": "a / 2", "amount": 0}},
    )
    freeze_parameters(importer, source="s.csv", fmt="simapro-csv")
    assert ds["exchanges"][0]["amount"] == pytest.approx(10.0, rel=1e-12)
    assert importer.global_parameters == {}


def test_a_formula_that_cannot_be_evaluated_is_an_error_where_amounts_are_placeholders():
    ds = {"name": "widget", "exchanges": [{"name": "steel", "amount": 0, "formula": "nope * 2"}]}
    with pytest.raises(SpecError, match=r"w.xlsx: dataset 'widget': exchange 'steel': formula"):
        freeze_parameters(_importer([ds]), source="w.xlsx", fmt="excel")


def test_ecospold2_keeps_the_file_amount_when_a_formula_cannot_be_evaluated():
    # ecospold2 amounts are already evaluated by the writer: 7 stays, the formula text too;
    # exchange variable names are parameters: 'out' (3) x 2 = 6.
    ds = {
        "name": "d",
        "exchanges": [
            {"name": "p", "amount": 3.0, "variable name": "out", "type": "production"},
            {"name": "a", "amount": 7.0, "formula": "if(x;1;2)"},
            {"name": "b", "amount": 0.0, "formula": "out * 2"},
        ],
    }
    counts = freeze_parameters(_importer([ds]), source="d.spold", fmt="ecospold2")
    assert counts == {"evaluated": 1, "kept": 1}
    assert ds["exchanges"][1]["amount"] == 7.0
    assert ds["exchanges"][2]["amount"] == pytest.approx(6.0, rel=1e-12)
