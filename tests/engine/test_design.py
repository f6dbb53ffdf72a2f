"""cfp compare and cfp sweep: variants and approaches side by side, recycled-content sweeps."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.engine.scenarios import parse_percent_range, recycled_content_for_target
from cfp_engine.errors import SpecError
from cfp_engine.spec.product import load_spec

from conftest import EXAMPLES
from make_inventories import EXPECTED_PER_UNIT as E

PET = str(EXAMPLES / "pet-bottle.yaml")

BOX = """
product: {id: box, name: Widget box, declared_unit: 1 piece}
materials: [handmade-materials.csv]
inventories: [handmade.xlsx]
components:
  - {id: shell, material: widget, mass: 1 kg, recycled_content: 40 %}
variants:
  half: {components: {shell: {recycled_content: 50 %}}}
  none: {components: {shell: {recycled_content: 0 %}}}
"""


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_compare_json_is_base_then_variants(builtin_table):
    result = run("compare", PET, "--format", "json")
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    assert [d["variant"] for d in documents] == [None, "rpet-100", "virgin", "tepco-residual"]
    base = documents[0]["total_kg_co2e"]
    for document in documents:
        assert document["difference_to_base_kg_co2e"] == pytest.approx(
            document["total_kg_co2e"] - base, rel=1e-12, abs=1e-15
        )
        assert {"stages_kg_co2e", "recycled_content_share", "reduction_vs_virgin"} <= set(document)


def test_compare_all_approaches_and_csv(builtin_table):
    documents = json.loads(run("compare", PET, "--approach", "all", "--format", "json").stdout)
    assert [d["approach"] for d in documents] == ["cut-off"] * 4 + ["avoided-burden"] * 4 + [
        "cff"
    ] * 4
    rows = list(csv.DictReader(io.StringIO(run("compare", PET, "--format", "csv").stdout)))
    assert [r["variant"] for r in rows] == ["", "rpet-100", "virgin", "tepco-residual"]
    assert float(rows[1]["difference_to_base"]) < 0
    # 0.015 kWh at TEPCO EP's residual-menu 0.452 instead of the national 0.423 kg CO2/kWh
    assert float(rows[3]["difference_to_base_kg_co2e"]) == pytest.approx(
        0.015 * (0.452 - 0.423), rel=1e-6
    )
    table = run("compare", PET, "--approach", "all").stdout
    assert "Approach: cut-off" in table and "Approach: cff" in table
    assert "difference to first %" in table


def test_compare_several_specs(builtin_table):
    result = run("compare", PET, str(EXAMPLES / "aluminium-can.yaml"), "--format", "json")
    ids = [(d["product_id"], d["variant"]) for d in json.loads(result.stdout)]
    assert ids[0] == ("pet-bottle-500ml", None)
    assert ("aluminium-can-350ml", None) in ids and ("aluminium-can-350ml", "recycled-90") in ids


def test_hand_computed_sweep_under_three_approaches(write_spec):
    path = write_spec(BOX)
    result = run(
        "sweep",
        str(path),
        "--component",
        "shell",
        "--recycled-content",
        "0:100:50",
        "--approach",
        "all",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)
    assert len(points) == 9
    ev, erec = E["widget material, virgin"], E["widget material, recycled"]
    for point in points:
        r1 = point["recycled_content"]
        raw = {
            "cut-off": (1 - r1) * ev + r1 * erec,
            "avoided-burden": ev,
            "cff": (1 - r1) * ev + r1 * (0.4 * erec + 0.6 * ev * 0.9),
        }[point["approach"]]
        eol = calculate_eol(point["approach"])
        assert point["total_kg_co2e"] == pytest.approx(raw + eol, rel=1e-6)
        assert point["component"] == "shell"


def calculate_eol(approach):
    ev = E["widget material, virgin"]
    if approach == "cut-off":
        return 0.2 * E["hand incineration"] + 0.3 * E["hand landfill"]
    a, qout = (0.4, 0.8) if approach == "cff" else (0.0, 1.0)
    return (
        (1 - a) * 0.5 * (E["hand recycling"] - ev * qout)
        + 0.2 * (E["hand incineration"] - 6 * E["hand heat"] - 2 * E["hand electricity"] / 3.6)
        + 0.3 * E["hand landfill"]
    )


def test_target_is_exact_by_linearity(write_spec):
    spec = load_spec(write_spec(BOX))
    calculator = FootprintCalculator()
    answers = recycled_content_for_target(spec, "shell", 0.3, calculator, [], variant=None)
    assert answers == []  # no swept approaches given
    from cfp_engine.engine.scenarios import sweep_recycled_content

    points = sweep_recycled_content(
        spec, "shell", parse_percent_range("0:100:10"), calculator, approach="all"
    )
    answers = {
        a.approach: a for a in recycled_content_for_target(spec, "shell", 0.3, calculator, points)
    }
    ev, erec = E["widget material, virgin"], E["widget material, recycled"]
    eol = calculate_eol("cut-off")
    baseline = ev + eol
    # cut-off: ((1-r) ev + r erec + eol) = 0.7 baseline  ->  r = 0.3 baseline / (ev - erec)
    assert answers["cut-off"].exact == pytest.approx(0.3 * baseline / (ev - erec), rel=1e-6)
    assert answers["cut-off"].exact == pytest.approx(0.46639, rel=1e-4)
    assert answers["cut-off"].grid == pytest.approx(0.5)  # the lowest swept value above it
    assert answers["avoided-burden"].exact is None
    assert "cannot be reached" in answers["avoided-burden"].describe()


def test_sweep_cli_target_and_plot(builtin_table, tmp_path):
    plot = tmp_path / "sweep.png"
    result = run(
        "sweep",
        PET,
        "--component",
        "body",
        "--recycled-content",
        "0:100:5",
        "--approach",
        "all",
        "--target",
        "20%",
        "--plot",
        str(plot),
    )
    assert result.exit_code == 0, result.output
    assert "Target: cut-off: a 20% reduction needs at least" in result.stdout
    assert plot.stat().st_size > 10_000
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    pixels = matplotlib.image.imread(plot)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500
    assert (pixels[..., :3] < 0.5).any()  # something is drawn, not a blank canvas
    assert not list(tmp_path.glob(".*tmp*"))


def test_sweep_csv_has_one_row_per_point(builtin_table):
    result = run(
        "sweep", PET, "--component", "body", "--recycled-content", "0:100:10", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 11
    assert [float(r["recycled_content"]) for r in rows] == pytest.approx(
        [i / 10 for i in range(11)]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--component", "lid"), "the product has no component 'lid' (components: body, cap)"),
        (("--component", "body", "--recycled-content", "0-100"), "expected START:STOP:STEP"),
        (("--component", "body", "--recycled-content", "50:20:10"), "START <= STOP"),
        (("--component", "body", "--target", "150%"), "--target: '150%' is outside 0-100 %"),
        (("--component", "body", "--plot", "out.svg"), "name a .png file"),
    ],
)
def test_sweep_errors(builtin_table, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)  # "out.svg" is relative: it would be written here
    result = run("sweep", PET, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # no plot, no partial output


def test_parse_percent_range():
    assert parse_percent_range("0:100:25") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_percent_range("10%:30%:10%") == pytest.approx([0.1, 0.2, 0.3])
    with pytest.raises(SpecError, match=r"^recycled content range '0:120:10': need 0 <= START"):
        parse_percent_range("0:120:10")
