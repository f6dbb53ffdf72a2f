"""Fixtures of the PACT host tests: a database, a TLS certificate, a running host."""

from __future__ import annotations

from pathlib import Path

import pytest
from exchange_helpers import BACKENDS, Host, PostgresServer, database_url


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server for the session (skips where Debian's binaries are absent)."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    """A new host database, on SQLite and on PostgreSQL."""
    from cfp_engine.exchange.database import open_database

    db = open_database(database_url(request, tmp_path))
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    from cfp_engine.exchange.tls import make_self_signed

    folder = tmp_path_factory.mktemp("tls")
    cert, key = make_self_signed()
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def host(database, tls_files):
    running = Host(database, tls_files)
    yield running
    running.stop()
