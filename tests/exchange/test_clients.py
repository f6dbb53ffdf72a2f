"""Clients: secrets hashed with scrypt (never stored), rotation, removal; tokens and expiry."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from cfp_engine.errors import DataError, SpecError
from cfp_engine.exchange.clients import (
    add_client,
    authenticate,
    list_clients,
    remove_client,
    rotate_secret,
)
from cfp_engine.exchange.database import Client, Token, utcnow
from cfp_engine.exchange.tokens import check_token, issue_token


def _database_bytes(database) -> bytes:
    """Everything the database holds: the SQLite file, or a dump of PostgreSQL's tables."""
    if database.engine.dialect.name == "sqlite":
        path = database.engine.url.database
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(FULL)")
        return open(path, "rb").read()
    with database.engine.connect() as connection:
        rows = [
            repr(connection.execute(text(f"SELECT * FROM {table}")).all())
            for table in ("clients", "client_releases", "tokens")
        ]
    return "".join(rows).encode()


def test_the_secret_is_stored_only_as_a_salted_scrypt_hash(database):
    first = add_client(database, "first")
    second = add_client(database, "second")
    with database.session() as session:
        rows = {c.name: c for c in session.scalars(select(Client))}
    for new in (first, second):
        row = rows[new.name]
        # Recomputed here with the standard library, from RFC 7914's parameters.
        expected = hashlib.scrypt(
            new.client_secret.encode(), salt=row.secret_salt, n=16384, r=8, p=1, dklen=32
        )
        assert row.secret_hash == expected
        assert row.secret_kdf == "scrypt:n=16384,r=8,p=1"
    assert rows["first"].secret_salt != rows["second"].secret_salt
    stored = _database_bytes(database)
    for new in (first, second):
        assert new.client_secret.encode() not in stored
        assert len(new.client_secret) >= 40  # 32 random bytes, base64url


def test_authenticate(database):
    new = add_client(database, "acme")
    assert authenticate(database, new.client_id, new.client_secret) is not None
    assert authenticate(database, new.client_id, new.client_secret + "x") is None
    assert authenticate(database, "no-such-client", new.client_secret) is None


def test_rotate_replaces_the_secret_and_revokes_tokens(database):
    new = add_client(database, "acme")
    client_pk = authenticate(database, new.client_id, new.client_secret)
    token = issue_token(database, client_pk).access_token
    rotated = rotate_secret(database, "acme")
    assert rotated.client_id == new.client_id and rotated.client_secret != new.client_secret
    assert authenticate(database, new.client_id, new.client_secret) is None
    assert authenticate(database, new.client_id, rotated.client_secret) == client_pk
    assert check_token(database, token).problem == "invalid"


def test_remove_deletes_the_client_and_its_tokens(database):
    new = add_client(database, "acme")
    client_pk = authenticate(database, new.client_id, new.client_secret)
    issue_token(database, client_pk)
    remove_client(database, new.client_id)
    assert list_clients(database) == []
    with database.session() as session:
        assert session.scalars(select(Token)).all() == []
    with pytest.raises(DataError, match="no client"):
        remove_client(database, "acme")


def test_releases_are_listed(database):
    add_client(database, "all")
    add_client(database, "some", companies=["urn:uuid:ABC"], products=["urn:gtin:1"])
    listed = {info.name: info.releases for info in list_clients(database)}
    assert listed == {"all": ("all",), "some": ("company:urn:uuid:abc", "product:urn:gtin:1")}


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("", {}, "1 to 200"),
        ("x" * 201, {}, "1 to 200"),
        ("b", {"events_url": "http://plain.example/events"}, "https"),
        ("c", {"events_url": "https://r.example/events"}, "events_client_id"),
    ],
)
def test_bad_clients_are_refused(database, name, options, message):
    with pytest.raises(SpecError, match=message):
        add_client(database, name, **options)


def test_a_name_is_taken_once(database):
    add_client(database, "acme")
    with pytest.raises(SpecError, match="exists already"):
        add_client(database, "acme")


def test_tokens_expire_and_forged_tokens_are_unknown(database):
    new = add_client(database, "acme")
    client_pk = authenticate(database, new.client_id, new.client_secret)
    issued = issue_token(database, client_pk, lifetime_s=60)
    assert check_token(database, issued.access_token).client_pk == client_pk
    token = issued.access_token
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")  # never the token itself
    assert check_token(database, forged).problem == "invalid"
    assert check_token(database, "").problem == "invalid"
    assert check_token(database, "x" * 10_000).problem == "invalid"
    with database.session.begin() as session:
        session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert check_token(database, issued.access_token).problem == "expired"


def test_the_database_keeps_token_hashes_not_tokens(database):
    new = add_client(database, "acme")
    issued = issue_token(database, authenticate(database, new.client_id, new.client_secret))
    assert issued.access_token.encode() not in _database_bytes(database)
    with database.session() as session:
        (stored,) = session.scalars(select(Token.token_sha256))
    assert stored == hashlib.sha256(issued.access_token.encode()).hexdigest()
