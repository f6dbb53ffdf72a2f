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
    digest = hashlib.sha256(table.fingerprint.encode())
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
            name: _summarised(record)
            for name, record in manifest.get("databases", {}).items()
            if name in databases
        },
        "versions": manifest.get("versions", {}),
        "datasets": datasets,
    }
