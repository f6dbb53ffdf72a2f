"""Packaging and architecture rules: shipped data, one-way imports, quiet imports."""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "cfp_engine"


def test_every_data_file_is_listed_for_the_wheel():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(
        re.findall(
            r'^"((?:inventories|methods)/[^"]+)" = "cfp_engine/_data/\1"$', pyproject, flags=re.M
        )
    )
    on_disk = {
        str(p.relative_to(ROOT))
        for folder in ("inventories", "methods")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
    }
    assert listed == on_disk


def test_wheel_ships_the_data_and_finds_it(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        pytest.fail(completed.stderr)
    wheel = next(tmp_path.glob("cfp_engine-*.whl"))
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(target)
    assert "cfp_engine/_data/inventories/materials.csv" in names
    assert "cfp_engine/_data/methods/methods.yaml" in names
    assert "cfp_engine/_data/inventories/flowmaps/fedefl-biosphere3-ghg.csv" in names
    assert "cfp_engine/spec/schemas/product-spec.schema.json" in names
    # The PACT host's Alembic migrations run from the installed package.
    assert "cfp_engine/exchange/migrations/env.py" in names
    assert "cfp_engine/exchange/migrations/versions/0001_initial.py" in names
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from cfp_engine.paths import builtin_data_dir; "
        "from cfp_engine.store.inventories import read_builtin_datasets; "
        "from cfp_engine.store.imports.fedefl import load_fedefl_flow_map; "
        "print(builtin_data_dir()); print(len(read_builtin_datasets())); "
        "print(len(load_fedefl_flow_map().rows))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    assert Path(out[0]) == target / "cfp_engine" / "_data"
    assert int(out[1]) > 10
    assert int(out[2]) > 800  # the FEDEFL flow map, read from the wheel


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


BRIGHTWAY = {"bw2data", "bw2calc", "bw2io", "bw2parameters", "bw_processing"}


@pytest.mark.parametrize(
    "module", sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))
)
def test_import_rules(module):
    imports = _imports(PACKAGE / module)
    if not module.startswith("cli/"):
        assert "click" not in imports, f"{module} imports click; only the cli package may"
    if not module.startswith("store/"):
        assert not imports & BRIGHTWAY, f"{module} imports Brightway; only the store package may"


def test_no_output_or_warnings_at_import():
    code = (
        "import cfp_engine, cfp_engine.engine.footprint, cfp_engine.cli, cfp_engine.store.access, "
        "cfp_engine.spec.product, cfp_engine.spec.units"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "" and completed.stderr == ""


HEAVY = ("numpy", "pint", "pyarrow", "scipy", "pandas", "click", *sorted(BRIGHTWAY))


def _modules_after(code: str) -> set[str]:
    """The top-level modules loaded by a fresh interpreter that runs ``code``."""
    probe = f"import sys; {code}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(completed.stdout.split())


@pytest.mark.parametrize("code", ["import cfp_engine", "import cfp_engine.batch"])
def test_importing_the_package_loads_no_heavy_library(code):
    loaded = _modules_after(code)
    assert "cfp_engine" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_lazy_public_names_resolve():
    import cfp_engine
    import cfp_engine.batch

    for package in (cfp_engine, cfp_engine.batch):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
        assert set(package.__all__) <= set(dir(package))
    assert cfp_engine.load_spec.__module__ == "cfp_engine.spec.product"
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        cfp_engine.nothing  # noqa: B018
    # the control: the same probe sees numpy once a calculating module is imported
    assert "numpy" in _modules_after("import cfp_engine.engine.footprint")
