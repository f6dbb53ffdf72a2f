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
  (:mod:`cfp_engine.flowmaps`) and bw2io's SimaPro name mapping;
* technosphere inputs the format's own linking misses are linked by name, unit and
  location inside the database, then to the other imported databases and the built-in
  data.

The result is a bw2io importer ready to write plus an :class:`ImportReport`. Writing
(and bw2io's migrations), the score table and the registry are :mod:`cfp_engine.user_store`'s
job: this module only reads Brightway state. Only called inside
``store._brightway()`` (bw2data imported, the target project current).
"""

from __future__ import annotations

import csv
import functools
import math
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError, SpecError, UnitError
from .flowmaps import FlowMap, normalize_compartments
from .importers_safety import (
    check_xml_files,
    locate_json_error,
    locate_xml_error,
    safe_extract_zip,
)

FORMATS = ("ecospold2", "simapro-csv", "olca-jsonld", "excel", "csv")
BIOSPHERE = "biosphere3"
#: Below this many datasets bw2io's ecospold2 extraction runs in-process: a process
#: pool costs ~0.5 s to start, more than it saves on a small database.
ECOSPOLD2_MP_MIN_FILES = 2000
UNLINKED_COLUMNS = ("name", "unit", "categories", "location", "type", "activity", "flow")


@dataclass
class ImportReport:
    """What an import found and did (the statistics ``cfp data import`` prints)."""

    name: str
    format: str
    file: str
    sha256: str
    size_bytes: int
    activities: int = 0
    exchanges: dict[str, int] = field(default_factory=dict)  # by type
    linked_internal: int = 0  # inputs the engine's name/unit/location pass linked
    linked_inputs: int = 0  # all linked technosphere inputs
    linked_flows: int = 0  # biosphere exchanges linked to biosphere3
    linked_external: dict[str, int] = field(default_factory=dict)  # database -> count
    unlinked: list[dict[str, str]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    mapped_flows: list[dict[str, Any]] = field(default_factory=list)
    unmapped_units: dict[str, int] = field(default_factory=dict)
    parameterised: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    unlinked_report: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def render(self) -> str:
        """The report as text for ``cfp data import``."""
        exchanges = ", ".join(f"{n} {k}" for k, n in sorted(self.exchanges.items()))
        external = ", ".join(f"{n} to {db}" for db, n in sorted(self.linked_external.items()))
        lines = [
            f"Imported {self.name} ({self.format}) from {self.file}",
            f"  sha256          {self.sha256}",
            f"  size            {self.size_bytes} bytes",
            f"  activities      {self.activities}",
            f"  exchanges       {exchanges}",
            f"  linked          {self.linked_flows} elementary flows to biosphere3; "
            f"{self.linked_inputs} inputs ({self.linked_internal} by name/unit/location "
            "inside the database" + (f"; {external}" if external else "") + ")",
            f"  unlinked        {len(self.unlinked)}",
        ]
        for row in self.mapped_flows:
            source, target = row["source"], row["target"]
            lines.append(
                f"  mapped flow     {source[0]} ({source[1] or 'any'}, {source[2]}) -> "
                f"{target[0]} ({target[1]}, {target[2]}) x{row['factor']:g}: "
                f"{row['exchanges']} exchange(s) [{row['row']}]"
            )
        if self.dropped:
            lines.append(
                f"  DROPPED         {len(self.dropped)} unlinked exchange(s) (--allow-unlinked; "
                "recorded in the provenance)"
            )
            lines.extend(
                f"    {d['type']} {d['name']!r} [{d['unit']}] in {d['activity']}"
                for d in self.dropped[:10]
            )
        for unit, count in sorted(self.unmapped_units.items()):
            lines.append(
                f"  WARNING         unit {unit!r} ({count} use(s)) has no pint unit: "
                "amounts cannot be given in it"
            )
        if self.parameterised:
            lines.append("  parameters      formulas evaluated by Brightway (bw2data.parameters)")
        timing = ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())
        lines.append(f"  time            {timing}")
        return "\n".join(lines)


# -- reading -------------------------------------------------------------------------


def create_importer(
    bd,
    source: Path,
    fmt: str,
    name: str,
    workdir: Path,
    *,
    flow_map: FlowMap,
    limits: dict[str, int] | None = None,
):
    """A bw2io importer for ``source`` with the engine's strategies set (not yet applied).

    ``limits`` (``max_members``, ``max_bytes``) override the archive limits of
    :func:`cfp_engine.importers_safety.safe_extract_zip`.
    """
    if fmt not in FORMATS:
        raise SpecError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    reader = {
        "ecospold2": _ecospold2,
        "simapro-csv": _simapro,
        "olca-jsonld": _jsonld,
        "excel": _excel,
        "csv": _excel,
    }[fmt]
    root = _unpack(source, workdir, limits or {})
    importer = reader(bd, source, root, fmt, name, workdir)
    _insert_flow_map(importer, flow_map, fmt)
    return importer


def _unpack(source: Path, workdir: Path, limits: dict[str, int]) -> Path:
    if source.is_file() and source.suffix.lower() == ".zip":
        target = workdir / "unpacked"
        target.mkdir()
        return safe_extract_zip(source, target, **limits)
    return source


def _folder_with(root: Path, pattern: str) -> tuple[Path, list[Path]]:
    """The folder under ``root`` holding most files matching ``pattern``."""
    counts = Counter(p.parent for p in root.rglob(pattern) if p.is_file())
    if not counts:
        return root, []
    folder = counts.most_common(1)[0][0]
    return folder, sorted(p for p in folder.glob(pattern) if p.is_file())


def _ecospold2(bd, source: Path, root: Path, fmt: str, name: str, workdir: Path):
    from bw2io.importers import SingleOutputEcospold2Importer
    from bw2io.strategies import delete_exchanges_missing_activity, delete_ghost_exchanges

    if root.is_file():
        if root.suffix.lower() != ".spold":
            raise SpecError(f"{source}: ecospold2 is a .spold file, a folder of them or a .zip")
        single = workdir / "spold"
        single.mkdir()
        shutil.copy(root, single / root.name)
        root = single
    folder, files = _folder_with(root, "*.spold")
    if not files:
        raise SpecError(f"{source}: no .spold files found")
    check_xml_files(files)
    try:
        importer = SingleOutputEcospold2Importer(
            str(folder),
            name,
            use_mp=len(files) >= ECOSPOLD2_MP_MIN_FILES,
            add_product_information=False,
        )
    except Exception as exc:  # noqa: BLE001 - lxml, KeyError, AttributeError on bad files
        located = locate_xml_error(files)
        if located:
            raise SpecError(located) from None
        raise SpecError(
            f"{source}: not a readable ecospold2 dataset ({type(exc).__name__}: {exc})"
        ) from None
    # bw2io purges inputs without an activity link, or linked to a dataset not in the
    # folder ("ghosts"); that changes the result silently, so keep them: they are
    # reported as unlinked instead.
    purges = (delete_exchanges_missing_activity, delete_ghost_exchanges)
    importer.strategies = [s for s in importer.strategies if s not in purges]
    importer.cfp_files = files
    return importer


def _simapro(bd, source: Path, root: Path, fmt: str, name: str, workdir: Path):
    from bw2io.importers import SimaProCSVImporter
    from bw2io.strategies.simapro import (
        split_simapro_name_geo,
        split_simapro_name_geo_curly_brackets,
    )

    if root.is_dir():
        _, files = _folder_with(root, "*.csv")
        if len(files) != 1:
            raise SpecError(f"{source}: expected one SimaPro .csv export, found {len(files)}")
        root = files[0]
    raw = root.read_bytes()[:4096]
    try:
        head = raw.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        head, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    if "SimaPro" not in first and "CSV separator" not in first:
        raise SpecError(
            f"{root}:1: not a SimaPro CSV export (the first line should be '{{SimaPro ...}}')"
        )
    delimiter = ";"
    for word, char in (("Comma", ","), ("Tab", "\t"), ("Semicolon", ";")):
        if f"{{CSV separator: {word}}}" in head:
            delimiter = char
    try:
        importer = SimaProCSVImporter(str(root), name=name, delimiter=delimiter, encoding=encoding)
    except Exception as exc:  # noqa: BLE001 - the extractor raises many kinds
        raise SpecError(
            f"{root}: not a readable SimaPro CSV export ({type(exc).__name__}: {exc})"
        ) from None
    # SimaPro 9 names carry the geography in braces ("Widget steel {JP}"); bw2io's
    # default split only knows the older "name/JP U" form.
    position = next(i for i, s in enumerate(importer.strategies) if s is split_simapro_name_geo)
    importer.strategies.insert(position + 1, split_simapro_name_geo_curly_brackets)
    importer.cfp_files = [root]
    return importer


def _jsonld(bd, source: Path, root: Path, fmt: str, name: str, workdir: Path):
    from bw2io.importers.json_ld import JSONLDImporter

    if not root.is_dir():
        raise SpecError(f"{source}: openLCA JSON-LD is a folder or a .zip of one")
    processes = sorted(root.rglob("processes"))
    if not processes:
        raise SpecError(f"{source}: no 'processes' folder (is this an openLCA JSON-LD export?)")
    folder = processes[0].parent
    for needed in ("flows", "unit_groups", "locations"):
        (folder / needed).mkdir(exist_ok=True)
    files = sorted(folder.rglob("*.json"))
    try:
        importer = JSONLDImporter(str(folder), name)
    except Exception as exc:  # noqa: BLE001 - json errors and KeyErrors from bad files
        located = locate_json_error(files)
        if located:
            raise SpecError(located) from None
        raise SpecError(
            f"{source}: not a readable openLCA JSON-LD export ({type(exc).__name__}: {exc})"
        ) from None
    importer.strategies.insert(0, _olca_location_codes)
    # bw2io links elementary flows to a separate "<name> biosphere" database made from
    # the export's flows; the engine links them to biosphere3 instead (see
    # _olca_relink), so that link and the product nodes are replaced.
    importer.strategies = [s for s in importer.strategies if not _links_by_code(s, name)]
    importer.cfp_files = files
    return importer


def _links_by_code(strategy, name: str) -> bool:
    return (
        isinstance(strategy, functools.partial)
        and strategy.func.__name__ == "link_iterable_by_fields"
        and strategy.keywords.get("edge_kinds") == ["biosphere"]
    )


def _olca_location_codes(data: dict[str, Any]) -> dict[str, Any]:
    """Locations as their codes (``JP``), not names (``Japan``); GLO when missing."""
    codes = {loc["@id"]: loc.get("code") or loc.get("name") for loc in data["locations"].values()}
    for process in data["processes"].values():
        ref = process.get("location")
        if not ref:
            process["location"] = {"name": "GLO"}
        else:
            process["location"] = {**ref, "name": codes.get(ref.get("@id"), ref.get("name"))}
    return data


def _excel(bd, source: Path, root: Path, fmt: str, name: str, workdir: Path):
    import bw2io

    if not source.is_file():
        raise SpecError(f"{source}: the {fmt} format is one file")
    kind = bw2io.ExcelImporter if fmt == "excel" else bw2io.CSVImporter
    try:
        importer = kind(str(source))
    except Exception as exc:  # noqa: BLE001 - bw2io raises many kinds on malformed files
        raise SpecError(
            f"{source}: cannot read the inventory ({type(exc).__name__}: {exc})"
        ) from None
    original = importer.db_name
    importer.strategies.insert(0, functools.partial(_rename_database, old=original, new=name))
    importer.db_name = name
    importer.cfp_files = [source]
    return importer


def _rename_database(data: list[dict[str, Any]], *, old: str, new: str):
    for dataset in data:
        if dataset.get("database") in (old, None):
            dataset["database"] = new
        for exchange in dataset.get("exchanges", ()):
            if exchange.get("database") == old:
                exchange["database"] = new
            if exchange.get("input") and exchange["input"][0] == old:
                exchange["input"] = (new, exchange["input"][1])
    return data


def _insert_flow_map(importer, flow_map: FlowMap, fmt: str) -> None:
    """The flow map as a strategy before bw2io's biosphere linking (and first, on raw names)."""
    if not flow_map.rows:
        return
    strategy = functools.partial(flow_map.apply, biosphere=BIOSPHERE)
    strategy.__name__ = "cfp_flow_map"  # bw2io logs strategy names
    strategies = importer.strategies
    position = next((i for i, s in enumerate(strategies) if _is_biosphere_link(s)), len(strategies))
    strategies.insert(position, strategy)
    if fmt not in ("olca-jsonld",):  # JSON-LD data are not a list until later strategies
        strategies.insert(0, strategy)


def _is_biosphere_link(strategy) -> bool:
    function = getattr(strategy, "func", strategy)
    if getattr(function, "__name__", "") == "link_biosphere_by_flow_uuid":
        return True
    return function.__name__ == "link_iterable_by_fields" and "biosphere" in (
        getattr(strategy, "keywords", {}).get("edge_kinds") or ()
    )


# -- linking -------------------------------------------------------------------------


def link_and_check(
    bd,
    importer,
    report: ImportReport,
    *,
    flow_map: FlowMap,
    external: list[str],
) -> None:
    """Apply the strategies, link what is left, and fill ``report`` (nothing written)."""
    import time

    started = time.perf_counter()
    try:
        importer.apply_strategies()
    except (SpecError, DataError):
        raise
    except Exception as exc:  # noqa: BLE001 - a strategy failing on odd data
        raise SpecError(
            f"{report.file}: bw2io could not process the data ({type(exc).__name__}: {exc})"
        ) from None
    report.seconds["strategies"] = time.perf_counter() - started
    started = time.perf_counter()
    if report.format == "olca-jsonld":
        _olca_relink(importer)
    _keep_processes(bd, importer)
    flow_map.apply(importer.data, biosphere=BIOSPHERE)
    _link_biosphere(bd, importer)
    _link_technosphere(bd, importer, report, external)
    report.seconds["linking"] = time.perf_counter() - started
    _statistics(importer, report, flow_map)


def _olca_relink(importer) -> None:
    """openLCA: processes produce their products; elementary flows go to biosphere3."""
    flows = {f["code"]: f for f in importer.biosphere_database}
    producers: dict[str, list[str]] = {}
    processes = [ds for ds in importer.data if ds.get("type") == "process"]
    for ds in processes:
        for exchange in ds["exchanges"]:
            if exchange["type"] == "production":
                producers.setdefault(exchange["code"], []).append(ds["code"])
    for ds in processes:
        for exchange in ds["exchanges"]:
            kind = exchange["type"]
            if kind == "production":
                exchange["input"] = (ds["database"], ds["code"])
            elif kind in ("technosphere", "substitution"):
                exchange.pop("input", None)
                provider = (exchange.get("defaultProvider") or {}).get("@id")
                candidates = producers.get(exchange["code"], [])
                if provider in candidates or (provider is None and len(candidates) == 1):
                    exchange["input"] = (ds["database"], provider or candidates[0])
                exchange["location"] = (exchange.get("defaultProvider") or {}).get("location")
            elif kind == "biosphere":
                exchange.pop("input", None)
                flow = flows.get(exchange["code"], {})
                exchange["flow"] = exchange["code"]
                exchange["categories"] = normalize_compartments(flow.get("categories") or ())
    importer.data = processes


def _keep_processes(bd, importer) -> None:
    """Drop the database's own biosphere/product nodes: flows must end in biosphere3."""
    keep = set(bd.labels.process_node_types) | {None}
    importer.data = [ds for ds in importer.data if ds.get("type") in keep]
    for ds in importer.data:
        ds.setdefault("type", "process")
        for exchange in ds.get("exchanges", ()):
            linked = exchange.get("input")
            if exchange.get("type") == "biosphere" and linked and linked[0] != BIOSPHERE:
                exchange.pop("input")  # a flow of its own has no characterisation factor


def _link_biosphere(bd, importer) -> None:
    by_uuid, by_fields = {}, {}
    for flow in bd.Database(BIOSPHERE):
        by_uuid[flow["code"]] = flow["code"]
        by_fields[(flow["name"].lower(), tuple(flow.get("categories") or ()), flow["unit"])] = flow[
            "code"
        ]
    for ds in importer.data:
        for exchange in ds.get("exchanges", ()):
            if exchange.get("type") != "biosphere" or exchange.get("input"):
                continue
            code = by_uuid.get(exchange.get("flow") or "")
            if code is None:
                key = (
                    str(exchange.get("name", "")).lower(),
                    tuple(exchange.get("categories") or ()),
                    exchange.get("unit"),
                )
                code = by_fields.get(key)
            if code is not None:
                exchange["input"] = (BIOSPHERE, code)


def _index(nodes) -> tuple[dict, dict]:
    full, loose = {}, {}
    for node in nodes:
        key = (node["database"], node["code"])
        name, unit = node.get("name", "").lower(), node.get("unit")
        full.setdefault((name, unit, node.get("location")), []).append(key)
        loose.setdefault((name, unit), []).append(key)
        product = (node.get("reference product") or "").lower()
        if product and product != name:
            full.setdefault((product, unit, node.get("location")), []).append(key)
            loose.setdefault((product, unit), []).append(key)
    return full, loose


def _find(indexes, exchange) -> tuple[str, str] | None:
    full, loose = indexes
    name, unit = str(exchange.get("name", "")).lower(), exchange.get("unit")
    location = exchange.get("location")
    found = full.get((name, unit, location), []) if location else loose.get((name, unit), [])
    return found[0] if len(found) == 1 else None


def _link_technosphere(bd, importer, report: ImportReport, external: list[str]) -> None:
    """Inputs by name, unit and location: same database, other imports, built-in data."""
    internal = _index(importer.data)
    others = [(db, _index(bd.Database(db))) for db in external]
    for ds in importer.data:
        for exchange in ds.get("exchanges", ()):
            kind = exchange.get("type")
            if exchange.get("input") or kind == "biosphere":
                continue
            if kind == "production":
                exchange["input"] = (ds["database"], ds["code"])
                continue
            key = _find(internal, exchange)
            if key is not None:
                exchange["input"] = key
                report.linked_internal += 1
                continue
            for db, indexes in others:
                key = _find(indexes, exchange)
                if key is not None:
                    exchange["input"] = key
                    report.linked_external[db] = report.linked_external.get(db, 0) + 1
                    break


def _describe(ds: dict[str, Any], exchange: dict[str, Any]) -> dict[str, str]:
    categories = exchange.get("categories") or ()
    return {
        "name": str(exchange.get("name", "")),
        "unit": str(exchange.get("unit", "")),
        "categories": "::".join(categories) if isinstance(categories, (list, tuple)) else "",
        "location": str(exchange.get("location") or ""),
        "type": str(exchange.get("type", "")),
        "activity": f"{ds.get('name', '')} [{ds.get('location', '')}]",
        "flow": str(exchange.get("flow") or ""),
    }


def _statistics(importer, report: ImportReport, flow_map: FlowMap) -> None:
    from .units import pint_unit_for

    report.activities = len(importer.data)
    kinds: Counter = Counter()
    units: Counter = Counter()
    unlinked = {}
    for ds in importer.data:
        units[ds.get("unit") or ""] += 1  # an activity's own unit is checked too
        for exchange in ds.get("exchanges", ()):
            kinds[exchange.get("type", "?")] += 1
            units[exchange.get("unit") or ""] += 1
            if "formula" in exchange:
                report.parameterised = True
            if exchange.get("input") and exchange.get("type") == "biosphere":
                report.linked_flows += 1
            elif exchange.get("input") and exchange.get("type") != "production":
                report.linked_inputs += 1
            if not exchange.get("input"):
                row = _describe(ds, exchange)
                unlinked.setdefault(tuple(row.values()), row)
    report.exchanges = dict(kinds)
    report.unlinked = sorted(unlinked.values(), key=lambda r: (r["type"], r["name"]))
    report.mapped_flows = [row for row in flow_map.report() if row["exchanges"]]
    bad = {}
    for unit, count in units.items():
        try:
            pint_unit_for(unit)
        except UnitError:
            bad[unit or "(none)"] = count
    report.unmapped_units = bad


def drop_unlinked(importer) -> list[dict[str, str]]:
    """Remove every unlinked exchange (``--allow-unlinked``); return what was dropped."""
    dropped = []
    for ds in importer.data:
        keep = []
        for exchange in ds.get("exchanges", ()):
            if exchange.get("input"):
                keep.append(exchange)
            else:
                dropped.append(_describe(ds, exchange))
        ds["exchanges"] = keep
    return dropped


def write_unlinked_report(report: ImportReport, path: Path) -> Path:
    """The unlinked exchanges as CSV (name, unit, categories, location, type, ...)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=UNLINKED_COLUMNS)
        writer.writeheader()
        writer.writerows(report.unlinked)
    return path


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
        ds.pop("cfp_flow_map", None)
        for exchange in ds.get("exchanges", ()):
            exchange.pop("cfp_flow_map", None)
            amount = exchange.get("amount")
            if amount is None or (isinstance(amount, float) and not math.isfinite(amount)):
                raise DataError(
                    f"{report.file}: {ds.get('name')!r}: exchange {exchange.get('name')!r} "
                    "has no numeric amount"
                )


def _year(ds: dict[str, Any]) -> int | None:
    for key in ("end_date", "start_date"):
        text = str(ds.get(key) or "")
        if text[:4].isdigit():
            return int(text[:4])
    return None
