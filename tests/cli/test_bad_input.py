"""Every command and option that takes a path or a value, with the same families of bad
input: exit 2, one ``Error:`` line naming the input, nothing on
standard output and no file left behind. The corpus is generated here, never stored.

Families, inputs: missing, folder, empty path, empty file, binary, unreadable. Outputs:
folder, missing parent folder, parent that is a file, empty path, read-only folder.
Values: not a number, non-finite, huge, out of range, control and bidi characters.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import escape_controls, quote_input
from cfp_engine.files.checks import MAX_DOCUMENT_BYTES

from conftest import EXAMPLES

PET = str(EXAMPLES / "pet-bottle.yaml")
FACTS = [
    "--company-name",
    "Example Co",
    "--company-id",
    "urn:uuid:00000000-0000-4000-8000-000000000001",
    "--product-id",
    "urn:uuid:00000000-0000-4000-8000-000000000002",
    "--reference-period",
    "2025-01-01:2025-12-31",
    "--created",
    "2026-01-01T00:00:00Z",
]

# (name, command with "{}" where the bad path goes, suffix the file would have)
INPUT_SLOTS = [
    ("calc SPEC", ["calc", "{}"], ".yaml"),
    ("calc --inventory", ["calc", PET, "--inventory", "{}"], ".csv"),
    ("calc --materials", ["calc", PET, "--materials", "{}"], ".csv"),
    ("compare SPEC", ["compare", PET, "{}"], ".yaml"),
    ("compare --materials", ["compare", PET, "--materials", "{}"], ".csv"),
    ("sweep SPEC", ["sweep", "{}", "--component", "body"], ".yaml"),
    ("sweep --materials", ["sweep", PET, "--component", "body", "--materials", "{}"], ".csv"),
    ("label SPEC", ["label", "{}"], ".yaml"),
    ("label --inventory", ["label", PET, *FACTS, "--inventory", "{}"], ".csv"),
    ("verify LABEL", ["verify", "{}", "--spec", PET], ".json"),
    ("verify --spec", ["verify", "{label}", "--spec", "{}"], ".yaml"),
    ("verify --materials", ["verify", "{label}", "--spec", PET, "--materials", "{}"], ".csv"),
    ("batch CATALOGUE", ["batch", "{}", "-o", "{out}"], ".csv"),
    ("batch --materials", ["batch", "{catalogue}", "-o", "{out}", "--materials", "{}"], ".csv"),
    ("data materials --materials", ["data", "materials", "--materials", "{}"], ".csv"),
    ("data show --inventory", ["data", "show", "x", "--inventory", "{}"], ".csv"),
    ("data import PATH", ["data", "import", "{}", "--format", "csv", "--name", "x"], ".csv"),
    ("publish LABEL", ["publish", "{}"], ".json"),
    ("publish --spec", ["publish", "--spec", "{}", *FACTS], ".yaml"),
    (
        "data import (pact) PATH",
        ["data", "import", "{}", "--format", "pact", "--name", "x"],
        ".json",
    ),
    (
        "pull --ca-file",
        ["pull", "https://127.0.0.1:9", "--name", "x", "--client-id", "i"]
        + ["--client-secret", "s", "--ca-file", "{}"],
        ".pem",
    ),
    (
        "data import --flow-map",
        ["data", "import", "{catalogue}", "--format", "csv", "--name", "x", "--flow-map", "{}"],
        ".csv",
    ),
]

# (name, command with "{}" where the output path goes, suffix)
OUTPUT_SLOTS = [
    ("calc --samples", ["calc", PET, "--mc", "2", "--samples", "{}"], ".parquet"),
    ("compare --plot", ["compare", PET, "--mc", "2", "--plot", "{}"], ".png"),
    ("sweep --plot", ["sweep", PET, "--component", "body", "--plot", "{}"], ".png"),
    ("label -o", ["label", PET, *FACTS, "-o", "{}"], ".json"),
    ("batch -o", ["batch", "{catalogue}", "-o", "{}"], ".csv"),
]

INPUT_FAMILIES = ["missing", "folder", "empty path", "empty file", "binary", "unreadable", "huge"]
# Read whole into memory, so held to a size limit; inventories, catalogues and imports are
# streamed or read by bw2io and have their own limits.
SIZE_LIMITED = ("SPEC", "LABEL", "--spec", "--materials", "--flow-map")
OUTPUT_FAMILIES = ["folder", "missing parent", "parent is a file", "empty path", "read-only"]


def _unreadable(tmp_path: Path, suffix: str) -> Path:
    """A file that cannot be read; as root chmod 000 does not stop reads, so /proc/self/mem
    (a regular file whose first page is unmapped: reading it fails with EIO) stands in."""
    path = tmp_path / f"locked{suffix}"
    path.write_text("x\n")
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return path
    path.unlink()
    mem = Path("/proc/self/mem")
    try:
        with mem.open("rb") as handle:
            handle.read(1)
    except OSError:
        return mem
    pytest.skip("running as root with no unreadable file to stand in")


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder nothing can be written in: chmod 555, or (root) a read-only system folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if not os.access(folder, os.W_OK):
        return folder
    folder.chmod(0o755)
    folder.rmdir()
    for candidate in (Path("/sys"), Path("/proc/self")):
        try:
            (candidate / ".cfp-probe").touch()
        except OSError:
            return candidate
    pytest.skip("running as root with no read-only folder to stand in")


def _bad_input(tmp_path: Path, family: str, suffix: str) -> tuple[str, str]:
    """The bad path and the text the error line must contain to name it."""
    if family == "missing":
        return str(tmp_path / f"missing{suffix}"), f"missing{suffix}"
    if family == "folder":
        folder = tmp_path / "a-folder"
        folder.mkdir()
        return str(folder), "a-folder"
    if family == "empty path":
        return "", ""
    if family == "empty file":
        path = tmp_path / f"empty{suffix}"
        path.write_bytes(b"")
        return str(path), path.name
    if family == "binary":
        path = tmp_path / f"binary{suffix}"
        path.write_bytes(bytes(range(256)) * 8)
        return str(path), path.name
    if family == "huge":  # sparse: no disk used, but larger than the limit
        path = tmp_path / f"huge{suffix}"
        with path.open("wb") as handle:
            handle.truncate(MAX_DOCUMENT_BYTES + 1)
        return str(path), path.name
    path = _unreadable(tmp_path, suffix)
    return str(path), path.name


def _bad_output(tmp_path: Path, family: str, suffix: str) -> tuple[str, str]:
    if family == "folder":
        folder = tmp_path / f"out{suffix}"
        folder.mkdir()
        return str(folder), folder.name
    if family == "missing parent":
        return str(tmp_path / "no-such-folder" / f"out{suffix}"), "no-such-folder"
    if family == "parent is a file":
        (tmp_path / "a-file").write_text("x\n")
        return str(tmp_path / "a-file" / f"out{suffix}"), "a-file"
    if family == "empty path":
        return "", ""
    folder = _read_only_folder(tmp_path)
    return str(folder / f"out{suffix}"), f"out{suffix}"


@pytest.fixture(scope="module")
def pet_label(tmp_path_factory, builtin_table) -> str:
    """A PACT label of the PET bottle, written by ``cfp label``."""
    path = tmp_path_factory.mktemp("label") / "pet-label.json"
    result = CliRunner().invoke(cli, ["label", PET, *FACTS, "-o", str(path)])
    assert result.exit_code == 0, result.stderr
    return str(path)


def _fill(command, bad, tmp_path, label):
    catalogue = tmp_path / "given-catalogue.csv"
    catalogue.write_text(
        "product_id,stage,item,ref,amount,unit,recycled_content\n"
        "p1,materials,a,cfp-builtin::x,1,kg,0\n"
    )
    names = {
        "{}": bad,
        "{label}": label,
        "{catalogue}": str(catalogue),
        "{out}": str(tmp_path / "scores.csv"),
    }
    return [names.get(part, part) for part in command]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _assert_clean_refusal(result, named: str, option: str, before: set[str], tmp_path: Path):
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "internal error" not in errors[0]
    if named:
        assert named in errors[0], errors[0]
    else:  # an empty path: the option is named instead
        assert option in errors[0], errors[0]
    assert _files(tmp_path) == before  # nothing written: no OUT.work, no partial file


INPUT_CASES = [
    pytest.param(slot, command, suffix, family, id=f"{slot}-{family}")
    for slot, command, suffix in INPUT_SLOTS
    for family in INPUT_FAMILIES
    if family != "huge" or slot.split()[-1] in SIZE_LIMITED
]


@pytest.mark.parametrize(("slot", "command", "suffix", "family"), INPUT_CASES)
def test_a_bad_input_path_is_exit_2_naming_it(
    tmp_path, monkeypatch, pet_label, slot, command, suffix, family
):
    monkeypatch.chdir(tmp_path)
    bad, named = _bad_input(tmp_path, family, suffix)
    args = _fill(command, bad, tmp_path, pet_label)
    before = _files(tmp_path)
    result = CliRunner().invoke(cli, args)
    option = slot.split()[-1]  # "SPEC", "--materials", ...
    _assert_clean_refusal(result, named, option, before, tmp_path)


@pytest.mark.parametrize("family", OUTPUT_FAMILIES)
@pytest.mark.parametrize(
    ("slot", "command", "suffix"), OUTPUT_SLOTS, ids=[s[0] for s in OUTPUT_SLOTS]
)
def test_a_bad_output_path_is_exit_2_before_any_work(
    tmp_path, monkeypatch, pet_label, slot, command, suffix, family
):
    monkeypatch.chdir(tmp_path)
    bad, named = _bad_output(tmp_path, family, suffix)
    args = _fill(command, bad, tmp_path, pet_label)
    before = _files(tmp_path)
    result = CliRunner().invoke(cli, args)
    option = "--output" if slot.endswith(" -o") else slot.split()[-1]
    _assert_clean_refusal(result, named, option, before, tmp_path)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["calc", PET, "--mc", "nan"], "--mc"),
        (["calc", PET, "--mc", "1e400"], "--mc"),
        (["calc", PET, "--seed", "-1"], "--seed"),
        (["calc", PET, "--workers", "0"], "--workers"),
        (["sweep", PET, "--component", "body", "--target", "nan"], "--target"),
        (["sweep", PET, "--component", "body", "--target", "1e400%"], "--target"),
        (["sweep", PET, "--component", "body", "--recycled-content", "0:nan:10"], "0:nan:10"),
        (["sweep", PET, "--component", "body", "--recycled-content", "0:1e400:10"], "1e400"),
        (["sweep", PET, "--component", "body", "--recycled-content", "0:100:0"], "0:100:0"),
        (["batch", "{catalogue}", "-o", "{out}", "--chunk-size", "0"], "--chunk-size"),
        (["batch", "{catalogue}", "-o", "{out}", "--workers", "0"], "--workers"),
        (["batch", "{catalogue}", "-o", "{out}", "--work-dir", "{catalogue}"], "--work-dir"),
        (["label", PET, "--created", "garbage"], "--created"),
        (["verify", "{label}", "--spec", PET, "--schema-dir", "{catalogue}"], "--schema-dir"),
        (["verify", "{label}", "--spec", PET, "--schema-dir", "no-such-dir"], "--schema-dir"),
        (["calc", PET, "--method", "nonsense\u202e"], "nonsense\\u202e"),
        (["calc", PET, "--variant", "nope\nError: forged"], "nope\\nError: forged"),
        (["calc", "evil\u202e\nError: forged.yaml"], "SPEC 'evil\\u202e'..."),
        (["compare", PET, "--mc", "2", "--plot", "plot.svg"], "--plot"),
    ],
)
def test_a_bad_value_is_exit_2_naming_it(tmp_path, monkeypatch, pet_label, args, named):
    monkeypatch.chdir(tmp_path)
    args = _fill(args, "", tmp_path, pet_label)
    before = _files(tmp_path)
    result = CliRunner().invoke(cli, args)
    _assert_clean_refusal(result, named, named, before, tmp_path)
    assert "\u202e" not in result.stderr


def test_quoted_input_is_one_escaped_line():
    assert quote_input("a\u202eb\nsecond line") == "'a\\u202eb'..."
    assert quote_input("x" * 500, limit=10) == "'xxxxxxxxxx'..."
    assert quote_input("plain.csv") == "'plain.csv'"
    assert escape_controls("tab\there\x1b[31m") == "tab\\x09here\\x1b[31m"
    assert escape_controls("two\nlines\u2066", keep_newlines=True) == "two\nlines\\u2066"


def _spec_on(tmp_path: Path, database: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "product: {id: t, name: T, declared_unit: 1 piece}\n"
        f'components: [{{id: shell, virgin: "{database}::hand heat", mass: 1 g}}]\n',
        encoding="utf-8",
    )
    return spec


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("duplicate code", r"'hand electricity' and 'hand, electricity' have the same code"),
        ("nan amount", r"'Carbon dioxide, fossil' has the amount 'nan'"),
        ("infinite amount", r"'Carbon dioxide, fossil' has the amount 'inf'"),
        ("singular", r"technosphere matrix is singular.*consumes as much of its own product"),
    ],
)
def test_a_broken_inventory_is_exit_2_naming_the_file(tmp_path, builtin_table, case, message):
    import re

    from make_inventories import ACTIVITIES, write_inventory_csv

    activities = dict(ACTIVITIES)
    if case == "duplicate code":  # both become the code "hand-electricity"
        activities["hand, electricity"] = ACTIVITIES["hand electricity"]
    elif case == "singular":  # makes 1 MJ and consumes 1 MJ of itself: (1 - 1) = 0
        activities["hand heat"] = (
            "megajoule",
            "GLO",
            [("hand heat", 1.0, "megajoule", "technosphere", "GLO")],
        )
    else:
        amount = float("nan") if case == "nan amount" else float("inf")
        emission = ("Carbon dioxide, fossil", amount, "kilogram", "biosphere", "air")
        activities["hand heat"] = ("megajoule", "GLO", [emission])
    database = "bad" + case.replace(" ", "")
    inventory = write_inventory_csv(tmp_path / f"{database}.csv", activities, database)
    spec = _spec_on(tmp_path, database)
    before = _files(tmp_path)
    result = CliRunner().invoke(cli, ["calc", str(spec), "--inventory", str(inventory)])
    _assert_clean_refusal(result, inventory.name, "--inventory", before, tmp_path)
    assert re.search(message, result.stderr), result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]\n", r"label\.json: a label is a JSON object, not list"),
        ("null\n", r"label\.json: a label is a JSON object, not NoneType"),
        ('{"specVersion": "9.9"}\n', r"label\.json: neither a PACT ProductFootprint"),
    ],
)
def test_a_label_of_the_wrong_shape_is_exit_2_naming_the_file(
    tmp_path, builtin_table, text, message
):
    import re

    label = tmp_path / "label.json"
    label.write_text(text, encoding="utf-8")
    before = _files(tmp_path)
    result = CliRunner().invoke(cli, ["verify", str(label), "--spec", PET])
    _assert_clean_refusal(result, "label.json", "LABEL", before, tmp_path)
    assert re.search(message, result.stderr), result.stderr
