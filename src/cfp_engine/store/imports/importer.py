"""Read real LCI databases through bw2io and link them: ecospold2, SimaPro CSV, JSON-LD, Excel.

Each format is read by bw2io's own importer with its usual strategies
(``SingleOutputEcospold2Importer``, ``SimaProCSVImporter``, ``JSONLDImporter``,
``ExcelImporter``/``CSVImporter``), with three changes that keep numbers honest:

* nothing is dropped silently: bw2io's ecospold2 strategy that purges inputs without an
  ``activityLinkId`` is left out, and every exchange still unlinked after linking is
  reported (and stops the import unless the user drops them explicitly);
* every elementary flow must end in biosphere3, the database the engine's LCIA methods
  characterise; a database's own flows (openLCA's, the Mobility example's ``CO2``) are
  linked by UUID, then by name, compartment and unit, after the user's flow map
  (:mod:`cfp_engine.store.imports.flowmaps`) and bw2io's SimaPro name mapping;
* technosphere inputs the format's own linking misses are linked by name, unit and
  location inside the database, then to the other imported databases and the built-in
  data.

The result is a bw2io importer ready to write plus an :class:`ImportReport`; this module
only reads Brightway state, inside :func:`cfp_engine.store.session.open_brightway` (the
target project current). The steps, in the order :mod:`cfp_engine.store.imports.database`
runs them: :func:`create_importer` (:mod:`cfp_engine.store.imports.readers`),
:func:`link_and_check` (:mod:`cfp_engine.store.imports.linking`),
:func:`write_unlinked_report` or :func:`drop_unlinked`
(:mod:`cfp_engine.store.imports.report`), and last :func:`annotate_activities`, defined
here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cfp_engine.errors import DataError
from cfp_engine.store.imports.linking import link_and_check
from cfp_engine.store.imports.readers import FORMATS, create_importer
from cfp_engine.store.imports.report import (
    ImportReport,
    drop_unlinked,
    write_uncharacterised_report,
    write_unlinked_report,
)

__all__ = [
    "FORMATS",
    "ImportReport",
    "annotate_activities",
    "create_importer",
    "record_allocation",
    "drop_unlinked",
    "link_and_check",
    "write_uncharacterised_report",
    "write_unlinked_report",
]


def annotate_activities(importer, report: ImportReport, imported_at: str) -> None:
    """Give every activity the ``cfp`` metadata the engine reads (source, category)."""
    for ds in importer.data:
        year = _year(ds)
        meta = ds.setdefault("cfp", {})
        meta.update(
            {
                "category": meta.get("category", "other"),
                "source": {
                    "organisation": report.name,
                    "document": Path(report.file).name,
                    "year": year,
                    "url": "",
                    "licence": "unknown (see the licence of the imported database)",
                    "geography": ds.get("location") or "GLO",
                    "sha256": report.sha256,
                    "format": report.format,
                    "imported_at": imported_at,
                },
            }
        )
        split = meta.get("allocation")
        if split:
            # Shown by ``cfp data show`` with the rest of the source.
            meta["source"]["allocation"] = (
                f"{split['property']} ({split['property_amount']:g} {split['property_unit']} "
                f"per unit of product): factor {split['factor']:.6g} of {split['activity']!r}, "
                "co-products " + ", ".join(repr(p) for p in split["co_products"])
            )
        ds.pop("cfp_flow_map", None)
        for exchange in ds.get("exchanges", ()):
            exchange.pop("cfp_flow_map", None)
            exchange.pop("cfp_context", None)  # import_olca.olca_flow_contexts
            amount = exchange.get("amount")
            if amount is None or (isinstance(amount, float) and not math.isfinite(amount)):
                raise DataError(
                    f"{report.file}: {ds.get('name')!r}: exchange {exchange.get('name')!r} "
                    "has no numeric amount"
                )


def record_allocation(importer, report: ImportReport, allocation: str | None) -> None:
    """Put the allocation property, the split datasets and the skipped ones in ``report``."""
    report.allocation = allocation
    report.skipped = list(getattr(importer, "cfp_skipped", ()))
    allocated: dict[str, int] = {}
    # Only ecospold2 is allocated here (openLCA's data are not yet a list at this point).
    for ds in importer.data if allocation else ():
        split = ds.get("cfp", {}).get("allocation")
        if split:
            where = f"{split['activity']} [{ds.get('location') or 'GLO'}]"
            allocated[where] = allocated.get(where, 0) + 1
    report.allocated = allocated


def _year(ds: dict[str, Any]) -> int | None:
    for key in ("end_date", "start_date"):
        text = str(ds.get(key) or "")
        if text[:4].isdigit():
            return int(text[:4])
    return None
