"""Data recipients (OAuth2 clients): add, list, remove, rotate, and check their secrets.

A client's secret is shown once, when it is made, and stored only as a scrypt hash with
its own random salt (RFC 7914; parameters as OWASP's password storage cheat sheet
recommends: https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html).
What is released to a client is everything, or the footprints of given company ids or
product ids (matched case-insensitively, like PACT's filters).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select

from cfp_engine.errors import DataError, SpecError, quote_input
from cfp_engine.exchange.database import (
    ALL,
    COMPANY,
    PRODUCT,
    Client,
    ClientRelease,
    Database,
    Token,
    utcnow,
)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
KDF = "scrypt:n=16384,r=8,p=1"
_MAX_NAME = 200


@dataclass(frozen=True)
class NewClient:
    """A client just made (or rotated): the only time its secret is known."""

    name: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class ClientInfo:
    name: str
    client_id: str
    created_at: str
    releases: tuple[str, ...]
    events_url: str | None


def hash_secret(secret: str, salt: bytes) -> bytes:
    """scrypt of ``secret`` with ``salt`` (32 bytes)."""
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 2**20, **_SCRYPT)


def _new_secret() -> tuple[str, bytes, bytes]:
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return secret, salt, hash_secret(secret, salt)


def _check_url(url: str | None, what: str) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise SpecError(f"{what}: {quote_input(url)} is not an https:// URL")


def add_client(
    database: Database,
    name: str,
    *,
    companies: Sequence[str] = (),
    products: Sequence[str] = (),
    events_url: str | None = None,
    events_client_id: str | None = None,
    events_client_secret: str | None = None,
) -> NewClient:
    """Register a data recipient; returns its id and its secret (shown only now).

    With neither ``companies`` nor ``products``, everything published is released to it.

    Raises
    ------
    SpecError
        An empty or taken name, or an events URL that is not https.
    """
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        raise SpecError(f"name: a client name has 1 to {_MAX_NAME} characters")
    _check_url(events_url, "events_url")
    if events_url is not None and not (events_client_id and events_client_secret):
        raise SpecError("events_url: needs events_client_id and events_client_secret too")
    secret, salt, digest = _new_secret()
    client_id = secrets.token_hex(16)
    with database.session.begin() as session:
        if session.scalar(select(Client).where(Client.name == name)) is not None:
            raise SpecError(f"name: a client named {quote_input(name)} exists already")
        client = Client(
            client_id=client_id,
            name=name,
            secret_salt=salt,
            secret_hash=digest,
            secret_kdf=KDF,
            created_at=utcnow(),
            events_url=events_url,
            events_client_id=events_client_id,
            events_client_secret=events_client_secret,
        )
        session.add(client)
        session.flush()
        releases = [(COMPANY, value) for value in companies] + [
            (PRODUCT, value) for value in products
        ]
        if not releases:
            releases = [(ALL, "")]
        session.add_all(
            ClientRelease(client_pk=client.pk, kind=kind, value=value.strip().lower())
            for kind, value in releases
        )
    return NewClient(name, client_id, secret)


def _find(session, name_or_id: str) -> Client:
    client = session.scalar(
        select(Client).where(or_(Client.name == name_or_id, Client.client_id == name_or_id))
    )
    if client is None:
        raise DataError(f"client: no client is named or has the id {quote_input(name_or_id)}")
    return client


def list_clients(database: Database) -> list[ClientInfo]:
    """Every client, oldest first (never their secrets)."""
    with database.session() as session:
        result = []
        for client in session.scalars(select(Client).order_by(Client.pk)):
            releases = session.execute(
                select(ClientRelease.kind, ClientRelease.value)
                .where(ClientRelease.client_pk == client.pk)
                .order_by(ClientRelease.pk)
            ).all()
            result.append(
                ClientInfo(
                    name=client.name,
                    client_id=client.client_id,
                    created_at=client.created_at.isoformat(timespec="seconds") + "Z",
                    releases=tuple(
                        kind if kind == ALL else f"{kind}:{value}" for kind, value in releases
                    ),
                    events_url=client.events_url,
                )
            )
        return result


def remove_client(database: Database, name_or_id: str) -> None:
    """Delete a client, its releases and its tokens."""
    with database.session.begin() as session:
        client = _find(session, name_or_id)
        session.execute(delete(Token).where(Token.client_pk == client.pk))
        session.execute(delete(ClientRelease).where(ClientRelease.client_pk == client.pk))
        session.delete(client)


def rotate_secret(database: Database, name_or_id: str) -> NewClient:
    """Give a client a new secret; its old secret and every token it holds stop working."""
    secret, salt, digest = _new_secret()
    with database.session.begin() as session:
        client = _find(session, name_or_id)
        client.secret_salt, client.secret_hash, client.secret_kdf = salt, digest, KDF
        session.execute(delete(Token).where(Token.client_pk == client.pk))
        return NewClient(client.name, client.client_id, secret)


def authenticate(database: Database, client_id: str, secret: str) -> int | None:
    """The client's key when ``secret`` is its secret, else None (in constant time per try)."""
    with database.session() as session:
        client = session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        # Same work as for a known client, so timing does not tell which ids exist.
        hash_secret(secret, b"\0" * 16)
        return None
    if hmac.compare_digest(hash_secret(secret, client.secret_salt), client.secret_hash):
        return client.pk
    return None
