"""cfp-engine: carbon footprint of products by life-cycle assessment on Brightway.

The public API is small and importing it is cheap: each name is imported on first use
(PEP 562), so ``import cfp_engine`` loads neither numpy, pint nor Brightway; Brightway
itself is imported only when a project has to be built or a full LCA is asked for.

>>> from cfp_engine import load_spec, calculate_footprint
>>> result = calculate_footprint(load_spec("examples/pet-bottle.yaml"))  # doctest: +SKIP
>>> result.total_kg_co2e  # doctest: +SKIP
"""

from importlib import import_module

from cfp_engine.version import __version__

# Public name -> the module that defines it.
_LAZY = {
    "calculate_footprint": "cfp_engine.engine.footprint",
    "FootprintResult": "cfp_engine.engine.results",
    "load_spec": "cfp_engine.spec.product",
    "ProductSpec": "cfp_engine.spec.product",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'cfp_engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
