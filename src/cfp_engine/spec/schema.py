"""The structure check of a product spec: its JSON Schema, and messages naming the field.

``schemas/product-spec.schema.json`` is checked with jsonschema, which walks each
component through ``$ref``\\ s and ``if``/``then``: about 0.1 ms a component, the
largest part of loading a spec of 10^5 components. Most components of such
a spec are flat: strings, numbers and booleans. Those are checked here against the
component schema read as a table (field -> accepted types and minimum length); when
every component passes, jsonschema checks the rest of the document only. A component
with anything else (a nested ``end_of_life``, a distribution, an unknown field, a wrong
type), or a schema this reading does not understand, sends the whole document through
jsonschema, and so does any error found: the messages are jsonschema's either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError, quote_input

# JSON Schema types a flat value may have, as exact Python types: ``bool`` is not a
# number (jsonschema agrees), and a float such as 2.0 is left to jsonschema for
# "integer", which accepts it.
_FLAT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}
# The keywords the table reading understands, at each level; any other keyword there
# turns the fast check off (it might constrain what the table does not see).
_DOCUMENT_KEYWORDS = {"$schema", "$id", "title", "description", "type", "required"}
_DOCUMENT_KEYWORDS |= {"additionalProperties", "properties", "$defs"}
_ARRAY_KEYWORDS = {"type", "items", "description"}
_COMPONENT_KEYWORDS = {"type", "required", "additionalProperties", "properties", "description"}
_FIELD_KEYWORDS = {"type", "minLength", "description", "if", "then"}

#: A component's table: required fields, and field -> (exact types, minimum length).
FlatRules = tuple[frozenset, dict[str, tuple[tuple[type, ...], int]]]


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema_path = Path(__file__).with_name("schemas") / "product-spec.schema.json"
    return json.loads(schema_path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(_schema())


def validate_structure(document: Any, source: str) -> None:
    """Check ``document`` (a parsed spec file) against the product spec schema.

    Raises
    ------
    SpecError
        Naming ``source`` and up to three fields at fault, and how many more.
    """
    if not isinstance(document, dict):
        raise SpecError(f"{source}: a spec is a mapping with 'product' and 'components'")
    validator = _validator()
    checked = _without_flat_components(document)
    errors = list(validator.iter_errors(checked))
    if errors and checked is not document:
        errors = list(validator.iter_errors(document))  # the same messages as ever
    errors.sort(key=lambda e: list(map(str, e.path)))
    if errors:
        lines = [f"{source}: {_schema_message(e)}" for e in errors[:3]]
        if len(errors) > 3:
            lines.append(f"{source}: ... and {len(errors) - 3} more problems")
        raise SpecError("\n".join(lines))


def _without_flat_components(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with no components if each is flat and valid, else ``document``."""
    components = document.get("components")
    rules = flat_component_rules()
    if rules is None or type(components) is not list or not components:
        return document
    required, fields = rules
    for component in components:
        if not is_flat_component(component, required, fields):
            return document
    return {**document, "components": []}


def is_flat_component(component: Any, required: frozenset, fields: Mapping) -> bool:
    """Whether ``component`` is a mapping of flat values the component schema accepts.

    ``False`` says nothing about validity: jsonschema decides then.
    """
    if type(component) is not dict or not required <= component.keys():
        return False
    for key, value in component.items():
        rule = fields.get(key)
        if rule is None:  # unknown, or a field the table leaves to jsonschema
            return False
        types, min_length = rule
        if type(value) not in types:
            return False
        if min_length and type(value) is str and len(value) < min_length:
            return False
    return True


@lru_cache(maxsize=1)
def flat_component_rules() -> FlatRules | None:
    """The component schema as a table, or ``None`` where it uses more than the table holds.

    Only fields whose schema is a type (or a list of types), a ``minLength`` and an
    ``if: {type: object}`` / ``then`` (which only concerns mappings) are in the table;
    the document and the components array may hold nothing that relates components to
    other fields (such as ``minItems``), as the fast check leaves the array empty.
    """
    schema = _schema()
    if not set(schema) <= _DOCUMENT_KEYWORDS:
        return None
    array = schema.get("properties", {}).get("components")
    if not isinstance(array, dict) or not set(array) <= _ARRAY_KEYWORDS:
        return None
    component = _resolve(schema, array.get("items"))
    if (
        component is None
        or array.get("type") != "array"
        or not set(component) <= _COMPONENT_KEYWORDS
        or component.get("type") != "object"
        or component.get("additionalProperties") is not False
    ):
        return None
    fields = {}
    for name, field_schema in component.get("properties", {}).items():
        rule = _flat_rule(schema, field_schema)
        if rule is not None:
            fields[name] = rule
    return frozenset(component.get("required", ())), fields


def _flat_rule(schema: dict[str, Any], field_schema: Any) -> tuple[tuple[type, ...], int] | None:
    """(exact types, minimum length) of a flat field, or ``None``: left to jsonschema."""
    field_schema = _resolve(schema, field_schema)
    if field_schema is None or not set(field_schema) <= _FIELD_KEYWORDS:
        return None
    if ("if" in field_schema or "then" in field_schema) and field_schema.get("if") != {
        "type": "object"
    }:
        return None
    names = field_schema.get("type")
    names = [names] if isinstance(names, str) else names
    min_length = field_schema.get("minLength", 0)
    if not isinstance(names, list) or type(min_length) is not int:
        return None
    types = tuple(t for name in names for t in _FLAT_TYPES.get(name, ()))
    return (types, min_length) if types else None


def _resolve(schema: dict[str, Any], node: Any, depth: int = 0) -> dict[str, Any] | None:
    """``node``, or the ``#/$defs/...`` it refers to when a ``$ref`` is all it holds."""
    if not isinstance(node, dict) or depth > 8:
        return None
    ref = node.get("$ref")
    if ref is None:
        return node
    if not set(node) <= {"$ref", "description"} or not str(ref).startswith("#/$defs/"):
        return None
    return _resolve(schema, schema.get("$defs", {}).get(ref[len("#/$defs/") :]), depth + 1)


# -- messages ----------------------------------------------------------------------------


def _field_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _schema_message(error) -> str:
    where = _field_path(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}: the field '{missing}' is required"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return f"{where}: unknown field {', '.join(map(repr, extra))}{hint}"
    if error.validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        return f"{where}: {error.instance!r} is not one of {options}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: expected {expected}, got {quote_input(error.instance)}"
    if error.validator == "pattern" and where.endswith("geography"):
        return f"{where}: {quote_input(error.instance)} is not an ISO 3166-1 alpha-2 code or GLO"
    return f"{where}: {error.message}"
