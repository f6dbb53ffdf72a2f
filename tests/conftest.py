"""Shared fixtures. Every test runs against a temporary engine store (never the user's).

``CFP_ENGINE_HOME`` is pointed at a session temporary folder before anything imports
Brightway; the store sets ``BRIGHTWAY2_DIR`` inside it. The folder is removed when the
session ends.

The built-in project takes 5 s to build on an idle machine (30 s on a loaded one), so it is
built once per session, into :func:`built_home`, which no test writes to. A test that needs
a store of its own (imports, rebuilds, damage) takes :func:`fresh_home`, a copy of it (the
store holds no absolute paths, so a copy opens without a rebuild; copying takes 0.1 s).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="cfp-test-home-"))
os.environ["CFP_ENGINE_HOME"] = str(_SESSION_HOME)
os.environ.pop("BRIGHTWAY2_DIR", None)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import make_inventories  # noqa: E402

# The PACT host's fixtures (database on SQLite and PostgreSQL, TLS, a running host).
pytest_plugins = ["exchange_fixtures"]


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


_ENGINE_LOGGER = logging.getLogger("cfp_engine")
_LOGGER_STATE = (list(_ENGINE_LOGGER.handlers), _ENGINE_LOGGER.level, _ENGINE_LOGGER.propagate)


def _restore_engine_logger() -> None:
    handlers, level, propagate = _LOGGER_STATE
    _ENGINE_LOGGER.handlers[:] = handlers
    _ENGINE_LOGGER.setLevel(level)
    _ENGINE_LOGGER.propagate = propagate


@pytest.fixture(autouse=True)
def _engine_logger():
    """Undo what a CLI run does to the ``cfp_engine`` logger, before and after each test.

    The CLI gives the logger its own handler and stops propagation, after which ``caplog``
    (a handler on the root logger) records nothing: a check that a message is *absent*
    would pass whatever the code did.
    """
    _restore_engine_logger()
    yield
    _restore_engine_logger()


def assert_engine_log_seen(caplog) -> None:
    """Fail unless the ``cfp_engine`` logger's records reach ``caplog`` now.

    Call it after asserting a message is absent: without it that check cannot fail.
    """
    logging.getLogger("cfp_engine.tests").info("caplog probe")
    assert "caplog probe" in caplog.text, "cfp_engine's log does not reach caplog"


@pytest.fixture(scope="session")
def engine_home() -> Path:
    return _SESSION_HOME


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """An engine home holding only the built-in project, built once per session.

    Read-only by agreement: copy it (:func:`fresh_home`), never point a test at it.
    """
    from cfp_engine.store.access import open_store

    home = tmp_path_factory.mktemp("built") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CFP_ENGINE_HOME", str(home))
        open_store()
    return home


def copy_home(built_home: Path, target: Path) -> Path:
    """Copy the session's built store to ``target`` (which must not exist); return it."""
    shutil.copytree(built_home, target, symlinks=True)
    return target


@pytest.fixture
def fresh_home(built_home, tmp_path, monkeypatch) -> Path:
    """A private engine home with the built-in project and no user databases, made current."""
    home = copy_home(built_home, tmp_path / "home")
    monkeypatch.setenv("CFP_ENGINE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def builtin_table(engine_home, built_home):
    """The built-in project's score table in the session home (built once per session)."""
    from cfp_engine.store.access import open_store

    # Seed the session home from the built store unless an earlier test already built one.
    if not (engine_home / "brightway").exists():
        shutil.copytree(built_home, engine_home, symlinks=True, dirs_exist_ok=True)
    return open_store()


@pytest.fixture(scope="session")
def handmade(tmp_path_factory) -> dict[str, Path]:
    """The hand-made inventory (Brightway Excel) and its materials table."""
    return make_inventories.write_fixtures(tmp_path_factory.mktemp("handmade"))


@pytest.fixture(scope="session")
def handmade_table(builtin_table, handmade):
    from cfp_engine.store.access import open_store

    return open_store([handmade["inventory"]])


@pytest.fixture
def write_spec(tmp_path, handmade):
    """Write a spec (YAML text) next to copies of the hand-made files; return its path."""
    import shutil

    for path in handmade.values():
        shutil.copy(path, tmp_path / path.name)

    def _write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def supplier_home(tmp_path_factory, built_home):
    """An engine home with the supplier footprints of ``make_pact`` imported as ``SUP``.

    Read-only by agreement (copy it to change the store); returns (home, import report).
    """
    from cfp_engine.store.imports import import_database

    import make_pact

    home = copy_home(built_home, tmp_path_factory.mktemp("supplier") / "home")
    source = make_pact.write_supplier_file(tmp_path_factory.mktemp("pact") / "suppliers.json")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CFP_ENGINE_HOME", str(home))
        report = import_database(source, format="pact", name="SUP")
    return home, report


@pytest.fixture
def in_supplier_home(supplier_home, monkeypatch):
    """:func:`supplier_home` made current; returns its import report."""
    monkeypatch.setenv("CFP_ENGINE_HOME", str(supplier_home[0]))
    return supplier_home[1]
