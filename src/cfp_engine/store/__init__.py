"""The embedded Brightway store: session, build, score tables, queries, user databases.

The only package that imports Brightway. :func:`open_store` gives the score table a
calculation reads (built when needed); :func:`store_status`, :func:`repair_store` and
:func:`clean_user_projects` look after the store; :func:`list_databases` and
:func:`remove_database` manage the databases :mod:`cfp_engine.store.imports` brought in.
Imported lazily: most of these import numpy, and some Brightway.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "ScoreTable": "scores",
        "clean_user_projects": "cleaning",
        "list_databases": "registry",
        "open_store": "access",
        "remove_database": "registry",
        "repair_store": "health",
        "store_status": "health",
    },
)
