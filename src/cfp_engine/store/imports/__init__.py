"""User databases in: readers per format, linking, flow maps, reports, archive and XML safety.

:func:`import_database` reads a database file into the user store; :data:`FORMATS` lists
the formats it reads. Imported lazily: reading a database needs Brightway and bw2io.
"""

from cfp_engine.store.imports.formats import FORMATS

__all__ = ["FORMATS", "ImportReport", "import_database"]


def __getattr__(name):
    if name == "import_database":
        from cfp_engine.store.imports.database import import_database

        return import_database
    if name == "ImportReport":
        from cfp_engine.store.imports.report import ImportReport

        return ImportReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
