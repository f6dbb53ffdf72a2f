"""The built-in FEDEFL -> biosphere3 flow map, and which unlinked flows may be left out.

Every row of ``inventories/flowmaps/fedefl-biosphere3-ghg.csv`` is checked against
biosphere3 as bw2io ships it and against the engine's methods; the US LCI sample's
FEDEFL-named exchanges are mapped as an import would map them.
"""

from __future__ import annotations

import csv
import re
import zipfile

import pytest

from cfp_engine.paths import inventories_dir
from cfp_engine.store.imports.characterised import might_be_characterised
from cfp_engine.store.imports.fedefl import (
    is_fedefl_air_emission,
    is_fedefl_context,
    load_fedefl_flow_map,
)

from conftest import SHARED_REFERENCE

MAP_FILE = inventories_dir() / "flowmaps" / "fedefl-biosphere3-ghg.csv"
#: Rows whose target the engine's methods do not count (biogenic CO2, uptake from air).
NOT_COUNTED = {"Carbon dioxide, non-fossil", "Carbon dioxide, in air"}


@pytest.fixture(scope="module")
def biosphere3() -> dict[tuple[str, tuple[str, ...], str], str]:
    """biosphere3 as bw2io writes it: (name, categories, unit) -> CAS number."""
    from bw2io.importers import Ecospold2BiosphereImporter

    importer = Ecospold2BiosphereImporter()
    importer.apply_strategies()
    return {
        (f["name"], tuple(f["categories"]), f["unit"]): (f.get("CAS number") or "").lstrip("0")
        for f in importer.data
    }


@pytest.fixture(scope="module")
def characterised() -> set[tuple[str, tuple[str, ...]]]:
    from cfp_engine.spec.methods import available_methods, read_bw2io_lcia

    source = read_bw2io_lcia()
    return {
        (cf["name"], tuple(cf["categories"]))
        for method in available_methods()
        for indicator in method.indicators.values()
        for cf in source[tuple(indicator)]["exchanges"]
    }


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with MAP_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_maps_to_a_characterised_biosphere3_flow_of_the_same_substance(
    rows, biosphere3, characterised
):
    assert len(rows) > 800
    for line, row in enumerate(rows, start=2):
        target = (row["target_name"], tuple(row["target_categories"].split("::")), "kilogram")
        assert target in biosphere3, (line, target)
        if row["source_cas"]:
            assert biosphere3[target] == row["source_cas"], (line, row["source_name"])
        if row["target_name"] not in NOT_COUNTED:
            assert target[:2] in characterised, (line, target)
        assert row["source_unit"] == row["target_unit"] == "kg"
    keys = [(r["source_name"], r["source_categories"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per flowable and context
    uuids = [r["source_flow"] for r in rows if r["source_flow"]]
    assert len(uuids) == len(set(uuids))


def test_every_characterised_air_substance_has_a_row_in_every_fedefl_air_context(
    rows, biosphere3, characterised
):
    """The map is complete: a substance the methods characterise in air (by CAS number)
    has a FEDEFL row in each of FEDEFL's 18 air contexts."""
    air_cas = {
        biosphere3[(name, categories, "kilogram")]
        for name, categories in characterised
        if categories[0] == "air" and (name, categories, "kilogram") in biosphere3
    } - {""}
    contexts = {
        r["source_categories"] for r in rows if r["source_categories"].startswith("emission")
    }
    assert len(contexts) == 18
    for cas in air_cas:
        mapped = {r["source_categories"] for r in rows if r["source_cas"] == cas}
        assert contexts <= mapped, cas
    # VOC has no CAS number: mapped from FEDEFL's group flowable by name
    assert {
        r["source_categories"] for r in rows if r["source_name"] == "Volatile organic compounds"
    } >= contexts


@pytest.mark.parametrize(
    ("name", "context", "flow", "target"),
    [
        # FEDEFL's plain carbon dioxide and methane are counted fossil (README of the map)
        (
            "Carbon dioxide",
            "Elementary flows/emission/air",
            None,
            ("Carbon dioxide, fossil", ("air",)),
        ),
        (
            "methane",
            "Elementary Flows/emission/air/troposphere/urban/low",
            None,
            ("Methane, fossil", ("air", "urban air close to ground")),
        ),
        (
            "Nitrous oxide",
            "Elementary flows/emission/air/stratosphere",
            None,
            ("Dinitrogen monoxide", ("air", "lower stratosphere + upper troposphere")),
        ),
        (
            "Carbon tetrachloride",
            "Elementary flows/emission/air/troposphere/rural",
            None,
            ("Methane, tetrachloro-, R-10", ("air", "non-urban air or from high stacks")),
        ),
        (
            "Carbon dioxide",
            "Elementary flows/resource/air",
            None,
            ("Carbon dioxide, in air", ("natural resource", "in air")),
        ),
        # WMLCI's CFC-11 (urban) found by its FEDEFL UUID, whatever the name says
        (
            "renamed",
            "",
            "275fe000-77c2-3bc9-a38f-5a35fe1f6ad2",
            ("Methane, trichlorofluoro-, CFC-11", ("air", "urban air close to ground")),
        ),
        # no compartment (USLCI's ecospold2): the flowable's first row, emission/air
        ("Nitrous oxide", "", None, ("Dinitrogen monoxide", ("air",))),
    ],
)
def test_find_by_uuid_or_by_name_context_and_unit(name, context, flow, target):
    from cfp_engine.store.imports.flowmaps import normalize_compartments, split_categories

    row = load_fedefl_flow_map().find(
        name, normalize_compartments(split_categories(context)), "kg", flow
    )
    assert row is not None
    assert (row.target_name, row.target_categories) == target
    assert row.factor == 1.0


def test_flows_in_water_or_soil_are_not_mapped():
    flow_map = load_fedefl_flow_map()
    for context in ("emission/water", "emission/ground", "resource/ground"):
        categories = tuple(context.split("/"))
        assert flow_map.find("Methane", categories, "kg") is None, context


def test_fedefl_contexts_are_told_from_other_category_paths():
    assert is_fedefl_context(("Elementary flows", "emission", "air"))
    assert is_fedefl_context(("Elementary Flows", "resource", "ground"))
    assert not is_fedefl_context(("Elementary flows", "emission", "non-FEDEFL", "water"))
    assert not is_fedefl_context(("Elementary flows", "Emission to air", "unspecified"))
    assert not is_fedefl_context(())
    assert is_fedefl_air_emission(("Elementary flows", "emission", "air", "troposphere"))
    assert not is_fedefl_air_emission(("Elementary flows", "emission", "water"))


# (name, CAS, openLCA context, might a method characterise it?)
RULE = [
    # FEDEFL flows: characterised only when the substance (CAS) has a factor, to air
    ("Methane, (difluoromethoxy)trifluoro-", "3822-68-2", "emission/air", False),
    ("Carbon dioxide", "124-38-9", "emission/air/subterranean", True),
    ("Methane", "74-82-8", "emission/water", False),
    ("Coalbed methane", "", "resource/ground", False),
    ("Chlorofluorocarbons", "", "emission/air", False),
    ("Water, fresh", "7732-18-5", "resource/water", False),
    # other flows: a greenhouse gas's name, a characterised name or CAS number stops
    ("CO2", "", "", True),
    ("Carbon monoxide", "", "", True),  # "Carbon monoxide, fossil" has a factor
    ("Chloroform", "", "", True),
    ("Something", "000067-66-3", "", True),  # chloroform's CAS number
    ("Methane", "74-82-8", "Elementary flows/emission/non-FEDEFL/water", True),
    ("Water", "", "", False),
    ("Particulates, < 2.5 um", "", "", False),
]


@pytest.fixture(scope="module")
def identities(biosphere3, characterised) -> dict[str, frozenset[str]]:
    """What :func:`characterised_identities` reads from a project, from bw2io's files."""
    names = {n for name, _ in characterised for n in (name, name.split(",")[0])}
    cas = {biosphere3.get((name, categories, "kilogram")) for name, categories in characterised}
    return {
        "names": frozenset(n.strip().casefold() for n in names),
        "known": frozenset(cas - {None, ""}),
    }


@pytest.mark.parametrize(("name", "cas", "context", "expected"), RULE)
def test_which_unlinked_flows_might_change_a_carbon_footprint(
    identities, name, cas, context, expected
):
    path = tuple(p for p in context.split("/") if p)
    assert might_be_characterised(name, cas, path, **identities) is expected


USLCI = SHARED_REFERENCE / "lci-samples" / "ecospold2" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip"


@pytest.mark.skipif(not USLCI.is_file(), reason="../shared/reference absent")
def test_uslci_fedefl_named_exchanges_are_mapped(tmp_path):
    """The US LCI sample (refused today for its multi-output datasets): its FEDEFL-named
    elementary flows, without compartment in this export, map as an import maps them."""
    from bw2io.extractors import Ecospold2DataExtractor

    wanted = {
        "Nitrous oxide": ("Dinitrogen monoxide", ("air",)),
        "Methane": ("Methane, fossil", ("air",)),
        "Methane, biogenic": ("Methane, non-fossil", ("air",)),
        "Carbon dioxide, biogenic": ("Carbon dioxide, non-fossil", ("air",)),
    }
    with zipfile.ZipFile(USLCI) as archive:
        found = set()
        for member in sorted(archive.namelist()):
            text = archive.read(member)
            names = {
                n for n in wanted if re.search(rf"<name[^>]*>{re.escape(n)}</name>".encode(), text)
            }
            if member.endswith(".spold") and names - found:
                (tmp_path / member.rsplit("/", 1)[-1]).write_bytes(text)
                found |= names
            if found == set(wanted):
                break
    assert found == set(wanted)
    data = Ecospold2DataExtractor.extract(str(tmp_path), "uslci", use_mp=False)
    exchanges = [
        e
        for ds in data
        for e in ds["exchanges"]
        if e["type"] == "biosphere" and e["name"] in wanted
    ]
    amounts = [(e["name"], e["amount"]) for e in exchanges]
    load_fedefl_flow_map().apply(data, biosphere="biosphere3")
    for exchange, (name, amount) in zip(exchanges, amounts, strict=True):
        assert (exchange["name"], exchange["categories"]) == wanted[name]
        assert exchange["unit"] == "kilogram"
        assert exchange["amount"] == amount  # kg to kg
        assert exchange["cfp_flow_map"]["map"].startswith("fedefl-biosphere3-ghg.csv:")


def test_results_warn_of_greenhouse_gases_left_out_as_uncharacterised():
    from cfp_engine.store.dropped_flows import dropped_flow_warnings

    record = {
        "allow_unlinked": [],
        "uncharacterised": {
            "exchanges": 12,
            "flows": 9,
            "greenhouse_gases_to_air": [
                {"name": "HFC-245fa", "unit": "kilogram", "categories": "emission::air"}
            ],
        },
    }
    quiet = {**record, "uncharacterised": {"exchanges": 3, "flows": 3}}
    sources = {"wm": record, "water only": quiet}
    assert dropped_flow_warnings(["water only"], sources) == []
    (warning,) = dropped_flow_warnings(["wm", "water only"], sources)
    assert warning.startswith("database 'wm': 1 flow(s) emitted to air are greenhouse gases")
    assert "('HFC-245fa')" in warning and "among its 9 uncharacterised flow(s)" in warning


def _name_element(name: str) -> bytes:
    return rf"<name[^>]*>{re.escape(name)}</name>".encode()


def test_an_uncharacterised_flow_is_left_out_and_a_possible_ghg_still_stops(tmp_path, fresh_home):
    """The hand-made SimaPro export with two flows biosphere3 lacks in the steel: a dust
    (no method could characterise it: left out, listed, same score) and "Carbon dioxide,
    kiln" (a greenhouse gas by name: the import stops until mapped or dropped)."""
    from cfp_engine.errors import DataError
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import list_databases

    import make_databases as dbs

    path = dbs.write_simapro(tmp_path / "sp")
    text = path.read_text(encoding="cp1252")
    biogenic = "Methane, biogenic;;kg;0.01;Undefined;0;0;0;"
    dust = "\r\nKryptonite dust;;kg;0.2;Undefined;0;0;0;"
    path.write_text(text.replace(biogenic, biogenic + dust), encoding="cp1252")
    report = import_database(path, format="simapro-csv", name="sp")
    assert [(r["name"], r["type"], r["greenhouse_gas"]) for r in report.uncharacterised] == [
        ("Kryptonite dust", "biosphere", False)
    ]
    assert "not characterised by any method of the engine: 1 flow(s), 1 exchange(s)" in (
        report.render()
    )
    table = open_store()
    steel = table.find("sp::Widget steel::JP").index
    gwp = ("IPCC 2021 GWP100", "total")
    assert float(table.indicator(*gwp)[steel]) == pytest.approx(dbs.SP_STEEL, rel=1e-6)
    assert list_databases()[0]["uncharacterised"] == 1
    kiln = dbs.write_simapro(tmp_path / "kiln", kiln_flow=True)
    with pytest.raises(DataError, match=r"(?s)1 unlinked exchange\(s\).*'Carbon dioxide, kiln'"):
        import_database(kiln, format="simapro-csv", name="kiln")
