"""The store survives corrupt caches, kills during a build and a store it cannot write.

Score tables carry the sha256 of their files (:mod:`cfp_engine.store.scores`); a table that
fails the check is rebuilt with a message. End-to-end cases run ``cfp`` in a subprocess on
a private copy of a store holding the built-in project and a per-inventory project of
the hand-made inventory; a build is killed with SIGKILL at named stages
(``CFP_ENGINE_TEST_KILL_AT``). The expected figure is by hand: 2 kWh of ``hand
electricity`` (0.4 kg CO2 + 0.001 kg N2O x 273 per kWh, IPCC AR6) = 1.346 kg CO2e.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cfp_engine.errors import CorruptCacheError
from cfp_engine.store.health import sqlite_problem
from cfp_engine.store.scores import ActivityInfo, ScoreTable

from conftest import ROOT, copy_home

HAND_KG_CO2E = 2 * (0.4 * 1.0 + 0.001 * 273.0)  # 1.346
REL = 1e-6  # float32 matrices
SPEC = (
    "product: {id: w, name: W, declared_unit: 1 piece}\n"
    "components: []\n"
    "stages:\n"
    "  production: [{activity: 'handmade::hand electricity::JP', amount: 2 kWh}]\n"
)


# -- checksums on a small table (no Brightway) ---------------------------------------------


def _small_table() -> ScoreTable:
    activities = [
        ActivityInfo(index=0, database="d", code="a", name="a", location="GLO", unit="kg")
    ]
    return ScoreTable(activities, {"m": np.array([[1.5]])}, {"fingerprint": "f", "project": "p"})


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGE = {"truncate": _truncate, "flip": _flip, "delete": Path.unlink}


def test_a_saved_table_reads_back_and_leaves_no_temporary_folder(tmp_path):
    _small_table().save(tmp_path / "t")
    _small_table().save(tmp_path / "t")  # replaces the first
    table = ScoreTable.load(tmp_path / "t")
    assert table.scores["m"][0, 0] == 1.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]
    assert set(table.manifest["files"]) == {"scores.npz", "activities.json"}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", ["scores.npz", "activities.json", "manifest.json"])
def test_every_kind_of_damage_to_every_cache_file_is_detected(tmp_path, name, damage):
    _small_table().save(tmp_path / "t")
    DAMAGE[damage](tmp_path / "t" / name)
    with pytest.raises(CorruptCacheError, match=r"score cache (changed|is incomplete|is unread)"):
        ScoreTable.load(tmp_path / "t")


# -- end to end: cfp in a subprocess on a copy of a built store -----------------------------


def _cfp(home: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CFP_ENGINE_HOME=str(home))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.pop("CFP_ENGINE_TEST_KILL_AT", None)
    if kill_at:
        env["CFP_ENGINE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "cfp_engine", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, built_home, handmade):
    """A store with the built-in project and the hand-made per-inventory project."""
    root = tmp_path_factory.mktemp("health")
    home = copy_home(built_home, root / "home")
    spec = root / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = _cfp(home, "calc", str(spec), "--inventory", str(handmade["inventory"]))
    assert result.returncode == 0, result.stderr
    (user,) = (home / "scores").glob("cfp-user-*")
    return {"home": home, "spec": spec, "inventory": handmade["inventory"], "user": user.name}


@pytest.fixture
def store(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["home"], home)
    return home


def _total(built, home: Path, *, kill_at: str | None = None) -> tuple[float, str]:
    result = _cfp(
        home,
        "calc",
        str(built["spec"]),
        "--inventory",
        str(built["inventory"]),
        "--format",
        "json",
        kill_at=kill_at,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["total_kg_co2e"], result.stderr


@pytest.mark.parametrize(
    ("name", "damage"),
    [("scores.npz", "flip"), ("activities.json", "truncate"), ("scores.npz", "delete")],
)
def test_a_damaged_cache_is_rebuilt_with_a_message_and_the_same_number(built, store, name, damage):
    DAMAGE[damage](store / "scores" / built["user"] / name)
    total, stderr = _total(built, store)
    assert "rebuilding it" in stderr and name in stderr
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)
    total, stderr = _total(built, store)  # repaired: read, not rebuilt
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)
    assert "Building" not in stderr


def test_a_deleted_manifest_is_rebuilt(built, store):
    (store / "scores" / built["user"] / "manifest.json").unlink()
    total, stderr = _total(built, store)
    assert "Building Brightway project " + built["user"] in stderr
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)


@pytest.mark.parametrize("stage", ["build-written", "cache-half-written", "cache-swapped"])
def test_a_build_killed_at_any_stage_is_recovered_by_the_next_run(built, store, stage):
    # Force a rebuild of the per-inventory table over an existing one (the swap case).
    _flip(store / "scores" / built["user"] / "scores.npz")
    killed = _cfp(
        store,
        "calc",
        str(built["spec"]),
        "--inventory",
        str(built["inventory"]),
        kill_at=stage,
    )
    assert killed.returncode == -9, killed.stderr
    total, _ = _total(built, store)
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)
    leftovers = [p.name for p in (store / "scores").iterdir() if p.name.startswith(".")]
    status = _cfp(store, "data", "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    problems = json.loads(status.stdout)["problems"]
    assert [p["kind"] for p in problems] == ["temporary"] * len(leftovers)
    doctor = _cfp(store, "data", "doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert json.loads(_cfp(store, "data", "status", "--format", "json").stdout)["problems"] == []


def test_the_builtin_build_killed_after_writing_the_project_is_rebuilt(built, store):
    before = (store / "scores" / "cfp-builtin" / "manifest.json").read_bytes()
    _truncate(store / "scores" / "cfp-builtin" / "scores.npz")
    status = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)
    assert status["corrupt"] and not status["up_to_date"]
    killed = _cfp(store, "data", "build", kill_at="build-written")
    assert killed.returncode == -9
    result = _cfp(store, "data", "build")
    assert result.returncode == 0, result.stderr
    assert "rebuilding it" in result.stderr
    after = json.loads((store / "scores" / "cfp-builtin" / "manifest.json").read_text())
    assert after["fingerprint"] == json.loads(before)["fingerprint"]
    status = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)
    assert status["up_to_date"] and status["problems"] == []
    total, _ = _total(built, store)
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)


def test_doctor_repairs_a_corrupt_builtin_cache_and_a_half_built_project(built, store):
    _flip(store / "scores" / "cfp-builtin" / "activities.json")
    shutil.rmtree(store / "scores" / built["user"])  # as a build killed before its save
    (store / "scores" / ".cfp-builtin.tmp-12345").mkdir()
    status = _cfp(store, "data", "status")
    assert "corrupt score cache" in status.stdout
    assert "Problems:         3" in status.stdout
    doctor = _cfp(store, "data", "doctor", "--format", "json")
    assert doctor.returncode == 0, doctor.stderr
    kinds = sorted(item["kind"] for item in json.loads(doctor.stdout)["fixed"])
    assert kinds == ["corrupt-cache", "orphan-project", "temporary"]
    status = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)
    assert status["up_to_date"] and status["problems"] == []
    assert not list((store / "brightway").glob("cfp-user-*"))


# -- damaged Brightway databases (SQLite) ---------------------------------------------------


def _database(home: Path, project: str) -> Path:
    (path,) = (home / "brightway").glob(f"{project}*/lci/databases.db")
    return path


def _overwrite_index_page(path: Path) -> None:
    """0xff over the root page of an index: the page loses its b-tree header.

    An index page, not the middle of the file: SQLite's quick_check reports a damaged
    index or interior page by number, but fails with "malformed" on a damaged table leaf,
    so what the middle of the file holds (and the message) moved with the built-in data.
    """
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'activitydataset_key'"
        ).fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size : root * size] = b"\xff" * size
    path.write_bytes(bytes(data))


SQLITE_DAMAGE = {
    "truncate": (_truncate, r"^unreadable \(database disk image is malformed\)$"),
    "overwrite": (_overwrite_index_page, r"^damaged \(quick_check: .*Page \d+"),
    "empty": (lambda p: p.write_bytes(b""), r"^holds no Brightway tables"),
    "text": (lambda p: p.write_text("x\n" * 600), r"^unreadable \(file is not a database\)$"),
    "delete": (Path.unlink, r"^missing$"),
}


@pytest.mark.parametrize("damage", sorted(SQLITE_DAMAGE))
def test_every_kind_of_damage_to_a_brightway_database_is_found_read_only(
    built_home, tmp_path, damage
):
    path = tmp_path / "databases.db"
    shutil.copy(_database(built_home, "cfp-builtin."), path)
    assert sqlite_problem(path) is None
    harm, message = SQLITE_DAMAGE[damage]
    harm(path)
    before = path.read_bytes() if path.exists() else None
    assert re.search(message, sqlite_problem(path))
    # mode=ro: the check neither changes the file nor leaves a journal beside it
    assert (path.read_bytes() if path.exists() else None) == before
    assert [p.name for p in tmp_path.iterdir()] == ([] if before is None else [path.name])


def test_doctor_rebuilds_a_damaged_builtin_database(built, store):
    database = _database(store, "cfp-builtin.")
    _overwrite_index_page(database)
    status = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)
    (problem,) = status["problems"]
    assert (problem["kind"], problem["path"], problem["fix"]) == (
        "damaged-database",
        str(database),
        "rebuilt",
    )
    assert problem["fixable"]
    assert re.match(
        r"the Brightway database of project cfp-builtin: damaged \(quick_check: ", problem["detail"]
    )
    doctor = _cfp(store, "data", "doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert "Fixed 1 problem(s):" in doctor.stdout and "-> rebuilt" in doctor.stdout
    assert "Building Brightway project cfp-builtin" in doctor.stderr
    assert sqlite_problem(_database(store, "cfp-builtin.")) is None
    assert json.loads(_cfp(store, "data", "status", "--format", "json").stdout)["problems"] == []
    total, _ = _total(built, store)
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)


def test_doctor_deletes_a_damaged_per_inventory_project_and_use_rebuilds_it(built, store):
    _truncate(_database(store, built["user"]))
    (problem,) = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)["problems"]
    assert problem["kind"] == "damaged-database" and built["user"] in problem["detail"]
    assert problem["fix"] == "deleted (rebuilt when used)"
    doctor = _cfp(store, "data", "doctor", "--format", "json")
    assert doctor.returncode == 0, doctor.stderr
    assert [f["kind"] for f in json.loads(doctor.stdout)["fixed"]] == ["damaged-database"]
    assert not list((store / "brightway").glob(built["user"] + "*"))
    total, stderr = _total(built, store)
    assert "Building Brightway project " + built["user"] in stderr
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)


def test_a_damaged_user_store_is_named_with_its_databases_and_what_to_do(built, store):
    """Imported databases cannot be rebuilt: doctor says so (exit 1) and how to re-import."""
    imported = _cfp(
        store, "data", "import", str(built["inventory"]), "--format", "excel", "--name", "hand"
    )
    assert imported.returncode == 0, imported.stderr
    spec = built["spec"].with_name("imported.yaml")
    spec.write_text(SPEC.replace("handmade::", "hand::"), encoding="utf-8")
    (project,) = (store / "scores").glob("cfp-store-*")
    database = _database(store, project.name)
    database.write_bytes(b"\xff" * 100 + database.read_bytes()[100:])  # its header: any read fails
    (problem,) = json.loads(_cfp(store, "data", "status", "--format", "json").stdout)["problems"]
    assert problem["kind"] == "damaged-database" and not problem["fixable"]
    imports = store.resolve() / "imports"
    assert problem["fix"] == (
        "not fixed: the imported databases (hand) cannot be rebuilt from the store; delete "
        f"{imports} and import them again with `cfp data import` (calculations keep using "
        "the last score table meanwhile)"
    )
    doctor = _cfp(store, "data", "doctor")
    assert doctor.returncode == 1, doctor.stderr
    assert "Cannot fix 1 problem(s); what to do:" in doctor.stdout
    assert "Fixed" not in doctor.stdout
    calculated = _cfp(store, "calc", str(spec), "--format", "json")  # reads the score table
    assert calculated.returncode == 0, calculated.stderr
    assert json.loads(calculated.stdout)["total_kg_co2e"] == pytest.approx(HAND_KG_CO2E, rel=REL)
    shown = _cfp(store, "data", "show", "hand::hand electricity::JP")  # reads the database
    assert shown.returncode == 2 and shown.stdout == ""
    assert shown.stderr.startswith("Error: ") and "Traceback" not in shown.stderr
    assert "a Brightway database of the store is damaged (file is not a database)" in shown.stderr
    # What the finding says to do works.
    shutil.rmtree(imports)
    again = _cfp(
        store, "data", "import", str(built["inventory"]), "--format", "excel", "--name", "hand"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(_cfp(store, "data", "status", "--format", "json").stdout)["problems"] == []
    assert _cfp(store, "data", "show", "hand::hand electricity::JP").returncode == 0


def test_clean_removes_per_inventory_projects_by_age_and_size(built, store):
    dry = _cfp(store, "data", "clean", "--older-than", "1", "--dry-run")
    assert dry.returncode == 0 and "Would free 0.0 MB (0 per-inventory project(s))" in dry.stdout
    old = 1_000_000_000  # 2001: older than any --older-than below
    os.utime(store / "scores" / built["user"], (old, old))
    for folder in (store / "brightway").glob("cfp-user-*"):
        os.utime(folder, (old, old))
    result = _cfp(store, "data", "clean", "--older-than", "30")
    assert result.returncode == 0, result.stderr
    assert built["user"] in result.stdout and "(1 per-inventory project(s))" in result.stdout
    assert not (store / "scores" / built["user"]).exists()
    assert not list((store / "brightway").glob("cfp-user-*"))
    total, stderr = _total(built, store)  # rebuilt on use
    assert "Building" in stderr
    assert total == pytest.approx(HAND_KG_CO2E, rel=REL)
    result = _cfp(store, "data", "clean", "--max-size", "0")
    assert "(1 per-inventory project(s))" in result.stdout


def test_a_store_that_cannot_be_created_is_a_clear_error(tmp_path, built):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = _cfp(blocker / "home", "calc", str(built["spec"]))
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "CFP_ENGINE_HOME" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def _read_only_file_system() -> Path | None:
    """A folder where not even root can create a file (/sys: EROFS in a container)."""
    probe = Path("/sys") / ".cfp-probe"
    try:
        probe.touch()
    except OSError as exc:
        return probe.parent if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else None
    probe.unlink()
    return None


def _chmod_folders(root: Path, mode: int) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(mode)


@pytest.mark.parametrize("how", ["chmod", "read-only file system"])
def test_a_store_that_cannot_be_written_is_exit_2_when_a_build_is_needed(built, store, how):
    """The real write fails (no monkeypatching), also as root, who writes through chmod:
    there the store's ``locks/``, where a build writes first, links to a read-only file
    system (what a store on a read-only disk gives)."""
    _flip(store / "scores" / built["user"] / "scores.npz")  # the next calc must rebuild
    if how == "chmod":
        if os.geteuid() == 0:
            pytest.skip("root writes through chmod; the read-only file system case runs")
        _chmod_folders(store, 0o555)
    else:
        folder = _read_only_file_system()
        if folder is None:
            pytest.skip("no read-only file system to stand in")
        shutil.rmtree(store / "locks", ignore_errors=True)
        (store / "locks").symlink_to(folder)
    try:
        result = _cfp(store, "calc", str(built["spec"]), "--inventory", str(built["inventory"]))
    finally:
        _chmod_folders(store, 0o755)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert re.search(
        r"\.lock: the store is not writable \((Permission denied|Read-only "
        r"file system|Operation not permitted)\); set CFP_ENGINE_HOME",
        error,
    ), error


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_built_store_still_calculates(built, store):
    for path in [store, *store.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    try:
        total, _ = _total(built, store)
        assert total == pytest.approx(HAND_KG_CO2E, rel=REL)
    finally:
        for path in [store, *store.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


def test_a_store_that_cannot_be_written_is_a_store_error(tmp_path, monkeypatch):
    # Root writes through chmod, so the failure is injected where the table is saved.
    import errno

    from cfp_engine.errors import StoreError
    from cfp_engine.store import build_cache

    monkeypatch.setenv("CFP_ENGINE_HOME", str(tmp_path))

    def refuse(self, directory):
        raise PermissionError(errno.EACCES, "Permission denied", str(directory))

    monkeypatch.setattr(ScoreTable, "save", refuse)
    with pytest.raises(StoreError, match=r"scores/t-ro: the store is not writable \(Permission"):
        build_cache.ensure_built("t-ro", "f", lambda *args: _small_table(), ())


def test_an_unreadable_input_is_not_called_a_read_only_store(tmp_path, monkeypatch):
    import errno

    from cfp_engine.store import build_cache

    monkeypatch.setenv("CFP_ENGINE_HOME", str(tmp_path / "home"))
    outside = str(tmp_path / "inventory.xlsx")

    def unreadable(*args):
        raise PermissionError(errno.EACCES, "Permission denied", outside)

    with pytest.raises(PermissionError, match="inventory.xlsx"):
        build_cache.ensure_built("t-in", "f", unreadable, ())
