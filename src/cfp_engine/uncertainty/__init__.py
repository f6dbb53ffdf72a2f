"""Monte Carlo footprints over the same plans and demand as the engine.

The public names load on first use (``from cfp_engine.uncertainty import
sample_footprints``): the package pulls in the engine and the sampled background.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "McModel": "model",
        "build_model": "model",
        "McResult": "analysis",
        "sample_footprints": "analysis",
        "compare_statistics": "analysis",
        "compare_with_uncertainty": "analysis",
        "StreamingSummary": "statistics",
        "summarise": "statistics",
        "write_samples": "output",
        "plot_distributions": "output",
        "render_mc_table": "output",
        "render_mc_comparison": "output",
    },
)
