"""Every command on every data source, with the same numbers.

Sources: the built-in data; the hand-made inventory given with ``--inventory`` as
Brightway Excel and as CSV; databases imported with ``cfp data import`` from ecospold2,
SimaPro CSV, openLCA JSON-LD and Brightway Excel; the built-in example after those
imports; and a spec mixing built-in and imported data. Commands: ``calc`` (and
``--check-brightway``), ``compare``, ``sweep``, ``label`` in every format, ``verify``,
``batch``, ``calc --mc`` and ``compare --mc``.

Every cell runs; the deterministic figures agree across calc, batch, sweep, compare,
the labels, the Monte Carlo ``deterministic`` field (1e-9 relative) and a full bw2calc
LCA (1e-7: Brightway stores matrix values as float32). Each source is also checked
against its hand calculation (``make_inventories.EXPECTED_PER_UNIT``, the constants of
``make_databases``; 1e-6 for float32 storage). The imported databases carry one
lognormal exchange each (``make_databases.GSD``): Monte Carlo samples it with its own
spread, and every exchange without a distribution stays fixed.

The four imports share one engine home (module scope, ~20 s); the other sources use the
session's home.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

import make_databases as dbs
import make_inventories as inv
from conftest import copy_home

E = inv.EXPECTED_PER_UNIT
HAND_R1 = 0.3  # recycled content of every component written at 30 %
REL_SAME = 1e-9  # the same calculation by another command
REL_BRIGHTWAY = 1e-7  # through bw2calc's float32 matrices
REL_HAND = 1e-6  # against a hand calculation (float32 storage of amounts)
MC_N = 200
SEED = 7
LABEL = """label:
  company_name: Test Co.
  company_ids: ["urn:example:company:test"]
  product_ids: ["urn:example:product:{id}"]
  product_category_cpc: "36490"
  reference_period: {{start: "2025-01-01", end: "2025-12-31"}}
  validity_period: {{start: "2026-01-01", end: "2027-12-31"}}
"""
# name, activity name of (electricity, steel, assembly) in each imported format; the
# hand-computed steel and assembly scores (SimaPro's steel methane is biogenic).
IMPORTED = {
    "ecospold2": (
        "es2",
        "ecospold2",
        ("electricity production, test grid", "widget steel production", "widget assembly"),
        (dbs.STEEL, dbs.ASSEMBLY),
    ),
    "simapro-csv": (
        "sp",
        "simapro-csv",
        ("Electricity, test grid", "Widget steel", "Widget"),
        (dbs.SP_STEEL, dbs.SP_ASSEMBLY),
    ),
    "olca-jsonld": (
        "olca",
        "olca-jsonld",
        ("electricity production, test grid", "widget steel production", "widget assembly"),
        (dbs.STEEL, dbs.ASSEMBLY),
    ),
    "excel-db": (
        "bwx",
        "excel",
        ("electricity production, test grid", "widget steel production", "widget assembly"),
        (dbs.STEEL, dbs.ASSEMBLY),
    ),
}
SOURCES = [
    "builtin",
    "inventory-excel",
    "inventory-csv",
    *IMPORTED,
    "builtin-after-import",
    "builtin+imported",
]


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _ok(result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result.stdout


# -- the sources ----------------------------------------------------------------------


@dataclass
class Case:
    """One data source: a spec, the options every command needs, and hand figures."""

    name: str
    spec: Path
    options: list[str]
    component: str  # the component swept
    variant: str
    catalogue: list[tuple[str, str, str, str, str, str]]  # stage, item, ref, amount, unit, R1
    hand: dict[str, float]  # "total" or a stage -> kg CO2e by hand
    fixed_stages: tuple[str, ...] = ()  # stages whose data carry no distribution
    home: Path | None = None  # the engine home (None: the session's)
    product_id: str = field(init=False)

    def __post_init__(self):
        self.product_id = re.search(r"id: ([\w.+-]+)", self.spec.read_text()).group(1)


def _cutoff_per_kg(r1: float) -> float:
    """The widget material by hand: (1-R1)Ev + R1 Erec + R3 E_ER + (1-R2-R3) ED."""
    r2, r3 = 0.5, 0.2  # the hand-made materials table
    return (
        (1 - r1) * E["widget material, virgin"]
        + r1 * E["widget material, recycled"]
        + r3 * E["hand incineration"]
        + (1 - r2 - r3) * E["hand landfill"]
    )


def _builtin_case(folder: Path, name: str, home: Path | None) -> Case:
    spec = folder / f"{name}.yaml"
    spec.write_text(
        "product: {id: builtin-widget, name: Built-in widget, declared_unit: 1 piece, "
        "geography: JP}\n"
        "components: [{id: body, material: PET, mass: 100 g, recycled_content: 30 %}]\n"
        "stages:\n"
        '  production: [{activity: "electricity, grid, JP", amount: 2 kWh}]\n'
        '  distribution: [{activity: "transport, lorry", amount: 10 kg*km}]\n'
        "variants: {rpet: {components: {body: {recycled_content: 60 %}}}}\n"
        + LABEL.format(id="builtin-widget"),
        encoding="utf-8",
    )
    return Case(
        name,
        spec,
        [],
        "body",
        "rpet",
        [
            ("raw_materials", "body", "PET", "100", "g", "30%"),
            ("production", "", "electricity, grid, JP", "2", "kWh", ""),
            ("distribution", "", "transport, lorry", "10", "kg*km", ""),
        ],
        {"production": 2 * inv.BUILTIN_JP_GRID_KG_CO2_PER_KWH},
        home=home,
    )


def _inventory_case(folder: Path, name: str, handmade: dict[str, Path]) -> Case:
    inventory = handmade["inventory"]
    if name == "inventory-csv":
        inventory = inv.write_inventory_csv(folder / "handmade.csv")
    spec = folder / f"{name}.yaml"
    spec.write_text(
        f"product: {{id: {name}, name: Hand-made widget, declared_unit: 1 piece}}\n"
        "components: [{id: body, material: widget, mass: 2 kg, recycled_content: 30 %}]\n"
        "stages:\n"
        '  production: [{activity: "handmade::hand assembly::JP", amount: 1 piece}]\n'
        '  distribution: [{activity: "handmade::hand transport::GLO", amount: 0.5 t*km}]\n'
        "variants: {more: {components: {body: {recycled_content: 60 %}}}}\n"
        + LABEL.format(id=name),
        encoding="utf-8",
    )
    total = 2 * _cutoff_per_kg(HAND_R1) + E["hand assembly"] + 0.5 * E["hand transport"]
    return Case(
        name,
        spec,
        ["--inventory", str(inventory), "--materials", str(handmade["materials"])],
        "body",
        "more",
        [
            ("raw_materials", "body", "widget", "2", "kg", "30%"),
            ("production", "", "handmade::hand assembly::JP", "1", "piece", ""),
            ("distribution", "", "handmade::hand transport::GLO", "0.5", "t*km", ""),
        ],
        {"total": total},
        # The hand-made data carry no distributions; the assembly's built-in grid does.
        fixed_stages=("raw_materials", "distribution", "end_of_life"),
    )


def _materials_for(folder: Path, db: str, steel: str) -> Path:
    """The imported steel as a material; recycled route and landfill from the built-in data."""
    path = folder / f"materials-{db}.csv"
    path.write_text(
        "material,virgin,recycled,disposal,R2,R3,source\n"
        f'wsteel-{db},"{db}::{steel}::JP","steel, recycled","landfill, steel",0,0,test\n',
        encoding="utf-8",
    )
    return path


def _imported_case(folder: Path, source: str, home: Path) -> Case:
    db, _, (electricity, steel, assembly), (steel_score, assembly_score) = IMPORTED[source]
    spec = folder / f"{source}.yaml"
    spec.write_text(
        f"product: {{id: {db}-widget, name: Widget from {source}, declared_unit: 1 piece}}\n"
        f"components: [{{id: frame, material: wsteel-{db}, mass: 2 kg}}]\n"
        "stages:\n"
        f'  production: [{{activity: "{db}::{assembly}::GLO", amount: 1 piece}},\n'
        f'               {{activity: "{db}::{electricity}::JP", amount: 1 kWh}}]\n'
        "variants: {recycled: {components: {frame: {recycled_content: 50 %}}}}\n"
        + LABEL.format(id=f"{db}-widget"),
        encoding="utf-8",
    )
    materials = _materials_for(folder, db, steel)
    return Case(
        source,
        spec,
        ["--materials", str(materials)],
        "frame",
        "recycled",
        [
            ("raw_materials", "frame", f"wsteel-{db}", "2", "kg", ""),
            ("production", "", f"{db}::{assembly}", "1", "piece", ""),  # no location
            ("production", "", f"{db}::{electricity}::JP", "1", "kWh", ""),
        ],
        # R1 = 0: the raw materials are the imported steel alone.
        {"raw_materials": 2 * steel_score, "production": assembly_score + dbs.ELECTRICITY},
        home=home,
    )


def _mixed_case(folder: Path, home: Path) -> Case:
    spec = folder / "mixed.yaml"
    spec.write_text(
        "product: {id: mixed-widget, name: Mixed widget, declared_unit: 1 piece, geography: JP}\n"
        "components: [{id: body, material: PET, mass: 100 g, recycled_content: 30 %},\n"
        "             {id: frame, material: wsteel-es2, mass: 1 kg}]\n"
        "stages:\n"
        '  production: [{activity: "electricity, grid, JP", amount: 2 kWh},\n'
        '               {activity: "es2::widget assembly::GLO", amount: 1 piece}]\n'
        "variants: {rpet: {components: {body: {recycled_content: 60 %}}}}\n"
        + LABEL.format(id="mixed-widget"),
        encoding="utf-8",
    )
    materials = _materials_for(folder, "es2", "widget steel production")
    return Case(
        "builtin+imported",
        spec,
        ["--materials", str(materials)],
        "body",
        "rpet",
        [
            ("raw_materials", "body", "PET", "100", "g", "30%"),
            ("raw_materials", "frame", "wsteel-es2", "1", "kg", ""),
            ("production", "", "electricity, grid, JP", "2", "kWh", ""),
            ("production", "", "es2::widget assembly::GLO", "1", "piece", ""),
        ],
        {"production": 2 * inv.BUILTIN_JP_GRID_KG_CO2_PER_KWH + dbs.ASSEMBLY},
        home=home,
    )


@pytest.fixture(scope="module")
def imported_home(tmp_path_factory, builtin_table, built_home) -> Path:
    """One engine home with the four test databases imported (lognormal electricity CO2)."""
    from cfp_engine.store.imports import import_database

    home = copy_home(built_home, tmp_path_factory.mktemp("imported") / "home")
    files = tmp_path_factory.mktemp("imported-files")
    writers = {
        "ecospold2": lambda: dbs.write_ecospold2(files / "es2", uncertain=True),
        "simapro-csv": lambda: dbs.write_simapro(files / "sp", uncertain=True),
        "olca-jsonld": lambda: dbs.write_jsonld(files / "olca", uncertain=True),
        "excel-db": lambda: dbs.write_brightway(files / "bwx", uncertain=True),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CFP_ENGINE_HOME", str(home))
        for source, write in writers.items():
            name, fmt = IMPORTED[source][:2]
            report = import_database(write(), format=fmt, name=name)
            assert report.unlinked == []
    return home


@pytest.fixture(scope="module")
def cases(tmp_path_factory, handmade, imported_home) -> dict[str, Case]:
    folder = tmp_path_factory.mktemp("data-sources")
    built = {
        "builtin": _builtin_case(folder, "builtin", None),
        "inventory-excel": _inventory_case(folder, "inventory-excel", handmade),
        "inventory-csv": _inventory_case(folder, "inventory-csv", handmade),
        "builtin-after-import": _builtin_case(folder, "builtin-after-import", imported_home),
        "builtin+imported": _mixed_case(folder, imported_home),
    }
    for source in IMPORTED:
        built[source] = _imported_case(folder, source, imported_home)
    return built


@pytest.fixture(params=SOURCES)
def case(request, cases, monkeypatch) -> Case:
    chosen = cases[request.param]
    if chosen.home is not None:
        monkeypatch.setenv("CFP_ENGINE_HOME", str(chosen.home))
    return chosen


_CALC: dict[str, dict] = {}


def calc_document(case: Case) -> dict:
    """``cfp calc --format json`` of the case (run once per source)."""
    if case.name not in _CALC:
        _CALC[case.name] = json.loads(
            _ok(_invoke("calc", case.spec, *case.options, "--format", "json"))
        )
    return _CALC[case.name]


# -- deterministic commands -----------------------------------------------------------


def test_calc_matches_the_hand_calculation(case):
    document = calc_document(case)
    stages = document["stages_kg_co2e"]
    assert sum(stages.values()) == pytest.approx(document["total_kg_co2e"], rel=REL_SAME)
    for key, expected in case.hand.items():
        got = document["total_kg_co2e"] if key == "total" else stages[key]
        assert got == pytest.approx(expected, rel=REL_HAND)


def test_builtin_figures_do_not_change_after_imports(cases, monkeypatch):
    before = calc_document(cases["builtin"])
    monkeypatch.setenv("CFP_ENGINE_HOME", str(cases["builtin-after-import"].home))
    after = calc_document(cases["builtin-after-import"])
    assert after["total_kg_co2e"] == pytest.approx(before["total_kg_co2e"], rel=REL_SAME)
    assert after["stages_kg_co2e"] == pytest.approx(before["stages_kg_co2e"], rel=REL_SAME)


def test_check_brightway_agrees(case):
    result = _invoke("calc", case.spec, *case.options, "--format", "json", "--check-brightway")
    _ok(result)
    match = re.search(r"bw2calc LCA of the same demand: ([-0-9.e+]+) kg CO2e", result.stderr)
    assert match, result.stderr
    full = float(match.group(1))
    assert full == pytest.approx(calc_document(case)["total_kg_co2e"], rel=REL_BRIGHTWAY)


def test_compare_lists_base_then_variant_with_calc_figures(case):
    documents = json.loads(_ok(_invoke("compare", case.spec, *case.options, "--format", "json")))
    assert [d["variant"] for d in documents] == [None, case.variant]
    base = calc_document(case)["total_kg_co2e"]
    assert documents[0]["total_kg_co2e"] == pytest.approx(base, rel=REL_SAME)
    variant = json.loads(
        _ok(
            _invoke("calc", case.spec, *case.options, "--variant", case.variant, "--format", "json")
        )
    )
    assert documents[1]["total_kg_co2e"] == pytest.approx(variant["total_kg_co2e"], rel=REL_SAME)


def test_sweep_passes_through_the_spec_point(case):
    points = json.loads(
        _ok(
            _invoke(
                "sweep",
                case.spec,
                *case.options,
                "--component",
                case.component,
                "--recycled-content",
                "0:100:10",
                "--format",
                "json",
            )
        )
    )
    assert len(points) == 11
    share = 0.0 if case.component == "frame" else HAND_R1
    (point,) = [p for p in points if p["recycled_content"] == pytest.approx(share, abs=1e-12)]
    assert point["total_kg_co2e"] == pytest.approx(
        calc_document(case)["total_kg_co2e"], rel=REL_SAME
    )


def _three_digits(kg: float) -> set[str]:
    """``kg`` and the same in g to 3 significant digits (half up), with or without zeros."""
    from decimal import ROUND_HALF_UP, Decimal

    spellings = set()
    for value in (kg, kg * 1000):
        d = Decimal(repr(value))
        text = f"{d.quantize(Decimal(1).scaleb(d.adjusted() - 2), rounding=ROUND_HALF_UP):f}"
        spellings |= {text, text.rstrip("0").rstrip(".") if "." in text else text}
    return spellings


def _json_totals(document) -> tuple[list[float], list[str]]:
    """Every ``total_kg_co2e`` number and every PCF decimal string in a label document."""
    numbers, strings = [], []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif key == "total_kg_co2e" and isinstance(node, (int, float)):
            numbers.append(float(node))
        elif key in ("pcfExcludingBiogenicUptake", "pcfExcludingBiogenic") and isinstance(
            node, str
        ):
            strings.append(node)

    walk(document)
    return numbers, strings


@pytest.mark.parametrize("fmt", ["pact", "pact-v2", "catena-x", "json", "md", "html"])
def test_label_in_every_format(case, fmt, tmp_path):
    suffix = {"md": "md", "html": "html"}.get(fmt, "json")
    out = tmp_path / f"label.{suffix}"
    _ok(_invoke("label", case.spec, *case.options, "--format", fmt, "-o", out))
    text = out.read_text(encoding="utf-8")
    total = calc_document(case)["total_kg_co2e"]
    if suffix != "json":  # the headline value, 3 significant digits, in kg or g
        assert any(figure in text for figure in _three_digits(total)), (total, text[:400])
        return
    numbers, strings = _json_totals(json.loads(text))
    assert numbers or strings
    for number in numbers:
        assert number == pytest.approx(total, rel=REL_SAME)
    if fmt in ("pact", "pact-v2"):
        assert strings  # decimal strings rounded to 6 significant digits
    for value in strings:  # PACT v3: per declared unit, 6 significant digits
        if fmt == "pact":
            assert float(value) == pytest.approx(total, rel=5e-6)
        else:  # PACT v2 declares per kg for a product declared per piece
            assert float(value) > 0


@pytest.mark.parametrize("fmt", ["pact", "pact-v2", "catena-x"])
def test_verify_accepts_the_label(case, fmt, tmp_path):
    out = tmp_path / "label.json"
    _ok(_invoke("label", case.spec, *case.options, "--format", fmt, "-o", out))
    result = _invoke("verify", out, "--spec", case.spec, *case.options)
    assert result.exit_code == 0, result.output


def test_batch_equals_calc(case, tmp_path):
    """The catalogue writes references as the specs do (plain names for built-in data)."""
    catalogue = tmp_path / "catalogue.csv"
    with catalogue.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["product_id", "stage", "item", "ref", "amount", "unit", "recycled_content"]
        )
        for stage, item, ref, amount, unit, r1 in case.catalogue:
            writer.writerow([case.product_id, stage, item, ref, amount, unit, r1])
    out = tmp_path / "scores.csv"
    _ok(_invoke("batch", catalogue, "-o", out, "--quiet", *case.options))
    with out.open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["status"] == "ok", row["error"]
    document = calc_document(case)
    assert float(row["total_kg_co2e"]) == pytest.approx(document["total_kg_co2e"], rel=REL_SAME)
    for stage, value in document["stages_kg_co2e"].items():
        assert float(row[f"{stage}_kg_co2e"]) == pytest.approx(value, rel=REL_SAME, abs=1e-15)


# -- Monte Carlo ------------------------------------------------------------------------


def test_calc_mc_deterministic_field_equals_calc(case):
    document = json.loads(
        _ok(
            _invoke(
                "calc",
                case.spec,
                *case.options,
                "--mc",
                MC_N,
                "--seed",
                SEED,
                "--format",
                "json",
            )
        )
    )
    mc = document["mc"]
    total = calc_document(case)["total_kg_co2e"]
    assert (mc["n"], mc["seed"]) == (MC_N, SEED)
    assert mc["deterministic"] == pytest.approx(total, rel=REL_SAME)
    assert mc["median"] == pytest.approx(total, rel=0.25)
    assert mc["p2_5"] <= mc["median"] <= mc["p97_5"]
    for stage in case.fixed_stages:
        stats = mc["stages"][stage]
        assert stats["sd"] <= 1e-12 * max(abs(stats["deterministic"]), 1.0)
        assert stats["median"] == pytest.approx(stats["deterministic"], rel=REL_SAME)


def test_compare_mc_deterministic_fields_equal_compare(case):
    args = ("compare", case.spec, *case.options, "--format", "json")
    plain = json.loads(_ok(_invoke(*args)))
    sampled = json.loads(_ok(_invoke(*args, "--mc", MC_N, "--seed", SEED)))
    assert [d["variant"] for d in sampled] == [None, case.variant]
    for with_mc, without in zip(sampled, plain, strict=True):
        assert with_mc["mc"]["deterministic"] == pytest.approx(
            without["total_kg_co2e"], rel=REL_SAME
        )
    assert 0.0 <= sampled[1]["p_lower_than_base"] <= 1.0


# -- the imported uncertainty itself ----------------------------------------------------


@pytest.mark.parametrize("source", [*IMPORTED, "inventory-brightway"])
def test_user_lognormal_is_sampled_and_the_rest_stays_fixed(
    source, imported_home, monkeypatch, tmp_path
):
    """1 kWh of electricity beside 1 widget: only the electricity's CO2 is uncertain.

    Electricity per kWh is ``0.5 exp(N(0, ln GSD)) + 0.0298``: its median is the hand
    figure and ``ln(E - 0.0298)`` has sd ``ln GSD``. The widget is ``N2O + 0.3 (steel's
    own emissions + 2 E)``, so in every iteration ``widget - 0.6 E`` is the same number.
    ``inventory-brightway`` is the Brightway Excel database given as ``--inventory``.
    """
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.spec.product import spec_from_dict
    from cfp_engine.uncertainty.analysis import sample_footprints

    if source == "inventory-brightway":
        path = dbs.write_brightway(tmp_path, database="bwinv", uncertain=True)
        calculator = FootprintCalculator(inventories=[path])
        db, (electricity, _steel, assembly) = "bwinv", IMPORTED["excel-db"][2]
        assembly_score = dbs.ASSEMBLY
    else:
        monkeypatch.setenv("CFP_ENGINE_HOME", str(imported_home))
        calculator = FootprintCalculator()
        db, _, (electricity, _steel, assembly), (_steel_score, assembly_score) = IMPORTED[source]
    spec = spec_from_dict(
        {
            "product": {"id": f"{db}-u", "name": "u", "declared_unit": "1 piece"},
            "components": [],
            "stages": {
                "production": [{"activity": f"{db}::{assembly}::GLO", "amount": "1 piece"}],
                "distribution": [{"activity": f"{db}::{electricity}::JP", "amount": "1 kWh"}],
            },
        }
    )
    (result,) = sample_footprints([(spec, None)], calculator, iterations=2000, seed=11)
    power, widget = result.stages["distribution"], result.stages["production"]
    assert result.result.stages_kg_co2e["production"] == pytest.approx(assembly_score, rel=REL_HAND)
    assert np.median(power) == pytest.approx(dbs.ELECTRICITY, rel=0.02)
    spread = np.std(np.log(power - dbs.ELECTRICITY_FIXED_PART), ddof=1)
    assert spread == pytest.approx(math.log(dbs.GSD), rel=0.08)
    fixed = widget - 0.6 * power
    # 1e-7: the 0.3 kg of steel is stored as float32 (0.30000001), so "0.6" is 0.6000000358.
    assert np.ptp(fixed) <= REL_BRIGHTWAY * abs(fixed.mean())
    assert fixed.mean() == pytest.approx(assembly_score - 0.6 * dbs.ELECTRICITY, rel=REL_HAND)
