"""The fast check of flat components agrees with the JSON Schema, and messages stay jsonschema's."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfp_engine.errors import SpecError
from cfp_engine.spec import schema as spec_schema
from cfp_engine.spec.schema import flat_component_rules, is_flat_component, validate_structure

PRODUCT = {"id": "p", "name": "P", "declared_unit": "1 piece"}


def document(*components):
    return {"product": dict(PRODUCT), "components": list(components)}


def schema_errors(doc):
    return list(spec_schema._validator().iter_errors(doc))


def test_the_table_holds_the_flat_fields_of_a_component():
    required, fields = flat_component_rules()
    assert required == {"id", "mass"}
    assert set(fields) == {
        "id",
        "material",
        "virgin",
        "recycled",
        "mass",
        "recycled_content",
        "description",
        "packaging",
    }
    assert fields["id"] == ((str,), 1)
    assert fields["mass"] == ((str, int, float), 0)
    assert fields["packaging"] == ((bool,), 0)


@pytest.mark.parametrize(
    ("component", "flat"),
    [
        ({"id": "a", "mass": "1 g"}, True),
        ({"id": "a", "mass": 2.5, "material": "PET", "recycled_content": "30 %"}, True),
        ({"id": "a", "mass": "1 g", "packaging": True, "description": ""}, True),
        ({"id": "a"}, False),  # no mass
        ({"id": "", "mass": "1 g"}, False),  # minLength 1
        ({"id": "a", "mass": True}, False),  # a boolean is no number
        ({"id": "a", "mass": "1 g", "packaging": 1}, False),
        ({"id": "a", "mass": "1 g", "colour": "red"}, False),  # unknown field
        ({"id": "a", "mass": {"amount": "1 g", "distribution": "normal", "sd": "0.1 g"}}, False),
        ({"id": "a", "mass": "1 g", "end_of_life": {"recycling": "50 %"}}, False),
        ({"id": "a", "mass": "1 g", "cff": {"A": 0.2}}, False),
        (["id", "mass"], False),
    ],
)
def test_flat_components(component, flat):
    required, fields = flat_component_rules()
    assert is_flat_component(component, required, fields) is flat


VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=3)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.lists(st.integers(), max_size=2)
)
FIELDS = st.sampled_from(
    ["id", "mass", "material", "virgin", "recycled", "recycled_content", "packaging",
     "description", "end_of_life", "cff", "other"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELDS, VALUES, max_size=6))
def test_a_flat_component_is_one_the_schema_accepts(component):
    required, fields = flat_component_rules()
    if is_flat_component(component, required, fields):
        assert schema_errors(document(component)) == []


def test_many_flat_components_pass():
    validate_structure(document(*({"id": f"c{i}", "mass": "1 g"} for i in range(500))), "s.yaml")


def test_one_bad_component_among_many_is_named_as_before():
    components = [{"id": f"c{i}", "mass": "1 g"} for i in range(300)]
    components[157] = {"id": "c157", "mass": "1 g", "recycled_content": True}
    with pytest.raises(
        SpecError,
        match=r"^s.yaml: components\[157\].recycled_content: expected string or number or "
        r"object, got 'True'$",
    ):
        validate_structure(document(*components), "s.yaml")


def test_errors_outside_the_components_are_jsonschemas():
    doc = document({"id": "c0", "mass": "1 g"})
    doc["approach"] = "half-half"
    doc["colour"] = "red"
    with pytest.raises(SpecError) as raised:
        validate_structure(doc, "s.yaml")
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("s.yaml: (top level): unknown field 'colour' (expected one of: ")
    assert lines[1] == "s.yaml: approach: 'half-half' is not one of cut-off, avoided-burden, cff"


@pytest.mark.parametrize(
    "field_schema",
    [
        {"type": "string", "pattern": "^c"},  # a keyword the table does not know
        {"type": "object"},
        {"type": "string", "if": {"type": "string"}, "then": {"minLength": 3}},
        {"$ref": "#/$defs/reference", "minLength": 3},
        {"$ref": "#/$defs/nowhere"},
        {},
    ],
)
def test_field_schemas_beyond_the_table_are_left_to_jsonschema(field_schema):
    assert spec_schema._flat_rule(spec_schema._schema(), field_schema) is None
