"""cfp data import/list/remove: real formats through bw2io, linking, safety, provenance.

Every test that imports runs in a fresh engine home (the user store is persistent state),
a copy of the session's built store (``fresh_home``), so the built-in project is built once.
Expected scores are the hand calculations in ``tests/fixtures/make_databases.py`` and,
for bw2io's Mobility example, the ones below. bw_processing stores matrix values as
float32, so a score carries a relative error up to ~1e-7 (0.6 is stored as 0.60000002);
the tolerance is 1e-6.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import DataError, SpecError
from cfp_engine.store.imports.safety import check_xml_prolog, safe_extract_zip

import make_databases as dbs
from conftest import assert_engine_log_seen

GWP = "IPCC 2021 GWP100"
REL = 1e-6
MOBILITY = (
    Path(__import__("bw2io").__file__).parent / "data/examples/sample_parameterized_database.xlsx"
)

# Mobility example by hand: steel 1.5 kg CO2/kg, electricity 0.6 kg CO2/kWh;
# battery = 9.88 kg steel + 2000 kWh = 14.82 + 1200 = 1214.82;
# car = battery + 1921 kg steel = 1214.82 + 2881.5 = 4096.32;
# driving 1 km = car / 200,000 km + 0.27 kWh = 0.0204816 + 0.162 = 0.1824816.
MOBILITY_EXPECTED = {
    "Electric car battery": 1214.82,
    "Electric car": 4096.32,
    "Driving an electric car": 0.1824816,
    "Combustion car": 1641 * 1.5,
    "Driving an combustion car": 1641 * 1.5 / 200_000 + 2.3 * 0.062,
}


@pytest.fixture
def home(fresh_home):
    """A fresh engine home: the built-in project and an empty user store."""
    return fresh_home


@pytest.fixture
def flow_map(tmp_path) -> Path:
    path = tmp_path / "mobility-flows.csv"
    path.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        'CO2,,kilogram,"Carbon dioxide, fossil",air,kilogram\n',
        encoding="utf-8",
    )
    return path


def _score(table, reference: str) -> float:
    return float(table.indicator(GWP, "total")[table.find(reference).index])


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- the four formats, against hand calculations ---------------------------------------


def test_mobility_example_with_a_flow_map_reproduces_the_hand_calculation(home, flow_map):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    report = import_database(MOBILITY, format="excel", name="mobility", flow_map=flow_map)
    assert report.unlinked == [] and report.parameterised
    assert report.mapped_flows == [
        {
            "source": ["CO2", "", "kilogram"],
            "target": ["Carbon dioxide, fossil", "air", "kilogram"],
            "factor": 1.0,
            "exchanges": 3,
            "row": "mobility-flows.csv:2",
        }
    ]
    table = open_store()
    for name, expected in MOBILITY_EXPECTED.items():
        assert _score(table, f"mobility::{name}") == pytest.approx(expected, rel=REL), name
    assert _score(table, "mobility::Electric car::GLO") == pytest.approx(4096.32, rel=REL)


def test_mobility_example_without_a_flow_map_stops_with_a_report(home, tmp_path):
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import list_databases

    source = tmp_path / "mobility.xlsx"
    source.write_bytes(MOBILITY.read_bytes())
    with pytest.raises(DataError, match=r"3 unlinked exchange\(s\); nothing was imported") as err:
        import_database(source, format="excel", name="mobility")
    assert "flow_map=FILE.csv" in str(err.value) and "allow_unlinked=True" in str(err.value)
    assert " --" not in str(err.value)  # the library names parameters, not command options
    report = home / "imports" / "reports" / "mobility.unlinked.csv"  # not beside the source
    assert str(report) in str(err.value) and list(tmp_path.glob("*.csv")) == []
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert {(r["name"], r["unit"], r["type"]) for r in rows} == {("CO2", "kilogram", "biosphere")}
    assert {"name", "unit", "categories", "location", "type"} <= set(rows[0])
    assert list_databases() == []


def test_ecospold2_folder_and_zip(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    folder = dbs.write_ecospold2(tmp_path / "es2")
    report = import_database(folder, format="ecospold2", name="es2")
    assert (report.activities, report.linked_flows, report.linked_inputs) == (3, 5, 2)
    table = open_store()
    assert _score(table, "es2::electricity production, test grid::JP") == pytest.approx(
        dbs.ELECTRICITY, rel=REL
    )
    assert _score(table, "es2::widget steel production::JP") == pytest.approx(dbs.STEEL, rel=REL)
    assert _score(table, "es2::widget assembly::GLO") == pytest.approx(dbs.ASSEMBLY, rel=REL)
    archive = dbs.zip_folder(folder, tmp_path / "es2.zip")
    import_database(archive, format="ecospold2", name="es2-zip")
    assert _score(open_store(), "es2-zip::widget assembly") == pytest.approx(dbs.ASSEMBLY, rel=REL)


def test_simapro_csv_uses_bw2io_simapro_names(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    path = dbs.write_simapro(tmp_path / "sp")
    import_database(path, format="simapro-csv", name="sp")
    table = open_store()
    # "Methane, biogenic" (SimaPro) is biosphere3's "Methane, non-fossil" (27.0).
    assert _score(table, "sp::Widget steel::JP") == pytest.approx(dbs.SP_STEEL, rel=REL)
    assert _score(table, "sp::Widget::GLO") == pytest.approx(dbs.SP_ASSEMBLY, rel=REL)
    assert table.find("sp::Widget steel::JP").unit == "kilogram"


def test_simapro_flow_map_maps_an_unknown_flow_and_lists_it(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    path = dbs.write_simapro(tmp_path / "sp", kiln_flow=True)
    with pytest.raises(DataError, match="Carbon dioxide, kiln"):
        import_database(path, format="simapro-csv", name="sp")
    mapping = tmp_path / "kiln.csv"
    mapping.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        '"Carbon dioxide, kiln",Emissions to air,kg,"Carbon dioxide, fossil",air,kilogram\n',
        encoding="utf-8",
    )
    report = import_database(path, format="simapro-csv", name="sp", flow_map=mapping)
    assert [m["exchanges"] for m in report.mapped_flows] == [1]
    assert "mapped flow     Carbon dioxide, kiln" in report.render()
    assert _score(open_store(), "sp::Widget steel::JP") == pytest.approx(dbs.SP_STEEL, rel=REL)


def test_openlca_jsonld_links_flows_to_biosphere3_and_converts_units(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    root = dbs.write_jsonld(tmp_path / "olca")
    report = import_database(root, format="olca-jsonld", name="olca")
    assert report.unlinked == [] and report.activities == 3
    table = open_store()
    electricity = table.find("olca::electricity production, test grid::JP")
    # openLCA states energy in its reference unit, MJ: 0.5298 kg CO2e/kWh / 3.6.
    assert electricity.unit == "megajoule"
    assert _score(table, electricity.reference) == pytest.approx(dbs.ELECTRICITY / 3.6, rel=REL)
    assert _score(table, "olca::widget steel production::JP") == pytest.approx(dbs.STEEL, rel=REL)
    assert _score(table, "olca::widget assembly::GLO") == pytest.approx(dbs.ASSEMBLY, rel=REL)
    assert table.find("olca::widget assembly").source["organisation"] == "olca"


# -- unlinked exchanges, provenance, specs and materials ---------------------------------


def test_allow_unlinked_drops_and_records_in_provenance(home, tmp_path):
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.imports import import_database

    folder = dbs.write_ecospold2(tmp_path / "es2", extra_input=True)
    with pytest.raises(DataError, match="mystery lubricant"):
        import_database(folder, format="ecospold2", name="es2")
    written = list((home / "imports" / "reports").glob("*.unlinked.csv"))
    assert len(written) == 1 and "mystery lubricant" in written[0].read_text("utf-8")
    report = import_database(folder, format="ecospold2", name="es2", allow_unlinked=True)
    assert [d["name"] for d in report.dropped] == ["mystery lubricant"]
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "components: []\n"
        "stages:\n"
        "  production: [{activity: 'es2::widget assembly::GLO', amount: 2 piece}]\n",
        encoding="utf-8",
    )
    result = calculate_footprint(load_spec(spec))
    assert result.total_kg_co2e == pytest.approx(2 * dbs.ASSEMBLY, rel=REL)
    record = result.provenance["databases"]["es2"]
    assert record["sha256"] == report.sha256 and record["format"] == "ecospold2"
    assert [d["name"] for d in record["allow_unlinked"]] == ["mystery lubricant"]
    dataset = result.provenance["datasets"][0]
    assert dataset["activity"] == "es2::widget assembly::GLO" and dataset["source"] == "es2"


def test_provenance_summarises_long_lists_of_a_database_record(home, tmp_path, monkeypatch):
    """A result names the count of dropped exchanges, not the whole list (19,854 for USLCI)."""
    from cfp_engine.engine import footprint as core
    from cfp_engine.engine import provenance
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import read_registry

    folder = dbs.write_ecospold2(tmp_path / "es2", extra_input=True)
    import_database(folder, format="ecospold2", name="es2", allow_unlinked=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "components: []\n"
        "stages:\n"
        "  production: [{activity: 'es2::widget assembly::GLO', amount: 1 piece}]\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(provenance, "PROVENANCE_LIST_LIMIT", 0)
    record = core.calculate_footprint(load_spec(spec)).provenance["databases"]["es2"]
    assert record["allow_unlinked"] == {"count": 1, "first": []}
    assert record["sha256"] == read_registry()["databases"]["es2"]["sha256"]
    kept = read_registry()["databases"]["es2"]["allow_unlinked"]
    assert [d["name"] for d in kept] == ["mystery lubricant"]


def test_spec_and_materials_table_use_an_imported_database(home, tmp_path):
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.imports import import_database

    import_database(dbs.write_ecospold2(tmp_path / "es2"), format="ecospold2", name="es2")
    import_database(dbs.write_simapro(tmp_path / "sp"), format="simapro-csv", name="sp")
    (tmp_path / "materials.csv").write_text(
        "material,virgin,recycled,R2,source\n"
        "widget steel,es2::widget steel production::JP,sp::Widget steel::JP,1,test\n",
        encoding="utf-8",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "materials: [materials.csv]\n"
        "components:\n"
        "  - {id: body, material: widget steel, mass: 500 g, recycled_content: 20 %}\n"
        "stages:\n"
        "  production: [{activity: 'es2::electricity production, test grid::JP', "
        "amount: 3.6 MJ}]\n",
        encoding="utf-8",
    )
    result = calculate_footprint(load_spec(spec))
    # Cut-off, all recycled at end of life (R2 = 1, no disposal):
    # 0.5 kg x (0.8 x 2.8576 + 0.2 x 2.8296) = 1.426; 3.6 MJ = 1 kWh x 0.5298.
    raw = 0.5 * (0.8 * dbs.STEEL + 0.2 * dbs.SP_STEEL)
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(raw, rel=REL)
    assert result.stages_kg_co2e["production"] == pytest.approx(dbs.ELECTRICITY, rel=REL)
    assert result.total_kg_co2e == pytest.approx(1.426 + 0.5298, rel=REL)
    # Only the databases the result used: not the built-in one here.
    assert set(result.provenance["databases"]) == {"es2", "sp"}


def test_provenance_names_the_imported_database(home, tmp_path):
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec
    from cfp_engine.store.imports import import_database

    report = import_database(dbs.write_ecospold2(tmp_path / "es2"), format="ecospold2", name="es2")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
        "components:\n"
        "  - {id: frame, virgin: 'es2::widget steel production::JP', mass: 0.5 kg}\n",
        encoding="utf-8",
    )
    result = calculate_footprint(load_spec(spec))
    assert result.total_kg_co2e == pytest.approx(0.5 * dbs.STEEL, rel=REL)
    document = result.to_dict()
    assert document["provenance"]["databases"]["es2"]["sha256"] == report.sha256
    assert document["provenance"]["datasets"][0]["document"] == "datasets"
    # a label names the imported (secondary) database and its source hash
    from cfp_engine.labels.make import make_disclosure

    facts = {
        "company_name": "X",
        "company_ids": ("urn:x:c",),
        "product_ids": ("urn:x:p",),
        "reference_period": "2025-01-01:2025-12-31",
    }
    disclosure = make_disclosure(load_spec(spec), facts=facts)
    assert {"name": "es2", "version": f"sha256:{report.sha256[:12]}"} in [
        dict(s) for s in disclosure.secondary_emission_factor_sources
    ]
    assert disclosure.primary_data_share == 0.0


# -- the command line: import, list, remove; --inventory on top ---------------------------


def test_cli_import_list_remove(home, tmp_path, flow_map, handmade):
    result = _invoke(
        "data",
        "import",
        str(MOBILITY),
        "--format",
        "excel",
        "--name",
        "mobility",
        "--flow-map",
        str(flow_map),
    )
    assert result.exit_code == 0, result.output
    assert "mapped flow     CO2 (any, kilogram) -> Carbon dioxide, fossil (air, kilogram)" in (
        result.output
    )
    listed = json.loads(_invoke("data", "list", "--format", "json").output)
    assert [(r["name"], r["format"], r["activities"]) for r in listed] == [("mobility", "excel", 8)]
    assert len(listed[0]["sha256"]) == 64 and listed[0]["size_bytes"] == MOBILITY.stat().st_size
    again = _invoke("data", "import", str(MOBILITY), "--format", "excel", "--name", "mobility")
    assert again.exit_code == 2 and "already imported" in again.output
    # --inventory files go on top of the user store.
    from cfp_engine.store.access import open_store

    table = open_store([handmade["inventory"]])
    assert {"mobility", "handmade", "cfp-builtin"} <= set(table.databases)
    assert _score(table, "mobility::Electric car") == pytest.approx(4096.32, rel=REL)
    removed = _invoke("data", "remove", "mobility")
    assert removed.exit_code == 0
    assert "No imported databases" in _invoke("data", "list").output
    assert "mobility" not in open_store().databases
    missing = _invoke("data", "remove", "mobility")
    assert missing.exit_code == 2 and "no imported database 'mobility'" in missing.output


def test_a_calculation_reuses_the_score_table(home, tmp_path, caplog):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    import_database(dbs.write_ecospold2(tmp_path / "es2"), format="ecospold2", name="es2")
    first = open_store()
    caplog.set_level("INFO", logger="cfp_engine")
    caplog.clear()
    again = open_store()
    assert again.manifest["built_at"] == first.manifest["built_at"]
    assert "Building" not in caplog.text  # no re-import, no re-solve
    assert_engine_log_seen(caplog)
    assert again.manifest["databases"]["es2"]["format"] == "ecospold2"


# -- safety ------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return path


@pytest.mark.parametrize("member", ["../evil.spold", "/abs/evil.spold", "a/../../evil.spold"])
def test_zip_slip_is_refused(tmp_path, member):
    archive = _zip(tmp_path / "a.zip", {member: b"<x/>"})
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(SpecError, match="outside the target folder"):
        safe_extract_zip(archive, target)
    assert not (tmp_path / "evil.spold").exists()


def test_oversize_and_crowded_archives_are_refused(tmp_path):
    archive = _zip(tmp_path / "a.zip", {"a.spold": b"x" * 5000, "b.spold": b"y"})
    (tmp_path / "o1").mkdir()
    (tmp_path / "o2").mkdir()
    with pytest.raises(SpecError, match="more than the limit of 1000 bytes"):
        safe_extract_zip(archive, tmp_path / "o1", max_bytes=1000)
    with pytest.raises(SpecError, match="2 members in the archive, more than the limit of 1"):
        safe_extract_zip(archive, tmp_path / "o2", max_members=1)


def test_oversize_archive_import_fails_cleanly(home, tmp_path):
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import list_databases

    archive = dbs.zip_folder(dbs.write_ecospold2(tmp_path / "es2"), tmp_path / "es2.zip")
    with pytest.raises(SpecError, match="more than the limit"):
        import_database(archive, format="ecospold2", name="es2", limits={"max_bytes": 2000})
    assert list_databases() == []


def test_xml_with_an_external_entity_is_refused(home, tmp_path):
    from cfp_engine.store.imports import import_database

    folder = dbs.write_ecospold2(tmp_path / "es2")
    target = sorted(folder.glob("*.spold"))[0]
    text = target.read_text("utf-8").replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE ecoSpold [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    )
    target.write_text(text, "utf-8")
    with pytest.raises(SpecError, match=r"\.spold:2: XML with a DOCTYPE declaration is refused"):
        check_xml_prolog(target)
    with pytest.raises(SpecError, match="DOCTYPE declaration is refused"):
        import_database(folder, format="ecospold2", name="es2")


def test_malformed_files_name_the_file_and_line(home, tmp_path):
    from cfp_engine.store.imports import import_database

    folder = dbs.write_ecospold2(tmp_path / "es2")
    target = sorted(folder.glob("*.spold"))[1]
    lines = target.read_text("utf-8").splitlines()
    line = next(i for i, text in enumerate(lines) if "</activityName>" in text)
    lines[line] = lines[line].replace("</activityName>", "</activityNam>")
    target.write_text("\n".join(lines), "utf-8")
    with pytest.raises(SpecError, match=rf"{target.name}:{line + 1}: malformed XML"):
        import_database(folder, format="ecospold2", name="es2")
    root = dbs.write_jsonld(tmp_path / "olca", bad_json=True)
    with pytest.raises(SpecError, match=r"\.json:5: malformed JSON"):
        import_database(root, format="olca-jsonld", name="olca")
    broken = dbs.write_simapro(tmp_path / "sp", broken=True)
    with pytest.raises(SpecError, match=r"cfp-test-simapro\.csv:1: not a SimaPro CSV export"):
        import_database(broken, format="simapro-csv", name="sp")
    bad_map = tmp_path / "map.csv"
    bad_map.write_text("source_name,source_unit\nCO2,kg\n", "utf-8")
    with pytest.raises(SpecError, match=r"map\.csv:1: missing column"):
        import_database(MOBILITY, format="excel", name="m", flow_map=bad_map)


def test_flow_map_targets_must_be_biosphere3_flows(home, tmp_path):
    from cfp_engine.store.imports import import_database

    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        "CO2,,kg,Carbon dioxide fossil,air,kg\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"map\.csv:2: target 'Carbon dioxide fossil'"):
        import_database(MOBILITY, format="excel", name="m", flow_map=mapping)


def test_flow_map_converts_units(tmp_path):
    from cfp_engine.store.imports.flowmaps import load_flow_map

    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        'CH4 kiln,Emission to air/unspecified,g,"Methane, fossil",air,kg\n',
        encoding="utf-8",
    )
    flow_map = load_flow_map(mapping)
    data = [
        {
            "exchanges": [
                {
                    "type": "biosphere",
                    "name": "CH4 kiln",
                    "categories": ("air",),
                    "unit": "gram",
                    "amount": 250.0,
                }
            ]
        }
    ]
    flow_map.apply(data, biosphere="biosphere3")
    exchange = data[0]["exchanges"][0]
    assert (exchange["name"], exchange["categories"], exchange["unit"]) == (
        "Methane, fossil",
        ("air",),
        "kilogram",
    )
    assert exchange["amount"] == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "document", "where"),
    [
        # A comment holding "<a>" before the DTD: the old check took it for the root.
        (
            "comment",
            b'<?xml version="1.0"?>\n<!-- <a> -->\n<!DOCTYPE r [<!ENTITY x "boom">]>\n<r>&x;</r>',
            ":3:",
        ),
        ("pi", b'<?xml version="1.0"?><?tool <a> ?>\n<!DOCTYPE r SYSTEM "x.dtd"><r/>', ":2:"),
        ("bom", '\ufeff<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode(), ":1:"),
        (
            "utf16-bom",
            '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY x "y">]>\n<r/>'.encode(
                "utf-16"
            ),
            ":2:",
        ),
        # No BOM: only libxml2's own encoding detection sees the declaration.
        (
            "utf16-no-bom",
            '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY x "y">]>\n<r/>'.encode(
                "utf-16-le"
            ),
            ": ",
        ),
    ],
)
def test_a_dtd_anywhere_in_the_prolog_is_refused(tmp_path, name, document, where):
    target = tmp_path / f"{name}.spold"
    target.write_bytes(document)
    with pytest.raises(SpecError, match=rf"{name}\.spold{where}.*DOCTYPE declaration is refused"):
        check_xml_prolog(target)


def test_comments_and_instructions_without_a_dtd_pass_and_garbage_is_malformed(tmp_path):
    good = tmp_path / "good.spold"
    good.write_bytes(b'<?xml version="1.0"?>\n<!-- <!DOCTYPE x> -->\n<?pi <b> ?>\n<root/>')
    check_xml_prolog(good)
    bad = tmp_path / "bad.spold"
    bad.write_bytes(b"junk before <root/>")
    with pytest.raises(SpecError, match=r"bad\.spold:1: malformed XML"):
        check_xml_prolog(bad)
