"""Access tokens: opaque random bearer tokens, stored as their SHA-256, with an expiry.

The token is 256 random bits (``secrets.token_urlsafe(32)``), so a plain SHA-256 is
enough to keep the database from holding usable tokens (no slow KDF needed, unlike
secrets people may choose). Opaque tokens need no JWKS: only this host reads them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from cfp_engine.exchange.database import Database, Token, utcnow

DEFAULT_LIFETIME_S = 3600


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class TokenCheck:
    """The client a token belongs to, or why it is refused (``"invalid"``, ``"expired"``)."""

    client_pk: int | None
    problem: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    database: Database, client_pk: int, *, lifetime_s: int = DEFAULT_LIFETIME_S
) -> Issued:
    """A new token for a client, valid ``lifetime_s`` seconds; expired tokens are swept."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.session.begin() as session:
        session.execute(delete(Token).where(Token.expires_at < now - timedelta(days=1)))
        session.add(
            Token(
                token_sha256=_digest(token),
                client_pk=client_pk,
                created_at=now,
                expires_at=now + timedelta(seconds=lifetime_s),
            )
        )
    return Issued(token, lifetime_s)


def _stored(database: Database, token: str):
    """The stored ``(client_pk, expires_at)`` of a token, or None (unknown or malformed)."""
    if not token or len(token) > 200:
        return None
    with database.read() as connection:
        return connection.execute(
            select(Token.client_pk, Token.expires_at).where(Token.token_sha256 == _digest(token))
        ).first()


def _judged(client_pk: int, expires_at: datetime) -> TokenCheck:
    if expires_at <= utcnow():
        return TokenCheck(None, "expired")
    return TokenCheck(client_pk)


def check_token(database: Database, token: str) -> TokenCheck:
    """Whose token this is, if it is known and not expired."""
    row = _stored(database, token)
    return TokenCheck(None, "invalid") if row is None else _judged(*row)


class TokenCache:
    """Tokens already checked, kept in memory for a short while.

    Every API request carries a token; looking it up in the database each time cost more
    than serving the footprint. A cached token is still refused once it expires; a token
    deleted from the database (its client removed or its secret rotated) stays usable in a
    running server for at most ``ttl_s`` seconds.

    Parameters
    ----------
    database
        The host database.
    ttl_s
        How long a checked token is trusted without asking the database, in seconds.
    max_entries
        The cache is emptied when it holds this many tokens (a bound on memory).
    """

    def __init__(self, database: Database, *, ttl_s: float = 30.0, max_entries: int = 10_000):
        self.database = database
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._known: dict[str, tuple[int, datetime, float]] = {}

    def cached(self, token: str) -> TokenCheck | None:
        """The check of a token seen less than ``ttl_s`` ago, or None."""
        entry = self._known.get(token)
        if entry is None:
            return None
        client_pk, expires_at, until = entry
        if time.monotonic() > until:
            self._known.pop(token, None)
            return None
        return _judged(client_pk, expires_at)

    def check(self, token: str) -> TokenCheck:
        """Whose token this is (from the cache, else the database)."""
        found = self.cached(token)
        if found is not None:
            return found
        row = _stored(self.database, token)
        if row is None:
            return TokenCheck(None, "invalid")
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[token] = (row.client_pk, row.expires_at, time.monotonic() + self.ttl_s)
        return _judged(row.client_pk, row.expires_at)
