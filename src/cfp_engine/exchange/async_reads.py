"""The host's API reads on PostgreSQL, on the event loop instead of in threads.

A footprint look-up is one indexed query taking a fraction of a millisecond on the
server; run through SQLAlchemy in a worker thread, the thread hand-off, the GIL and
SQLAlchemy's execution path cost a worker several times that. :class:`AsyncReads`
runs the same SQLAlchemy Core statements (compiled for the engine's own psycopg
dialect) on an asyncio connection pool of psycopg (``psycopg_pool``), in the worker's
event loop. Measured with ``benchmarks/host_speed.py --postgres`` on 2 cores, one worker:
GetFootprint went from about 750 to about 2,000 requests/s (p99 42 ms to 12 ms).

SQLite keeps the threaded path: its queries run in-process, and Python's ``sqlite3``
has no asyncio interface.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.sql import ClauseElement

from cfp_engine.exchange.database import POOL_SIZE, Database

logger = logging.getLogger(__name__)

#: How long a request waits for a free connection before it fails (500 InternalError):
#: while the database is down, requests fail after this long.
CONNECTION_TIMEOUT_S = 5.0
#: How long the pool keeps retrying a connection it could not make, with exponential
#: backoff (psycopg_pool's default is 5 minutes). It then gives up, and the next request
#: that finds no connection tries at once: a database back after an outage of any length
#: is used again within about this long.
RECONNECT_TIMEOUT_S = 5.0


class AsyncReads:
    """Read-only queries of a PostgreSQL host database from asyncio.

    Open it in the running event loop (:meth:`open`), and :meth:`close` it before the
    loop ends. Connections are in autocommit mode: a read needs no transaction.
    A connection the server dropped (a restart, a proxy's idle timeout) fails its query
    once: the pool then tests its idle connections, replaces the broken ones, and the
    query is run again.

    Parameters
    ----------
    database
        The host database (a ``postgresql+psycopg`` URL).
    pool_size
        The most connections this process opens for reads.
    """

    def __init__(self, database: Database, *, pool_size: int = POOL_SIZE):
        import psycopg
        from psycopg_pool import AsyncConnectionPool

        # What a lost connection raises (psycopg is imported only where it is used).
        self._operational_error = psycopg.OperationalError
        engine = database.engine
        self._dialect = engine.dialect
        # SQLAlchemy turns its URL (password, port, ?host=/socket/dir, sslmode...) into
        # psycopg's connection arguments, as for its own connections.
        _, arguments = engine.dialect.create_connect_args(engine.url)
        self._pool = AsyncConnectionPool(
            kwargs={**arguments, "autocommit": True},
            min_size=min(4, pool_size),
            max_size=pool_size,
            timeout=CONNECTION_TIMEOUT_S,
            reconnect_timeout=RECONNECT_TIMEOUT_S,
            open=False,
            name="cfp-host-reads",
        )
        self._compiled: dict[ClauseElement, tuple[str, dict[str, Any]]] = {}
        self.is_open = False

    @classmethod
    def for_database(cls, database: Database) -> AsyncReads | None:
        """Async reads for a PostgreSQL database served through psycopg; None for any
        other database, or when ``psycopg_pool`` is not installed (the threaded path
        serves them)."""
        if database.engine.dialect.driver != "psycopg":
            return None
        try:
            import psycopg_pool  # noqa: F401
        except ImportError:
            logger.warning("psycopg_pool is not installed: PostgreSQL reads run in threads")
            return None
        return cls(database)

    async def open(self) -> None:
        """Start the pool (its connections are made in the background)."""
        await self._pool.open()
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False
        await self._pool.close()

    def _sql(self, statement: ClauseElement, *, reuse: bool) -> tuple[str, dict[str, Any]]:
        """The SQL text of ``statement`` for psycopg and its bound values.

        ``reuse``: compile once and keep it (a statement built once, with
        ``bindparam`` placeholders for what changes); else compile for this call only.
        """
        if reuse and statement in self._compiled:
            return self._compiled[statement]
        # Expanding parameters (``IN``) are rendered as one parameter per value.
        compiled = statement.compile(
            dialect=self._dialect, compile_kwargs={"render_postcompile": True}
        )
        found = str(compiled), dict(compiled.params)
        if reuse:
            self._compiled[statement] = found
        return found

    async def all(
        self, statement: ClauseElement, parameters: dict[str, Any] | None = None, *, reuse=False
    ) -> list[tuple]:
        """Every row of ``statement`` with ``parameters`` bound, as tuples.

        Parameters
        ----------
        statement
            A SQLAlchemy Core ``SELECT``.
        parameters
            Values of its ``bindparam`` placeholders.
        reuse
            Compile the statement once and keep it (for statements built once, at import).
        """
        sql, bound = self._sql(statement, reuse=reuse)
        if parameters:
            bound = {**bound, **parameters}
        for attempt in (1, 2):
            connection = None
            try:
                async with self._pool.connection() as connection:
                    cursor = await connection.execute(sql, bound)
                    return await cursor.fetchall()
            except self._operational_error:
                if attempt == 2 or connection is None or not connection.broken:
                    raise
                # The server closed it (a restart, a proxy's idle timeout): the pool drops
                # it on return; the others may be closed too, so they are tested now.
                logger.info("a database connection was lost; testing the pool's others")
                await self._pool.check()
        raise AssertionError("unreachable")

    async def first(
        self, statement: ClauseElement, parameters: dict[str, Any] | None = None, *, reuse=False
    ) -> tuple | None:
        """The first row of ``statement`` (see :meth:`all`), or None."""
        rows = await self.all(statement, parameters, reuse=reuse)
        return rows[0] if rows else None
