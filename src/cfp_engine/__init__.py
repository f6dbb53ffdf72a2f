"""cfp-engine: carbon footprint of products by life-cycle assessment on Brightway.

The public API is small and importing it is cheap: Brightway is imported only when a
project has to be built or a full LCA is asked for.

>>> from cfp_engine import load_spec, calculate_footprint
>>> result = calculate_footprint(load_spec("examples/pet-bottle.yaml"))  # doctest: +SKIP
>>> result.total_kg_co2e  # doctest: +SKIP
"""

from cfp_engine.version import __version__

__all__ = [
    "__version__",
    "calculate_footprint",
    "load_spec",
    "FootprintResult",
    "ProductSpec",
]


def __getattr__(name):
    # Lazy re-exports keep `import cfp_engine` free of numpy/pint/Brightway imports.
    if name in ("calculate_footprint",):
        from cfp_engine.engine.footprint import calculate_footprint

        return calculate_footprint
    if name == "FootprintResult":
        from cfp_engine.engine.results import FootprintResult

        return FootprintResult
    if name in ("load_spec", "ProductSpec"):
        from cfp_engine.spec import product as spec

        return getattr(spec, name)
    raise AttributeError(f"module 'cfp_engine' has no attribute {name!r}")
