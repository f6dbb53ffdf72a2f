"""Shared fixtures. Every test runs against a temporary engine store (never the user's).

``CFP_ENGINE_HOME`` is pointed at a session temporary folder before anything imports
Brightway; the store sets ``BRIGHTWAY2_DIR`` inside it. The built-in project is built
once per session and then only read.
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def engine_home() -> Path:
    return _SESSION_HOME


@pytest.fixture(scope="session")
def builtin_table(engine_home):
    """The built-in project's score table (built once per test session)."""
    from cfp_engine.store.access import open_store

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
