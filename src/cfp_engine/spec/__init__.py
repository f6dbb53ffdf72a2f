"""Product specs and what they are made of: units, distributions, materials tables, methods.

No Brightway here. :func:`load_spec` reads a product spec into a :class:`ProductSpec`;
:func:`parse_quantity` reads a quantity with its unit; :func:`resolve_method` and
:func:`load_materials` read the method catalogue and a materials table. Imported lazily:
the spec model and units import pint.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "ProductSpec": "product",
        "load_spec": "product",
        "load_materials": "materials",
        "parse_quantity": "units",
        "resolve_method": "methods",
    },
)
