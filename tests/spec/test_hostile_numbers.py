"""Issue 13: no silent wrong number, bounded parsing.

A generated corpus of hostile inputs (functions write the files; no bombs are stored):
decimal commas, thousand separators, second numbers, power towers, non-finite and
overflowing amounts, duplicate keys, alias bombs, deep nesting, control and
bidirectional-override characters. Each case runs the command line and asserts exit 2
with one ``Error:`` line and the expected message, or the correct number.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cfp_engine.cli import cli
from cfp_engine.errors import CalculationError, SpecError, UnitError, quote_input
from cfp_engine.paths import inventories_dir
from cfp_engine.spec.documents import dump_json, has_non_finite, iter_dump_json
from cfp_engine.spec.materials import load_materials_table
from cfp_engine.spec.units import parse_quantity, parse_share

BASE_SPEC = """\
product: {{id: p, name: P, declared_unit: 1 piece, geography: JP}}
components:
  - id: body
    material: PET
    mass: {mass}
stages:
  production:
    - {{activity: "electricity, grid, JP", amount: {energy}}}
"""


def _spec(tmp_path, *, mass="23 g", energy="0.015 kWh", name="spec.yaml"):
    path = tmp_path / name
    path.write_text(BASE_SPEC.format(mass=json.dumps(mass), energy=json.dumps(energy)), "utf-8")
    return path


def _calc(*args):
    return CliRunner().invoke(cli, ["calc", *map(str, args), "--format", "json"])


def _assert_refused(result, pattern):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(pattern, result.stderr), result.stderr


# -- quantities in specs: one number and one unit -------------------------------------------

QUANTITY_CASES = [
    # (field, text, message)   decimal commas: once read as 0, 0, 15 g and 225 kg
    ("energy", "0,015 kWh", r"'0,015 kWh' has a comma or separator in the number"),
    ("mass", "0,5 kg", r"'0,5 kg' has a comma"),
    ("mass", "1,5 g", r"'1,5 g' has a comma"),
    ("mass", "2,25 kg", r"'2,25 kg' has a comma"),
    # thousand separators
    ("mass", "1,000 g", r"'1,000 g' has a comma"),
    ("mass", "1 000 g", r"'1 000 g' has a second number '000'"),
    ("mass", "1_000 g", r"'1_000 g' has a comma or separator"),
    ("mass", "1'000 g", r"has a comma or separator"),
    # trailing garbage: once read as 2 g
    ("mass", "1 g 2", r"'1 g 2' has a second number '2'"),
    ("energy", "1 kWh 3", r"has a second number '3'"),
    # uncertainty: the spread follows the same rules
    ("mass", "23 g ± 5,5 %", r"± '5,5 %' is not a percentage; write e\.g\. '5 %'"),
    ("mass", "23 g ± 1,5 g", r"'1,5 g' has a comma"),
    ("mass", "23 g ± 1 g 2", r"'1 g 2' has a second number"),
    # a product of quantities needs a unit on every number, and only '*'
    ("energy", "1 kWh * 2", r"the unit is incomplete"),
    ("energy", "1 kWh * 2 * 3 h", r"each number needs its unit"),
    ("energy", "1 kWh / 2 h", r"has a second number '2'"),
    # power towers (pint evaluated them: a hang) and unbounded exponents
    ("mass", "10**10**10 kg", r"powers of numbers are not accepted"),
    ("mass", "9**9**9 g", r"powers of numbers are not accepted"),
    ("mass", "2^1000 kg", r"powers of numbers are not accepted"),
    ("mass", "1 kg**2**3", r"a power of a power is not accepted"),
    ("mass", "1 kg**9999999", r"exponents of units are limited to -4..4"),
    # not finite
    ("mass", "1e400 kg", r"'1e400 kg' is not a finite number"),
    ("mass", "inf kg", r"does not start with a number"),
    ("mass", "nan kg", r"does not start with a number"),
    ("mass", "kg", r"does not start with a number"),
]


@pytest.mark.parametrize(("field", "text", "message"), QUANTITY_CASES)
def test_a_hostile_quantity_is_refused_with_the_accepted_form(
    builtin_table, tmp_path, field, text, message
):
    spec = _spec(tmp_path, **{field: text})
    result = _calc(spec)
    _assert_refused(result, rf"spec\.yaml: .*{message}")
    if "power" not in message and "exponent" not in message:
        assert "write" in result.stderr  # shows the accepted form


def test_the_plain_forms_still_give_the_hand_calculated_numbers(builtin_table, tmp_path):
    """23 g written four ways is the same footprint; 0.023 kg doubles when doubled."""
    totals = []
    for mass in ("23 g", "0.023 kg", "2.3e1 g", "23g", "46 g"):
        result = _calc(_spec(tmp_path, mass=mass))
        assert result.exit_code == 0, result.output
        totals.append(json.loads(result.stdout)["components_kg_co2e"]["body"])
    assert totals[1:4] == [pytest.approx(totals[0], rel=1e-12)] * 3
    assert totals[4] == pytest.approx(2 * totals[0], rel=1e-12)


@pytest.mark.parametrize(
    ("text", "kg_km"),
    [("0.25 kg * 3000 km", 750.0), ("750 kg*km", 750.0), ("0.75 t * 1 km", 750.0)],
)
def test_a_product_of_quantities_is_its_hand_calculated_value(text, kg_km):
    quantity = parse_quantity(text, where="w")
    assert quantity.to("kilogram * kilometer").magnitude == pytest.approx(kg_km, rel=1e-12)


def test_an_overflowing_mass_is_an_error_not_infinity(builtin_table, tmp_path):
    result = _calc(_spec(tmp_path, mass="1e308 kg"))
    _assert_refused(result, r"component 'body' \(mass 1e\+308 kg\).*not a finite number")
    assert "Infinity" not in result.output and "NaN" not in result.output
    assert "RuntimeWarning" not in result.stderr


def test_an_overflowing_cff_ratio_is_an_error_naming_the_component(builtin_table, tmp_path):
    lines = (inventories_dir() / "materials.csv").read_text(encoding="utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]]))
    pet = next(r for r in csv.DictReader(lines) if r["material"].lower() == "pet")
    pet.update(Qsin_Qp="1e308", material="hostile-pet")
    table = tmp_path / "materials.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(pet)
    table.write_text(buffer.getvalue(), encoding="utf-8")
    spec = _spec(tmp_path, mass="1000 kg")
    spec.write_text(
        spec.read_text("utf-8").replace(
            "material: PET", "material: hostile-pet\n    recycled_content: 50 %"
        )
        + "approach: cff\n",
        "utf-8",
    )
    result = _calc(spec, "--materials", table)
    _assert_refused(result, r"component 'body' .*not a finite number")


# -- Monte Carlo: distributions that draw non-finite or overflowing footprints ------------

MC_SPEC = """\
product: {{id: p, name: P, declared_unit: 1 piece, geography: JP}}
components:
  - id: body
    material: PET
    mass: {mass}
stages:
  production:
    - {{activity: "electricity, grid, JP", amount: {energy}}}
variants:
  light: {{components: {{body: {{mass: 20 g}}}}}}
"""

PET_VIRGIN = r"'cfp-builtin::PET, virgin::GB'"
MC_CASES = [
    # A GSD of 1e300 draws exp(690.8 z): inf for z > 1.03, about one draw in six.
    (
        "{amount: 23 g, distribution: lognormal, gsd: 1.0e+300}",
        "0.015 kWh",
        r"components\[0\]\.mass: its lognormal\(GSD 1e\+300\) distribution draws inf in "
        r"Monte Carlo iteration \d+, not a finite number",
    ),
    (
        "23 g",
        "{amount: 0.015 kWh, distribution: lognormal, gsd: 1.0e+300}",
        r"stages\.production\[0\]\.amount: its lognormal\(GSD 1e\+300\) distribution draws inf",
    ),
    # Finite draws up to 1.7e308 kg, but times PET's kg CO2e per kg: inf.
    (
        "{amount: 1 kg, distribution: uniform, min: 0 kg, max: 1.7e308 kg}",
        "0.015 kWh",
        rf"components\[0\]\.mass \(uniform\(0-1\.7e\+308\)\) with {PET_VIRGIN} gives Monte "
        r"Carlo footprints that are not finite numbers",
    ),
    # Finite footprints of ~3e307 kg CO2e: the deterministic figure is finite, but the sum
    # of 1000 samples behind their mean is not.
    (
        '"1e307 kg ± 5 %"',
        "0.015 kWh",
        rf"components\[0\]\.mass \(normal\(sd 5e\+305\)\) with {PET_VIRGIN} gives Monte Carlo "
        r"footprints up to \d\.\d+e\+307 kg CO2e, too large for the sum, mean and sd of the "
        r"raw_materials stage to be finite numbers",
    ),
    # 1e200 kg: every footprint and the mean are finite, the squares behind the sd are not.
    (
        '"1e200 kg ± 5 %"',
        "0.015 kWh",
        r"components\[0\]\.mass \(normal\(sd 5e\+198\)\) .* up to \d\.\d+e\+200 kg CO2e",
    ),
]


@pytest.mark.parametrize(("mass", "energy", "message"), MC_CASES)
@pytest.mark.parametrize("command", ["calc", "compare"])
def test_a_monte_carlo_run_that_overflows_names_the_input(
    builtin_table, tmp_path, mass, energy, message, command
):
    spec = tmp_path / "spec.yaml"
    spec.write_text(MC_SPEC.format(mass=mass, energy=energy), "utf-8")
    args = [command, str(spec), "--mc", "1000", "--seed", "1", "--format", "json"]
    if command == "calc":
        args += ["--samples", str(tmp_path / "s.parquet")]
    result = CliRunner().invoke(cli, args)
    _assert_refused(result, rf"^Error: .*spec\.yaml: {message}.*; check the amount")
    assert "RuntimeWarning" not in result.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_a_spread_that_stays_finite_is_still_sampled(builtin_table, tmp_path):
    """1e100 kg +- 5 %: huge but finite; the median is the deterministic figure within 1 %."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(MC_SPEC.format(mass='"1e100 kg ± 5 %"', energy="0.015 kWh"), "utf-8")
    result = CliRunner().invoke(cli, ["calc", str(spec), "--mc", "1000", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["mc"]["median"] == pytest.approx(document["total_kg_co2e"], rel=0.01)


# -- JSON output: a figure that is not finite is an error, never Infinity or NaN -----------


def test_dump_json_names_the_first_figure_that_is_not_finite():
    document = {"total": 1.0, "mc": {"stages": {"use": {"sd": math.inf}}}, "n": [math.nan]}
    with pytest.raises(
        CalculationError,
        match=r"^out\.json: mc\.stages\.use\.sd is inf, not a finite number; nothing was "
        r"written \(JSON has no Infinity or NaN\)",
    ):
        dump_json(document, what="out.json")
    with pytest.raises(CalculationError, match=r"^out\.json: \[1\]\.x is nan, not a finite"):
        dump_json([{"x": 1.0}, {"x": -math.nan}], what="out.json")
    with pytest.raises(CalculationError, match=r"^out\.json: the value is -inf, not a finite"):
        dump_json(-math.inf, what="out.json")


def test_dump_json_writes_finite_documents_as_json_dumps_does():
    document = {"a": [1.5, None, "\u00e9", {"b": 1e308}], "c": True}
    for options in ({}, {"indent": 2, "ensure_ascii": False}):
        assert dump_json(document, what="w", **options) == json.dumps(document, **options)


def test_iter_dump_json_checks_every_figure_before_the_first_piece():
    document = {"total": 1.0, "line_items": [{"amount": 2.0}] * 3 + [{"amount": math.inf}]}
    pieces = iter_dump_json(document, what="out.json")
    with pytest.raises(CalculationError, match=r"^out\.json: line_items\[3\]\.amount is inf"):
        next(pieces)
    finite = {"total": 1.0, "line_items": [{"amount": 2.0, "unit": "kg"}] * 3}
    text = "".join(iter_dump_json(finite, what="out.json", indent=2, ensure_ascii=False))
    assert text == json.dumps(finite, indent=2, ensure_ascii=False)


def test_dump_json_leaves_a_circular_reference_a_bug():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):  # not a CfpError: exit 70
        dump_json(loop, what="w")


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["calc", "{spec}", "--format", "json"], "total_kg_co2e"),
        (["compare", "{spec}", "--format", "json"], r"\[0\]\.total_kg_co2e"),
    ],
)
def test_a_figure_past_the_result_check_is_exit_2_not_invalid_json(
    builtin_table, tmp_path, monkeypatch, command, path
):
    """With the first defence (results.check_finite) taken away, the JSON writer refuses."""
    from cfp_engine.engine import footprint as core

    monkeypatch.setattr(core, "check_finite", lambda result, *, source: result)
    spec = _spec(tmp_path, mass="1e308 kg")  # x ~3 kg CO2e per kg of PET: inf
    result = CliRunner().invoke(cli, [str(spec) if a == "{spec}" else a for a in command])
    _assert_refused(result, rf"^Error: .*spec\.yaml: {path} is inf, not a finite number")


# -- duplicate keys, bombs, depth ---------------------------------------------------------


def test_a_duplicate_key_in_a_yaml_spec_is_an_error_with_its_line(builtin_table, tmp_path):
    spec = _spec(tmp_path)
    text = spec.read_text("utf-8").replace('mass: "23 g"', "mass: 23 g\n    mass: 2300 g")
    spec.write_text(text, "utf-8")
    result = _calc(spec)
    _assert_refused(result, r"spec\.yaml:6: duplicate key 'mass' \(first on line 5\)")


def test_a_duplicate_key_in_a_json_spec_is_an_error_with_its_line(builtin_table, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(
        '{"product": {"id": "p", "name": "P", "declared_unit": "1 piece"},\n'
        ' "components": [{"id": "body", "material": "PET",\n'
        '   "mass": "23 g",\n'
        '   "mass": "2300 g"}]}\n',
        "utf-8",
    )
    result = _calc(spec)
    _assert_refused(result, r"spec\.json:4: duplicate key 'mass'")


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    from cfp_engine.spec.product import yaml_load

    assert yaml_load("b: &b {x: 1, y: 2}\nv:\n  <<: *b\n  x: 3\n")["v"] == {"x": 3, "y": 2}


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_small_and_fast(builtin_table, tmp_path):
    spec = tmp_path / "bomb.yaml"
    spec.write_text(_alias_bomb(), "utf-8")  # 9^10 = 3.5e9 strings once expanded
    assert spec.stat().st_size < 1000
    result = _calc(spec)
    _assert_refused(result, r"bomb\.yaml:\d+: expands to more than 1,000,000 values")


def test_a_self_referencing_yaml_alias_is_refused(builtin_table, tmp_path):
    spec = tmp_path / "loop.yaml"
    spec.write_text("product: &p {id: p, self: *p}\n", "utf-8")
    _assert_refused(_calc(spec), r"loop\.yaml:1: an alias refers to a node that contains it")


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_an_error_not_recursion(builtin_table, tmp_path, depth):
    spec = tmp_path / "deep.json"
    spec.write_text('{"product": ' + "[" * depth + "]" * depth + "}", "utf-8")
    _assert_refused(_calc(spec), r"deep\.json:1: nested more than 64 levels deep")


def test_nan_and_infinity_in_a_json_spec_are_refused(builtin_table, tmp_path):
    spec = tmp_path / "nan.json"
    spec.write_text(
        '{"product": {"id": "p", "name": "P", "declared_unit": "1 piece"},\n'
        ' "components": [{"id": "b", "material": "PET", "mass": "1 g",\n'
        '   "cff": {"A": NaN}}]}\n',
        "utf-8",
    )
    _assert_refused(_calc(spec), r"nan\.json:3: NaN is not a JSON number")


@pytest.mark.parametrize("value", [".inf", ".nan"])
def test_a_non_finite_cff_ratio_in_yaml_is_refused(builtin_table, tmp_path, value):
    spec = _spec(tmp_path)
    text = spec.read_text("utf-8").replace(
        "    mass:", f"    recycled_content: 30 %\n    cff: {{Qsin_Qp: {value}}}\n    mass:"
    )
    spec.write_text(text, "utf-8")
    _assert_refused(_calc(spec, "--approach", "cff"), r"Qsin_Qp = (inf|nan) must be > 0 and finite")


def test_json_nested_64_levels_is_read(tmp_path):
    from cfp_engine.spec.documents import load_json

    expected: list = []
    for _ in range(63):
        expected = [expected]
    assert load_json("[" * 64 + "]" * 64) == expected


def test_deeply_nested_yaml_is_an_error(builtin_table, tmp_path):
    spec = tmp_path / "deep.yaml"
    spec.write_text("product: " + "[" * 100 + "]" * 100 + "\n", "utf-8")
    _assert_refused(_calc(spec), r"deep\.yaml:1: nested more than 64 levels deep")


# -- what messages echo -------------------------------------------------------------------


def test_messages_escape_control_and_bidi_characters(builtin_table, tmp_path):
    hostile = "1 \u202ekg\x1b[31m"
    result = _calc(_spec(tmp_path, mass=hostile))
    _assert_refused(result, r"\\u202e")
    assert "\u202e" not in result.stderr and "\x1b" not in result.stderr


def test_messages_echo_at_most_one_line_of_the_input(builtin_table, tmp_path):
    result = _calc(_spec(tmp_path, mass="1 g\n" + "2 kg\n" * 1000))
    _assert_refused(result, r"'1 g'\.\.\.")
    assert len(result.stderr) < 400


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("kg", "'kg'"),
        ("a\nb", "'a'..."),
        ("\u2066x\u2069", "'\\u2066x\\u2069'"),
        ("x" * 100, "'" + "x" * 80 + "'..."),
        ("tab\there", "'tab\\there'"),
    ],
)
def test_quote_input(text, shown):
    assert quote_input(text) == shown


# -- shares and materials tables ----------------------------------------------------------


@pytest.mark.parametrize("text", ["0,3", "30,5 %", "0.1_5", "1_0 %", "nan", "inf %", "3O %"])
def test_a_share_that_is_not_one_plain_number_is_refused(text):
    with pytest.raises(UnitError, match=r"is not a share; write e\.g\. '30 %'"):
        parse_share(text, where="spec.yaml: components[0].recycled_content")


def test_a_materials_table_with_a_decimal_comma_is_refused(tmp_path):
    table = tmp_path / "m.csv"
    lines = (inventories_dir() / "materials.csv").read_text(encoding="utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]]))
    row = next(csv.DictReader(lines))
    row["A"] = "0,5"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    table.write_text(buffer.getvalue(), encoding="utf-8")
    with pytest.raises(SpecError, match=r"column A: '0,5' is not a plain number; write"):
        load_materials_table(table)


# -- catalogues (cfp batch) ---------------------------------------------------------------

HEADER = ["product_id", "stage", "item", "ref", "amount", "unit", "recycled_content"]


def _catalogue(path, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_catalogue_hostile_rows_are_error_rows_and_good_ones_are_scored(builtin_table, tmp_path):
    rows = [
        ["unit2", "raw_materials", "c", "pet", "1", "kg 2", ""],
        ["comma", "raw_materials", "c", "pet", "0,5", "kg", ""],
        ["sep", "raw_materials", "c", "pet", "1,000", "g", ""],
        ["share", "raw_materials", "c", "pet", "1", "kg", "0,3"],
        ["tower", "raw_materials", "c", "pet", "1", "9**9**9 g", ""],
        ["big", "raw_materials", "c", "pet", "1e308", "kg", ""],
        ["big", "raw_materials", "d", "pet", "1e308", "kg", ""],
        ["one", "raw_materials", "c", "pet", "1", "kg", ""],
        ["thousand", "raw_materials", "c", "pet", "1000", "g", ""],
    ]
    source = _catalogue(tmp_path / "cat.csv", rows)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        got = {r["product_id"]: r for r in csv.DictReader(handle)}
    expected = {
        "unit2": r"line 2: unit: 'kg 2' has a second number '2'",
        "comma": r"line 3: amount: '0,5' is not a number; write a plain number such as 1\.5",
        "sep": r"line 4: amount: '1,000' is not a number; write a plain number",
        "share": r"line 5: recycled_content: '0,3' is not a share; write e\.g\.",
        "tower": r"line 6: unit: .*'9\*\*9\*\*9",
        "big": r"line 7: amount: '1e308' gives a footprint that is not a finite number",
    }
    for pid, message in expected.items():
        assert got[pid]["status"] == "error", pid
        assert re.search(message, got[pid]["error"]), got[pid]["error"]
        assert got[pid]["total_kg_co2e"] == ""
    assert got["one"]["status"] == got["thousand"]["status"] == "ok"
    assert float(got["thousand"]["total_kg_co2e"]) == pytest.approx(
        float(got["one"]["total_kg_co2e"]), rel=1e-12
    )
    assert "inf" not in out.read_text("utf-8").lower().replace("line", "")
    assert "nan" not in out.read_text("utf-8").lower()


def test_resume_refuses_an_input_changed_after_the_first_mib(builtin_table, tmp_path):
    """Same size, same modification time, one byte changed far into the file."""
    rows = [["one", "raw_materials", "c", "pet", "1", "kg", ""]]
    rows += [
        [f"p{i:07d}", "use", "", "electricity, grid, jp", "1", "kWh", ""] for i in range(40_000)
    ]
    source = _catalogue(tmp_path / "cat.csv", rows)
    assert source.stat().st_size > 1 << 20
    work = tmp_path / "w"
    from cfp_engine.batch.manifest import file_fingerprint, start_manifest

    options = {"o": 1}
    start_manifest(work, file_fingerprint(source), options, resume=False)
    stat = source.stat()
    data = bytearray(source.read_bytes())
    position = data.rindex(b"1,kWh")
    assert position > 1 << 20  # the old fingerprint hashed only the first MiB
    data[position] = ord("9")  # 1 kWh -> 9 kWh in the last row
    source.write_bytes(bytes(data))
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source.stat().st_size == stat.st_size
    with pytest.raises(SpecError, match="another input or other options"):
        start_manifest(work, file_fingerprint(source), options, resume=True)


# -- properties ---------------------------------------------------------------------------

UNITS = {"g": 1e-3, "kg": 1.0, "t": 1e3, "mg": 1e-6}


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.sampled_from(sorted(UNITS)),
)
def test_any_plain_number_and_unit_round_trips(value, unit):
    quantity = parse_quantity(f"{value!r} {unit}", where="w")
    assert quantity.magnitude == value
    assert quantity.to("kilogram").magnitude == pytest.approx(value * UNITS[unit], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"\A[0-9]{1,6}\Z"),
    st.from_regex(r"\A[0-9]{1,6}\Z"),
    st.sampled_from(["g", "kg", "kWh", "t*km"]),
    st.sampled_from(["", " "]),
)
def test_any_comma_between_digits_is_refused(whole, fraction, unit, space):
    with pytest.raises(UnitError, match="has a comma or separator in the number"):
        parse_quantity(f"{whole},{fraction}{space}{unit}", where="w")


@pytest.mark.parametrize(
    ("document", "found"),
    [
        ({"a": [1.0, {"b": (2.0, "x", None, True, 3)}]}, False),
        ({"a": [1.0, {"b": (2.0, float("nan"))}]}, True),
        ({"components": [{"mass_kg": 1.0}] * 3 + [{"mass_kg": -math.inf}]}, True),
        ({"ghg": {"fossil": np.float64(math.inf)}}, True),  # a float subclass
        ({"text": "inf", "count": 10**400}, False),  # no float in there
    ],
)
def test_non_finite_values_are_found_at_any_depth(document, found):
    assert has_non_finite(document) is found


def test_a_container_holding_itself_is_an_error_not_a_hang():
    document: dict = {"total": 1.0}
    document["self"] = document
    with pytest.raises(RecursionError, match="nested more than 1000 levels deep"):
        has_non_finite(document)


def test_components_and_line_items_are_checked_one_at_a_time():
    # check_finite walks iterators lazily: a non-finite value in the last one is found.
    made = []

    def parts():
        for i in range(5):
            made.append(i)
            yield {"amount": 1.0 if i < 4 else math.inf}

    assert has_non_finite({"total": 1.0, "line_items": parts()}) is True
    assert made == [0, 1, 2, 3, 4]
    assert has_non_finite({"line_items": iter([{"amount": 2.0}, [3.0]])}) is False
