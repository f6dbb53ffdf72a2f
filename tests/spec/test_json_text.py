"""dumps_json writes the text json.dumps(indent=...) writes, character for character."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfp_engine.spec.json_text import dumps_json, iter_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)  # any code point: controls, quotes, non-ASCII, surrogates
)
KEYS = st.text(max_size=8) | st.integers() | st.floats() | st.booleans() | st.none()
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(KEYS, inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, st.booleans(), st.sampled_from([2, 0, 4, "\t"]), st.booleans())
def test_same_text_as_json_dumps(document, ensure_ascii, indent, allow_nan):
    options = {"indent": indent, "ensure_ascii": ensure_ascii, "allow_nan": allow_nan}
    try:
        expected = json.dumps(document, **options)
    except ValueError:  # allow_nan=False and a NaN or infinity somewhere: the same error
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            dumps_json(document, **options)
        return
    assert dumps_json(document, **options) == expected
    assert "".join(iter_json(document, size=1, **options)) == expected


def test_a_result_is_written_in_pieces():
    document = {
        "total": 1.5,
        "components": [{"id": f"c{i}", "kg": i / 7, "parameters": {"R1": 0.3}} for i in range(40)],
        "line_items": [{"stage": "use", "ghg": {"fossil": i / 3}} for i in range(40)],
    }
    pieces = list(iter_json(document, size=500))
    assert len(pieces) > 10
    assert all(len(piece) < 500 + 200 for piece in pieces)  # a piece ends past size by < 1 item
    assert "".join(pieces) == json.dumps(document, indent=2)


def test_float_subclasses_are_written_as_floats():
    # numpy's float64 is a float: json writes its repr, plain or among containers.
    document = {"x": np.float64(0.1), "y": [np.float64(2.5), {"z": np.float64(-1e300)}]}
    assert dumps_json(document) == json.dumps(document, indent=2)
    assert '"x": 0.1' in dumps_json(document)


def test_values_json_cannot_write_raise_its_type_error():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        dumps_json({"a": [1, {2, 3}]})
    with pytest.raises(TypeError, match="Object of type complex is not JSON serializable"):
        dumps_json({"a": 1j})
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None"):
        dumps_json({"a": {(1, 2): "tuple key"}, "b": [1]})


def test_a_container_holding_itself_is_an_error():
    document: dict = {"list": [1]}
    document["list"].append(document)
    with pytest.raises(ValueError, match="Circular reference detected"):
        dumps_json(document)
