"""User databases in: readers per format, linking, flow maps, reports, archive and XML safety.

:func:`import_database` reads a database file into the user store; :data:`FORMATS` lists
the formats it reads. :func:`pull_footprints` stores a supplier's footprints from its PACT
host, :func:`request_footprints` asks the host for ones it does not list yet. Imported
lazily: reading a database needs Brightway and bw2io.
"""

from cfp_engine.lazy import lazy_exports
from cfp_engine.store.imports.formats import FORMATS

__getattr__, __dir__, _lazy_names = lazy_exports(
    __name__,
    {
        "ImportReport": "report",
        "import_database": "database",
        "pull_footprints": "pact_pull",
        "request_footprints": "pact_pull",
    },
)
__all__ = ["FORMATS", *_lazy_names]
