"""Parameters frozen at import: formulas evaluated into amounts, kept as text."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from cfp_engine.errors import SpecError
from cfp_engine.store.imports.parameters import freeze_parameters


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


def test_simapro_project_and_process_parameters_import(tmp_path, fresh_home):
    """The hand-made SimaPro export with its grid's CO2 given as ``co2_rate*2``, a project
    input parameter co2_rate = 0.25 and process parameters: 0.25 x 2 = 0.5 kg CO2, so the
    grid scores dbs.ELECTRICITY = 0.5 + 0.001 x 29.8 kg CO2e/kWh (AR6)."""
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    import make_databases as dbs

    source = dbs.write_simapro(tmp_path / "sp")
    text = source.read_bytes().decode("cp1252")  # as written: CRLF, Windows-1252
    co2 = "Carbon dioxide, fossil;;kg;0.5;Undefined;0;0;0;"
    assert co2 in text
    text = text.replace(co2, "Carbon dioxide, fossil;;kg;co2_rate*2;Undefined;0;0;0;", 1)
    text = text.replace(
        "Input parameters\r\n\r\nCalculated parameters\r\n",
        "Input parameters\r\nlocal_factor;3;Undefined;0;0;0;No;\r\n\r\n"
        "Calculated parameters\r\nlocal_calc;local_factor*co2_rate;\r\n",
        1,
    )
    text = text.replace(
        "\r\nQuantities\r\n",
        "\r\nProject Input parameters\r\nco2_rate;0.25;Undefined;0;0;0;No;rate\r\n\r\nEnd\r\n"
        "\r\nQuantities\r\n",
        1,
    )
    source.write_bytes(text.encode("cp1252"))
    report = import_database(source, format="simapro-csv", name="sp")
    assert report.formulas == {"evaluated": 1, "kept": 0}
    table = open_store()
    electricity = table.find("sp::Electricity, test grid")
    score = float(table.indicator("IPCC 2021 GWP100", "total")[electricity.index])
    assert score == pytest.approx(dbs.ELECTRICITY, rel=1e-6)
