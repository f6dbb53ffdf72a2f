"""Where a footprint's figures come from: versions, data hashes, databases and datasets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from cfp_engine.engine.plan import Demand
from cfp_engine.paths import inventories_dir
from cfp_engine.spec.methods import INDICATORS, MethodSpec
from cfp_engine.spec.product import ProductSpec
from cfp_engine.store.scores import ScoreTable
from cfp_engine.version import __version__

#: A list longer than this in a database's record (an import's dropped exchanges, left-out
#: flows, skipped datasets: 19,854 rows for the US LCI export) is summarised in a result's
#: provenance; the whole list stays in the store's registry (``imports/registry.json``) and
#: in the import's report.
PROVENANCE_LIST_LIMIT = 20


def _summarised(record: dict) -> dict:
    """A database record with each long list replaced by ``{"count", "first"}``."""
    return {
        key: (
            {"count": len(value), "first": value[:PROVENANCE_LIST_LIMIT]}
            if isinstance(value, list) and len(value) > PROVENANCE_LIST_LIMIT
            else value
        )
        for key, value in record.items()
    }


#: What a supplier-footprint database's record lists per footprint: in a result's
#: provenance only the footprints it used are named (``supplier_footprints``).
_FOOTPRINT_LISTS = ("footprints", "earlier", "rejected")


def _database_record(record: dict) -> dict:
    if record.get("format") != "pact":
        return _summarised(record)
    kept = {k: v for k, v in record.items() if k not in _FOOTPRINT_LISTS}
    return {**kept, **{k: len(record.get(k) or ()) for k in _FOOTPRINT_LISTS}}


def supplier_footprints(table: ScoreTable, demands: Sequence[Demand]) -> list[dict]:
    """The supplier PACT footprints ``demands`` use, each with its provenance record.

    The record (:func:`cfp_engine.store.imports.pact_import.footprint_record`) names the
    footprint (id, version, specVersion, status), its source, import time, the sha256 of
    its canonical payload and its figures per unit, which ``cfp verify`` checks against
    the stored copy.
    """
    databases = table.manifest.get("databases", {})
    used = []
    for index in sorted({d.activity_index for d in demands}):
        info = table.activities[index]
        record = databases.get(info.database) or {}
        if record.get("format") != "pact":
            continue
        footprint = record.get("footprints", {}).get(info.code)
        if footprint is not None:
            used.append({"activity": info.reference, "database": info.database, **footprint})
    return sorted(used, key=lambda f: (f["database"], f["id"]))


def supplier_warnings(table: ScoreTable, demands: Sequence[Demand]) -> tuple[str, ...]:
    """What the used supplier footprints hold that the calculation cannot represent."""
    notes = []
    for index in sorted({d.activity_index for d in demands}):
        info = table.activities[index]
        pact = (info.source or {}).get("pact") or {}
        notes += [
            f"supplier footprint {info.reference} ({pact['id']}): {n}"
            for n in pact.get("notes", ())
        ]
    return tuple(sorted(notes))


def _data_basis(table: ScoreTable, databases: Sequence[str], suppliers: list[dict]) -> str:
    """What the data hash covers besides the materials tables.

    The score table's fingerprint (the built-in data and every import's record, with its
    import time), unless the only imported databases the result used are supplier PACT
    footprints: then the built-in data and the payload hashes of the footprints used, so
    that a customer who pulled the same footprints verifies the label in their own store.
    """
    from cfp_engine.store.build_cache import builtin_fingerprint

    records = table.manifest.get("databases", {})
    used = [name for name in databases if name in records]
    if not suppliers or any(records[name].get("format") != "pact" for name in used):
        return table.fingerprint
    shas = sorted(f"{f['database']}:{f['sha256']}" for f in suppliers)
    return "\n".join(["cfp-data with supplier footprints", builtin_fingerprint(), *shas])


def build_provenance(
    product: ProductSpec,
    method: MethodSpec,
    table: ScoreTable,
    material_files: Sequence[Path],
    demands: Sequence[Demand],
    databases: Sequence[str],
) -> dict:
    """The ``provenance`` block of a result (contract section 3).

    Parameters
    ----------
    material_files
        The materials tables used beside the built-in one; their bytes enter the hash.
    demands
        The demand whose activities are listed as datasets.
    databases
        The databases the result used, directly or through their links.
    """
    suppliers = supplier_footprints(table, demands)
    digest = hashlib.sha256(_data_basis(table, databases, suppliers).encode())
    for path in [inventories_dir() / "materials.csv", *material_files]:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    datasets = []
    # By reference, not by matrix index: the index order of a build is not reproducible
    # (bw2io writes a database's activities in set order), and a label must be.
    used = {d.activity_index for d in demands}
    for index in sorted(used, key=lambda i: table.activities[i].reference):
        info = table.activities[index]
        source = info.source or {}
        datasets.append(
            {
                "activity": info.reference,
                "source": source.get("organisation", info.database),
                "document": source.get("document", ""),
                "year": source.get("year"),
                "geography": source.get("geography", info.location),
                "licence": source.get("licence", ""),
            }
        )
    manifest = table.manifest
    return {
        "engine_version": __version__,
        "spec_sha256": product.sha256,
        "data_sha256": digest.hexdigest(),
        "method": method.name,
        "method_indicators": {ind: list(method.brightway_name(ind)) for ind in INDICATORS},
        "gwp_source": method.gwp_source,
        "lcia_source": manifest.get("lcia_source", {}),
        "brightway_project": manifest.get("project"),
        # Only the databases this result used (directly or through their links).
        "databases": {
            name: _database_record(record)
            for name, record in manifest.get("databases", {}).items()
            if name in databases
        },
        "versions": manifest.get("versions", {}),
        "datasets": datasets,
        **({"supplier_footprints": suppliers} if suppliers else {}),
    }
