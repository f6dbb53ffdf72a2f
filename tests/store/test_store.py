"""The embedded Brightway store: where it lives, when it rebuilds, locking, user projects."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cfp_engine import paths
from cfp_engine.errors import DataError, SpecError
from cfp_engine.store.access import open_store
from cfp_engine.store.health import store_status

from conftest import EXAMPLES, ROOT, copy_home
from make_inventories import write_inventory


def test_store_lives_in_the_engine_home(builtin_table, engine_home):
    status = store_status()
    assert status["built"] and status["up_to_date"]
    assert Path(status["home"]) == engine_home.resolve()
    assert Path(status["brightway_dir"]) == engine_home.resolve() / "brightway"
    assert builtin_table.manifest["project"] == "cfp-builtin"
    assert builtin_table.manifest["lcia_source"]["sha256"]


def test_brightway_is_pointed_at_the_store_without_changing_the_environment(tmp_path):
    """bw2data reads BRIGHTWAY2_DIR when it is first imported: the store sets it for that
    import only. A fresh interpreter, so that bw2data is imported here for the first time."""
    home = tmp_path / "home"
    code = (
        "import os\n"
        "from cfp_engine.store.session import open_brightway\n"
        "with open_brightway() as bd:\n"
        "    inside = str(bd.projects._base_data_dir)\n"
        "print(os.environ.get('BRIGHTWAY2_DIR'))\n"
        "print(inside)\n"
    )
    env = {**os.environ, "CFP_ENGINE_HOME": str(home), "BRIGHTWAY2_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    after, inside = run.stdout.splitlines()
    assert after == str(tmp_path)  # the caller's value, put back
    assert Path(inside).resolve() == home.resolve() / "brightway"


def test_rebuilds_when_the_data_change(tmp_path, monkeypatch, built_home):
    home = copy_home(built_home, tmp_path / "home")  # same data, so no build until it changes
    data = tmp_path / "data"
    shutil.copytree(ROOT / "inventories", data / "inventories")
    shutil.copytree(ROOT / "methods", data / "methods")
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    monkeypatch.setattr(paths, "builtin_data_dir", lambda: data)
    before = open_store()
    grid = before.find("electricity, grid, JP")
    assert before.indicator("IPCC 2021 GWP100", "total")[grid.index] == pytest.approx(
        0.423, rel=1e-6
    )
    assert open_store().manifest["built_at"] == before.manifest["built_at"]  # no rebuild
    electricity = data / "inventories" / "electricity.yaml"
    text = electricity.read_text(encoding="utf-8")
    assert text.count("amount: 0.423\n") == 1
    electricity.write_text(text.replace("amount: 0.423\n", "amount: 0.5\n"), encoding="utf-8")
    after = open_store()
    assert after.fingerprint != before.fingerprint
    grid = after.find("electricity, grid, JP")
    assert after.indicator("IPCC 2021 GWP100", "total")[grid.index] == pytest.approx(0.5, rel=1e-6)


def test_two_processes_started_together_build_once(tmp_path):
    env = {**os.environ, "CFP_ENGINE_HOME": str(tmp_path / "home")}
    env.pop("BRIGHTWAY2_DIR", None)
    command = [
        sys.executable,
        "-m",
        "cfp_engine",
        "calc",
        str(EXAMPLES / "pet-bottle.yaml"),
        "--format",
        "json",
    ]
    runs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    documents = [json.loads(stdout) for stdout, _ in outputs]  # stdout is pure JSON
    assert documents[0] == documents[1]
    builds = sum(stderr.count("Building Brightway project cfp-builtin") for _, stderr in outputs)
    assert builds == 1


def test_user_inventory_is_imported_once(handmade, fresh_home, caplog):
    caplog.set_level("INFO", logger="cfp_engine")
    first = open_store([handmade["inventory"]])
    # The log is seen at all: the first call builds the per-inventory project.
    assert f"Building Brightway project {first.manifest['project']}" in caplog.text
    caplog.clear()  # only what the second call logs
    second = open_store([handmade["inventory"]])
    assert "Building" not in caplog.text
    assert second.manifest["built_at"] == first.manifest["built_at"]
    assert first.manifest["project"].startswith("cfp-user-")
    assert "handmade" in first.databases and "cfp-builtin" in first.databases
    assert open_store().databases == ["cfp-builtin"]  # the built-in project is untouched


def test_unlinked_exchanges_are_listed(tmp_path, builtin_table):
    activities = {
        "bad process": (
            "kilogram",
            "GLO",
            [
                ("Carbon dioxide, fossill", 1.0, "kilogram", "biosphere", "air"),
                ("no such input", 1.0, "kilogram", "technosphere", "GLO"),
            ],
        )
    }
    path = write_inventory(tmp_path / "bad.xlsx", activities, "bad")
    with pytest.raises(
        DataError,
        match=r"(?s)bad.xlsx: 2 unlinked exchange\(s\).*"
        r"Carbon dioxide, fossill.*no such input",
    ):
        open_store([path])
    manifests = [
        json.loads((p / "manifest.json").read_text())
        for p in (paths.data_home() / "scores").iterdir()
    ]
    assert not [m for m in manifests if "bad" in m["databases"]]  # nothing half-built kept


def test_user_files_must_exist_and_have_a_known_format(tmp_path):
    with pytest.raises(SpecError, match="no such inventory file"):
        open_store([tmp_path / "missing.xlsx"])
    other = tmp_path / "inventory.txt"
    other.write_text("x")
    with pytest.raises(SpecError, match=r"Brightway Excel \(.xlsx\) or CSV"):
        open_store([other])


def test_csv_inventory_scores_like_the_excel_one(tmp_path, handmade_table):
    from make_inventories import ACTIVITIES, EXPECTED_PER_UNIT, write_inventory_csv

    renamed = {f"{name} (csv)": spec for name, spec in ACTIVITIES.items()}
    for name, (unit, location, exchanges) in renamed.items():
        renamed[name] = (
            unit,
            location,
            [
                (f"{i[0]} (csv)" if i[3] == "technosphere" and i[0] in ACTIVITIES else i[0], *i[1:])
                for i in exchanges
            ],
        )
    table = open_store([write_inventory_csv(tmp_path / "hand.csv", renamed, "handcsv")])
    for name, expected in EXPECTED_PER_UNIT.items():
        info = table.find(f"handcsv::{name} (csv)")
        assert table.indicator("IPCC 2021 GWP100", "total")[info.index] == pytest.approx(
            expected, rel=1e-6
        )


def test_singular_technosphere_is_a_calculation_error(tmp_path, builtin_table):
    from cfp_engine.errors import CalculationError

    activities = {"loop": ("kilogram", "GLO", [("loop", 1.0, "kilogram", "technosphere", "GLO")])}
    path = write_inventory(tmp_path / "loop.xlsx", activities, "loopdb")
    with pytest.raises(CalculationError, match="singular"):
        open_store([path])
