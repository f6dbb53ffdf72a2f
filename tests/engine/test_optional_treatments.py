"""Blank end-of-life treatments in a materials table are "not modelled".

Contract section 5: a blank ``eol_recycling``, ``disposal`` or ``energy_recovery`` counts
nothing for that role, and the result warns, naming the component, material, role and
mass share; a blank ``recycled`` route with recycled content above 0 stays an error.
Expected figures by hand from the hand-made inventory (tests/fixtures/make_inventories.py).
"""

import csv
import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.engine.footprint import calculate_footprint
from cfp_engine.errors import DataError
from cfp_engine.spec.product import load_spec

from make_inventories import EXPECTED_PER_UNIT as E

REL = 1e-6
EV, EREC = E["widget material, virgin"], E["widget material, recycled"]
VIRGIN = '"handmade::widget material, virgin::GLO"'
RECYCLED = '"handmade::widget material, recycled::GLO"'
HEADER = "material,virgin,recycled,eol_recycling,disposal,energy_recovery,R2,R3,source\n"

SPEC = """
product: {id: crate, name: Crate, declared_unit: 1 piece}
materials: [sparse-materials.csv]
inventories: [handmade.xlsx]
components:
  - {id: shell, material: sparse, mass: 500 g, recycled_content: R1}
label:
  company_name: X
  company_ids: ["urn:x:c"]
  product_ids: ["urn:x:p"]
  reference_period: {start: "2025-01-01", end: "2025-12-31"}
"""


@pytest.fixture
def sparse(write_spec, tmp_path, handmade_table):
    """Write the materials table row ``row`` and the spec; return the spec's path."""

    def _write(row: str, r1: str = "40 %"):
        (tmp_path / "sparse-materials.csv").write_text(HEADER + row + "\n", encoding="utf-8")
        return write_spec(SPEC.replace("R1", r1), name="crate.yaml")

    return _write


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_virgin_and_recycled_only_counts_no_end_of_life_and_says_so(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,,,hand-made")
    result = calculate_footprint(load_spec(path))
    # Cut-off by hand: 0.5 kg x ((1 - 0.4) Ev + 0.4 Erec); all of it goes to disposal
    # (R2 = R3 = 0), which the row leaves blank: end of life 0.
    raw = 0.5 * (0.6 * EV + 0.4 * EREC)
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(raw, rel=REL)
    assert result.stages_kg_co2e["end_of_life"] == 0.0
    assert result.total_kg_co2e == pytest.approx(raw, rel=REL)
    (warning,) = result.warnings
    assert warning.startswith(
        "component 'shell': material 'sparse' has no disposal activity (disposal is blank in "
    )
    assert "sparse-materials.csv:2): disposal of 1 of its mass (0.5 kg) is not modelled" in warning
    assert result.exemptions == (warning,)
    assert {i.role for i in result.line_items} == {"virgin", "recycled"}


def test_the_cli_prints_the_warning_and_json_lists_it(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,,,hand-made")
    out = run("calc", path, "--format", "json")
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["total_kg_co2e"] == pytest.approx(0.5 * (0.6 * EV + 0.4 * EREC), rel=REL)
    assert len(document["warnings"]) == 1
    assert "material 'sparse' has no disposal activity" in document["warnings"][0]
    assert "Warning: component 'shell': material 'sparse' has no disposal" in out.stderr


def test_only_the_treatments_an_approach_needs_are_warned_of(sparse):
    # R2 0.5 and R3 0.2 but no treatment at all. Cut-off needs energy recovery (R3) and
    # disposal (1 - R2 - R3), not the recycling process (recycling is the next life's).
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,0.5,0.2,hand-made")
    cut_off = calculate_footprint(load_spec(path), approach="cut-off")
    assert cut_off.stages_kg_co2e["end_of_life"] == 0.0
    roles = [w.split(" has no ")[1].split(" (")[0] for w in cut_off.warnings]
    assert roles == ["energy-recovery activity", "disposal activity"]
    assert "energy_recovery of 0.2 of its mass (0.1 kg)" in cut_off.warnings[0]
    assert "disposal of 0.3 of its mass (0.15 kg)" in cut_off.warnings[1]


def test_cff_without_recycling_route_leaves_out_the_whole_r2_term(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,0.5,0.2,hand-made")
    result = calculate_footprint(load_spec(path), approach="cff")
    # CFF raw materials by hand (A 0.5 and quality ratios 1, the PEF defaults for a
    # row without them): (1-R1) Ev + R1 (A Erec + (1-A) Ev). The R2 term (recycling
    # burden and virgin credit), R3 term and disposal are not modelled: end of life 0.
    raw = 0.5 * (0.6 * EV + 0.4 * (0.5 * EREC + 0.5 * EV))
    assert result.total_kg_co2e == pytest.approx(raw, rel=REL)
    assert result.stages_kg_co2e["end_of_life"] == 0.0
    assert {i.role for i in result.line_items} == {"virgin", "recycled"}
    recycling = [w for w in result.exemptions if "end-of-life recycling" in w]
    assert len(recycling) == 1 and len(result.exemptions) == 3
    assert "eol_recycling of 0.5 of its mass (0.25 kg) is not modelled" in recycling[0]
    assert "under cff the whole R2 term" in recycling[0]
    assert "no credit for the virgin material it replaces" in recycling[0]


def test_a_given_disposal_route_still_counts(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,handmade::hand landfill,,0.5,0.2,hand-made")
    result = calculate_footprint(load_spec(path))
    # Disposal 0.5 kg x (1 - 0.5 - 0.2) x landfill; energy recovery (0.2) not modelled.
    assert result.stages_kg_co2e["end_of_life"] == pytest.approx(
        0.5 * 0.3 * E["hand landfill"], rel=REL
    )
    (warning,) = result.warnings
    assert "has no energy-recovery activity" in warning and "0.2 of its mass (0.1 kg)" in warning


@pytest.mark.parametrize("approach", ["cut-off", "avoided-burden", "cff"])
def test_blank_recycled_route_with_recycled_content_is_an_error(sparse, approach):
    path = sparse(f"sparse,{VIRGIN},,,handmade::hand landfill,,,,hand-made")
    with pytest.raises(
        DataError,
        match=r"components\[0\]: material 'sparse' has no recycled route, but "
        r"recycled_content is 0\.4; set recycled_content to 0, or give the material a "
        r"'recycled' activity in its materials table",
    ):
        calculate_footprint(load_spec(path), approach=approach)
    virgin_only = calculate_footprint(load_spec(sparse(f"sparse,{VIRGIN},,,,,,,x", r1="0 %")))
    assert virgin_only.total_kg_co2e == pytest.approx(0.5 * EV, rel=REL)


def test_an_explicit_component_still_names_its_treatments_grammatically(write_spec, handmade_table):
    text = (
        "product: {id: p, name: P, declared_unit: 1 piece}\n"
        "inventories: [handmade.xlsx]\n"
        "components:\n"
        f"  - {{id: part, virgin: {VIRGIN}, mass: 1 kg, end_of_life: {{recycling: 50 %}}}}\n"
    )
    with pytest.raises(DataError, match="has no") as err:
        calculate_footprint(load_spec(write_spec(text)))
    assert "has no a" not in str(err.value)
    assert str(err.value).endswith(
        "spec.yaml: components[0]: the component has no disposal activity, but the "
        "allocation needs 0.5 per kg of it; give end_of_life.disposal_activity"
    )


def test_label_states_the_treatment_among_its_exemptions(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,,,hand-made")
    out = path.with_name("crate-label.json")
    made = run("label", path, "--format", "pact", "-o", out, "--created", "2026-11-29T00:00:00Z")
    assert made.exit_code == 0, made.output
    pcf = json.loads(out.read_text(encoding="utf-8"))["pcf"]
    described = pcf["exemptedEmissionsDescription"]
    assert described.startswith("Not in the footprint: (1) component 'shell': material 'sparse'")
    assert "disposal of 1 of its mass (0.5 kg) is not modelled" in described
    assert "No exemptions" not in described
    checked = run("verify", out, "--spec", path, "--format", "json")
    assert checked.exit_code == 0, checked.stdout


def test_monte_carlo_uses_the_same_demand(sparse):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.uncertainty.model import build_model

    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,0.5,0.2,hand-made")
    model = build_model(FootprintCalculator(), load_spec(path), approach="cff")
    assert {item.stage for item in model.items} == {"raw_materials"}
    assert model.result.warnings == calculate_footprint(load_spec(path), approach="cff").warnings


def test_batch_uses_the_same_rule_and_states_it_once(sparse, tmp_path, handmade):
    from cfp_engine.batch.run import score_catalogue

    sparse(f"sparse,{VIRGIN},{RECYCLED},,,,,,hand-made")
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "product_id,stage,item,ref,amount,unit,recycled_content\n"
        "crate,raw_materials,shell,sparse,500,g,40%\n",
        encoding="utf-8",
    )
    summary = score_catalogue(
        catalogue,
        tmp_path / "scores.csv",
        inventories=[tmp_path / "handmade.xlsx"],
        materials=[tmp_path / "sparse-materials.csv"],
    )
    with (tmp_path / "scores.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["status"] == "ok", row["error"]
    assert float(row["total_kg_co2e"]) == pytest.approx(0.5 * (0.6 * EV + 0.4 * EREC), rel=REL)
    assert float(row["end_of_life_kg_co2e"]) == 0.0
    (warning,) = summary.warnings
    assert warning.startswith("products with material 'sparse': material 'sparse' has no disposal")
    assert "disposal of 1 of its mass is not modelled" in warning


def test_sweep_and_compare_print_the_warning_once(sparse):
    path = sparse(f"sparse,{VIRGIN},{RECYCLED},,,,,,hand-made")
    swept = run("sweep", path, "--component", "shell", "--recycled-content", "0:100:50")
    assert swept.exit_code == 0, swept.output
    assert swept.stderr.count("Warning: component 'shell': material 'sparse' has no disposal") == 1
    compared = run("compare", path, "--approach", "all", "--format", "json")
    assert compared.exit_code == 0, compared.output
    documents = json.loads(compared.stdout)
    assert [len(d["exemptions"]) for d in documents] == [1, 1, 1]  # one per approach
