"""Write the built-in and the user inventories into Brightway projects through bw2io.

The built-in project gets biosphere3, the engine's LCIA methods and the built-in
inventories. A user project is a copy of a base project (the built-in one or the user
store) with the user's Brightway Excel or CSV inventory files added, linked to
biosphere3, the built-in data and the same file. Each build ends in the score table of
:mod:`cfp_engine.store.score_solve`; :mod:`cfp_engine.store.build_cache` decides when to build.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cfp_engine.errors import CalculationError, DataError, SpecError, quote_input
from cfp_engine.store.build_cache import file_digest
from cfp_engine.store.inventories import (
    BUILTIN_DATABASE,
    builtin_inventory_files,
    read_builtin_datasets,
)
from cfp_engine.store.kill_points import kill_point
from cfp_engine.store.score_solve import compute_score_table
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import BIOSPHERE_DATABASE, BUILTIN_PROJECT, open_brightway
from cfp_engine.store.staging import reset_project

USER_FORMATS = {".xlsx": "excel", ".xls": "excel", ".csv": "csv"}


def build_builtin(project: str, fingerprint: str, files: Sequence[Path]) -> ScoreTable:
    """Write biosphere3, the methods and the built-in inventories into ``project``; score it.

    The ``build`` callback of :func:`cfp_engine.store.build_cache.ensure_built` (``files`` unused).
    """
    with open_brightway() as bd:
        import bw2io
        from bw2io.importers.base_lcia import LCIAImporter

        from cfp_engine.spec.methods import build_method_data

        reset_project(bd, project)
        bd.projects.set_current(project)
        bw2io.create_default_biosphere3()
        methods = LCIAImporter("bw2io lcia_39_ecoinvent.zip")
        methods.data = build_method_data()
        methods.write_methods(overwrite=True, verbose=False)
        _write_builtin_inventories(bd)
        kill_point("build-written")
        sources = {BUILTIN_DATABASE: {"files": [p.name for p in builtin_inventory_files()]}}
        return compute_score_table(bd, project, fingerprint, sources)


def _write_builtin_inventories(bd) -> None:
    from bw2io.importers.base_lci import LCIImporter

    from cfp_engine.store.inventories import to_importer_data

    importer = LCIImporter(BUILTIN_DATABASE)
    importer.data = to_importer_data(read_builtin_datasets(), BUILTIN_DATABASE)
    _link(importer, bd, internal=True)
    unlinked = _unlinked(importer)
    if unlinked:
        raise DataError("built-in inventories: unlinked exchanges: " + "; ".join(unlinked))
    importer.write_database()


def _link(importer, bd, *, internal: bool) -> None:
    import functools

    from bw2io.strategies import link_iterable_by_fields, normalize_units

    importer.apply_strategy(normalize_units)
    importer.apply_strategy(
        functools.partial(
            link_iterable_by_fields,
            other=bd.Database(BIOSPHERE_DATABASE),
            edge_kinds=["biosphere"],
            fields=("name", "categories", "unit"),
        )
    )
    if internal:
        importer.apply_strategy(
            functools.partial(
                link_iterable_by_fields,
                other=importer.data,
                edge_kinds=["technosphere", "production"],
                fields=("name", "location", "unit"),
            )
        )


def _unlinked(importer) -> list[str]:
    rows = []
    for exchange in importer.unlinked:
        where = exchange.get("categories") or exchange.get("location") or ""
        if isinstance(where, (list, tuple)):
            where = "::".join(where)
        rows.append(
            f"{exchange.get('type')} {exchange.get('name')!r} [{exchange.get('unit')}] ({where})"
        )
    return sorted(set(rows))


def check_user_files(files: Iterable[str | Path]) -> list[Path]:
    """The inventory files, resolved and without repeats: Brightway Excel or CSV files."""
    checked = []
    for item in files:
        path = Path(item).resolve()
        if not path.is_file():
            raise SpecError(f"{item}: no such inventory file")
        if path.suffix.lower() not in USER_FORMATS:
            raise SpecError(f"{item}: inventory files are Brightway Excel (.xlsx) or CSV (.csv)")
        if path not in checked:
            checked.append(path)
    return checked


def build_user(
    project: str,
    fingerprint: str,
    files: Sequence[Path],
    *,
    base: str = BUILTIN_PROJECT,
    base_sources: dict[str, Any] | None = None,
) -> ScoreTable:
    """Copy ``base`` to ``project``, add the user's inventory ``files`` and score it.

    ``base_sources`` are the base project's databases, recorded in the manifest with the
    files'.
    """
    with open_brightway() as bd:
        reset_project(bd, project)
        bd.projects.set_current(base)
        bd.projects.copy_project(project, switch=True)
        sources = dict(base_sources or {})
        try:
            for path in files:
                name = _import_user_file(bd, path)
                sources[name] = {"file": str(path), "sha256": file_digest(path)}
            kill_point("build-written")
            try:
                return compute_score_table(bd, project, fingerprint, sources)
            except CalculationError as exc:  # name the files that made it
                named = ", ".join(str(path) for path in files)
                raise CalculationError(
                    f"{named}: {exc}; check that no activity consumes as much of its own "
                    "product as it makes (directly or through a loop)"
                ) from None
        except BaseException:
            reset_project(bd, project)
            raise


def _check_codes_and_amounts(path: Path, datasets: list[dict]) -> None:
    """Duplicate activity codes and non-finite amounts are input errors, not bw2data's
    NonuniqueCode or a NaN in the matrix."""
    seen: dict[str, str] = {}
    for dataset in datasets:
        code = dataset.get("code")
        name = quote_input(dataset.get("name"))
        if code is not None and code in seen:
            raise SpecError(
                f"{path}: activities {seen[code]} and {name} have the same code "
                f"{quote_input(code)}; give each activity its own code"
            )
        if code is not None:
            seen[code] = name
        for exchange in dataset.get("exchanges", ()):
            amount = exchange.get("amount")
            try:
                finite = math.isfinite(float(amount))
            except (TypeError, ValueError):
                finite = False
            if not finite:
                raise SpecError(
                    f"{path}: activity {name}: exchange {quote_input(exchange.get('name'))} "
                    f"has the amount {quote_input(amount)}; amounts are finite numbers"
                )


def _import_user_file(bd, path: Path) -> str:
    import bw2io

    kind = USER_FORMATS[path.suffix.lower()]
    try:
        importer = (bw2io.ExcelImporter if kind == "excel" else bw2io.CSVImporter)(str(path))
        importer.apply_strategies()
    except Exception as exc:  # noqa: BLE001 - bw2io raises many kinds on malformed files
        raise SpecError(
            f"{path}: cannot read the inventory ({type(exc).__name__}: {exc})"
        ) from None
    name = importer.db_name
    if name in bd.databases:
        raise SpecError(
            f"{path}: database name {name!r} is already used "
            f"({'built-in data' if name == BUILTIN_DATABASE else 'another file'})"
        )
    _check_codes_and_amounts(path, importer.data)
    importer.match_database(fields=("name", "unit", "location"))  # same-file inputs
    importer.match_database(BUILTIN_DATABASE, fields=("name", "unit", "location"))
    unlinked = _unlinked(importer)
    if unlinked:
        listed = "\n  ".join(unlinked[:20])
        more = f"\n  ... and {len(unlinked) - 20} more" if len(unlinked) > 20 else ""
        raise DataError(
            f"{path}: {len(unlinked)} unlinked exchange(s); biosphere flows must "
            f"match biosphere3 by name, categories and unit, inputs a built-in or "
            f"same-file activity by name, unit and location:\n  {listed}{more}"
        )
    importer.write_database()
    return name
