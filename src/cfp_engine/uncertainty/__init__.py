"""Monte Carlo footprints over the same plans and demand as the engine.

The public names load on first use (``from cfp_engine.uncertainty import
sample_footprints``): the package pulls in the engine and the sampled background.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
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
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
