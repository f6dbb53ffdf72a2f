"""The embedded Brightway store: session, build, score tables, queries, user databases.

The only package that imports Brightway. :func:`open_store` gives the score table a
calculation reads (built when needed); :func:`store_status`, :func:`repair_store` and
:func:`clean_user_projects` look after the store; :func:`list_databases` and
:func:`remove_database` manage the databases :mod:`cfp_engine.store.imports` brought in.
Imported lazily: most of these import numpy, and some Brightway.
"""

__all__ = [
    "ScoreTable",
    "clean_user_projects",
    "list_databases",
    "open_store",
    "remove_database",
    "repair_store",
    "store_status",
]

_HOMES = {
    "ScoreTable": "cfp_engine.store.scores",
    "clean_user_projects": "cfp_engine.store.cleaning",
    "list_databases": "cfp_engine.store.registry",
    "open_store": "cfp_engine.store.access",
    "remove_database": "cfp_engine.store.registry",
    "repair_store": "cfp_engine.store.health",
    "store_status": "cfp_engine.store.health",
}


def __getattr__(name):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
