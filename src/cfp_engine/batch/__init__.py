"""Catalogue scoring: reading, vectorised scoring, chunks, resume, Dask.

:func:`score_catalogue` scores a whole catalogue file; :func:`build_scoring_model` and
:func:`score_line_items` score a table of line items in memory. The names are imported
on first use, as numpy and pyarrow are heavy.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "BatchSummary": "run",
        "DEFAULT_CHUNK_ROWS": "run",
        "score_catalogue": "run",
        "ScoringModel": "model",
        "build_scoring_model": "model",
        "OUTPUT_COLUMNS": "scoring",
        "score_line_items": "scoring",
    },
)
