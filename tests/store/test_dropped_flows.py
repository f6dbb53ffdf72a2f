"""--allow-unlinked is loud: dropped flows in the report, every result and label.

The SimaPro fixture with ``kiln_flow`` writes the steel's only CO2 as "Carbon dioxide,
kiln", a flow biosphere3 does not know; with --allow-unlinked it is dropped. Expected
scores by hand from tests/fixtures/make_databases.py.
"""

import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.store.dropped_flows import describe_dropped, names_greenhouse_gas, used_databases

import make_databases as dbs

REL = 1e-6
# Widget steel without its 1.5 kg CO2: 0.01 kg CH4 non-fossil (27.0) + 2 kWh electricity.
STEEL_WITHOUT_CO2 = 0.01 * dbs.AR6["ch4_non_fossil"] + 2 * dbs.ELECTRICITY
LABEL = (
    "label:\n"
    "  company_name: X\n"
    "  company_ids: ['urn:x:c']\n"
    "  product_ids: ['urn:x:p']\n"
    "  reference_period: {start: '2025-01-01', end: '2025-12-31'}\n"
)


@pytest.mark.parametrize(
    ("name", "ghg"),
    [
        ("Carbon dioxide, kiln", True),
        ("CO2 from calcination", True),
        ("Methane, biogenic", True),
        ("Dinitrogen monoxide", True),
        ("Sulfur hexafluoride", True),
        ("Nitrogen fluoride", True),
        ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", True),
        ("PFC-14", True),
        ("HFCs, unspecified", True),
        ("Methanol", False),
        ("Hydrogen fluoride", False),
        ("mystery lubricant", False),
        ("Water, well", False),
    ],
)
def test_greenhouse_gases_by_name(name, ghg):
    assert names_greenhouse_gas(name) is ghg


def test_used_databases_follow_links():
    sources = {
        "cfp-builtin": {},
        "a": {"links_to": {"b": 2}},
        "b": {"links_to": {"cfp-builtin": 1}},
        "c": {},
    }
    assert used_databases({"a"}, sources) == ["cfp-builtin", "a", "b"]
    assert used_databases({"c"}, sources) == ["c"]
    # bw2data's own record of links (manifest["depends"]) comes first when there is one.
    assert used_databases({"a"}, sources, {"a": [], "b": ["cfp-builtin"]}) == ["a"]


def test_provenance_follows_links_of_inventory_files(write_spec, handmade_table):
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec

    def databases(activity: str, amount: str) -> list[str]:
        path = write_spec(
            "product: {id: p, name: P, declared_unit: 1 piece}\n"
            "inventories: [handmade.xlsx]\ncomponents: []\n"
            f"stages:\n  production: [{{activity: '{activity}', amount: {amount}}}]\n"
        )
        return list(calculate_footprint(load_spec(path)).provenance["databases"])

    # hand assembly uses the built-in JP grid; the grid uses nothing of the file. (Links
    # are known per database: the file's other activities also list the built-in data.)
    assert databases("handmade::hand assembly", "1 piece") == ["cfp-builtin", "handmade"]
    assert databases("electricity, grid, JP", "1 kWh") == ["cfp-builtin"]


def test_the_warning_counts_and_names_greenhouse_gases():
    dropped = [
        {"type": "biosphere", "name": "Carbon dioxide, kiln", "unit": "kg", "categories": "air",
         "location": "", "activity": "steel [JP]", "greenhouse_gas": True},
        {"type": "technosphere", "name": "mystery lubricant", "unit": "kg", "categories": "",
         "location": "GLO", "activity": "steel [JP]"},
    ]  # fmt: skip
    text = describe_dropped("sp", dropped)
    assert text.startswith(
        "database 'sp' was imported with its unlinked exchanges left out: "
        "2 unlinked exchange(s) dropped (1 of them elementary flows), "
        "so the footprint leaves them out; greenhouse gases among "
        "them: 'Carbon dioxide, kiln' [kg, air] in steel [JP] ("
    )
    assert "lubricant" not in text
    again = dropped[0] | {"activity": "kiln [CN]"}
    assert "'Carbon dioxide, kiln' [kg, air] in 2 activities (steel [JP], kiln [CN])" in (
        describe_dropped("sp", [dropped[0], again])
    )
    assert "none is a greenhouse gas" in describe_dropped("x", dropped[1:])


@pytest.fixture
def store(tmp_path, fresh_home):
    """A fresh engine home with 'sp' (CO2 dropped) and 'es2' (complete) imported."""
    from cfp_engine.store.imports import import_database

    path = dbs.write_simapro(tmp_path / "sp", kiln_flow=True)
    report = import_database(path, format="simapro-csv", name="sp", allow_unlinked=True)
    import_database(dbs.write_ecospold2(tmp_path / "es2"), format="ecospold2", name="es2")
    return report


def _spec(tmp_path, activity: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "components: []\n"
        f"stages:\n  production: [{{activity: '{activity}', amount: 1 kg}}]\n" + LABEL,
        encoding="utf-8",
    )
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_dropped_co2_is_listed_warned_and_labelled(store, tmp_path):
    (dropped,) = store.dropped
    assert dropped["name"] == "Carbon dioxide, kiln" and dropped["greenhouse_gas"] is True
    assert (
        "biosphere 'Carbon dioxide, kiln' [kilogram, air] GREENHOUSE GAS: 1 exchange(s), "
        "in Widget steel [JP]"
    ) in store.render().splitlines()[-2]
    spec = _spec(tmp_path, "sp::Widget steel::JP")
    out = run("calc", spec, "--format", "json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["total_kg_co2e"] == pytest.approx(STEEL_WITHOUT_CO2, rel=REL)
    (warning,) = result["warnings"]
    assert warning.startswith(
        "database 'sp' was imported with its unlinked exchanges left out: "
        "1 unlinked exchange(s) dropped (1 of them elementary flows), "
        "so the footprint leaves them out; greenhouse gases among "
        "them: 'Carbon dioxide, kiln' [kilogram, air] in Widget steel [JP] ("
    )
    assert result["exemptions"] == [warning]
    assert f"Warning: {warning}" in out.stderr
    assert "sp" in result["provenance"]["databases"]
    label = tmp_path / "label.json"
    made = run("label", spec, "--format", "pact", "-o", label)
    assert made.exit_code == 0, made.output
    described = json.loads(label.read_text(encoding="utf-8"))["pcf"]["exemptedEmissionsDescription"]
    assert described.startswith("Not in the footprint: (1) database 'sp' was imported with")
    assert "'Carbon dioxide, kiln'" in described


def test_a_result_not_using_the_database_neither_warns_nor_lists_it(store, tmp_path):
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec

    spec = _spec(tmp_path, "es2::widget steel production::JP")
    result = calculate_footprint(load_spec(spec))
    assert result.total_kg_co2e == pytest.approx(dbs.STEEL, rel=REL)
    assert result.warnings == () and result.exemptions == ()
    assert list(result.provenance["databases"]) == ["es2"]
    compared = run("compare", spec, _spec(tmp_path, "sp::Widget steel::JP", "b.yaml"))
    assert compared.exit_code == 0, compared.output
    assert compared.stderr.count("Warning: database 'sp'") == 1
    # cfp batch has no warnings column: its model states it once, for products using it.
    from cfp_engine.batch.model import build_scoring_model

    (batch,) = [w for w in build_scoring_model().warnings if "'sp'" in w]
    assert batch.startswith("if products use it, database 'sp' was imported with")
