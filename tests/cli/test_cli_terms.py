"""The library names its parameters; the CLI names its options (``cli._base.in_cli_terms``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cfp_engine.cli._base import in_cli_terms
from cfp_engine.errors import SpecError

SRC = Path(__file__).resolve().parents[2] / "src" / "cfp_engine"


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        ("name='x y': control characters", "--name 'x y': control characters"),
        ("name: 300 characters", "--name: 300 characters"),
        ("or leave them out with skip_invalid=True", "or leave them out with --skip-invalid"),
        ("with allocation=NAME, a property", "with --allocation NAME, a property"),
        ("map them with flow_map=FILE.csv (columns", "map them with --flow-map FILE.csv (columns"),
        ("label.company_ids (or the company_ids fact)", "label.company_ids (or --company-id)"),
        ("try approach='cut-off')", "try --approach 'cut-off')"),
        # not a parameter: left alone
        ("s.yaml: components[0].name: expected text", "s.yaml: components[0].name: expected text"),
        ("/data/format=3/file.csv: no such file", "/data/format=3/file.csv: no such file"),
        ("database_name=x", "database_name=x"),
        ("JSON-LD carries the allocation factors", "JSON-LD carries the allocation factors"),
        ("with name=", "with --name "),
    ],
)  # fmt: skip
def test_library_parameters_become_options(library, cli):
    assert in_cli_terms(library) == cli


def _messages(tree: ast.AST):
    """String constants of a module that are not docstrings (the texts it may show)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def test_no_library_message_names_an_option():
    """Outside ``cli/``, no text the library raises or returns names a ``cfp`` option.

    Any ``--word`` counts, not only the options of ``cli._base.OPTIONS``: the CLI's own
    vocabulary stays in ``cli/``."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.relative_to(SRC).parts[0] == "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _messages(tree):
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", text):
                found.append(f"{path.relative_to(SRC)}:{line}: {option} in {text!r}")
    assert found == []


def test_a_command_error_names_the_option(tmp_path):
    """End to end: the library's ``the company_name fact`` reaches the user as the option."""
    from click.testing import CliRunner

    from cfp_engine.cli import cli

    spec = tmp_path / "s.yaml"
    spec.write_text(
        "product: {id: p, name: P, declared_unit: 1 piece}\n"
        "components: [{id: c, material: PET, mass: 1 g}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["label", str(spec), "--format", "pact"])
    assert result.exit_code == SpecError.exit_code
    assert "label.company_name (or --company-name)" in result.stderr
    assert "fact" not in result.stderr
