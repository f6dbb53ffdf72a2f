"""--skip-invalid on the hand-made ecospold2 database: a left-out dataset's users lose
their input to it, reported as unlinked.

The three datasets of ``make_databases.write_ecospold2`` (electricity -> steel ->
widget assembly), with the steel's product amount set to 0: the steel dataset has no
reference product. With ``--skip-invalid`` it is left out; the assembly's 0.3 kg of
widget steel (linked by activityLinkId to it) is then unlinked, which stops the import
until ``--allow-unlinked``. The assembly then scores its own N2O only, by hand
0.0001 kg x 273 (IPCC AR6 GWP100) = 0.0273 kg CO2e per widget.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

import make_databases as dbs


@pytest.fixture(scope="module")
def home(builtin_table, engine_home):
    """The session's engine home (built-in data built once); imports are removed after."""
    return engine_home


def _without_steel_product(tmp_path: Path) -> Path:
    folder = dbs.write_ecospold2(tmp_path / "es2")
    (steel,) = [p for p in folder.glob("*.spold") if dbs.ACT["steel"] in p.name]
    text = steel.read_text(encoding="utf-8")
    product = f'unitId="{dbs.KG}" amount="1"'
    assert text.count(product) == 1
    steel.write_text(text.replace(product, f'unitId="{dbs.KG}" amount="0"'), "utf-8")
    return folder


def _import(*args: str):
    return CliRunner().invoke(cli, ["data", "import", *args], catch_exceptions=False)


def test_default_refuses_and_names_skip_invalid(home, tmp_path):
    folder = _without_steel_product(tmp_path)
    result = _import(str(folder), "--format", "ecospold2", "--name", "es2")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        f"Error: {folder}: 1 dataset(s) have no reference product with a non-zero amount; "
        "nothing was imported:\n  widget steel production [JP] ("
    )
    assert "or import the usable datasets only with --skip-invalid" in result.stderr


def test_skipped_dataset_makes_its_users_inputs_unlinked(home, tmp_path):
    folder = _without_steel_product(tmp_path)
    stopped = _import(str(folder), "--format", "ecospold2", "--name", "es2", "--skip-invalid")
    assert stopped.exit_code == 2, stopped.output
    assert "1 unlinked exchange(s); nothing was imported" in stopped.stderr
    assert "technosphere 'widget steel' [kilogram] () in widget assembly [GLO]" in stopped.stderr
    done = _import(
        *(str(folder), "--format", "ecospold2", "--name", "es2"),
        *("--skip-invalid", "--allow-unlinked"),
    )
    try:
        assert done.exit_code == 0, done.output
        assert "  activities      2\n" in done.output
        assert "  SKIPPED         1 dataset(s) left out (--skip-invalid):\n" in done.output
        assert "no reference product with a non-zero amount" in done.output
        assert "technosphere 'widget steel' [kilogram]: 1 exchange(s)" in done.output
        spec = tmp_path / "spec.yaml"
        spec.write_text(
            "product: {id: w, name: Widget, declared_unit: 1 piece}\n"
            "components: []\n"
            "stages:\n"
            "  production: [{activity: 'es2::widget assembly::GLO', amount: 1 piece}]\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(cli, ["calc", str(spec), "--format", "json"])
        assert result.exit_code == 0, result.output
        total = json.loads(result.stdout)["total_kg_co2e"]
        assert total == pytest.approx(0.0001 * dbs.AR6["n2o"], rel=1e-6)
    finally:
        CliRunner().invoke(cli, ["data", "remove", "es2"])
