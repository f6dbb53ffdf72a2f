"""examples/README.md: its generated tables match the data, and the priority tag behind them."""

import importlib.util
import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.paths import inventories_dir
from cfp_engine.spec.materials import load_materials_table

from conftest import EXAMPLES, ROOT


def _script():
    path = ROOT / "scripts" / "make_examples_readme.py"
    spec = importlib.util.spec_from_file_location("make_examples_readme", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_readme_matches_the_data(builtin_table):
    script = _script()
    committed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    regenerated = script.replace_section(committed, script.generated_section(builtin_table))
    assert regenerated == committed, "run scripts/make_examples_readme.py"


def test_the_readme_rows_are_the_tagged_materials_with_two_routes(builtin_table):
    # Aluminium foil (battery cathode collector): DESNZ 2025 cans and foil,
    # 9115.90131 and 995.0779 kg CO2e per t, so 1 - 995.0779 / 9115.90131 = 89.08 %.
    table = _script().materials_table(builtin_table)
    assert "| batteries | aluminium foil | 9.116 | 0.995 | 89 % |" in table
    # Nickel sulfate (GREET) has a recycled route; plain "nickel sulfate" has none.
    assert "| nickel sulfate (GREET) |" in table
    assert "| nickel sulfate |" not in table
    # Untagged materials stay out even with both routes (PET bottles are not a priority).
    assert "| PET |" not in table


def test_data_materials_filters_by_priority_product(builtin_table):
    result = CliRunner().invoke(cli, ["data", "materials", "--priority", "pv", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["priority_product"] for row in rows} == {"pv"}
    assert {"PV solar glass", "PV aluminium frame", "solar glass"} <= {r["material"] for r in rows}
    assert "cotton" not in {r["material"] for r in rows}


def test_data_materials_refuses_an_unknown_priority_group(builtin_table):
    result = CliRunner().invoke(cli, ["data", "materials", "--priority", "cars"])
    assert result.exit_code == 2
    assert "'cars' is not one of" in result.output


def test_a_materials_table_with_an_unknown_priority_group_is_refused(tmp_path):
    table = tmp_path / "m.csv"
    table.write_text('material,virgin,priority_product\nbolt,"steel, virgin",cars\n')
    with pytest.raises(SpecError, match=r"m\.csv:2: column priority_product: 'cars' is not one"):
        load_materials_table(table)
    # The group is read case-insensitively and stored in lower case.
    table.write_text('material,virgin,priority_product\nbolt,"steel, virgin",PV\n')
    assert load_materials_table(table)["bolt"].priority_product == "pv"


def test_the_builtin_materials_table_keeps_its_crlf_line_endings():
    raw = (inventories_dir() / "materials.csv").read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") > 70
