"""Built-in inventory files (``inventories/*.yaml``) and their translation for bw2io.

Each file holds ``datasets:``, one per activity, with its source, pedigree and
exchanges (see ``inventories/README.md``). This module reads and checks them and turns
them into the activity dictionaries of :class:`bw2io.importers.base_lci.LCIImporter`;
linking and writing happen in :mod:`cfp_engine.store.build` through bw2io. Every exchange
but the reference output carries a lognormal uncertainty from the dataset's pedigree
scores (:mod:`cfp_engine.spec.distributions`), so Brightway stores it. No Brightway here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cfp_engine.errors import DataError, SpecError
from cfp_engine.paths import inventories_dir
from cfp_engine.spec.distributions import basic_uncertainty, lognormal_fields, pedigree_gsd

BUILTIN_DATABASE = "cfp-builtin"
SOURCE_FIELDS = ("organisation", "document", "year", "url", "licence", "geography")
PEDIGREE_FIELDS = ("reliability", "completeness", "temporal", "geographical", "technological")


def builtin_inventory_files() -> list[Path]:
    """The built-in inventory files, in a stable order."""
    return sorted(inventories_dir().glob("*.yaml"))


def read_inventory_file(path: Path) -> list[dict[str, Any]]:
    """The datasets of one inventory file, checked for the fields every dataset needs."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise DataError(f"{path}{line}: malformed YAML ({getattr(exc, 'problem', exc)})") from None
    datasets = (document or {}).get("datasets")
    if not isinstance(datasets, list):
        raise DataError(f"{path}: expected a top-level 'datasets:' list")
    for index, dataset in enumerate(datasets):
        _check_dataset(dataset, f"{path.name}: datasets[{index}]")
    return datasets


def _check_dataset(dataset: dict[str, Any], where: str) -> None:
    for key in ("code", "name", "unit", "location", "source", "exchanges"):
        if not dataset.get(key):
            raise DataError(f"{where}: missing '{key}'")
    missing = [f for f in SOURCE_FIELDS if not dataset["source"].get(f)]
    if missing:
        raise DataError(f"{where} ({dataset['name']}): source lacks {', '.join(missing)}")
    for exchange in dataset["exchanges"]:
        if ("flow" in exchange) == ("activity" in exchange):
            raise DataError(
                f"{where} ({dataset['name']}): each exchange names either a 'flow' or an 'activity'"
            )
        if not isinstance(exchange.get("amount"), (int, float)):
            raise DataError(f"{where} ({dataset['name']}): exchange without a numeric amount")


def read_builtin_datasets(files: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """All built-in datasets; codes and (name, location) pairs must be unique."""
    datasets: list[dict[str, Any]] = []
    for path in files if files is not None else builtin_inventory_files():
        for dataset in read_inventory_file(path):
            dataset["_file"] = path.name
            datasets.append(dataset)
    seen_codes: dict[str, str] = {}
    seen_names: dict[tuple[str, str], str] = {}
    for dataset in datasets:
        code, key = dataset["code"], (dataset["name"], dataset["location"])
        if code in seen_codes:
            raise DataError(f"{dataset['_file']}: code {code!r} also in {seen_codes[code]}")
        if key in seen_names:
            raise DataError(f"{dataset['_file']}: dataset {key} also in {seen_names[key]}")
        seen_codes[code] = seen_names[key] = dataset["_file"]
    return datasets


def to_importer_data(datasets: list[dict[str, Any]], database: str) -> list[dict[str, Any]]:
    """Activities in bw2io's LCI format; technosphere locations are filled in by name."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for dataset in datasets:
        by_name.setdefault(dataset["name"], []).append(dataset)
    activities = []
    for dataset in datasets:
        exchanges = [
            {
                "name": dataset["name"],
                "unit": dataset["unit"],
                "location": dataset["location"],
                "amount": 1.0,
                "type": "production",
                "input": (database, dataset["code"]),
            }
        ]
        for exchange in dataset["exchanges"]:
            converted = _exchange(exchange, dataset, by_name)
            exchanges.append(_with_uncertainty(converted, exchange, dataset, by_name))
        activities.append(
            {
                "database": database,
                "code": dataset["code"],
                "name": dataset["name"],
                "reference product": dataset.get("reference_product", dataset["name"]),
                "unit": dataset["unit"],
                "location": dataset["location"],
                "type": "process",
                "comment": dataset.get("comment", ""),
                "cfp": {
                    "category": dataset.get("category", "other"),
                    "source": dataset["source"],
                    "pedigree": dataset.get("pedigree", {}),
                    "co2e_only": bool(dataset.get("co2e_only", False)),
                    "air_freight": bool(dataset.get("air_freight", False)),
                    "file": dataset.get("_file", ""),
                },
                "exchanges": exchanges,
            }
        )
    return activities


def _with_uncertainty(
    converted: dict[str, Any], exchange: dict[str, Any], dataset: dict[str, Any], by_name
) -> dict[str, Any]:
    """Add the pedigree lognormal (ecoinvent method) to one converted exchange."""
    linked = None
    if "activity" in exchange:
        candidates = [
            d
            for d in by_name.get(exchange["activity"], [])
            if d["location"] == converted["location"]
        ]
        linked = candidates[0] if candidates else None
    basic = basic_uncertainty(exchange, input_dataset=linked)
    try:
        gsd = pedigree_gsd(basic, dataset.get("pedigree"))
    except SpecError as exc:
        raise DataError(f"{dataset.get('_file', '')} ({dataset['name']}): {exc}") from None
    return {**converted, **lognormal_fields(converted["amount"], gsd)}


def _exchange(exchange: dict[str, Any], dataset: dict[str, Any], by_name) -> dict[str, Any]:
    if "flow" in exchange:
        return {
            "name": exchange["flow"],
            "categories": tuple(exchange.get("categories", ["air"])),
            "unit": exchange.get("unit", "kilogram"),
            "amount": float(exchange["amount"]),
            "type": "biosphere",
        }
    name = exchange["activity"]
    location = exchange.get("location")
    if location is None:
        candidates = by_name.get(name, [])
        if len(candidates) != 1:
            raise DataError(
                f"{dataset['_file']} ({dataset['name']}): input {name!r} matches "
                f"{len(candidates)} datasets; give its 'location'"
            )
        location = candidates[0]["location"]
        unit = exchange.get("unit", candidates[0]["unit"])
    else:
        unit = exchange.get("unit")
    return {
        "name": name,
        "location": location,
        "unit": unit,
        "amount": float(exchange["amount"]),
        "type": "technosphere",
    }
