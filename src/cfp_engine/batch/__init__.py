"""Catalogue scoring: reading, vectorised scoring, chunks, resume, Dask.

:func:`score_catalogue` scores a whole catalogue file; :func:`build_scoring_model` and
:func:`score_line_items` score a table of line items in memory. The names are imported
on first use, as numpy and pyarrow are heavy.
"""

from importlib import import_module

# Public name -> the module that defines it.
_LAZY = {
    "BatchSummary": "cfp_engine.batch.run",
    "DEFAULT_CHUNK_ROWS": "cfp_engine.batch.run",
    "score_catalogue": "cfp_engine.batch.run",
    "ScoringModel": "cfp_engine.batch.model",
    "build_scoring_model": "cfp_engine.batch.model",
    "OUTPUT_COLUMNS": "cfp_engine.batch.scoring",
    "score_line_items": "cfp_engine.batch.scoring",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cfp_engine.batch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
