"""Impact methods: which ones the engine offers and where their factors come from.

``methods/methods.yaml`` names, for each method, the bw2io LCIA methods that give its
total and its GHG sub-indicators. This module reads that catalogue (cheap, no
Brightway) and, when a project is built, turns bw2io's packaged LCIA data into method
data ready for :class:`bw2io.importers.base_lcia.LCIAImporter`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cfp_engine.errors import DataError

#: GHG sub-indicators reported beside the total (PACT / ISO 14067 separate figures).
GHG_INDICATORS = ("fossil", "biogenic", "land_use_change")
INDICATORS = ("total", *GHG_INDICATORS)
LCIA_ZIP = ("data", "lcia", "lcia_39_ecoinvent.zip")


@dataclass(frozen=True)
class MethodSpec:
    """One impact method and the Brightway method names of its indicators."""

    name: str
    aliases: tuple[str, ...]
    gwp_source: str
    indicators: dict[str, tuple[str, str, str]]
    split_from: str | None = None
    ipcc_report: str = ""  # AR6, AR5: the IPCC report of the GWP values

    def brightway_name(self, indicator: str) -> tuple[str, ...]:
        """The Brightway method tuple of an indicator as installed by the engine."""
        if indicator in self.indicators:
            return self.indicators[indicator]
        return ("cfp-engine", self.name, indicator)


@lru_cache(maxsize=1)
def _catalogue() -> tuple[str, dict[str, MethodSpec]]:
    import yaml

    from cfp_engine.paths import methods_dir

    document = yaml.safe_load((methods_dir() / "methods.yaml").read_text(encoding="utf-8"))
    methods = {}
    for entry in document["methods"]:
        methods[entry["name"]] = MethodSpec(
            name=entry["name"],
            aliases=tuple(entry.get("aliases", ())),
            gwp_source=" ".join(str(entry.get("gwp_source", "")).split()),
            indicators={k: tuple(v) for k, v in entry["indicators"].items()},
            split_from=entry.get("split_from"),
            ipcc_report=entry.get("ipcc_report", ""),
        )
    return document["default"], methods


def available_methods() -> list[MethodSpec]:
    """Every method of the catalogue (``methods/methods.yaml``), in its order."""
    return list(_catalogue()[1].values())


def resolve_method(name: str | None) -> MethodSpec:
    """The method called ``name`` (or one of its aliases); ``None`` gives the default."""
    default, methods = _catalogue()
    if name is None:
        return methods[default]
    folded = name.strip().lower()
    for method in methods.values():
        if folded == method.name.lower() or folded in (a.lower() for a in method.aliases):
            return method
    known = "; ".join(f"{m.name} ({', '.join(m.aliases)})" for m in methods.values())
    raise DataError(f"unknown method {name!r}; available: {known}")


def bw2io_lcia_zip() -> Path:
    """Path of bw2io's packaged LCIA data, found without importing bw2io."""
    spec = importlib.util.find_spec("bw2io")
    if spec is None or spec.origin is None:
        raise DataError("bw2io is not installed; it provides the LCIA data of the methods")
    return Path(spec.origin).parent.joinpath(*LCIA_ZIP)


def lcia_source_sha256() -> str:
    """The sha256 of bw2io's packaged LCIA file, recorded in each build's manifest."""
    return hashlib.sha256(bw2io_lcia_zip().read_bytes()).hexdigest()


def read_bw2io_lcia() -> dict[tuple[str, ...], dict]:
    """bw2io's packaged LCIA methods that the catalogue names, by method name tuple.

    The caller's own copy: Brightway's importers change method data in place.
    """
    return copy.deepcopy(_catalogued_lcia())


@lru_cache(maxsize=1)
def _catalogued_lcia() -> dict[tuple[str, ...], dict]:
    """Decoding bw2io's ``data.json`` (762 methods) takes a second or more; it is done
    once per process, and once per bw2io data and catalogue for every process through
    a small cache file of the catalogued methods in the engine's store."""
    wanted = {tuple(name) for m in available_methods() for name in m.indicators.values()}
    cache = _lcia_cache_path(wanted)
    try:
        methods = _read_lcia_cache(cache)
    except (OSError, ValueError):  # none yet, cut short or changed: decode bw2io's data
        with zipfile.ZipFile(bw2io_lcia_zip()) as archive:
            methods = [
                m for m in json.loads(archive.read("data.json")) if tuple(m["name"]) in wanted
            ]
        _save_lcia_cache(cache, methods)
    by_name = {}
    for method in methods:
        # bw2io's own loader (create_default_lcia_methods) keeps the JSON lists as they
        # are; Brightway needs tuples for method names, flow keys and categories.
        method["name"] = tuple(method["name"])
        for cf in method["exchanges"]:
            cf["input"] = tuple(cf["input"])
            cf["categories"] = tuple(cf["categories"])
        by_name[method["name"]] = method
    return by_name


def _lcia_cache_path(wanted: set[tuple[str, ...]]) -> Path:
    """The cache file of the ``wanted`` methods of this bw2io's LCIA data."""
    from cfp_engine.paths import data_home

    key = hashlib.sha256(lcia_source_sha256().encode())
    key.update(json.dumps(sorted(wanted)).encode())
    return data_home() / "cache" / f"lcia-{key.hexdigest()[:24]}.json"


def _read_lcia_cache(path: Path) -> list[dict]:
    """The cached methods; ValueError unless their checksum matches (a flipped digit in a
    factor would still be valid JSON)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    methods = document["methods"]
    if hashlib.sha256(json.dumps(methods).encode()).hexdigest() != document["sha256"]:
        raise ValueError(f"{path}: checksum differs")
    return methods


def _save_lcia_cache(path: Path, methods: list[dict]) -> None:
    """Write the cache; a store that cannot be written (read-only) just goes without."""
    from cfp_engine.files.atomic import write_text_atomically

    text = json.dumps(methods)
    document = f'{{"sha256": "{hashlib.sha256(text.encode()).hexdigest()}", "methods": {text}}}'
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, document)
    except OSError:
        pass


def build_method_data() -> list[dict]:
    """Method data (bw2io LCIA format) for every indicator of every catalogued method.

    Raises :class:`DataError` when a named method is missing from bw2io's data or when
    the sub-indicators do not partition the total, so a changed bw2io cannot silently
    change what "fossil" means.
    """
    source = read_bw2io_lcia()
    _, catalogue = _catalogue()
    out: list[dict] = []
    for method in catalogue.values():
        for name in method.indicators.values():
            if name not in source:
                raise DataError(f"methods.yaml: {method.name}: bw2io has no method {name}")
            out.append(source[name])
        if method.split_from:
            out.extend(_derived_split(method, catalogue[method.split_from], source))
        else:
            _check_partition(method, source)
    return out


def _flow_sets(method: MethodSpec, source) -> dict[str, set]:
    return {
        ind: {cf["input"] for cf in source[method.indicators[ind]]["exchanges"]}
        for ind in GHG_INDICATORS
    }


def _check_partition(method: MethodSpec, source) -> None:
    total = {cf["input"]: cf["amount"] for cf in source[method.indicators["total"]]["exchanges"]}
    parts: dict = {}
    for ind in GHG_INDICATORS:
        for cf in source[method.indicators[ind]]["exchanges"]:
            if cf["input"] in parts:
                raise DataError(f"{method.name}: flow {cf['name']} is in two sub-indicators")
            parts[cf["input"]] = cf["amount"]
    if parts != total:
        raise DataError(f"{method.name}: the GHG sub-indicators do not add up to the total")


def _derived_split(method: MethodSpec, template: MethodSpec, source) -> list[dict]:
    sets = _flow_sets(template, source)
    total = source[method.indicators["total"]]
    split: dict[str, list] = {ind: [] for ind in GHG_INDICATORS}
    for cf in total["exchanges"]:
        if cf["input"] in sets["land_use_change"]:
            split["land_use_change"].append(cf)
        elif cf["input"] in sets["biogenic"] or "non-fossil" in cf["name"]:
            split["biogenic"].append(cf)
        else:
            split["fossil"].append(cf)
    return [
        {
            **{k: v for k, v in total.items() if k != "exchanges"},
            "name": method.brightway_name(ind),
            "description": (
                f"{method.name}, {ind}: factors of {total['name']} on the flows of "
                f"{template.name}'s '{ind}' sub-indicator (derived by cfp-engine)"
            ),
            "exchanges": cfs,
        }
        for ind, cfs in split.items()
    ]
