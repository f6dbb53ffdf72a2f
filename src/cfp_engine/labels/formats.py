"""The label formats ``cfp label`` writes, named once for the library and the command line.

A light module (no imports), so the CLI can offer the choices without loading the engine.
"""

#: PACT v3, PACT v2, the Catena-X PCF aspect model, the disclosure itself as JSON, and the
#: readable label and report in Markdown and HTML.
LABEL_FORMATS = ("pact", "pact-v2", "catena-x", "json", "md", "html")
#: The formats a person reads (rendered by :mod:`cfp_engine.labels.readable`).
READABLE_FORMATS = ("md", "html")
