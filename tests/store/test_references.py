"""Activity references resolve the same way in every command (contract section 2).

The unit tests drive :class:`cfp_engine.store.references.ReferenceIndex` on hand-made triples.
The end-to-end test runs each caller (spec stage activity, component virgin and recycled
routes, materials-table row, catalogue row through ``cfp batch``, Monte Carlo through
``cfp calc --mc``, ``cfp data show``) with each reference form against a user inventory
(``--inventory``) holding one name in two locations and one name in one location.
"""

from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import DataError
from cfp_engine.store.references import ReferenceIndex

AMBIGUOUS_HINT = "(add the location: 'database::name::location')"


def _index() -> ReferenceIndex:
    return ReferenceIndex(
        [
            ("cfp-builtin", "steel sheet", "GLO"),  # 0
            ("db", "steel sheet", "JP"),  # 1
            ("db", "steel sheet", "CN"),  # 2
            ("db", "Copper Wire", "GLO"),  # 3
            ("other", "copper wire", "DE"),  # 4
            ("db", "zinc ingot", "GLO"),  # 5
        ],
        builtin_database="cfp-builtin",
    )


@pytest.mark.parametrize(
    ("reference", "position"),
    [
        ("steel sheet", 0),  # a plain name looks in the built-in data first
        ("db::steel sheet::CN", 2),
        ("  DB :: Steel   Sheet :: cn ", 2),  # case and whitespace do not matter
        ("cfp-builtin::steel sheet", 0),
        ("zinc ingot", 5),  # not built in: the user databases, where it is unique
        ("db::zinc ingot", 5),
        ("db::zinc ingot::glo", 5),  # GLO and glo are the same location
        ("other::copper wire", 4),
    ],
)
def test_the_three_forms_resolve(reference, position):
    assert _index().resolve(reference) == position


def test_several_matches_list_them_and_ask_for_the_location():
    with pytest.raises(DataError) as caught:
        _index().resolve("db::steel sheet", where="f.yaml: stages.use[0].activity")
    assert str(caught.value) == (
        "f.yaml: stages.use[0].activity: 'db::steel sheet' matches 2 activities: "
        f"db::steel sheet::CN; db::steel sheet::JP {AMBIGUOUS_HINT}"
    )


def test_a_plain_name_in_two_user_databases_asks_for_the_database():
    with pytest.raises(
        DataError,
        match=r"'copper wire' matches 2 activities: db::Copper Wire::GLO; "
        r"other::copper wire::DE \(add the database and location",
    ):
        _index().resolve("copper wire")


def test_no_match_lists_the_closest_in_a_form_that_resolves():
    index = _index()
    # the name exists, the location does not: its activities are the candidates
    assert index.problem("db::zinc ingot::US") == (
        "no activity matches 'db::zinc ingot::US' (closest: zinc ingot)"
    )
    assert index.problem("db::steel sheet::US") == (
        "no activity matches 'db::steel sheet::US' "
        "(closest: db::steel sheet::CN; db::steel sheet::JP)"
    )
    # a misspelt name: close names, each written the shortest way that names it alone
    assert index.problem("zinc ingots") == "no activity matches 'zinc ingots' (closest: zinc ingot)"
    assert index.problem("titanium") == "no activity matches 'titanium'"


def test_unknown_database_and_malformed_references():
    index = _index()
    with pytest.raises(
        DataError,
        match=r"^no activity matches 'nope::zinc ingot': unknown database 'nope' "
        r"\(databases: cfp-builtin, db, other\)$",
    ):
        index.resolve("nope::zinc ingot")
    for bad in ("a::b::c::d", "db::", "::zinc ingot", ""):
        with pytest.raises(DataError, match="is not 'name', 'database::name' or 'database::name"):
            index.resolve(bad)


def test_lookup_many_is_resolve_without_the_error_and_survives_pickling():
    index = pickle.loads(pickle.dumps(_index()))
    refs = ["zinc ingot", "DB::STEEL SHEET::JP", "steel sheet", "db::steel sheet", "x", ""]
    assert index.lookup_many(refs).tolist() == [5, 1, 0, -1, -1, -1]
    assert index.lookup_many([]).dtype == np.int64


def test_import_linking_compares_names_and_locations_as_references_do():
    from cfp_engine.store.imports.linking import _find, _index

    nodes = [
        {"database": "db", "code": "de", "name": "Twin Part", "unit": "kilogram", "location": "DE"},
        {"database": "db", "code": "fr", "name": "Twin Part", "unit": "kilogram", "location": "FR"},
    ]
    indexes = _index(nodes)
    exchange = {"name": "twin  part", "unit": "kilogram", "location": "fr"}
    assert _find(indexes, exchange) == ("db", "fr")
    # no location and two candidates: left unlinked (the import then lists it)
    assert _find(indexes, {"name": "twin part", "unit": "kilogram"}) is None
    assert _find(indexes, {"name": "twin part", "unit": "kilowatt hour", "location": "FR"}) is None


# -- every caller, every form, one user inventory --------------------------------------------

TWINS = "twins"
# name, location, kg CO2 (fossil) per kg: the score of each activity by hand (GWP 1).
TWIN_ACTIVITIES = [("twin part", "DE", 1.0), ("twin part", "FR", 2.0), ("solo part", "GLO", 3.0)]
AMBIGUOUS = (
    f"'{{ref}}' matches 2 activities: twins::twin part::DE; twins::twin part::FR {AMBIGUOUS_HINT}"
)
CASES = [  # (reference, expected kg CO2e per kg, or the problem the message must hold)
    ("solo part", 3.0),
    ("twins::solo part", 3.0),
    ("Twins::Solo Part::glo", 3.0),
    ("twins::twin part::FR", 2.0),
    ("twin part", AMBIGUOUS.format(ref="twin part")),
    ("twins::twin part", AMBIGUOUS.format(ref="twins::twin part")),
    ("twins::solo part::US", "no activity matches 'twins::solo part::US' (closest: solo part)"),
]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """The ``twins`` database (bw2io CSV inventory format) and a materials table using it."""
    folder = tmp_path_factory.mktemp("twins")
    rows: list[list] = [["Database", TWINS], []]
    for name, location, co2 in TWIN_ACTIVITIES:
        rows += [
            ["Activity", name],
            ["code", f"{name}-{location}".replace(" ", "-")],
            ["location", location],
            ["unit", "kilogram"],
            ["reference product", name],
            ["type", "process"],
            ["Exchanges"],
            ["name", "amount", "unit", "database", "categories", "location", "type"],
            [name, 1.0, "kilogram", TWINS, "", location, "production"],
            ["Carbon dioxide, fossil", co2, "kilogram", "biosphere3", "air", "", "biosphere"],
            [],
        ]
    inventory = folder / "twins.csv"
    with inventory.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return folder, inventory


def _spec(folder, caller: str, ref: str):
    """A spec whose one reference, at ``caller``'s place, is ``ref``; its path."""
    component = None
    stages = "{}"
    if caller == "stage":
        stages = f'{{production: [{{activity: "{ref}", amount: 1 kg}}]}}'
    elif caller == "virgin":
        component = f'{{id: c, virgin: "{ref}", mass: 1 kg}}'
    elif caller == "recycled":
        component = (
            f'{{id: c, virgin: "twins::twin part::DE", recycled: "{ref}", mass: 1 kg, '
            "recycled_content: 100 %}"
        )
    else:  # materials: the reference is a materials-table row's virgin route
        (folder / "materials.csv").write_text(
            f'material,virgin,disposal,source\nmymat,"{ref}",twins::twin part::DE,test\n',
            encoding="utf-8",
        )
        component = "{id: c, material: mymat, mass: 1 kg}"
    text = (
        "product: {id: p, name: p, declared_unit: 1 piece}\n"
        f"components: [{component or ''}]\n"
        f"stages: {stages}\n"
    )
    path = folder / f"{caller}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(caller: str, ref: str, twins, tmp_path):
    """Run the caller's command on ``ref``: (kg CO2e per kg or None, stdout + stderr)."""
    folder, inventory = twins
    runner = CliRunner()
    if caller == "batch":
        catalogue = tmp_path / "cat.csv"
        with catalogue.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["product_id", "stage", "item", "ref", "amount", "unit", "recycled_content"]
            )
            writer.writerow(["p", "production", "", ref, "1", "kg", ""])
        out = tmp_path / "out.csv"
        result = runner.invoke(
            cli, ["batch", str(catalogue), "-o", str(out), "--inventory", str(inventory), "--quiet"]
        )
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8") as handle:
            (row,) = csv.DictReader(handle)
        if row["status"] == "ok":
            return float(row["total_kg_co2e"]), ""
        return None, row["error"]
    if caller == "show":
        result = runner.invoke(
            cli, ["data", "show", ref, "--inventory", str(inventory), "--format", "json"]
        )
        if result.exit_code:
            return None, result.output
        return json.loads(result.stdout)["kg_co2e_per_unit"]["IPCC 2021 GWP100"]["total"], ""
    args = ["calc", str(_spec(tmp_path, "stage" if caller == "mc" else caller, ref))]
    args += ["--inventory", str(inventory), "--format", "json"]
    if caller == "materials":
        args += ["--materials", str(tmp_path / "materials.csv")]
    if caller == "mc":
        args += ["--mc", "20", "--seed", "1"]
    result = runner.invoke(cli, args)
    if result.exit_code:
        assert result.exit_code == 2, result.output
        return None, result.output
    document = json.loads(result.stdout)
    if caller == "mc":
        return document["mc"]["mean"], ""
    # the raw-material stage only: a materials-table product also has its disposal
    stage = "production" if caller == "stage" else "raw_materials"
    return document["stages_kg_co2e"][stage], ""


@pytest.mark.parametrize(("reference", "expected"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(
    "caller", ["stage", "virgin", "recycled", "materials", "batch", "mc", "show"]
)
def test_every_caller_resolves_every_form_alike(caller, reference, expected, twins, tmp_path):
    value, message = _run(caller, reference, twins, tmp_path)
    if isinstance(expected, float):
        assert message == ""
        # 1 kg (or one unit for data show) of the activity: its fossil CO2 by hand
        assert value == pytest.approx(expected, rel=1e-9)
    else:
        assert value is None
        assert expected in message
        assert "Traceback" not in message


def test_an_alias_resolves_like_a_name_within_its_database():
    """A supplier footprint answers to its product ids and footprint id (SUP::urn:...)."""
    index = ReferenceIndex(
        [("cfp-builtin", "steel", "GLO"), ("SUP", "PET resin", "GLO"), ("SUP", "Hinge", "JP")],
        aliases=[(1, "urn:gtin:4901234567894"), (1, "3fa85f64"), (2, "urn:gtin:42")],
    )
    assert index.resolve("SUP::urn:gtin:4901234567894") == 1
    assert index.resolve("sup::URN:GTIN:4901234567894::glo") == 1
    assert index.resolve("SUP::3fa85f64") == 1
    assert index.resolve("SUP::urn:gtin:42") == 2
    with pytest.raises(DataError, match="no activity matches 'cfp-builtin::urn:gtin:42'"):
        index.resolve("cfp-builtin::urn:gtin:42")
