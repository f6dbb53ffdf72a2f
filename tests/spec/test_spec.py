import json

import pytest

from cfp_engine.errors import SpecError, UnitError
from cfp_engine.spec.product import load_spec

BASE = """
product: {id: p1, name: Product one, declared_unit: 1 piece, geography: JP}
components:
  - {id: body, material: PET, mass: 23 g, recycled_content: 30 %}
  - {id: cap, material: HDPE, mass: 2.5 g}
stages:
  distribution: [{activity: "transport, lorry", amount: 7.7 kg*km}]
variants:
  rpet-50: {components: {body: {recycled_content: 50 %}}}
"""


def test_example_spec_loads(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BASE)
    spec = load_spec(path)
    assert spec.id == "p1"
    assert [c.id for c in spec.components] == ["body", "cap"]
    assert spec.components[0].mass_kg == pytest.approx(0.023, rel=1e-12)
    assert spec.components[0].recycled_content == pytest.approx(0.3, rel=1e-12)
    assert spec.stages["distribution"][0].activity == "transport, lorry"
    assert spec.variant_names == ("rpet-50",)


def test_variant_overrides_one_component(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BASE)
    variant = load_spec(path).with_variant("rpet-50")
    assert variant.variant == "rpet-50"
    assert variant.components[0].recycled_content == pytest.approx(0.5, rel=1e-12)
    assert variant.components[1].recycled_content == 0.0


def test_yaml_and_json_forms_hash_the_same(tmp_path):
    import yaml

    yaml_path = tmp_path / "p.yaml"
    yaml_path.write_text(BASE)
    json_path = tmp_path / "p.json"
    json_path.write_text(json.dumps(yaml.safe_load(BASE)))
    assert load_spec(yaml_path).sha256 == load_spec(json_path).sha256
    assert len(load_spec(yaml_path).sha256) == 64


@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        (
            "mass: 23 g",
            "mass: 0.3 kWh",
            UnitError,
            r"p.yaml: components\[0\].mass: '0.3 kWh' is an energy, but a mass is needed",
        ),
        ("mass: 23 g", "mass: -23 g", SpecError, r"components\[0\].mass: '-23 g' is negative"),
        ("mass: 23 g", "mass: 23", UnitError, r"components\[0\].mass: '23' has no unit"),
        ("mass: 23 g", "mass: 2 ton", UnitError, "ambiguous"),
        (
            "recycled_content: 30 %",
            "recycled_content: 130 %",
            UnitError,
            r"components\[0\].recycled_content: '130 %' is outside 0-100 %",
        ),
        (
            "{id: cap, material: HDPE, mass: 2.5 g}",
            "{id: body, material: HDPE, mass: 2.5 g}",
            SpecError,
            "duplicate id body",
        ),
        (
            "mass: 23 g,",
            "mas: 23 g,",
            SpecError,
            r"components\[0\]: (the field 'mass' is required|unknown field 'mas')",
        ),
        ("declared_unit: 1 piece", "declared_unit: 1", UnitError, "declared_unit: '1' has no unit"),
        ("geography: JP", "geography: Japan", SpecError, "not an ISO 3166-1"),
        (
            "rpet-50: {components: {body:",
            "rpet-50: {components: {lid:",
            SpecError,
            "variants.rpet-50.components: unknown component 'lid'",
        ),
        (
            "{id: body, material: PET,",
            "{id: body, material: PET, virgin: x,",
            SpecError,
            "either 'material' or explicit",
        ),
    ],
)
def test_field_errors_name_file_and_field(tmp_path, old, new, error, message):
    assert old in BASE
    path = tmp_path / "p.yaml"
    path.write_text(BASE.replace(old, new, 1))
    with pytest.raises(error, match=message):
        load_spec(path)


def test_end_of_life_rates_over_100_percent(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        BASE.replace(
            "recycled_content: 30 %}",
            "recycled_content: 30 %, end_of_life: {recycling: 80 %, energy_recovery: 30 %}}",
        )
    )
    with pytest.raises(SpecError, match="add up to more than 100 %"):
        load_spec(path)


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("product: {id: p1\ncomponents: [\n")
    with pytest.raises(SpecError, match=r"p.yaml:\d+: malformed YAML"):
        load_spec(path)


def test_malformed_json_names_the_line(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"product": {"id": "p1",\n "name": }')
    with pytest.raises(SpecError, match=r"p.json:2: malformed JSON"):
        load_spec(path)


def test_missing_file():
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec("/nonexistent/spec.yaml")


def test_yaml_loader_is_safe(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("!!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(SpecError, match="malformed YAML"):
        load_spec(path)


def test_unknown_variant(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BASE)
    with pytest.raises(SpecError, match="unknown variant 'nope' \\(variants: rpet-50\\)"):
        load_spec(path).with_variant("nope")


def test_relative_paths_resolve_against_the_spec(tmp_path):
    path = tmp_path / "sub" / "p.yaml"
    path.parent.mkdir()
    path.write_text(BASE + "materials: [my.csv]\ninventories: [../inv.xlsx]\n")
    spec = load_spec(path)
    assert spec.materials == ((tmp_path / "sub" / "my.csv").resolve(),)
    assert spec.inventories == ((tmp_path / "inv.xlsx").resolve(),)
