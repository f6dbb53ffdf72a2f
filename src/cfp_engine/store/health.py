"""Check and repair the store: ``cfp data status`` and ``cfp data doctor``.

What can go wrong in the store, and what fixes it:

* a **corrupt score table** (a file missing, truncated or changed: checksum mismatch,
  see :meth:`cfp_engine.store.scores.ScoreTable.load`): deleted and rebuilt;
* a **temporary folder** a build cut short left under ``scores/`` (``.<name>.tmp-<pid>``
  or ``.<name>.old-<pid>``): deleted;
* a **staging folder** an import or remove cut short left (:mod:`cfp_engine.store.staging`):
  collected with its project;
* a **per-inventory project** (``cfp-user-<hash>``, one per distinct set of
  ``--inventory`` files, about 5 MB each) whose score table is missing, as a killed build
  leaves it: deleted (:mod:`cfp_engine.store.cleaning` removes the unused ones);
* a **damaged Brightway database** (a project's ``lci/databases.db`` missing, truncated or
  overwritten: SQLite's ``PRAGMA quick_check`` fails, read-only): the built-in project is
  rebuilt and a per-inventory one deleted (rebuilt when used). The user store's cannot be
  rebuilt, its imported databases come from the user's files: the finding names them and
  says how to import them again, and :func:`repair_store` leaves it (``fixable`` False).
  Calculations read only score tables, so they go on working meanwhile; Monte Carlo
  (first run), ``--check-brightway``, ``cfp data show`` and imports read the database.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cfp_engine.errors import CorruptCacheError
from cfp_engine.paths import data_home
from cfp_engine.store.access import open_store
from cfp_engine.store.build_cache import (
    as_store_error,
    builtin_fingerprint,
    project_lock,
    read_manifest,
    scores_dir,
)
from cfp_engine.store.cleaning import engine_projects, user_projects
from cfp_engine.store.registry import collect_garbage_if_idle, read_registry
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import (
    BUILTIN_PROJECT,
    STORE_PROJECT_PREFIX,
    USER_PROJECT_PREFIX,
    open_brightway,
)
from cfp_engine.store.staging import drop_project, garbage_pending, staging_root


@dataclass(frozen=True)
class Finding:
    """One problem found in the store, and what :func:`repair_store` does about it."""

    kind: str  # corrupt-cache, temporary, staging, orphan-project, damaged-database
    path: str
    detail: str
    fix: str
    #: False when :func:`repair_store` cannot fix it and the user must act (``fix`` says how).
    fixable: bool = True


def inspect_store(*, projects: bool = True) -> list[Finding]:
    """What is wrong in the store; an empty list when nothing is.

    Parameters
    ----------
    projects
        Also look for per-inventory Brightway projects without a score table (imports
        Brightway: about a second).
    """
    findings = []
    scores = data_home() / "scores"
    for folder in sorted(scores.iterdir()) if scores.is_dir() else ():
        if folder.name.startswith("."):
            findings.append(
                Finding("temporary", str(folder), "left by a build cut short", "deleted")
            )
            continue
        try:
            ScoreTable.load(folder)
        except CorruptCacheError as exc:
            fix = "deleted (rebuilt when used)"
            if not folder.name.startswith(USER_PROJECT_PREFIX):
                fix = "rebuilt"
            findings.append(Finding("corrupt-cache", str(folder), str(exc), fix))
    if garbage_pending():
        for folder in sorted(staging_root().iterdir()):
            findings.append(
                Finding(
                    "staging",
                    str(folder),
                    "an import or remove in progress or cut short",
                    "collected (when no import is running)",
                )
            )
    if projects:
        for name, folder in user_projects().items():
            if not (scores_dir(name) / "manifest.json").exists():
                findings.append(
                    Finding(
                        "orphan-project",
                        str(folder),
                        f"per-inventory project {name} has no score table (a build cut short)",
                        "deleted (rebuilt when used)",
                    )
                )
        findings.extend(_damaged_databases())
    return findings


#: Tables every bw2data 4 project database holds (an empty file passes quick_check).
_BRIGHTWAY_TABLES = {"activitydataset", "exchangedataset"}


def sqlite_problem(path: Path) -> str | None:
    """What is wrong with a Brightway SQLite database, or None if it reads as sound.

    ``PRAGMA quick_check`` reads every page and checks the b-tree structure (not the
    indexes against the tables, which ``integrity_check`` adds at several times the
    cost): 20 ms for the built-in project's 2.7 MB. The connection is read-only
    (``mode=ro``), so checking never changes the file, even a damaged one.
    """
    if not path.is_file():
        return "missing"
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            result = [row[0] for row in db.execute("PRAGMA quick_check")]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:  # not a database, malformed, unreadable
        return f"unreadable ({exc})"
    if result != ["ok"]:
        first = result[0].replace("*** in database main ***", "").strip().splitlines()
        return f"damaged (quick_check: {first[0] if first else 'malformed'})"
    if not _BRIGHTWAY_TABLES.issubset(tables):
        return "holds no Brightway tables (emptied or overwritten)"
    return None


def _damaged_databases() -> list[Finding]:
    """A finding for each engine project whose ``lci/databases.db`` is damaged."""
    registry = read_registry()
    findings = []
    for name, folder in engine_projects().items():
        if name.startswith(STORE_PROJECT_PREFIX) and name != registry["project"]:
            continue  # a staging project, or one an import replaced: collected as garbage
        path = folder / "lci" / "databases.db"
        problem = sqlite_problem(path)
        if problem is None:
            continue
        detail = f"the Brightway database of project {name}: {problem}"
        if name == BUILTIN_PROJECT:
            findings.append(Finding("damaged-database", str(path), detail, "rebuilt"))
        elif name.startswith(USER_PROJECT_PREFIX):
            fix = "deleted (rebuilt when used)"
            findings.append(Finding("damaged-database", str(path), detail, fix))
        else:
            imported = ", ".join(sorted(registry["databases"])) or "none"
            fix = (
                f"not fixed: the imported databases ({imported}) cannot be rebuilt from the "
                f"store; delete {data_home() / 'imports'} and import them again with "
                "`cfp data import` (calculations keep using the last score table meanwhile)"
            )
            findings.append(Finding("damaged-database", str(path), detail, fix, fixable=False))
    return findings


def repair_store() -> list[Finding]:
    """Fix what :func:`inspect_store` finds, rebuild the tables calculations read.

    Returns the findings: those with ``fixable`` were fixed, the others need the user
    (their ``fix`` says what to do).

    Raises
    ------
    StoreError
        The store is not writable.
    """
    try:
        return _repair_store()
    except OSError as exc:
        raise as_store_error(exc) or exc from None


def _repair_store() -> list[Finding]:

    findings = inspect_store()
    for finding in findings:
        if finding.kind in ("temporary", "corrupt-cache"):
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                shutil.rmtree(finding.path)  # other errors: a read-only store
        elif finding.kind == "damaged-database" and finding.fixable:
            # A project without its score table is built again from scratch (its folder
            # reset first): the built-in one by open_store below, a per-inventory one
            # dropped below and rebuilt when it is used.
            folder = Path(finding.path).parent.parent
            name = next(n for n, path in engine_projects().items() if path == folder)
            with contextlib.suppress(FileNotFoundError):  # others: a read-only store
                shutil.rmtree(scores_dir(name))
    # A per-inventory project whose table was corrupt goes too: it is rebuilt when used.
    if any(f.kind in ("orphan-project", "corrupt-cache", "damaged-database") for f in findings):
        from filelock import Timeout

        names = [n for n in user_projects() if not (scores_dir(n) / "manifest.json").exists()]
        with open_brightway() as bd:
            for name in names:
                try:  # not one another process is building right now
                    with project_lock(name, timeout=0):
                        drop_project(bd, name)
                except Timeout:
                    continue
    collect_garbage_if_idle()
    open_store()  # rebuilds the built-in table and the user store's if they were removed
    return findings


def findings_as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    """The findings as plain dicts, for JSON output."""
    return [asdict(f) for f in findings]


def is_builtin_corrupt(findings: list[Finding]) -> bool:
    """Whether the findings include a corrupt score table of the built-in project."""
    return any(f.kind == "corrupt-cache" and Path(f.path).name == BUILTIN_PROJECT for f in findings)


def store_status(*, check: bool = True) -> dict[str, Any]:
    """What is built and where, for ``cfp data status``.

    With ``check``, every score table is read and checked against its checksums and the
    problems :func:`inspect_store` finds are listed.
    """
    home = data_home()
    expected = builtin_fingerprint()
    manifest = read_manifest(BUILTIN_PROJECT)
    findings = inspect_store() if check else []
    corrupt = is_builtin_corrupt(findings)
    users = sorted(p.name for p in (home / "scores").glob(USER_PROJECT_PREFIX + "*"))
    registry = read_registry()
    return {
        "home": str(home),
        "brightway_dir": str(home / "brightway"),
        "builtin_project": BUILTIN_PROJECT,
        "builtin_fingerprint": expected,
        "built": manifest is not None,
        "up_to_date": bool(manifest and manifest.get("fingerprint") == expected and not corrupt),
        "corrupt": corrupt,
        "problems": findings_as_dicts(findings),
        "manifest": manifest,
        "user_projects": users,
        "user_store": registry.get("project"),
        "imported_databases": sorted(registry["databases"]),
    }
