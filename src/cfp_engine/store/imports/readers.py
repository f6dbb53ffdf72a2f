"""Read LCI databases with bw2io's own importers: ecospold2, SimaPro CSV, JSON-LD, Excel, CSV.

:func:`create_importer` unpacks an archive safely (:mod:`cfp_engine.store.imports.safety`),
finds the files, builds bw2io's importer for the format and adjusts its strategies: the
ecospold2 purges of inputs without an ``activityLinkId`` are left out (those inputs are
reported as unlinked instead), SimaPro 9's ``name {GEO}`` names are split, openLCA's
locations become codes and its elementary flows are left for biosphere3, an Excel/CSV
database is renamed, and the user's flow map runs before bw2io's biosphere linking.
openLCA exports are read from a copy in the work folder, with the schema fixes of
:mod:`cfp_engine.store.imports.olca`; datasets that cannot be scored per unit of product are
refused by :mod:`cfp_engine.store.imports.checks` (or left out on request), after
multi-output ecospold2 datasets are split by a property
(:mod:`cfp_engine.store.imports.allocation`). Nothing is applied yet:
:mod:`cfp_engine.store.imports.linking` does that.
"""

from __future__ import annotations

import functools
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.store.imports.allocation import allocate_by_property
from cfp_engine.store.imports.checks import (
    check_ecospold2_single_output,
    check_simapro_products,
)
from cfp_engine.store.imports.flowmaps import FlowMap
from cfp_engine.store.imports.formats import FORMATS
from cfp_engine.store.imports.olca import (
    is_olca1,
    olca1_exchange_fields,
    olca_flow_contexts,
    olca_location_codes,
    olca_parameters_as_dict,
    olca_waste_as_service,
    upgrade_olca1,
)
from cfp_engine.store.imports.safety import (
    check_xml_files,
    locate_json_error,
    locate_xml_error,
    safe_extract_zip,
)
from cfp_engine.store.imports.uncertainty import (
    olca_uncertainty_to_stats_arrays,
    stash_olca_amounts,
)
from cfp_engine.store.session import BIOSPHERE_DATABASE as BIOSPHERE

#: Below this many datasets bw2io's ecospold2 extraction runs in-process: a process
#: pool costs ~0.5 s to start, more than it saves on a small database.
ECOSPOLD2_MP_MIN_FILES = 2000


def _unreadable(source: Path, kind: str, exc: Exception, located: str | None) -> SpecError:
    """The error for a file bw2io could not read: the exact place when one was found."""
    if located:
        return SpecError(located)
    return SpecError(f"{source}: not a readable {kind} ({type(exc).__name__}: {exc})")


def create_importer(
    bd,
    source: Path,
    fmt: str,
    name: str,
    workdir: Path,
    *,
    flow_map: FlowMap,
    limits: dict[str, int] | None = None,
    allocation: str | None = None,
    skip_invalid: bool = False,
):
    """A bw2io importer for ``source`` with the engine's strategies set (not yet applied).

    ``limits`` (``max_members``, ``max_bytes``) override the archive limits of
    :func:`cfp_engine.store.imports.safety.safe_extract_zip`. ``allocation`` names the
    ecospold2 product property multi-output datasets are split by
    (:mod:`cfp_engine.store.imports.allocation`); with ``skip_invalid`` the datasets that
    cannot be scored per unit of product are left out (``importer.cfp_skipped``)
    instead of refused.
    """
    if fmt not in FORMATS:
        raise SpecError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")
    if allocation is not None and fmt != "ecospold2":
        raise SpecError(
            f"allocation={allocation!r}: only ecospold2 files carry product properties to "
            "allocate by (openLCA JSON-LD is allocated with its own factors); leave it out"
        )
    if allocation is not None and not allocation.strip():
        raise SpecError("allocation: give a property name (price, true value relation, ...)")
    reader = {
        "ecospold2": _ecospold2,
        "simapro-csv": _simapro,
        "olca-jsonld": _jsonld,
        "excel": _excel,
        "csv": _excel,
    }[fmt]
    root = _unpack(source, workdir, limits or {})
    importer = reader(bd, source, root, fmt, name, workdir)
    importer.cfp_skipped = []
    if fmt == "ecospold2":
        unallocated: list[dict[str, str]] = []
        if allocation is not None:
            importer.data, unallocated = allocate_by_property(
                importer.data, allocation, str(source), skip_invalid=skip_invalid
            )
        importer.data, skipped = check_ecospold2_single_output(
            str(source), importer.data, skip_invalid=skip_invalid
        )
        importer.cfp_skipped = sorted(unallocated + skipped, key=lambda r: r["dataset"])
    elif fmt == "simapro-csv":
        importer.data, importer.cfp_skipped = check_simapro_products(
            str(importer.cfp_files[0]), importer.data, skip_invalid=skip_invalid
        )
    if importer.cfp_skipped and not importer.data:
        raise SpecError(
            f"{source}: all {len(importer.cfp_skipped)} dataset(s) were left out by "
            f"skip_invalid=True ({importer.cfp_skipped[0]['reason']}, ...); nothing to import"
        )
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
        raise _unreadable(source, "ecospold2 dataset", exc, locate_xml_error(files)) from None
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
        importer = SimaProCSVImporter(
            str(root),
            name=name,
            delimiter=delimiter,
            encoding=encoding,
            extractor=_simapro_extractor(),
        )
    except Exception as exc:  # noqa: BLE001 - the extractor raises many kinds
        raise _unreadable(root, "SimaPro CSV export", exc, None) from None
    # SimaPro 9 names carry the geography in braces ("Widget steel {JP}"); bw2io's
    # default split only knows the older "name/JP U" form.
    position = next(i for i, s in enumerate(importer.strategies) if s is split_simapro_name_geo)
    importer.strategies.insert(position + 1, split_simapro_name_geo_curly_brackets)
    importer.cfp_files = [root]
    return importer


def _simapro_extractor():
    """bw2io's SimaPro extractor, reading uncertainty types in any letter case.

    SimaPro writes ``Undefined``, but exports from other tools (Ecobalyse's) write
    ``undefined``; bw2io only knows the capitalised words. Undefined means no
    uncertainty (Brightway's type 0), never an error.
    """
    from bw2io.extractors.simapro_csv import SimaProCSVExtractor

    kinds = {k.lower(): k for k in ("Undefined", "Lognormal", "Normal", "Triangle", "Uniform")}

    class _Extractor(SimaProCSVExtractor):
        @classmethod
        def create_distribution(cls, amount, kind, field1, field2, field3):
            kind = kinds.get(str(kind).strip().lower(), kind)
            return super().create_distribution(amount, kind, field1, field2, field3)

    return _Extractor


def _jsonld(bd, source: Path, root: Path, fmt: str, name: str, workdir: Path):
    from bw2io.importers.json_ld import JSONLDImporter

    if not root.is_dir():
        raise SpecError(f"{source}: openLCA JSON-LD is a folder or a .zip of one")
    # openLCA 2 exports keep binary copies of the processes in ``bin/``; they are not
    # JSON-LD datasets.
    processes = sorted(
        p for p in root.rglob("processes") if p.is_dir() and "bin" not in p.relative_to(root).parts
    )
    if not processes:
        raise SpecError(f"{source}: no 'processes' folder (is this an openLCA JSON-LD export?)")
    folder = processes[0].parent
    legacy = is_olca1(folder)
    # Errors name the user's files, also when the copy below is what bw2io reads.
    files = sorted(p for p in folder.rglob("*.json") if "bin" not in p.relative_to(folder).parts)
    if not folder.is_relative_to(workdir):
        # bw2io's reader needs some folders to exist; never create them in the user's
        # export: read a copy in the work folder.
        copy = workdir / "jsonld"
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("bin"))
        folder = copy
    for needed in ("flows", "unit_groups", "locations"):
        (folder / needed).mkdir(exist_ok=True)
    if legacy:
        upgrade_olca1(folder)  # the copy, never the user's files
    try:
        importer = JSONLDImporter(str(folder), name)
    except Exception as exc:  # noqa: BLE001 - json errors and KeyErrors from bad files
        raise _unreadable(source, "openLCA JSON-LD export", exc, locate_json_error(files)) from None
    importer.strategies.insert(0, olca_location_codes)
    importer.strategies.insert(0, olca1_exchange_fields)
    importer.strategies.insert(0, olca_waste_as_service)
    importer.strategies.insert(0, olca_parameters_as_dict)
    importer.strategies.insert(0, olca_flow_contexts)
    # bw2io links elementary flows to a separate "<name> biosphere" database made from
    # the export's flows; the engine links them to biosphere3 instead (see
    # _olca_relink), so that link and the product nodes are replaced.
    importer.strategies = [s for s in importer.strategies if not _links_by_code(s, name)]
    # bw2io leaves openLCA's Uncertainty objects untranslated: carry them to Monte Carlo.
    importer.strategies = [stash_olca_amounts, *importer.strategies]
    importer.strategies.append(olca_uncertainty_to_stats_arrays)
    importer.cfp_files = files
    return importer


def _links_by_code(strategy, name: str) -> bool:
    return (
        isinstance(strategy, functools.partial)
        and strategy.func.__name__ == "link_iterable_by_fields"
        and strategy.keywords.get("edge_kinds") == ["biosphere"]
    )


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
    original = getattr(importer, "db_name", None)
    if not original or not importer.data:
        # bw2io reads any workbook; without a "Database" row it is not an inventory.
        raise SpecError(
            f"{source}: not a Brightway {fmt} inventory (no 'Database' row and no "
            "'Activity' blocks); see bw2io's Excel/CSV template or export one from Brightway"
        )
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
