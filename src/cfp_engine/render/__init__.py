"""Output for people: text and CSV tables of results (:mod:`.tables`), data views
(:mod:`.data_views`) and plots (:mod:`.plots`).
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "plot_sweep": "plots",
        "format_kg": "tables",
        "render_comparison": "tables",
        "render_comparison_csv": "tables",
        "render_csv": "tables",
        "render_sweep": "tables",
        "render_sweep_csv": "tables",
        "render_table": "tables",
    },
)
