"""Product specs and what they are made of: units, distributions, materials tables, methods.

No Brightway here. :func:`load_spec` reads a product spec into a :class:`ProductSpec`;
:func:`parse_quantity` reads a quantity with its unit; :func:`resolve_method` and
:func:`load_materials` read the method catalogue and a materials table. Imported lazily:
the spec model and units import pint.
"""

__all__ = [
    "ProductSpec",
    "load_materials",
    "load_spec",
    "parse_quantity",
    "resolve_method",
]

_HOMES = {
    "ProductSpec": "cfp_engine.spec.product",
    "load_spec": "cfp_engine.spec.product",
    "load_materials": "cfp_engine.spec.materials",
    "parse_quantity": "cfp_engine.spec.units",
    "resolve_method": "cfp_engine.spec.methods",
}


def __getattr__(name):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
