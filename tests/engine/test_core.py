"""Hand-computed footprints on the hand-made inventory (tests/fixtures/make_inventories.py)."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfp_engine.engine.footprint import calculate_footprint
from cfp_engine.errors import DataError, SpecError, UnitError
from cfp_engine.spec.product import STAGES, load_spec, spec_from_dict
from cfp_engine.store.queries import lca_scores

from make_inventories import EXPECTED_GHG_PER_UNIT as E_GHG
from make_inventories import EXPECTED_PER_UNIT as E

REL = 1e-6

WIDGET = """
product: {id: widget-box, name: Widget box, declared_unit: 1 piece}
materials: [handmade-materials.csv]
inventories: [handmade.xlsx]
components:
  - {id: shell, material: widget, mass: MASS, recycled_content: 40 %}
  - id: insert
    virgin: "handmade::widget material, virgin::GLO"
    recycled: "handmade::widget material, recycled::GLO"
    mass: 100 g
    recycled_content: 50 %
stages:
  production: [{activity: "handmade::hand assembly", amount: 1 piece},
               {activity: hand electricity, amount: ENERGY}]
  distribution: [{activity: hand transport, amount: TRANSPORT}]
variants:
  all-recycled: {components: {shell: {recycled_content: 100 %}}}
"""


def widget(write_spec, mass="500 g", energy="2 kWh", transport="7.7 t*km"):
    text = WIDGET.replace("MASS", mass).replace("ENERGY", energy).replace("TRANSPORT", transport)
    return load_spec(write_spec(text))


def expected_widget(shell_r1=0.4):
    # Cut-off by hand: shell 0.5 kg of "widget" (R2 0.5, R3 0.2 from the materials table),
    # insert 0.1 kg by explicit references without end of life.
    raw = 0.5 * (
        (1 - shell_r1) * E["widget material, virgin"] + shell_r1 * E["widget material, recycled"]
    ) + 0.1 * (0.5 * E["widget material, virgin"] + 0.5 * E["widget material, recycled"])
    eol = 0.5 * (0.2 * E["hand incineration"] + (1 - 0.5 - 0.2) * E["hand landfill"])
    production = E["hand assembly"] + 2.0 * E["hand electricity"]
    distribution = 7.7 * E["hand transport"]
    return {
        "raw_materials": raw,
        "production": production,
        "distribution": distribution,
        "use": 0.0,
        "end_of_life": eol,
    }


def test_hand_computed_product(write_spec):
    result = calculate_footprint(widget(write_spec))
    expected = expected_widget()
    for stage in STAGES:
        assert result.stages_kg_co2e[stage] == pytest.approx(expected[stage], rel=REL, abs=1e-12)
    assert result.total_kg_co2e == pytest.approx(sum(expected.values()), rel=REL)
    shell = 0.5 * (0.6 * E["widget material, virgin"] + 0.4 * E["widget material, recycled"])
    assert result.components_kg_co2e["shell"] == pytest.approx(
        shell + expected["end_of_life"], rel=REL
    )
    assert result.components_kg_co2e["insert"] == pytest.approx(
        0.1 * (0.5 * E["widget material, virgin"] + 0.5 * E["widget material, recycled"]), rel=REL
    )
    assert result.recycled_content_share == pytest.approx((0.5 * 0.4 + 0.1 * 0.5) / 0.6, rel=REL)
    assert result.eol_recycling_share == pytest.approx(0.5 * 0.5 / 0.6, rel=REL)
    # The insert's 50 % recycled content replaced by virgin material.
    baseline = sum(expected_widget(shell_r1=0.0).values()) + 0.1 * 0.5 * (
        E["widget material, virgin"] - E["widget material, recycled"]
    )
    assert result.virgin_baseline_kg_co2e == pytest.approx(baseline, rel=REL)
    assert result.reduction_vs_virgin == pytest.approx(1 - result.total_kg_co2e / baseline, rel=REL)


def test_ghg_split_by_hand(write_spec):
    result = calculate_footprint(widget(write_spec))
    _fossil, biogenic, land_use = range(3)  # the columns of E_GHG
    virgin_kg = 0.5 * 0.6 + 0.1 * 0.5
    land_use_kg = virgin_kg * E_GHG["widget material, virgin"][land_use]
    # 7.7 t*km of transport; 0.5 kg shell x 30 % landfilled (R2 0.5, R3 0.2)
    biogenic_kg = (
        7.7 * E_GHG["hand transport"][biogenic] + 0.5 * 0.3 * E_GHG["hand landfill"][biogenic]
    )
    assert result.ghg_kg_co2e["land_use_change"] == pytest.approx(land_use_kg, rel=REL)
    assert result.ghg_kg_co2e["biogenic"] == pytest.approx(biogenic_kg, rel=REL)
    assert math.fsum(result.ghg_kg_co2e.values()) == pytest.approx(result.total_kg_co2e, rel=1e-9)


def test_stages_and_components_add_up_exactly(write_spec):
    result = calculate_footprint(widget(write_spec))
    assert math.fsum(result.stages_kg_co2e.values()) == result.total_kg_co2e
    components = math.fsum(result.components_kg_co2e.values())
    raw_and_eol = math.fsum(
        [result.stages_kg_co2e["raw_materials"], result.stages_kg_co2e["end_of_life"]]
    )
    assert components == pytest.approx(raw_and_eol, rel=1e-12)


def test_variant(write_spec):
    result = calculate_footprint(widget(write_spec), variant="all-recycled")
    assert result.variant == "all-recycled"
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(
        expected_widget(shell_r1=1.0)["raw_materials"], rel=REL
    )


@pytest.mark.parametrize(
    ("mass", "energy", "transport"),
    [
        ("0.5 kg", "7.2 MJ", "7700 kg*km"),
        ("0.0005 t", "0.002 MWh", "7.7 tkm"),
    ],
)
def test_unit_spellings_give_identical_results(write_spec, mass, energy, transport):
    reference = calculate_footprint(widget(write_spec))
    other = calculate_footprint(widget(write_spec, mass=mass, energy=energy, transport=transport))
    assert other.total_kg_co2e == pytest.approx(reference.total_kg_co2e, rel=1e-12)
    for stage in STAGES:
        assert other.stages_kg_co2e[stage] == pytest.approx(
            reference.stages_kg_co2e[stage], rel=1e-12, abs=1e-15
        )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.floats(min_value=0.01, max_value=1000.0))
def test_linear_in_amounts(write_spec, factor):
    one = calculate_footprint(widget(write_spec))
    scaled = calculate_footprint(
        widget(
            write_spec,
            mass=f"{500 * factor!r} g",
            energy=f"{2 * factor!r} kWh",
            transport=f"{7.7 * factor!r} t*km",
        )
    )
    # Everything scales but the one piece of "hand assembly" and the 100 g insert.
    assembly = [i.kg_co2e for i in one.line_items if "hand assembly" in i.activity]
    fixed = assembly[0] + one.components_kg_co2e["insert"]
    assert scaled.total_kg_co2e - fixed == pytest.approx(
        factor * (one.total_kg_co2e - fixed), rel=1e-9
    )
    assert scaled.stages_kg_co2e["distribution"] == pytest.approx(
        factor * one.stages_kg_co2e["distribution"], rel=1e-9
    )
    assert scaled.stages_kg_co2e["end_of_life"] == pytest.approx(
        factor * one.stages_kg_co2e["end_of_life"], rel=1e-9
    )
    assert scaled.components_kg_co2e["shell"] == pytest.approx(
        factor * one.components_kg_co2e["shell"], rel=1e-9
    )


def test_engine_equals_a_full_bw2calc_lca(write_spec, handmade_table):
    result = calculate_footprint(widget(write_spec), table=handmade_table)
    index = {a.reference: a.index for a in handmade_table.activities}
    demand: dict[int, float] = {}
    for item in result.line_items:
        demand[index[item.activity]] = demand.get(index[item.activity], 0.0) + item.amount
    full = lca_scores(handmade_table, demand, result.method)
    assert full["total"] == pytest.approx(result.total_kg_co2e, rel=1e-9)
    for indicator, value in result.ghg_kg_co2e.items():
        assert full[indicator] == pytest.approx(value, rel=1e-9, abs=1e-12)


def _one_kg_of_pet(**component):
    return spec_from_dict(
        {
            "product": {"id": "pet", "name": "1 kg PET", "declared_unit": "1 kg"},
            "components": [{"id": "resin", "material": "PET", "mass": "1 kg", **component}],
        }
    )


def test_desnz_pet_30_percent_recycled(builtin_table):
    # shared/reference/materials/README.md: 0.7 x 3.86390131 + 0.3 x 2.21390131 = 3.36890
    spec = _one_kg_of_pet(recycled_content="30 %", end_of_life={"recycling": 1.0})
    result = calculate_footprint(spec, table=builtin_table)
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(3.36890, rel=1e-5)
    assert result.stages_kg_co2e["end_of_life"] == 0.0


def test_table_energy_recovery_is_capped_by_a_given_recycling_rate(builtin_table):
    # materials.csv: PET R2 0.85, R3 0.136 (Japanese PET-bottle statistics). A spec that
    # recycles 95 % leaves only 5 % of the waste for energy recovery.
    result = calculate_footprint(
        _one_kg_of_pet(end_of_life={"recycling": 0.95}), table=builtin_table
    )
    component = result.components[0]
    assert component.parameters["R2"] == pytest.approx(0.95)
    assert component.parameters["R3"] == pytest.approx(0.05)
    assert any("capped at 0.05" in w for w in result.warnings)


def test_unknown_material_suggests(write_spec):
    spec = load_spec(
        write_spec(
            WIDGET.replace("material: widget", "material: widgit")
            .replace("MASS", "1 kg")
            .replace("ENERGY", "1 kWh")
            .replace("TRANSPORT", "1 t*km")
        )
    )
    with pytest.raises(
        DataError,
        match=r"components\[0\].material: unknown material 'widgit'; "
        r"did you mean widget",
    ):
        calculate_footprint(spec)


def test_unknown_activity_lists_candidates(builtin_table):
    spec = spec_from_dict(
        {
            "product": {"id": "p", "name": "p", "declared_unit": "1 piece"},
            "components": [],
            "stages": {"production": [{"activity": "electricity, grid, XX", "amount": "1 kWh"}]},
        },
        source="p.yaml",
    )
    with pytest.raises(
        DataError,
        match=r"p.yaml: stages.production\[0\].activity: no activity "
        r"matches 'electricity, grid, XX' \(closest: electricity",
    ):
        calculate_footprint(spec, table=builtin_table)


def test_wrong_dimension_for_stage_activity(builtin_table):
    spec = spec_from_dict(
        {
            "product": {"id": "p", "name": "p", "declared_unit": "1 piece"},
            "components": [],
            "stages": {"distribution": [{"activity": "transport, lorry", "amount": "3 kg"}]},
        },
        source="p.yaml",
    )
    with pytest.raises(
        UnitError,
        match=r"stages.distribution\[0\].amount: '3 kg' is a mass, "
        r"but 'transport, lorry' is measured in ton kilometer",
    ):
        calculate_footprint(spec, table=builtin_table)


def test_recycled_content_without_recycled_route(write_spec):
    text = WIDGET.replace("MASS", "1 kg").replace("ENERGY", "1 kWh").replace("TRANSPORT", "1 t*km")
    text = text.replace('    recycled: "handmade::widget material, recycled::GLO"\n', "")
    with pytest.raises(
        SpecError,
        match=r"components\[1\].recycled_content: '50 %' needs a "
        r"'recycled' activity reference",
    ):
        load_spec(write_spec(text))


def test_a_reference_matching_several_activities_lists_them():
    from cfp_engine.store.scores import ActivityInfo, ScoreTable

    activities = [
        ActivityInfo(0, "db", "a", "steel sheet", "JP", "kilogram"),
        ActivityInfo(1, "db", "b", "steel sheet", "CN", "kilogram"),
    ]
    table = ScoreTable(activities, {}, {"fingerprint": "x"})
    with pytest.raises(
        DataError,
        match=r"f: 'steel sheet' matches 2 activities: "
        r"db::steel sheet::CN; db::steel sheet::JP",
    ):
        table.find("steel sheet", where="f")
    assert table.find("db::steel sheet::CN").code == "b"
    with pytest.raises(DataError, match="unknown database 'other'"):
        table.find("other::steel sheet")
    with pytest.raises(DataError, match="is not 'name', 'database::name'"):
        table.find("a::b::c::d")


# -- the three approaches on the hand-made product -------------------------------------

EV, EREC = E["widget material, virgin"], E["widget material, recycled"]
ED, EER, ERECEOL = E["hand landfill"], E["hand incineration"], E["hand recycling"]
EHEAT, EELEC_PER_MJ = E["hand heat"], E["hand electricity"] / 3.6


def expected_shell(approach, r1=0.4):
    """0.5 kg of widget by hand: R2 0.5, R3 0.2, A 0.4, Qsin 0.9, Qsout 0.8, 6 MJ heat and
    2 MJ electricity recovered per kg."""
    if approach == "cut-off":
        raw = (1 - r1) * EV + r1 * EREC
        eol = 0.2 * EER + 0.3 * ED
    else:
        a, qin, qout = (0.4, 0.9, 0.8) if approach == "cff" else (0.0, 1.0, 1.0)
        raw = (1 - r1) * EV + r1 * (a * EREC + (1 - a) * EV * qin)
        eol = (
            (1 - a) * 0.5 * (ERECEOL - EV * qout)
            + 0.2 * (EER - 6.0 * EHEAT - 2.0 * EELEC_PER_MJ)
            + 0.3 * ED
        )
    return 0.5 * raw, 0.5 * eol


def expected_insert(approach):
    """0.1 kg by explicit references, R1 0.5, no end of life; A 0.5, Q 1 by default."""
    if approach == "avoided-burden":
        return 0.1 * EV
    if approach == "cff":  # (1-R1) Ev + R1 (A Erec + (1-A) Ev Qsin/Qp)
        return 0.1 * (0.5 * EV + 0.5 * (0.5 * EREC + 0.5 * EV * 1.0))
    return 0.1 * (0.5 * EV + 0.5 * EREC)


@pytest.mark.parametrize("approach", ["cut-off", "avoided-burden", "cff"])
def test_hand_computed_product_under_each_approach(write_spec, approach):
    result = calculate_footprint(widget(write_spec), approach=approach)
    raw, eol = expected_shell(approach)
    insert = expected_insert(approach)
    assert result.approach == approach
    assert result.stages_kg_co2e["raw_materials"] == pytest.approx(raw + insert, rel=REL)
    assert result.stages_kg_co2e["end_of_life"] == pytest.approx(eol, rel=REL)
    assert result.components_kg_co2e["shell"] == pytest.approx(raw + eol, rel=REL)
    others = E["hand assembly"] + 2 * E["hand electricity"] + 7.7 * E["hand transport"]
    assert result.total_kg_co2e == pytest.approx(raw + eol + insert + others, rel=REL)
    baseline_raw, baseline_eol = expected_shell(approach, r1=0.0)
    baseline_insert = 0.1 * EV
    assert result.virgin_baseline_kg_co2e == pytest.approx(
        baseline_raw + baseline_eol + baseline_insert + others, rel=REL
    )
    shell = next(c for c in result.components if c.id == "shell")
    assert shell.parameters["R1"] == 0.4 and shell.parameters["R3"] == 0.2
    assert "virgin" in shell.activities


def test_spec_overrides_cff_parameters(write_spec):
    text = (
        WIDGET.replace("MASS", "500 g")
        .replace("ENERGY", "2 kWh")
        .replace("TRANSPORT", "7.7 t*km")
        .replace(
            "recycled_content: 40 %}",
            "recycled_content: 40 %, cff: {A: 1.0}, end_of_life: {energy_recovery: 0 %}}",
        )
    )
    result = calculate_footprint(load_spec(write_spec(text)), approach="cff")
    cut = calculate_footprint(load_spec(write_spec(text)), approach="cut-off")
    # A = 1 and no energy recovery: the CFF equals cut-off for the shell
    assert result.components_kg_co2e["shell"] == pytest.approx(
        cut.components_kg_co2e["shell"], rel=1e-9
    )
    assert any("A = 1 is outside PEF's range" in w for w in result.warnings)


def test_bad_cff_override_is_an_error(write_spec):
    text = (
        WIDGET.replace("MASS", "500 g")
        .replace("ENERGY", "2 kWh")
        .replace("TRANSPORT", "7.7 t*km")
        .replace("recycled_content: 40 %}", "recycled_content: 40 %, cff: {Qsin_Qp: 0}}")
    )
    with pytest.raises(SpecError, match=r"components\[0\]: Qsin_Qp = 0 must be > 0"):
        calculate_footprint(load_spec(write_spec(text)), approach="cff")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["cut-off", "avoided-burden", "cff"]),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.001, max_value=100.0),
)
def test_engine_is_linear_in_r1_and_mass_and_adds_up(
    handmade_table, handmade, approach, r1, mass_kg
):
    def product(r, m):
        return spec_from_dict(
            {
                "product": {"id": "p", "name": "p", "declared_unit": "1 piece"},
                "materials": [str(handmade["materials"])],
                "components": [
                    {
                        "id": "shell",
                        "material": "widget",
                        "mass": f"{m!r} kg",
                        "recycled_content": r,
                    }
                ],
            }
        )

    def total(r, m):
        result = calculate_footprint(product(r, m), approach=approach, table=handmade_table)
        assert math.fsum(result.stages_kg_co2e.values()) == result.total_kg_co2e
        return result.total_kg_co2e

    at0, at1 = total(0.0, 1.0), total(1.0, 1.0)
    assert total(r1, 1.0) == pytest.approx(at0 + r1 * (at1 - at0), rel=1e-9, abs=1e-12)
    assert total(r1, mass_kg) == pytest.approx(mass_kg * total(r1, 1.0), rel=1e-9, abs=1e-12)


def test_provenance_lists_datasets_by_reference(write_spec):
    # A build's matrix order is not reproducible (bw2io writes activities in set order);
    # the label's dataset list must not depend on it.
    result = calculate_footprint(widget(write_spec))
    references = [d["activity"] for d in result.provenance["datasets"]]
    assert len(references) > 1
    assert references == sorted(references)


def test_a_component_given_by_activities_without_end_of_life_has_none_in_its_plan(write_spec):
    from cfp_engine.engine.footprint import FootprintCalculator

    plan = FootprintCalculator().plan(widget(write_spec), approach="cff")
    plans = {p.component.id: p for p in plan.components}
    assert plans["insert"].has_end_of_life is False
    assert plans["insert"].coefficients("cff")["end_of_life"] == {}
    # The plan's roles are its references only: no stand-in role marks the missing end of life.
    assert set(plans["insert"].references) == {"virgin", "recycled", "virgin_substituted"}
    assert plans["shell"].has_end_of_life is True
    # widget in the materials table: R2 0.5, R3 0.2, so 1 - 0.5 - 0.2 = 0.3 to disposal.
    shell = plans["shell"].coefficients("cut-off")["end_of_life"]
    assert shell == pytest.approx({"energy_recovery": 0.2, "disposal": 0.3}, abs=1e-12)


def test_the_virgin_baseline_plan_has_no_recycled_content(write_spec):
    from cfp_engine.engine.footprint import FootprintCalculator

    plan = FootprintCalculator().plan(widget(write_spec))
    assert [p.parameters.R1 for p in plan.components] == [0.4, 0.5]
    assert [p.parameters.R1 for p in plan.virgin_baseline().components] == [0.0, 0.0]


def test_cff_note_names_only_the_defaults_used(builtin_table):
    # materials.csv gives nickel sulfate (GREET) A = 0.2 but no quality ratios: the note
    # must not claim A = 0.5 was used.
    spec = spec_from_dict(
        {
            "product": {"id": "ni", "name": "1 kg NiSO4", "declared_unit": "1 kg"},
            "components": [{"id": "salt", "material": "nickel sulfate (GREET)", "mass": "1 kg"}],
        }
    )
    result = calculate_footprint(spec, approach="cff", table=builtin_table)
    (note,) = [w for w in result.warnings if "PEF defaults used" in w]
    assert note.endswith("PEF defaults used (Qsin/Qp = 1, Qsout/Qp = 1)"), note


def test_the_virgin_baseline_demand_is_made_one_component_at_a_time(write_spec):
    from cfp_engine.engine.footprint import FootprintCalculator
    from cfp_engine.engine.plan import product_demand

    calculator = FootprintCalculator()
    plan = calculator.plan(widget(write_spec))
    table = calculator.table_for(plan.product)
    baseline = product_demand(plan, table, virgin_baseline=True)
    assert baseline == product_demand(plan.virgin_baseline(), table)
    # widget: recycled content 0.4 and 0.5, so the baseline has no recycled role at all
    assert "recycled" in {d.role for d in product_demand(plan, table)}
    assert "recycled" not in {d.role for d in baseline}
