"""cfp-engine: carbon footprint of products by life-cycle assessment on Brightway.

The public API is small and importing it is cheap: each name is imported on first use
(PEP 562), so ``import cfp_engine`` loads neither numpy, pint nor Brightway; Brightway
itself is imported only when a project has to be built or a full LCA is asked for.

>>> from cfp_engine import load_spec, calculate_footprint
>>> result = calculate_footprint(load_spec("examples/pet-bottle.yaml"))  # doctest: +SKIP
>>> result.total_kg_co2e  # doctest: +SKIP
"""

from cfp_engine.lazy import lazy_exports
from cfp_engine.version import __version__

__getattr__, __dir__, _lazy_names = lazy_exports(
    __name__,
    {
        "calculate_footprint": "engine.footprint",
        "FootprintResult": "engine.results",
        "load_spec": "spec.product",
        "ProductSpec": "spec.product",
    },
)
__all__ = ["__version__", *_lazy_names]
