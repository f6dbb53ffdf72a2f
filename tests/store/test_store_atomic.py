"""Imports and removes are atomic: a failed or killed run leaves the store as it was.

A store is prepared once (built-in project plus one imported database, ``base``) and
copied for each test. ``cfp data import`` then runs in a subprocess that kills itself
with SIGKILL at a named stage (``CFP_ENGINE_TEST_KILL_AT``, :mod:`cfp_engine.store.staging`),
and the store is compared with its snapshot from before: the registry's bytes, ``cfp data
list``, the Brightway projects with their databases and parameter groups, and every score
cache file. Calculations on a built-in example and on ``base`` must give the same numbers,
and the killed name must import afterwards. Expected scores are the hand calculations of
``tests/fixtures/make_databases.py`` (float32 matrices: tolerance 1e-6).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

import make_databases as dbs
from conftest import EXAMPLES, ROOT, copy_home

REL = 1e-6
BASE_SPEC = (
    "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
    "components: []\n"
    "stages:\n"
    "  production: [{activity: 'base::widget assembly::GLO', amount: 2 piece}]\n"
)


def _tree(path: Path) -> dict[str, str]:
    """Relative file names and their sha256, for byte-for-byte comparisons."""
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _snapshot(home: Path) -> dict:
    from cfp_engine.store.session import open_brightway

    with open_brightway() as bd:
        projects = {}
        for name in sorted(p.name for p in bd.projects):
            bd.projects.set_current(name)
            from bw2data.parameters import Group

            projects[name] = {
                "databases": sorted(bd.databases),
                "groups": sorted(g.name for g in Group.select()),
            }
        folders = sorted(p.name for p in bd.projects._base_data_dir.iterdir() if p.is_dir())
    listed = CliRunner().invoke(cli, ["data", "list", "--format", "json"], catch_exceptions=False)
    return {
        "registry": (home / "imports" / "registry.json").read_bytes(),
        "list": listed.output,
        "projects": projects,
        "project_folders": folders,
        "scores": _tree(home / "scores"),
        "staging": sorted(p.name for p in (home / "imports").glob("staging/*")),
    }


def _totals(spec_dir: Path) -> dict[str, float]:
    from cfp_engine.engine.footprint import calculate_footprint
    from cfp_engine.spec.product import load_spec

    return {
        "example": calculate_footprint(load_spec(EXAMPLES / "pet-bottle.yaml")).total_kg_co2e,
        "base": calculate_footprint(load_spec(spec_dir / "base.yaml")).total_kg_co2e,
    }


def _cfp(home: Path, *args: str, kill_at: str | None = None, tmpdir: Path | None = None):
    env = dict(os.environ, CFP_ENGINE_HOME=str(home))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.pop("CFP_ENGINE_TEST_KILL_AT", None)
    if kill_at:
        env["CFP_ENGINE_TEST_KILL_AT"] = kill_at
    if tmpdir:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run(
        [sys.executable, "-m", "cfp_engine", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, built_home):
    """A store with the built-in project and ``base`` imported; the inputs; the totals."""
    root = tmp_path_factory.mktemp("atomic")
    home = copy_home(built_home, root / "home")
    inputs = root / "inputs"
    dbs.write_ecospold2(inputs / "base")
    dbs.write_ecospold2(inputs / "new")
    dbs.zip_folder(inputs / "new", inputs / "new.zip")
    dbs.write_ecospold2(inputs / "unlinked", extra_input=True)
    result = _cfp(home, "data", "import", str(inputs / "base"), "--format", "ecospold2",
                  "--name", "base")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (root / "base.yaml").write_text(BASE_SPEC, encoding="utf-8")
    return {"root": root, "home": home, "inputs": inputs}


@pytest.fixture
def store(prepared, tmp_path, monkeypatch):
    """A private copy of the prepared store, current for this test."""
    home = tmp_path / "home"
    shutil.copytree(prepared["home"], home)
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    return home


def test_prepared_store_scores_match_the_hand_calculation(prepared, store):
    totals = _totals(prepared["root"])
    assert totals["base"] == pytest.approx(2 * dbs.ASSEMBLY, rel=REL)
    assert totals["example"] > 0


@pytest.mark.parametrize(
    ("stage", "source"),
    [("extracted", "new.zip"), ("written", "new"), ("scored", "new")],
)
def test_an_import_killed_before_the_commit_leaves_the_store_as_it_was(
    prepared, store, tmp_path, stage, source
):
    before_totals = _totals(prepared["root"])
    before = _snapshot(store)
    inputs = _tree(prepared["inputs"])
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    killed = _cfp(store, "data", "import", str(prepared["inputs"] / source), "--format",
                  "ecospold2", "--name", "new", kill_at=stage, tmpdir=tmpdir)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (store / "imports" / "staging").is_dir()  # the run was cut short mid-change
    assert _totals(prepared["root"]) == before_totals  # calculations collect what it left
    assert _snapshot(store) == before
    assert list(tmpdir.iterdir()) == []  # no cfp-import-* folders in the temp directory
    assert _tree(prepared["inputs"]) == inputs
    again = _cfp(store, "data", "import", str(prepared["inputs"] / source), "--format",
                 "ecospold2", "--name", "new")  # fmt: skip
    assert again.returncode == 0, again.stderr
    from cfp_engine.store.access import open_store

    table = open_store()
    score = table.indicator("IPCC 2021 GWP100", "total")[table.find("new::widget assembly").index]
    assert float(score) == pytest.approx(dbs.ASSEMBLY, rel=REL)


def test_an_import_killed_after_the_commit_is_complete(prepared, store):
    before_totals = _totals(prepared["root"])
    killed = _cfp(store, "data", "import", str(prepared["inputs"] / "new"), "--format",
                  "ecospold2", "--name", "new", kill_at="committed")  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert _totals(prepared["root"]) == before_totals
    after = _snapshot(store)
    registry = json.loads(after["registry"])
    assert sorted(registry["databases"]) == ["base", "new"]
    # The old store project was collected: only the one the registry names is left.
    stores = [p for p in after["projects"] if p.startswith("cfp-store-")]
    assert stores == [registry["project"]]
    assert after["projects"][registry["project"]]["databases"] == sorted(
        ["base", "new", "biosphere3", "cfp-builtin"]
    )
    assert sorted({k.split("/")[0] for k in after["scores"]}) == ["cfp-builtin", *stores]
    assert after["staging"] == []


def test_a_killed_remove_leaves_the_store_as_it_was(prepared, store):
    added = _cfp(store, "data", "import", str(prepared["inputs"] / "new"), "--format",
                 "ecospold2", "--name", "new")  # fmt: skip
    assert added.returncode == 0, added.stderr
    before_totals = _totals(prepared["root"])
    before = _snapshot(store)
    killed = _cfp(store, "data", "remove", "new", kill_at="scored")
    assert killed.returncode == -signal.SIGKILL
    assert _totals(prepared["root"]) == before_totals
    assert _snapshot(store) == before
    removed = _cfp(store, "data", "remove", "new")
    assert removed.returncode == 0, removed.stderr
    assert [r["name"] for r in json.loads(_snapshot(store)["list"])] == ["base"]


@pytest.mark.parametrize(
    ("source", "name", "message"),
    [
        ("unlinked", "new", r"unlinked exchange\(s\); nothing was imported"),
        ("new", "n" * 300, r"300 characters .*at most 100"),
        ("new", "tab\there", "control characters"),
    ],
)
def test_a_failed_import_changes_nothing(prepared, store, source, name, message):
    import re

    before = _snapshot(store)
    inputs = _tree(prepared["inputs"])
    failed = _cfp(store, "data", "import", str(prepared["inputs"] / source), "--format",
                  "ecospold2", "--name", name)  # fmt: skip
    assert failed.returncode == 2
    assert failed.stderr.startswith("Error:") and "Traceback" not in failed.stderr
    assert re.search(message, failed.stderr)
    assert _snapshot(store) == before  # nothing to collect: the failure cleaned up itself
    assert _tree(prepared["inputs"]) == inputs


def test_the_unlinked_report_goes_to_the_engine_home(prepared, store):
    failed = _cfp(store, "data", "import", str(prepared["inputs"] / "unlinked"), "--format",
                  "ecospold2", "--name", "new")  # fmt: skip
    report = store / "imports" / "reports" / "new.unlinked.csv"
    assert f"Listed in {report}" in failed.stderr
    assert "mystery lubricant" in report.read_text(encoding="utf-8")


def test_a_parameterised_import_failing_after_the_write_leaves_no_parameters(
    prepared, store, tmp_path, monkeypatch
):
    """bw2io's parameterised example, written (formulas frozen: no parameter group, see
    import_parameters) and then failing: the staging project goes, the store is as before."""
    from cfp_engine.store.imports import database

    mobility = Path(__import__("bw2io").__file__).parent / (
        "data/examples/sample_parameterized_database.xlsx"
    )
    flow_map = tmp_path / "flows.csv"
    flow_map.write_text(
        "source_name,source_categories,source_unit,target_name,target_categories,target_unit\n"
        'CO2,,kilogram,"Carbon dioxide, fossil",air,kilogram\n',
        encoding="utf-8",
    )
    written = []

    def write_then_fail(bd, importer, report):
        original(bd, importer, report)
        from bw2data.parameters import Group

        written.append(("mobility" in bd.databases, Group.select().count()))
        raise RuntimeError("disk full")

    original = database._write_imported
    monkeypatch.setattr(database, "_write_imported", write_then_fail)
    before = _snapshot(store)
    with pytest.raises(RuntimeError, match="disk full"):
        database.import_database(mobility, format="excel", name="mobility", flow_map=flow_map)
    assert written == [(True, 0)]  # the failure came after the write; no parameter tables
    assert _snapshot(store) == before


def test_a_reader_of_the_registry_before_a_commit_gets_the_committed_store(prepared, store):
    """A calculation that read the registry just before an import committed (and collected
    the project it names) rebuilds nothing and gets the new store."""
    from cfp_engine.store.imports import import_database
    from cfp_engine.store.registry import open_user_store, read_registry

    stale = read_registry()
    import_database(prepared["inputs"] / "new", format="ecospold2", name="new")
    assert stale["project"] != read_registry()["project"]
    assert not (store / "scores" / stale["project"]).exists()
    table = open_user_store(stale)
    assert table.manifest["project"] == read_registry()["project"]
    assert {"base", "new"} <= set(table.databases)


def test_a_registry_naming_a_missing_project_is_an_error(prepared, store):
    from cfp_engine.errors import DataError
    from cfp_engine.store.imports import import_database

    path = store / "imports" / "registry.json"
    registry = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**registry, "project": "cfp-store-gone"}), encoding="utf-8")
    with pytest.raises(DataError, match="project 'cfp-store-gone' is missing"):
        import_database(prepared["inputs"] / "new", format="ecospold2", name="new")
