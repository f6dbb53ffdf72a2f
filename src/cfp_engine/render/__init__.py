"""Output for people: text and CSV tables of results (:mod:`.tables`), data views
(:mod:`.data_views`) and plots (:mod:`.plots`).
"""

__all__ = [
    "format_kg",
    "plot_sweep",
    "render_comparison",
    "render_comparison_csv",
    "render_csv",
    "render_sweep",
    "render_sweep_csv",
    "render_table",
]


def __getattr__(name):
    # Lazy: the tables need the result model, the plots matplotlib.
    if name == "plot_sweep":
        from cfp_engine.render.plots import plot_sweep

        return plot_sweep
    if name in __all__:
        from cfp_engine.render import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'cfp_engine.render' has no attribute {name!r}")
