"""The label formats ``cfp label`` writes, named once for the library and the command line.

A light module (no imports), so the CLI can offer the choices without loading the engine.
"""

#: PACT v3, PACT v2, the Catena-X PCF aspect model, the disclosure itself as JSON, the
#: readable label and report in Markdown and HTML, the Battery Pass records, the
#: EU Battery Regulation's carbon footprint declaration and the Ouranos CFP records.
LABEL_FORMATS = (
    "pact",
    "pact-v2",
    "catena-x",
    "json",
    "md",
    "html",
    "battery-passport",
    "eu-battery",
    "ouranos",
)
#: The formats that need the product spec's ``battery:`` section.
BATTERY_FORMATS = ("battery-passport", "eu-battery")
#: The formats that need the product spec (its battery section or its components).
SPEC_FORMATS = (*BATTERY_FORMATS, "ouranos")
#: The formats a person reads (rendered by :mod:`cfp_engine.labels.readable`).
READABLE_FORMATS = ("md", "html")
