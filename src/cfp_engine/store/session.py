"""Open Brightway inside the engine's store: the engine's project names, a quiet bw2data.

Every use of Brightway goes through :func:`open_brightway`, which points bw2data at
``brightway/`` under the engine home and sends Brightway's and bw2io's printing to
``logs/brightway.log``. The names of the projects the engine owns are defined here: the
built-in project, the per-inventory user projects and the user store.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from pathlib import Path

from cfp_engine.errors import StoreError
from cfp_engine.paths import data_home

BUILTIN_PROJECT = "cfp-builtin"
USER_PROJECT_PREFIX = "cfp-user-"
STORE_PROJECT_PREFIX = "cfp-store-"
BIOSPHERE_DATABASE = "biosphere3"


@contextlib.contextmanager
def open_brightway():
    """Import bw2data with its directory inside the engine's store; keep it quiet.

    Brightway and bw2io print progress and notices; the engine's stdout belongs to its
    results (``cfp calc --format json``), so all of it goes to ``logs/brightway.log``.
    """
    base = data_home() / "brightway"
    base.mkdir(parents=True, exist_ok=True)
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
            bd = _import_bw2data(base)
            if Path(bd.projects._base_data_dir).resolve() != base.resolve():
                bd.projects.change_base_directories(base, base_logs_dir=log_dir)
            try:
                yield bd
            except Exception as exc:
                if _is_damage(exc):
                    raise StoreError(
                        f"{base}: a Brightway database of the store is damaged ({exc}); "
                        "`cfp data status` shows which; `cfp data doctor` repairs it or "
                        "says what to do"
                    ) from None
                raise
    finally:
        # Best effort: a read-only store is still read.
        with (
            contextlib.suppress(OSError),
            (log_dir / "brightway.log").open("a", encoding="utf-8") as log,
        ):
            log.write(sink.getvalue())


def _import_bw2data(base: Path):
    """Import bw2data with ``BRIGHTWAY2_DIR`` set to ``base`` only while it is imported.

    bw2data reads ``BRIGHTWAY2_DIR`` once, when ``bw2data.projects`` is created at import;
    later calls move it with ``projects.change_base_directories``. The variable is put back
    as it was so that the caller's process environment does not change.
    """
    if "bw2data" in sys.modules:
        return sys.modules["bw2data"]
    previous = os.environ.get("BRIGHTWAY2_DIR")
    os.environ["BRIGHTWAY2_DIR"] = str(base)
    try:
        import bw2data
    finally:
        if previous is None:
            os.environ.pop("BRIGHTWAY2_DIR", None)
        else:
            os.environ["BRIGHTWAY2_DIR"] = previous
    return bw2data


#: SQLite's messages for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB), as sqlite3 and
#: peewee (bw2data's ORM) pass them on; "database is locked" and the like are not damage.
_DAMAGE_MESSAGES = ("database disk image is malformed", "file is not a database")


def _is_damage(exc: Exception) -> bool:
    import sqlite3

    # peewee is bw2data's dependency, not the engine's: recognise its errors by module.
    from_sqlite = isinstance(exc, sqlite3.DatabaseError) or type(exc).__module__ == "peewee"
    return from_sqlite and any(message in str(exc) for message in _DAMAGE_MESSAGES)
