"""Real LCI exports (``../shared/reference/lci-samples``): each imports and computes, or is
refused with exit 2 and a message naming the file, the datasets and the reason.

Skipped when the shared reference folder is absent. Refusals write nothing, so they
run in the session's engine home; an import is removed at the end of its test, and the
WMLCI import, which several tests read, is made once in a home of its own.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

from conftest import SHARED_REFERENCE, copy_home

SAMPLES = SHARED_REFERENCE / "lci-samples"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/reference absent")


@pytest.fixture(scope="module")
def home(builtin_table, engine_home):
    """The session's engine home (built-in data built once); imports are removed after."""
    return engine_home


def _import(*args: str):
    return CliRunner().invoke(cli, ["data", "import", *args], catch_exceptions=False)


# (file, format, what the message must say: reason, and a dataset it names)
REFUSED = [
    (
        "excel/bw2io_fx_with_formulas.xlsx",
        "excel",
        [r"not a Brightway excel inventory \(no 'Database' row"],
    ),
    (
        "excel/lci-biochar-spruce.xlsx",
        "excel",
        [
            r"unlinked exchange\(s\); nothing was imported",
            r"in biochar, from spruce wood pyrolysis \[RER\]",
            "import the databases the inputs come from first",
        ],
    ),
    (
        "simapro-csv/ecobalyse_simapro_export.csv",
        "simapro-csv",
        [
            r"8 dataset\(s\) have no product \(an empty 'Products' section\)",
            "Grape, organic, for wine production, national average, at vineyard gate",
            "give each process its product and amount in SimaPro",
            "import the usable datasets only with --skip-invalid",
        ],
    ),
    (
        # openLCA 1.x, read as 2.x; its processes take inputs from USLCI, not in the export
        "olca-jsonld/bw2io-US-FPL.zip",
        "olca-jsonld",
        [
            # 19 in an empty store (fewer if databases they come from were imported)
            r"\d+ unlinked exchange\(s\); nothing was imported",
            r"technosphere 'Electricity, at grid' \[megajoule\] \(\) in Whole tree chips "
            r"production; softwood; at sawmill, INW \[US\]",
            "import the databases the inputs come from first",
        ],
    ),
    (
        "ecospold2/ocelot-multioutput",
        "ecospold2",
        [
            r"4 dataset\(s\) are multi-output \(several products, not allocated\)",
            r"heat and power co-generation, natural gas, .* \(heat-cogeneration-glo\.spold\)",
            # 13 products: 2 + 3 + 3 + 5 in the four files; 8 with a price, 2 a true value
            r"allocate them with --allocation NAME, a property of their products in the "
            r"file: 'price' \(8 of 13 products\), 'true value relation' \(2 of 13 products\)",
            "export the allocated",
            "openLCA JSON-LD, which carries the allocation factors",
            "--skip-invalid",
        ],
    ),
    (
        "ecospold2/uslci_fy18_q1_01_olca1_5_ecospold2.zip",
        "ecospold2",
        [
            r"132 dataset\(s\) are multi-output",
            r"Acetic acid, at plant \[RNA\] \(e4a61018-9f98-3049-95c1-33b1acaa904e\.spold\)",
            r"\.\.\. and 122 more",
            r"21 more dataset\(s\) have no reference product",
            "their products carry no properties in the file to allocate them by",
            "--skip-invalid",
        ],
    ),
]


@pytest.mark.parametrize(("sample", "fmt", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_sample_is_refused_with_exit_2_naming_file_datasets_and_reason(
    home, tmp_path, sample, fmt, expected
):
    import re

    # A copy: a refusal for unlinked exchanges writes its CSV report beside the input.
    source = tmp_path / Path(sample).name
    copy = shutil.copytree if (SAMPLES / sample).is_dir() else shutil.copyfile
    copy(SAMPLES / sample, source)
    result = _import(str(source), "--format", fmt, "--name", "sample")
    assert result.exit_code == 2, result.output
    message = result.stderr[result.stderr.index("Error: ") :]
    assert message.startswith(f"Error: {source}")
    assert "Traceback" not in message and "internal error" not in message
    for pattern in expected:
        assert re.search(pattern, message), pattern
    assert "No imported databases" in CliRunner().invoke(cli, ["data", "list"]).output


def test_parameterised_excel_imports_with_formulas_frozen_after_a_refusal(home, tmp_path):
    """The Mobility example: refused without a flow map, then imported with one.

    Hand calculation (the file's parameters): driving 1 km in the combustion car =
    car (1641 kg steel x 1.5 kg CO2/kg) / 200,000 km + 2.3 kg CO2/kg x 0.062 kg/km
    = 0.0123075 + 0.1426 = 0.1549075 kg CO2e (fossil CO2, GWP 1).
    """

    sample = tmp_path / "mobility.xlsx"
    shutil.copyfile(SAMPLES / "excel/bw2io_sample_parameterized_database.xlsx", sample)
    refused = _import(str(sample), "--format", "excel", "--name", "mobility")
    assert refused.exit_code == 2
    assert "3 unlinked exchange(s)" in refused.stderr
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        'CO2,,kilogram,"Carbon dioxide, fossil",air,kilogram\n',
        encoding="utf-8",
    )
    done = _import(str(sample), "--format", "excel", "--name", "mobility", "--flow-map", str(flows))
    try:
        _check_mobility(done)
    finally:
        CliRunner().invoke(cli, ["data", "remove", "mobility"])


def _check_mobility(done) -> None:
    import json

    assert done.exit_code == 0, done.output
    assert "9 formula(s) evaluated into amounts" in done.output
    shown = CliRunner().invoke(
        cli, ["data", "show", "mobility::Driving an combustion car", "--format", "json"]
    )
    scores = json.loads(shown.output)["kg_co2e_per_unit"]["IPCC 2021 GWP100"]
    assert scores["total"] == pytest.approx(0.1549075, rel=1e-6)  # float32 solver
    _assert_no_parameter_tables_and_formulas_kept()


def _assert_no_parameter_tables_and_formulas_kept() -> None:
    from cfp_engine.store.registry import read_registry
    from cfp_engine.store.session import open_brightway

    with open_brightway() as bd:
        bd.projects.set_current(read_registry()["project"])
        from bw2data.parameters import ActivityParameter, DatabaseParameter, Group

        assert ActivityParameter.select().count() == 0
        assert DatabaseParameter.select().count() == 0
        assert Group.select().count() == 0
        assert bd.databases["mobility"]["cfp_parameters"]["lifetime_distance"] == 200000
        car = bd.get_node(database="mobility", name="Combustion car")
        steel = next(e for e in car.technosphere() if e.input["name"] == "Steel")
        assert steel["formula"] == "combustion_car_mass"
        assert steel["amount"] == pytest.approx(1641, rel=1e-12)


def test_json_ld_folder_is_never_written_to(home, tmp_path):
    """The WMLCI export (openLCA 2, with ``bin/``), as a folder: read from a copy.

    bw2io's reader wants folders the export may lack. The export is read in full (bin/
    skipped, waste flows and allocation handled), then refused: its elementary flows are
    mapped (built-in FEDEFL map) or left out as uncharacterised, but 745 inputs name
    providers the export does not hold.
    """
    with zipfile.ZipFile(SAMPLES / "olca-jsonld/wmlci-crude-oil.zip") as archive:
        archive.extractall(tmp_path / "export")
    folder = tmp_path / "export" / "wmlci_crude_oil"
    shutil.rmtree(folder / "locations")  # one of the folders bw2io would create
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert (folder / "bin" / "processes").is_dir()
    result = _import(str(folder), "--format", "olca-jsonld", "--name", "wm")
    assert result.exit_code == 2, result.output
    message = result.stderr[result.stderr.index("Error: ") :]
    assert message.startswith(f"Error: {folder}: 745 unlinked exchange(s); nothing was imported")
    assert "\n  biosphere " not in message  # listed first (by type) if there were any
    # (no [US]: the test removed the locations folder)
    assert "in Sludge hauling and landfill; wastewater treatment unit; Level 1 [" in message
    assert "--flow-map FILE.csv" in message
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert not (folder / "locations").exists()


def test_uslci_formulas_evaluate_to_the_amounts_in_the_file(tmp_path):
    """Real ecospold2 parameters: every USLCI formula, evaluated at import, gives the
    amount openLCA wrote beside it (the file's amounts are the writer's evaluations)."""
    import re

    from bw2io.extractors import Ecospold2DataExtractor

    from cfp_engine.store.imports.parameters import freeze_parameters

    formula = re.compile(rb'mathematicalRelation="[^"]')
    with zipfile.ZipFile(SAMPLES / "ecospold2/uslci_fy18_q1_01_olca1_5_ecospold2.zip") as archive:
        for member in archive.namelist():
            if member.endswith(".spold") and formula.search(archive.read(member)):
                (tmp_path / Path(member).name).write_bytes(archive.read(member))
    data = Ecospold2DataExtractor.extract(str(tmp_path), "uslci", use_mp=False)
    written = {
        (ds["filename"], i): exchange["amount"]
        for ds in data
        for i, exchange in enumerate(ds["exchanges"])
        if exchange.get("formula")
    }
    assert len(data) == 27 and len(written) == 259  # datasets, exchange formulas
    for exchange in (e for ds in data for e in ds["exchanges"] if e.get("formula")):
        exchange["amount"] = 0.0  # only the formula can bring the amount back
    importer = type("Importer", (), {"data": data, "metadata": {}})()
    counts = freeze_parameters(importer, source="uslci.zip", fmt="ecospold2")
    assert counts == {"evaluated": len(written), "kept": 0}
    for (filename, i), amount in written.items():
        ds = next(d for d in data if d["filename"] == filename)
        assert ds["exchanges"][i]["amount"] == pytest.approx(amount, rel=1e-6, abs=1e-15), (
            filename,
            ds["exchanges"][i]["formula"],
        )


def _calc_kg_co2e(tmp_path: Path, activity: str, amount: str) -> float:
    """``cfp calc`` of a product that is ``amount`` of ``activity`` (production stage)."""
    import json

    spec = tmp_path / "one.yaml"
    spec.write_text(
        json.dumps(
            {
                "product": {"id": "one", "name": "one", "declared_unit": amount},
                "components": [],
                "stages": {"production": [{"activity": activity, "amount": amount}]},
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["calc", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total_kg_co2e"]


def _listed(name: str) -> dict:
    import json

    rows = json.loads(CliRunner().invoke(cli, ["data", "list", "--format", "json"]).stdout)
    return next(row for row in rows if row["name"] == name)


def test_ocelot_allocation_by_a_property_some_products_lack_is_refused(home):
    result = _import(
        str(SAMPLES / "ecospold2/ocelot-multioutput"),
        *("--format", "ecospold2", "--name", "oc", "--allocation", "price"),
    )
    assert result.exit_code == 2, result.output
    message = result.stderr[result.stderr.index("Error: ") :]
    assert message.startswith(
        f"Error: {SAMPLES / 'ecospold2/ocelot-multioutput'}: --allocation 'price': 3 "
        "multi-output dataset(s) cannot be allocated by it; nothing was imported:\n"
        "  corrugated board box production [GLO] (corrugated-board.spold): "
        "'waste mineral oil' has no 'price'\n"
    )
    assert (
        "treatment of aluminium scrap, post-consumer, prepared for recycling, at refiner [RER] "
        "(treatment-aluminium.spold): 'aluminium scrap, post-consumer, prepared for melting' "
        "has no 'price'; 'iron scrap, unsorted' has no 'price'" in message
    )
    assert "Hint: choose a property every co-product carries" in message
    assert "No imported databases" in CliRunner().invoke(cli, ["data", "list"]).output


#: heat-cogeneration-glo.spold, as written in the file (per 1 kWh of electricity made)
CHP_CO2_KG = 0.622135922330097  # Carbon dioxide, fossil (elementary exchange)
CHP_HEAT_MJ, CHP_HEAT_PRICE = 4.1, 0.0106  # heat, district or industrial, natural gas
CHP_KWH, CHP_KWH_PRICE = 1.0, 0.0977  # electricity, high voltage
CHP = "heat and power co-generation, natural gas, conventional power plant, 100MW electrical"


def test_ocelot_allocated_by_price_hand_check_and_conservation(home, tmp_path):
    """Economic allocation of the CHP dataset, by hand from the file's numbers:
    heat 4.1 MJ x 0.0106 = 0.04346 EUR, electricity 1 kWh x 0.0977 = 0.0977 EUR;
    electricity's factor 0.0977 / 0.14116 = 0.692122, heat's 0.307878.
    Electricity: 0.622136 x 0.692122 / 1 kWh = 0.430594 kg CO2e per kWh;
    heat: 0.622136 x 0.307878 / 4.1 MJ = 0.046718 kg CO2e per MJ (fossil CO2, GWP 1).
    The other three datasets lack a price on some product: left out and listed.
    """
    heat_value, kwh_value = CHP_HEAT_MJ * CHP_HEAT_PRICE, CHP_KWH * CHP_KWH_PRICE
    kwh_factor = kwh_value / (heat_value + kwh_value)
    expected_kwh = CHP_CO2_KG * kwh_factor / CHP_KWH
    expected_mj = CHP_CO2_KG * (1 - kwh_factor) / CHP_HEAT_MJ
    assert (expected_kwh, expected_mj) == pytest.approx((0.430594, 0.046718), abs=1e-6)

    done = _import(
        str(SAMPLES / "ecospold2/ocelot-multioutput"),
        *("--format", "ecospold2", "--name", "oc", "--allocation", "price"),
        *("--skip-invalid", "--allow-unlinked"),  # its inputs have no activity link
    )
    try:
        assert done.exit_code == 0, done.output
        assert "  activities      2\n" in done.output
        assert (
            "  allocation      1 multi-output dataset(s) split into 2 by 'price' "
            "(amount x property, ecoinvent's rule)" in done.output
        )
        assert "  SKIPPED         3 dataset(s) left out (--skip-invalid):" in done.output
        kwh = _calc_kg_co2e(tmp_path, f"oc::electricity, high voltage | {CHP}::GLO", "1 kWh")
        mj = _calc_kg_co2e(
            tmp_path, f"oc::heat, district or industrial, natural gas | {CHP}::GLO", "1 MJ"
        )
        assert kwh == pytest.approx(expected_kwh, rel=1e-6)  # float32 solver
        assert mj == pytest.approx(expected_mj, rel=1e-6)
        # Conservation: the co-products' burdens add up to the unallocated dataset's.
        assert kwh * CHP_KWH + mj * CHP_HEAT_MJ == pytest.approx(CHP_CO2_KG, rel=1e-6)
        listed = _listed("oc")
        assert listed["allocation"] == "price"
        assert [r["dataset"].split(" [")[0] for r in listed["skipped"]] == [
            "corrugated board box production",
            "treatment of aluminium scrap, post-consumer, prepared for recycling, at refiner",
            "treatment of waste graphical paper, municipal incineration",
        ]
        shown = CliRunner().invoke(cli, ["data", "show", f"oc::electricity, high voltage | {CHP}"])
        assert (
            f"allocation:   price (0.0977 EUR2005 per unit of product): factor 0.692122 of "
            f"'{CHP}', co-products 'heat, district or industrial, natural gas', "
            "'electricity, high voltage'" in shown.output
        )
        table = CliRunner().invoke(cli, ["data", "list"]).output
        assert "(allocated by 'price')  (3 dataset(s) skipped)" in table
    finally:
        CliRunner().invoke(cli, ["data", "remove", "oc"])


#: The Broiler [fr-ext-organic] process of the Ecobalyse export, its emissions to air
#: as the CSV lists them (kg per kg of broiler); its inputs come from databases not in
#: the export (dropped with --allow-unlinked).
BROILER = (
    "Broiler, Bleu Blanc Coeur, at farm gate {FR} U [fr-ext-organic] (variant 0), "
    "constructed by Ecobalyse"
)
BROILER_N2O_KG = (30.05, 183.4)  # Dinitrogen monoxide
BROILER_CH4_KG = 371.3  # Methane, biogenic
GWP100_AR6 = {"N2O": 273.0, "CH4 non-fossil": 27.0}  # IPCC AR6 WG1 table 7.15


def test_ecobalyse_imports_its_usable_processes_with_skip_invalid(home, tmp_path):
    """84 processes, 8 without a product: 76 imported, 8 listed. Hand check of one
    process's GWP from the CSV: (30.05 + 183.4) x 273 + 371.3 x 27.0 = 68,296.95 kg CO2e."""
    expected = (
        sum(BROILER_N2O_KG) * GWP100_AR6["N2O"] + BROILER_CH4_KG * GWP100_AR6["CH4 non-fossil"]
    )
    assert expected == pytest.approx(68296.95, rel=1e-9)
    source = SAMPLES / "simapro-csv/ecobalyse_simapro_export.csv"
    done = _import(
        str(source),
        *("--format", "simapro-csv", "--name", "eco", "--skip-invalid", "--allow-unlinked"),
    )
    try:
        assert done.exit_code == 0, done.output
        assert "  activities      76\n" in done.output
        assert "  SKIPPED         8 dataset(s) left out (--skip-invalid):" in done.output
        assert (
            "    Grape, organic, for wine production, national average, at vineyard gate FR U "
            "constructed by Ecobalyse: no product (an empty 'Products' section)" in done.output
        )
        assert len(_listed("eco")["skipped"]) == 8
        assert _calc_kg_co2e(tmp_path, f"eco::{BROILER}", "1 kg") == pytest.approx(
            expected, rel=1e-6
        )
    finally:
        CliRunner().invoke(cli, ["data", "remove", "eco"])


def test_uslci_imports_its_single_output_datasets_with_skip_invalid(home, tmp_path):
    """767 datasets: 132 multi-output (no properties to allocate by) and 21 without a
    reference product left out, 614 imported. Its elementary flows (no compartments in
    this export; FEDEFL or biosphere3 names) go through the built-in FEDEFL map; the rest
    is left out as uncharacterised or dropped (--allow-unlinked). About 15 s.

    Hand check, "Coal mine methane emissions; Production mix, surface mine" (1 unit, no
    inputs): CO2 0.00182952 kg (FEDEFL's "Carbon dioxide", counted fossil) x 1 + methane,
    fossil 0.00017472 kg x 29.8 = 0.007036176 kg CO2e (IPCC AR6 GWP100).
    """
    import re

    from cfp_engine.store.registry import read_registry

    source = SAMPLES / "ecospold2/uslci_fy18_q1_01_olca1_5_ecospold2.zip"
    done = _import(
        str(source),
        *("--format", "ecospold2", "--name", "uslci", "--skip-invalid", "--allow-unlinked"),
    )
    try:
        assert done.exit_code == 0, done.output
        assert "  activities      614\n" in done.output
        assert "  SKIPPED         153 dataset(s) left out (--skip-invalid):" in done.output
        assert (
            "    Acetic acid, at plant [RNA] (e4a61018-9f98-3049-95c1-33b1acaa904e.spold): "
            "multi-output, not allocated (no allocation property given)" in done.output
        )
        reasons = [r["reason"] for r in _listed("uslci")["skipped"]]
        assert reasons.count("multi-output, not allocated (no allocation property given)") == 132
        assert reasons.count("no reference product with a non-zero amount") == 21
        assert re.search(
            r"mapped flows +\d+ exchange\(s\) by \d+ row\(s\) of the built-in", done.output
        )
        dropped = {d["name"] for d in read_registry()["databases"]["uslci"]["allow_unlinked"]}
        assert not dropped & {"Carbon dioxide", "Carbon dioxide, fossil", "Methane, fossil"}
        assert not dropped & {"Methane", "Nitrous oxide", "Dinitrogen monoxide"}
        coal = "uslci::Coal mine methane emissions; Production mix, surface mine::US"
        assert _calc_kg_co2e(tmp_path, coal, "1 unit") == pytest.approx(0.007036176, rel=1e-6)
    finally:
        CliRunner().invoke(cli, ["data", "remove", "uslci"])


def test_allocation_is_refused_for_formats_without_product_properties(home):
    result = _import(
        str(SAMPLES / "simapro-csv/ecobalyse_simapro_export.csv"),
        *("--format", "simapro-csv", "--name", "eco", "--allocation", "price"),
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: --allocation 'price': only ecospold2 files carry product properties to "
        "allocate by (openLCA JSON-LD is allocated with its own factors); leave it out"
    )


def test_skip_invalid_with_nothing_left_is_refused(home):
    """The four Ocelot datasets are all multi-output: without --allocation none is left."""
    source = SAMPLES / "ecospold2/ocelot-multioutput"
    result = _import(str(source), "--format", "ecospold2", "--name", "oc", "--skip-invalid")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        f"Error: {source}: all 4 dataset(s) were left out by --skip-invalid (multi-output, "
        "not allocated (no allocation property given), ...); nothing to import"
    )


@pytest.fixture(scope="module")
def wmlci_home(built_home, tmp_path_factory):
    """The WMLCI export imported once, into a home of its own: its FEDEFL flows through the
    built-in map. In its own home so that the tests that expect no imported database see
    none, in whatever order they run.

    ``--allow-unlinked`` only for its technosphere inputs whose providers are not in the
    export (745); no elementary flow is dropped.
    """
    home = copy_home(built_home, tmp_path_factory.mktemp("wmlci") / "home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CFP_ENGINE_HOME", str(home))
        done = _import(
            str(SAMPLES / "olca-jsonld/wmlci-crude-oil.zip"),
            "--format",
            "olca-jsonld",
            "--name",
            "wm",
            "--allow-unlinked",
        )
    return home, done


@pytest.fixture
def wmlci(wmlci_home, monkeypatch):
    """The result of the WMLCI import, with its home current for the test."""
    home, done = wmlci_home
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    return done


def test_wmlci_fedefl_flows_are_mapped_and_uncharacterised_ones_left_out(wmlci):
    import re

    from cfp_engine.store.registry import read_registry

    assert wmlci.exit_code == 0, wmlci.output
    mapped = re.search(
        r"mapped flows +(\d+) exchange\(s\) by (\d+) row\(s\) of the built-in FEDEFL map",
        wmlci.output,
    )
    assert mapped and int(mapped[1]) > 1000 and int(mapped[2]) > 50, wmlci.output
    assert re.search(
        r"left out +not characterised by any method of the engine: \d+ flow\(s\), \d+ "
        r"exchange\(s\) \(they have no effect on a carbon footprint\)",
        wmlci.output,
    )
    record = read_registry()["databases"]["wm"]
    assert record["builtin_flow_map"]["file"] == "fedefl-biosphere3-ghg.csv"
    assert record["uncharacterised"]["exchanges"] > 10000
    assert not [d for d in record["allow_unlinked"] if d["type"] == "biosphere"]
    ghg = {g["name"] for g in record["uncharacterised"]["greenhouse_gases_to_air"]}
    # in the export, no flow file (only the process's reference), no GWP in the methods
    assert {"HFC-143", "HFC-245fa"} <= ghg
    assert not ghg & {"Carbon dioxide", "Methane", "Nitrous oxide", "Coalbed methane"}


def test_wmlci_process_footprint_by_hand(wmlci, tmp_path):
    """ "Hog fuel, self-gen., combusted in ind. boiler" (1 kg, no inputs), by hand from its
    JSON: CO2 1.83 kg x 1 + CH4 0.000189 x 29.8 + carbon tetrachloride 4.05e-7 x 2200
    + methylene chloride 2.61e-6 x 11.2 (IPCC AR6 GWP100; carbon monoxide 0.0054 kg has
    no AR6 factor) = 1.83 + 0.0056322 + 0.000891 + 0.000029232 = 1.836552432 kg CO2e.
    A spec of 2 kg of it: 3.673104864 kg CO2e.
    """
    import json

    assert wmlci.exit_code == 0, wmlci.output
    activity = (
        "wm::Hog fuel, self-gen., combusted in ind. boiler, at pulp and paper mill (EXCL.)::RNA"
    )
    shown = CliRunner().invoke(cli, ["data", "show", activity, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    scores = json.loads(shown.output)["kg_co2e_per_unit"]["IPCC 2021 GWP100"]
    assert scores["total"] == pytest.approx(1.836552432, rel=1e-6)  # float32 solver
    assert scores["fossil"] == pytest.approx(1.836552432, rel=1e-6)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: hog-fuel, name: Hog fuel burned, declared_unit: 1 piece, geography: US}\n"
        "components: []\n"
        "stages:\n"
        f'  production:\n    - {{activity: "{activity}", amount: 2 kg}}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["calc", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["total_kg_co2e"] == pytest.approx(3.673104864, rel=1e-6)
    assert any(
        w.startswith("database 'wm': ")
        and "greenhouse gases by name but have no GWP factor in the engine's methods" in w
        for w in document["warnings"]
    ), document["warnings"]
