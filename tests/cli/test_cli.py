"""The command line, through click's CliRunner: outputs, exit codes, error messages."""

import csv
import io
import json
import logging
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from cfp_engine import __version__
from cfp_engine.cli import cli
from cfp_engine.errors import CfpError

from conftest import EXAMPLES, ROOT

PET = str(EXAMPLES / "pet-bottle.yaml")
CONTRACT_KEYS = {
    "product_id",
    "variant",
    "declared_unit",
    "method",
    "approach",
    "total_kg_co2e",
    "stages_kg_co2e",
    "components_kg_co2e",
    "ghg_kg_co2e",
    "recycled_content_share",
    "virgin_baseline_kg_co2e",
    "reduction_vs_virgin",
    "provenance",
}
STAGES = {"raw_materials", "production", "distribution", "use", "end_of_life"}


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_calc_table(builtin_table):
    result = run("calc", PET)
    assert result.exit_code == 0, result.output
    for text in (
        "raw material acquisition",
        "end of life",
        "TOTAL",
        "Reduction vs virgin",
        "IPCC 2021 GWP100",
        "cut-off",
        "body",
        "cap",
    ):
        assert text in result.stdout


def test_calc_json_has_every_contract_key(builtin_table):
    result = run("calc", PET, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) >= CONTRACT_KEYS
    assert set(document["stages_kg_co2e"]) == STAGES
    assert set(document["ghg_kg_co2e"]) == {"fossil", "biogenic", "land_use_change"}
    assert set(document["components_kg_co2e"]) == {"body", "cap"}
    assert {"engine_version", "spec_sha256", "data_sha256", "method"} <= set(document["provenance"])
    assert document["provenance"]["engine_version"] == __version__
    assert document["variant"] is None
    assert sum(document["stages_kg_co2e"].values()) == pytest.approx(
        document["total_kg_co2e"], rel=1e-12
    )
    assert document["reduction_vs_virgin"] == pytest.approx(
        1 - document["total_kg_co2e"] / document["virgin_baseline_kg_co2e"], rel=1e-12
    )


def test_calc_variant_and_csv(builtin_table):
    base = json.loads(run("calc", PET, "--format", "json").stdout)
    variant = json.loads(run("calc", PET, "--variant", "rpet-100", "--format", "json").stdout)
    assert variant["variant"] == "rpet-100"
    assert variant["total_kg_co2e"] < base["total_kg_co2e"]
    assert variant["virgin_baseline_kg_co2e"] == pytest.approx(
        base["virgin_baseline_kg_co2e"], rel=1e-12
    )
    rows = list(csv.DictReader(io.StringIO(run("calc", PET, "--format", "csv").stdout)))
    total = [r for r in rows if r["kind"] == "total"][0]
    assert float(total["kg_co2e"]) == pytest.approx(base["total_kg_co2e"], rel=1e-12)


def test_ar5_method_differs_from_ar6(builtin_table):
    ar6 = json.loads(run("calc", PET, "--format", "json").stdout)
    ar5 = json.loads(run("calc", PET, "--format", "json", "--method", "AR5").stdout)
    assert ar5["method"] == "IPCC 2013 GWP100"
    assert ar5["total_kg_co2e"] != ar6["total_kg_co2e"]


SPEC = """
product: {id: p, name: P, declared_unit: 1 piece}
components:
  - {id: body, material: PET, mass: 23 g}
stages:
  distribution: [{activity: "transport, lorry", amount: 7.7 kg*km}]
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "mass: 23 g",
            "mass: 0.3 kWh",
            r"spec.yaml: components\[0\].mass: '0.3 kWh' is an energy, but a mass is needed",
        ),
        ("mass: 23 g", "mass: 23 g, recycled_content: 120 %", "'120 %' is outside 0-100 %"),
        ("mass: 23 g", "mass: -1 g", "is negative"),
        ("mass: 23 g", "mass: 2 ton", "ambiguous"),
        ("material: PET", "material: unobtainium", "unknown material 'unobtainium'"),
        (
            '"transport, lorry"',
            '"transport, teleport"',
            r"stages.distribution\[0\].activity: no activity matches 'transport, teleport'",
        ),
        ("7.7 kg*km", "7.7 kg", "is a mass, but 'transport, lorry' is measured in ton kilometer"),
        ("components:", "components: [", "malformed YAML"),
    ],
)
def test_bad_input_is_one_error_line_with_exit_2(tmp_path, builtin_table, old, new, message):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace(old, new, 1))
    result = run("calc", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    import re

    assert re.search(message, result.stderr), result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calc", "/no/such/spec.yaml"), "no such spec file"),
        (("calc", PET, "--method", "AR4"), "unknown method 'AR4'"),
        (("calc", PET, "--variant", "nope"), "unknown variant 'nope'"),
        (("calc", PET, "--inventory", "/no/such.xlsx"), "no such inventory file"),
        (("calc", PET, "--materials", "/no/such.csv"), "no such materials table"),
    ],
)
def test_bad_options_exit_2(builtin_table, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_duplicate_material_key_is_an_error(tmp_path, builtin_table):
    table = tmp_path / "m.csv"
    table.write_text('material,virgin\nPET,"PET, virgin"\n')
    result = run("calc", PET, "--materials", str(table))
    assert result.exit_code == 2
    assert "material 'PET' is already defined" in result.stderr


def test_debug_shows_the_exception(builtin_table):
    result = run("--debug", "calc", PET, "--method", "AR4")
    assert isinstance(result.exception, CfpError)


def test_usage_error_exit_2():
    result = run("calc")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_data_status(builtin_table):
    result = run("data", "status")
    assert result.exit_code == 0
    assert "cfp-builtin: up to date" in result.stdout
    assert "User store:" in result.stdout
    status = json.loads(run("data", "status", "--format", "json").stdout)
    assert status["up_to_date"] is True


def test_python_m_and_version():
    completed = subprocess.run(
        [sys.executable, "-m", "cfp_engine", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in completed.stdout


def _commands(group, path=()):
    """Every command under ``group``, groups included, as (path of names, command)."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


ALL_COMMANDS = list(_commands(cli))


def test_the_command_walk_reaches_subcommands():
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"calc", "data", "data import", "data doctor", "data clean"} <= names


@pytest.mark.parametrize(
    ("path", "command"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS]
)
def test_every_command_has_help_and_is_in_the_readme(path, command):
    assert command.help, path
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: cli {' '.join(path)} ")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"cfp {' '.join(path)}" in readme, f"README.md does not mention `cfp {' '.join(path)}`"


def test_data_materials(builtin_table):
    result = run("data", "materials", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["material"]: row for row in json.loads(result.stdout)}
    # DESNZ 2025 Material use, aluminium cans and foil: 9115.90131 / 995.0779 kg CO2e per t
    assert rows["aluminium"]["virgin_kg_co2e_per_kg"] == pytest.approx(9.11590131, rel=1e-6)
    assert rows["aluminium"]["recycled_kg_co2e_per_kg"] == pytest.approx(0.9950779, rel=1e-6)
    assert rows["aluminium"]["reduction"] == pytest.approx(1 - 995.0779 / 9115.90131, rel=1e-6)
    reductions = [r["reduction"] for r in rows.values() if r["reduction"] is not None]
    assert max(reductions) >= 0.85  # the seed's range: recycled saves 20 % to 90 %
    assert any(0.15 <= r <= 0.5 for r in reductions)
    # End-of-life defaults travel with the factors: PET bottles in Japan, FY2023
    # (PET Bottle Recycling Council: 85.0 % recycled, 98.6 % used incl. heat recovery).
    assert (rows["PET"]["R2"], rows["PET"]["R3"], rows["PET"]["A"]) == (0.85, 0.136, 0.5)
    table = run("data", "materials")
    assert "Reduction from recycled routes" in table.stdout
    csv_rows = list(csv.DictReader(io.StringIO(run("data", "materials", "--format", "csv").stdout)))
    assert {row["material"]: row["R2"] for row in csv_rows}["cardboard"] == "0.948"


def test_data_show(builtin_table):
    result = run("data", "show", "electricity, grid, JP", "--format", "json")
    assert result.exit_code == 0, result.output
    details = json.loads(result.stdout)
    assert details["unit"] == "kilowatt hour"
    assert details["source"]["licence"]
    assert set(details["pedigree"]) == {
        "reliability",
        "completeness",
        "temporal",
        "geographical",
        "technological",
    }
    flows = {e["name"]: e["amount"] for e in details["exchanges"] if e["type"] == "biosphere"}
    assert flows["Carbon dioxide, fossil"] == pytest.approx(0.423, rel=1e-6)
    text = run("data", "show", "transport, lorry").stdout
    assert "pedigree:" in text and "IPCC 2021 GWP100:" in text
    missing = run("data", "show", "transport, hovercraft")
    assert missing.exit_code == 2 and "no activity matches" in missing.stderr


def test_calc_mc_json_and_samples(builtin_table, tmp_path):
    samples = tmp_path / "samples.parquet"
    result = run(
        "calc", PET, "--mc", "500", "--seed", "3", "--format", "json", "--samples", str(samples)
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    mc = document["mc"]
    assert {"n", "seed", "mean", "median", "sd", "p2_5", "p97_5"} <= set(mc)
    assert mc["n"] == 500 and mc["seed"] == 3
    assert mc["p2_5"] < mc["median"] < mc["p97_5"]
    assert mc["deterministic"] == pytest.approx(document["total_kg_co2e"], rel=1e-12)
    import pyarrow.parquet as pq

    assert pq.read_table(samples).num_rows == 500
    again = json.loads(run("calc", PET, "--mc", "500", "--seed", "3", "--format", "json").stdout)
    assert again["mc"] == mc  # the same seed gives the same statistics
    table = run("calc", PET, "--mc", "200", "--seed", "1")
    assert table.exit_code == 0 and "median" in table.stdout


def test_compare_mc_probability_and_plot(builtin_table, tmp_path):
    plot = tmp_path / "mc.png"
    result = run(
        "compare", PET, "--mc", "400", "--seed", "5", "--format", "json", "--plot", str(plot)
    )
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    assert documents[0]["variant"] is None and "p_lower_than_base" not in documents[0]
    rpet = next(d for d in documents if d["variant"] == "rpet-100")
    assert rpet["p_lower_than_base"] == 1.0  # strictly less recycled-content burden, paired
    virgin = next(d for d in documents if d["variant"] == "virgin")
    assert virgin["p_lower_than_base"] == 0.0
    assert plot.stat().st_size > 10_000


def test_mc_errors(builtin_table):
    assert run("calc", PET, "--samples", "x.parquet").exit_code == 2
    bad = run("calc", PET, "--mc", "0")
    assert bad.exit_code == 2


def test_the_cli_shows_the_logs_and_leaves_logging_as_it_found_it(caplog, monkeypatch):
    logger = logging.getLogger("cfp_engine")
    caplog.set_level("INFO", logger="cfp_engine")
    before = (list(logger.handlers), logger.level, logger.propagate)

    def status(**options):
        logging.getLogger("cfp_engine.probe").info("probe message")

    monkeypatch.setattr(cli.commands["data"].commands["status"], "callback", status)
    result = run("data", "status")
    assert result.exit_code == 0, result.output
    assert result.stderr == "probe message\n"  # the CLI's handler, on the command's stderr
    assert [r.getMessage() for r in caplog.records] == ["probe message"]  # and the caller's
    assert (list(logger.handlers), logger.level, logger.propagate) == before


def test_parameter_errors_are_given_the_flag_of_the_parameter():
    from cfp_engine.cli._base import parameter_errors_as_flags
    from cfp_engine.errors import SpecError

    flags = {"chunk_rows": "--chunk-size"}
    with (
        pytest.raises(SpecError, match="^--chunk-size: must be at least 1$"),
        parameter_errors_as_flags(flags),
    ):
        raise SpecError("chunk_rows: must be at least 1")
    # another parameter, or a message that starts with a path, passes unchanged
    for message in ("workers: must be at least 1", "/tmp/chunk_rows: no such file"):
        with pytest.raises(SpecError, match=f"^{message}$"), parameter_errors_as_flags(flags):
            raise SpecError(message)
