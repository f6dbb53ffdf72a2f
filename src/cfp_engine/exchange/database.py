"""The host's database: SQLAlchemy 2 tables, and opening a database at the newest revision.

The tables (created by the Alembic revisions in ``migrations/``):

- ``footprints``: one row per published PACT footprint, its payload exactly as published
  (the JSON text and its SHA-256), and the columns the filters need;
- ``footprint_keys``: the footprint's lower-cased product ids, company ids,
  classifications and geographies, one row each, so the list filters are indexed look-ups
  on SQLite and PostgreSQL alike;
- ``clients``, ``client_releases``: the data recipients, their hashed secrets and what is
  released to them (everything, or footprints of given companies or products);
- ``tokens``: the SHA-256 of each access token and its expiry;
- ``event_requests``: the events recipients posted;
- ``outbox``: the events to send to recipients, until delivered (revision 0002);
- ``label_pages``: the readable label of each public footprint, per language (revision 0003).

The default database is a SQLite file in the engine's store, in WAL mode so that readers
(the server's workers) never wait for the writer (``cfp publish``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from cfp_engine.errors import StoreError, quote_input
from cfp_engine.paths import data_home

#: Key kinds of ``footprint_keys`` and ``client_releases``.
PRODUCT, COMPANY, CLASSIFICATION, GEOGRAPHY, ALL = (
    "product",
    "company",
    "classification",
    "geography",
    "all",
)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Connections a process keeps open (and as many more it may open at busy times).
POOL_SIZE = 20


def utcnow() -> datetime:
    """Now, in UTC without a time zone (every time in the database is naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Footprint(Base):
    __tablename__ = "footprints"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The PACT id; the v3.0 and v2.3 renderings of one footprint share it.
    id: Mapped[str] = mapped_column(String(36), index=True)
    spec_version: Mapped[str] = mapped_column(String(16))
    #: 2 or 3: the API version (``/2/`` or ``/3/``) that serves it.
    api: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime] = mapped_column(DateTime)
    created: Mapped[str] = mapped_column(String(40))
    published_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the document as it was handed to publish (before precedingPfIds were added).
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: The ``status`` written in ``payload`` (None for footprints published before it was kept).
    payload_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: When ``Published`` events were queued for it (None: not yet).
    announced_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("id", "api", name="uq_footprints_id_api"),)


class FootprintKey(Base):
    __tablename__ = "footprint_keys"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    footprint_pk: Mapped[int] = mapped_column(ForeignKey("footprints.pk", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(512))

    __table_args__ = (
        Index("ix_footprint_keys_kind_value", "kind", "value"),
        Index("ix_footprint_keys_footprint", "footprint_pk", "kind"),
    )


class LabelPage(Base):
    """The readable label of a public footprint in one language, as an HTML page."""

    __tablename__ = "label_pages"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    footprint_pk: Mapped[int] = mapped_column(ForeignKey("footprints.pk", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    html: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("footprint_pk", "lang", name="uq_label_pages_footprint_lang"),
    )


class Client(Base):
    __tablename__ = "clients"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret_salt: Mapped[bytes] = mapped_column(LargeBinary)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    #: The KDF and its parameters, e.g. ``scrypt:n=16384,r=8,p=1``.
    secret_kdf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    events_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    events_client_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The recipient's own credentials for its events endpoint: needed in clear to call it.
    events_client_secret: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ClientRelease(Base):
    __tablename__ = "client_releases"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.pk", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(512), default="")

    __table_args__ = (Index("ix_client_releases_client", "client_pk", "kind", "value"),)


class Token(Base):
    __tablename__ = "tokens"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.pk", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class EventRequest(Base):
    __tablename__ = "event_requests"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.pk", ondelete="CASCADE"))
    api: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(500))
    event_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16), default="received")

    __table_args__ = (Index("ix_event_requests_event", "client_pk", "api", "event_id"),)


class OutboxEvent(Base):
    """An event to send to a data recipient, kept until it is delivered or given up."""

    __tablename__ = "outbox"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.pk", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    #: ``pending`` (to send at ``next_attempt_at``), ``sending`` (claimed by a sender until
    #: ``next_attempt_at``), ``sent`` or ``failed`` (given up).
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)


def default_url() -> str:
    """The embedded database: ``exchange/host.sqlite`` in the engine's store."""
    folder = data_home() / "exchange"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'host.sqlite'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL: readers never block on the writer; foreign keys are off by default in SQLite.
    # https://www.sqlite.org/wal.html
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@dataclass(frozen=True)
class Database:
    """An open host database: its engine and a session factory."""

    url: str
    engine: Engine
    session: sessionmaker

    def read(self) -> Connection:
        """A connection for reads outside a transaction (autocommit), to use in ``with``.

        A read-only request needs no BEGIN and ROLLBACK around its one query: on
        PostgreSQL they were two of its four round trips (0.79 ms a look-up; 0.51 ms
        without them).
        """
        return self._autocommit.connect()

    @cached_property
    def _autocommit(self) -> Engine:
        if self.engine.dialect.name == "sqlite":
            # Python's sqlite3 opens no transaction for a SELECT: nothing to save, and
            # switching the isolation level on each checkout costs 0.03 ms.
            return self.engine
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info) -> None:
        self.dispose()


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open the host database at ``url`` (default: :func:`default_url`), upgraded to the head.

    Parameters
    ----------
    url
        Any SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``).
    migrate
        Run the Alembic migrations up to the newest revision (a no-op when already there).

    Raises
    ------
    StoreError
        The URL is malformed, its driver is missing, or the database cannot be reached.
    """
    url = url or default_url()
    try:
        # A server may drop idle connections (PostgreSQL behind a proxy, restarts): ping them
        # before use. A SQLite file never does.
        # A pool as large as the requests a worker serves at once (16 concurrent clients
        # in the benchmark): with SQLAlchemy's default of 5, every request beyond the
        # fifth opened and closed a connection of its own, a third of a request's time.
        engine = create_engine(
            url,
            pool_pre_ping=not url.startswith("sqlite"),
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
        )
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"db: {quote_input(url)} is not a database URL ({exc})") from None
    except ImportError as exc:
        raise StoreError(
            f"db: the driver for {quote_input(url.split(':', 1)[0])} is not installed ({exc})"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if migrate:
            upgrade(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"db: cannot open {_safe_url(engine)}: {reason}") from None
    return Database(url, engine, sessionmaker(engine, expire_on_commit=False))


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
