import pytest

from cfp_engine.render.tables import format_kg


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.09784, "0.09784"),
        (0.0009646, "0.0009646"),
        (12.345, "12.35"),
        (1234.5, "1,234"),
        (-0.5, "-0.5000"),
        (1.2e-8, "1.200e-08"),
    ],
)
def test_format_kg(value, text):
    assert format_kg(value) == text
