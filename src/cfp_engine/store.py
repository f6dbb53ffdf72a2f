"""The embedded Brightway store: build projects from data files, cache per-activity scores.

This is the only module that writes Brightway state. The built-in inventories and
methods are loaded (through bw2io) into the project ``cfp-builtin`` under the per-user
store, on first use and again whenever their content fingerprint changes. User
inventories go into their own project, a copy of the built-in one keyed by the files'
content, so the built-in project is never changed. Databases imported with ``cfp data
import`` (:mod:`cfp_engine.importers`) live in the user store, a persistent project
that starts as a copy of the built-in one; when it holds databases, calculations use it
(and ``--inventory`` files are added on top of it). After a build, one adjoint solve per
indicator gives the per-activity scores (:mod:`cfp_engine.scores`), and calculations
only read those. A file lock guards every build, so processes started together wait for
one build instead of corrupting it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .errors import CalculationError, DataError, SpecError
from .inventories import BUILTIN_DATABASE, builtin_inventory_files, read_builtin_datasets
from .methods import INDICATORS, available_methods, bw2io_lcia_zip, lcia_source_sha256
from .paths import data_home, methods_dir
from .scores import ActivityInfo, ScoreTable

#: Bump when the way projects or score tables are built changes.
BUILD_VERSION = 3  # 3: pedigree lognormal uncertainty on built-in exchanges
BUILTIN_PROJECT = "cfp-builtin"
USER_PROJECT_PREFIX = "cfp-user-"
STORE_PROJECT_PREFIX = "cfp-store-"
BIOSPHERE_DATABASE = "biosphere3"
USER_FORMATS = {".xlsx": "excel", ".xls": "excel", ".csv": "csv"}
LOCK_TIMEOUT_S = 900

logger = logging.getLogger("cfp_engine")


# -- fingerprints (cheap: no Brightway import) -------------------------------------------


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def builtin_fingerprint() -> str:
    """Content hash of everything the built-in project is made from."""
    digest = hashlib.sha256(f"cfp-engine build {BUILD_VERSION}\n".encode())
    for path in [*builtin_inventory_files(), methods_dir() / "methods.yaml"]:
        digest.update(f"{path.parent.name}/{path.name}\n".encode())
        digest.update(path.read_bytes())
    # bw2io's LCIA file: its version and size stand in for its bytes here (hashing it on
    # every run costs more than a calculation); the build records its real sha256.
    lcia = bw2io_lcia_zip()
    digest.update(f"{importlib.metadata.version('bw2io')} {lcia.stat().st_size}".encode())
    return digest.hexdigest()


def user_fingerprint(files: Sequence[Path], *, base: str | None = None) -> str:
    """Hash of the base project's fingerprint and the bytes of the user inventory files.

    ``base`` is the fingerprint of the project the files are added to (default: the
    built-in project's).
    """
    digest = hashlib.sha256((base or builtin_fingerprint()).encode())
    for path in files:
        digest.update(_file_digest(path).encode())
    return digest.hexdigest()


def _scores_dir(project: str) -> Path:
    return data_home() / "scores" / project


def _read_manifest(project: str) -> dict[str, Any] | None:
    try:
        return json.loads((_scores_dir(project) / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# -- public entry points -----------------------------------------------------------------


def open_store(user_inventories: Iterable[str | Path] = ()) -> ScoreTable:
    """The score table of the built-in data plus ``user_inventories`` (built if needed).

    Parameters
    ----------
    user_inventories
        Brightway Excel (``.xlsx``) or CSV inventory files imported through bw2io.
    """
    import functools

    files = _check_user_files(user_inventories)
    table = _ensure(BUILTIN_PROJECT, builtin_fingerprint(), _build_builtin, ())
    from .user_store import open_user_store, read_registry

    registry = read_registry()
    if registry["databases"]:
        table = open_user_store(registry)
    if not files:
        return table
    fingerprint = user_fingerprint(files, base=table.fingerprint)
    project = USER_PROJECT_PREFIX + fingerprint[:16]
    build = functools.partial(
        _build_user, base=table.manifest["project"], base_sources=table.manifest["databases"]
    )
    return _ensure(project, fingerprint, build, files)


def store_status() -> dict[str, Any]:
    """What is built and where, for ``cfp data status``."""
    home = data_home()
    expected = builtin_fingerprint()
    manifest = _read_manifest(BUILTIN_PROJECT)
    users = sorted(p.name for p in (home / "scores").glob(USER_PROJECT_PREFIX + "*"))
    from .user_store import read_registry

    registry = read_registry()
    return {
        "home": str(home),
        "brightway_dir": str(home / "brightway"),
        "builtin_project": BUILTIN_PROJECT,
        "builtin_fingerprint": expected,
        "built": manifest is not None,
        "up_to_date": bool(manifest and manifest.get("fingerprint") == expected),
        "manifest": manifest,
        "user_projects": users,
        "user_store": registry.get("project"),
        "imported_databases": sorted(registry["databases"]),
    }


def lca_scores(table: ScoreTable, demand: dict[int, float], method: str) -> dict[str, float]:
    """Score ``demand`` (activity index -> amount) with a full bw2calc LCA per indicator.

    The engine normally uses the cached per-activity scores; this runs Brightway's own
    ``LCA.lci()``/``lcia()`` on the same project, for cross-checks and audits.
    """
    from .methods import resolve_method

    spec = resolve_method(method)
    with _brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        nodes = {}
        for index, amount in demand.items():
            info = table.activities[index]
            node = bd.get_node(database=info.database, code=info.code)
            nodes[node.id] = nodes.get(node.id, 0.0) + amount
        results = {}
        for indicator in INDICATORS:
            lca = bc.LCA(nodes, method=spec.brightway_name(indicator))
            lca.lci()
            lca.lcia()
            results[indicator] = float(lca.score)
    return results


def load_background(table: ScoreTable, method: str):
    """The project's matrices with their distributions, for Monte Carlo sampling.

    Read once through bw2calc (``LCA(..., use_distributions=True)``: the technosphere,
    biosphere and characterisation matrices with the stats_arrays arrays bw2data
    stored) and cached as ``background-<method>.npz`` beside the score table, so a
    later ``--mc`` run imports no Brightway. Characterisation factors are taken as
    certain (GWP values carry no distribution in the method files).

    Returns
    -------
    cfp_engine.montecarlo.BackgroundSystem
    """
    import numpy as np

    from .methods import resolve_method
    from .montecarlo import BackgroundSystem

    spec = resolve_method(method)
    digest = hashlib.sha256(spec.name.encode()).hexdigest()[:12]
    cache = _scores_dir(table.manifest["project"]) / f"background-{digest}.npz"
    if cache.is_file():
        try:
            return BackgroundSystem.load(cache)
        except (OSError, ValueError, KeyError):
            pass
    with _brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        first = table.activities[0]
        node = bd.get_node(database=first.database, code=first.code)
        # Two reads: with distributions the data vectors already hold a random draw,
        # so the deterministic amounts come from a plain LCA (same packages, same order).
        lca = bc.LCA({node.id: 1.0}, method=spec.brightway_name("total"), use_distributions=True)
        lca.load_lci_data()
        lca.load_lcia_data()
        plain = bc.LCA({node.id: 1.0}, method=spec.brightway_name("total"))
        plain.load_lci_data()
        tech, bio = lca.technosphere_mm, lca.biosphere_mm
        tech_rc, bio_rc = tech.input_row_col_indices(), bio.input_row_col_indices()
        if not (
            np.array_equal(tech_rc, plain.technosphere_mm.input_row_col_indices())
            and np.array_equal(bio_rc, plain.biosphere_mm.input_row_col_indices())
        ):
            raise CalculationError("bw2calc returned the matrices in different orders")
        characterization = np.asarray(lca.characterization_matrix.diagonal(), dtype=np.float64)
        rows = []
        for info in table.activities:
            node_id = bd.get_node(database=info.database, code=info.code).id
            rows.append(lca.dicts.product[node_id])
        system = BackgroundSystem(
            size=int(lca.technosphere_matrix.shape[0]),
            tech_rows=tech_rc["row"].astype(np.int64),
            tech_cols=tech_rc["col"].astype(np.int64),
            tech_amounts=np.asarray(plain.technosphere_mm.input_data_vector(), dtype=np.float64),
            tech_params=tech.input_uncertainties(),
            tech_flip=tech.input_flip_vector(),
            bio_rows=bio_rc["row"].astype(np.int64),
            bio_cols=bio_rc["col"].astype(np.int64),
            bio_amounts=np.asarray(plain.biosphere_mm.input_data_vector(), dtype=np.float64),
            bio_params=bio.input_uncertainties(),
            bio_flip=bio.input_flip_vector(),
            characterization=characterization,
            activity_rows=np.asarray(rows, dtype=np.int64),
        )
    try:
        system.save(cache)
    except OSError:
        logger.debug("could not cache the background arrays in %s", cache)
    return system


def activity_details(table: ScoreTable, info: ActivityInfo) -> dict[str, Any]:
    """Pedigree, comment and exchanges of one activity, read from its Brightway project."""
    with _brightway() as bd:
        bd.projects.set_current(table.manifest["project"])
        node = bd.get_node(database=info.database, code=info.code)
        exchanges = []
        for edge in node.exchanges():
            other = edge.input
            where = other.get("location") or "::".join(other.get("categories") or ())
            exchanges.append(
                {
                    "type": edge["type"],
                    "name": other["name"],
                    "where": where,
                    "database": other["database"],
                    "amount": float(edge["amount"]),
                    "unit": other.get("unit", ""),
                }
            )
        meta = node.get("cfp") or {}
        return {
            "pedigree": meta.get("pedigree", {}),
            "comment": node.get("comment", ""),
            "exchanges": exchanges,
        }


# -- building -------------------------------------------------------------------------------


def _ensure(project: str, fingerprint: str, build, files: Sequence[Path]) -> ScoreTable:
    manifest = _read_manifest(project)
    if manifest and manifest.get("fingerprint") == fingerprint:
        return ScoreTable.load(_scores_dir(project))
    from filelock import FileLock

    lock_dir = data_home() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / f"{project}.lock"), timeout=LOCK_TIMEOUT_S):
        manifest = _read_manifest(project)  # another process may have built it meanwhile
        if manifest and manifest.get("fingerprint") == fingerprint:
            return ScoreTable.load(_scores_dir(project))
        logger.info(
            "Building Brightway project %s in %s (first use or data changed) ...",
            project,
            data_home(),
        )
        started = time.perf_counter()
        table = build(project, fingerprint, files)
        table.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
        shutil.rmtree(_scores_dir(project), ignore_errors=True)
        table.save(_scores_dir(project))
        logger.info(
            "Built %s: %d activities in %.1f s",
            project,
            len(table.activities),
            table.manifest["build_seconds"],
        )
        return table


@contextlib.contextmanager
def _brightway():
    """Import bw2data with its directory inside the engine's store; keep it quiet.

    Brightway and bw2io print progress and notices; the engine's stdout belongs to its
    results (``cfp calc --format json``), so all of it goes to ``logs/brightway.log``.
    """
    base = data_home() / "brightway"
    base.mkdir(parents=True, exist_ok=True)
    os.environ["BRIGHTWAY2_DIR"] = str(base)  # bw2data 4.x reads this at import
    log_dir = data_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    sink = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            import bw2data as bd

            if Path(bd.projects._base_data_dir).resolve() != base.resolve():
                bd.projects.change_base_directories(base, base_logs_dir=log_dir)
            yield bd
    finally:
        with (log_dir / "brightway.log").open("a", encoding="utf-8") as log:
            log.write(sink.getvalue())


def _reset_project(bd, project: str) -> None:
    if project in bd.projects:
        if bd.projects.current == project:
            bd.projects.set_current("default")
        bd.projects.delete_project(project, delete_dir=True)


def _build_builtin(project: str, fingerprint: str, files: Sequence[Path]) -> ScoreTable:
    with _brightway() as bd:
        import bw2io
        from bw2io.importers.base_lcia import LCIAImporter

        from .methods import build_method_data

        _reset_project(bd, project)
        bd.projects.set_current(project)
        bw2io.create_default_biosphere3()
        methods = LCIAImporter("bw2io lcia_39_ecoinvent.zip")
        methods.data = build_method_data()
        methods.write_methods(overwrite=True, verbose=False)
        _write_builtin_inventories(bd)
        sources = {BUILTIN_DATABASE: {"files": [p.name for p in builtin_inventory_files()]}}
        return _compute_score_table(bd, project, fingerprint, sources)


def _write_builtin_inventories(bd) -> None:
    from bw2io.importers.base_lci import LCIImporter

    from .inventories import to_importer_data

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


def _check_user_files(files: Iterable[str | Path]) -> list[Path]:
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


def _build_user(
    project: str,
    fingerprint: str,
    files: Sequence[Path],
    *,
    base: str = BUILTIN_PROJECT,
    base_sources: dict[str, Any] | None = None,
) -> ScoreTable:
    with _brightway() as bd:
        _reset_project(bd, project)
        bd.projects.set_current(base)
        bd.projects.copy_project(project, switch=True)
        sources = dict(base_sources or {})
        try:
            for path in files:
                name = _import_user_file(bd, path)
                sources[name] = {"file": str(path), "sha256": _file_digest(path)}
            return _compute_score_table(bd, project, fingerprint, sources)
        except BaseException:
            _reset_project(bd, project)
            raise


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


def _compute_score_table(bd, project: str, fingerprint: str, sources: dict[str, Any]) -> ScoreTable:
    """One adjoint solve ``A^T x = B^T c`` per indicator, on bw2calc's own matrices."""
    import bw2calc as bc
    import numpy as np

    databases = [name for name in bd.databases if name != BIOSPHERE_DATABASE]
    # Only processes are scored: product and biosphere nodes have no column of their own.
    kinds = {*bd.labels.process_node_types, None}
    nodes = [node for name in databases for node in bd.Database(name) if node.get("type") in kinds]
    if not nodes:
        raise CalculationError(f"project {project}: no activities to score")
    method_specs = available_methods()
    first = method_specs[0].brightway_name("total")
    lca = bc.LCA({node.id: 1.0 for node in nodes}, method=first)
    lca.load_lci_data()
    technosphere = lca.technosphere_matrix
    biosphere = lca.biosphere_matrix
    characterisation = []
    for spec in method_specs:
        for indicator in INDICATORS:
            c = np.zeros(biosphere.shape[0])
            for row in bd.Method(spec.brightway_name(indicator)).load():
                flow, factor = row[0], row[1]
                flow_id = flow if isinstance(flow, int) else bd.get_id(flow)
                if flow_id in lca.dicts.biosphere:
                    c[lca.dicts.biosphere[flow_id]] += factor
            characterisation.append(c)
    rhs = np.asarray(biosphere.T @ np.column_stack(characterisation))
    per_product, solver = _adjoint_solve(technosphere, rhs)
    if not np.all(np.isfinite(per_product)):
        raise CalculationError(f"project {project}: the technosphere matrix is singular")
    columns = np.array([lca.dicts.product[node.id] for node in nodes])
    scores, k = {}, 0
    for spec in method_specs:
        scores[spec.name] = np.ascontiguousarray(per_product[columns, k : k + len(INDICATORS)].T)
        k += len(INDICATORS)
    activities = [_activity_info(i, node) for i, node in enumerate(nodes)]
    manifest = _manifest(project, fingerprint, sources, method_specs, activities)
    manifest["solver"] = solver
    return ScoreTable(activities, scores, manifest)


#: Below this many activities SuperLU beats PARDISO (solver set-up dominates).
PARDISO_MIN_ACTIVITIES = 5000


def _adjoint_solve(technosphere, rhs) -> tuple[Any, str]:
    """Solve ``A^T X = R``, factorising ``A^T`` once; return ``X`` and the solver used.

    SciPy's SuperLU is the default: on a 21,000-activity system it takes 4.7 s once per
    data set, and a further right-hand side 13 ms (benchmarks/solver_choice.py). It is
    given ``A^T`` in CSC form; factorising ``A`` instead is over 13x slower (killed at
    60 s). With the ``pardiso`` extra installed, PARDISO (Intel MKL) is used for large
    systems: 1.8 s for the same solve, at the cost of ~0.9 GB of MKL.
    """
    if technosphere.shape[0] >= PARDISO_MIN_ACTIVITIES:
        try:
            from pypardiso import PyPardisoSolver
        except ImportError:
            pass
        else:
            solver = PyPardisoSolver()
            matrix = technosphere.T.tocsr()
            solver.factorize(matrix)
            return solver.solve(matrix, rhs), "pypardiso (PARDISO) on A^T"
    from scipy.sparse.linalg import splu

    try:
        lu = splu(technosphere.T.tocsc())
    except RuntimeError as exc:
        raise CalculationError(f"the technosphere matrix is singular ({exc})") from None
    return lu.solve(rhs), "scipy.sparse.linalg.splu (SuperLU) on A^T"


def _activity_info(index: int, node) -> ActivityInfo:
    meta = node.get("cfp") or {}
    return ActivityInfo(
        index=index,
        database=node["database"],
        code=node["code"],
        name=node["name"],
        location=node.get("location") or "GLO",
        unit=node.get("unit") or "",
        reference_product=node.get("reference product") or "",
        category=meta.get("category", "other"),
        air_freight=bool(meta.get("air_freight", False)),
        co2e_only=bool(meta.get("co2e_only", False)),
        source=meta.get("source", {}),
        pedigree=meta.get("pedigree", {}),
    )


def _manifest(project, fingerprint, sources, method_specs, activities) -> dict[str, Any]:
    versions = {
        pkg: importlib.metadata.version(pkg)
        for pkg in ("bw2data", "bw2calc", "bw2io", "bw_processing", "scipy")
    }
    return {
        "fingerprint": fingerprint,
        "project": project,
        "engine_version": __version__,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "databases": sources,
        "activities": len(activities),
        "methods": {
            spec.name: {
                "gwp_source": spec.gwp_source,
                "indicators": {ind: list(spec.brightway_name(ind)) for ind in INDICATORS},
            }
            for spec in method_specs
        },
        "lcia_source": {
            "file": "bw2io/data/lcia/lcia_39_ecoinvent.zip",
            "bw2io": versions["bw2io"],
            "sha256": lcia_source_sha256(),
        },
        "versions": versions,
    }
