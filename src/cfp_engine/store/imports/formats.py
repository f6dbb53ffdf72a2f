"""The database formats ``cfp data import`` reads (cheap to import: the CLI lists them)."""

#: ecospold2 (folder, ``.spold`` or ``.zip``), SimaPro CSV, openLCA JSON-LD (folder or
#: ``.zip``), Brightway's own Excel and CSV formats, and supplier PACT footprints (JSON).
FORMATS = ("ecospold2", "simapro-csv", "olca-jsonld", "excel", "csv", "pact")
