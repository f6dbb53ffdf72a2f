"""The ListFootprints query: filters (PACT v3.0), ``limit`` and the page cursor.

v3.0 filters (``/3/footprints``): ``productId``, ``companyId``, ``geography``,
``classification`` (case-insensitive), ``validOn``, ``validAfter``, ``validBefore``
(RFC 3339 date-times) and ``status``. A repeated parameter matches any of its values
(OR); different parameters must all match (AND). Parameter names are matched
case-insensitively, as the specification's own example writes ``productid``. The v2.x
OData ``$filter`` was dropped in v3.0 and is refused with BadRequest; v2.3
(``/2/footprints``) has only ``limit`` (its optional ``$filter`` is NotImplemented).
See https://docs.carbon-transparency.org/tr/data-exchange-protocol/latest/#api-action-list-filtering
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cfp_engine.errors import SpecError
from cfp_engine.exchange.database import CLASSIFICATION, COMPANY, GEOGRAPHY, PRODUCT
from cfp_engine.exchange.records import parse_time

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_VALUES = 100
MAX_VALUE_CHARS = 512

_KEYED = {
    "productid": PRODUCT,
    "companyid": COMPANY,
    "geography": GEOGRAPHY,
    "classification": CLASSIFICATION,
}
_TIMES = {"validon": "valid_on", "validafter": "valid_after", "validbefore": "valid_before"}


class QueryError(SpecError):
    """A bad ListFootprints query; ``code`` is the PACT error code to answer with."""

    def __init__(self, message: str, code: str = "BadRequest"):
        super().__init__(message)
        self.code = code

    def __reduce__(self):
        return (type(self), (self.message, self.code))


@dataclass(frozen=True)
class Query:
    """A parsed ListFootprints request."""

    limit: int = DEFAULT_LIMIT
    after: int = 0
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()
    valid_on: datetime | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None


def _integer(name: str, text: str, low: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise QueryError(f"{name} must be a whole number of at least {low}, not {text[:40]!r}")
    value = int(text)
    if value < low:
        raise QueryError(f"{name} must be at least {low}, not {value}")
    return value


def parse_query(params: Iterable[tuple[str, str]], *, api: int) -> Query:
    """Parse the query string's ``(name, value)`` pairs of ``/{api}/footprints``.

    Raises
    ------
    QueryError
        A malformed value, too many values, ``$filter`` (BadRequest in v3,
        NotImplemented in v2.3).
    """
    limit, after = DEFAULT_LIMIT, 0
    keys: dict[str, list[str]] = {}
    statuses: list[str] = []
    times: dict[str, datetime] = {}
    count = 0
    for raw_name, value in params:
        name = raw_name.lower()
        count += 1
        if count > MAX_VALUES:
            raise QueryError(f"at most {MAX_VALUES} query parameters are accepted")
        if len(value) > MAX_VALUE_CHARS:
            raise QueryError(f"{raw_name[:40]}: a value has at most {MAX_VALUE_CHARS} characters")
        if "\x00" in value or "\x00" in raw_name:
            # PostgreSQL cannot hold NUL in text; no identifier contains one.
            raise QueryError(f"{raw_name[:40]!r}: a value must not contain NUL characters")
        if name == "$filter":
            if api == 3:
                raise QueryError(
                    "$filter (OData) is not part of PACT v3.0; use the filter parameters"
                )
            raise QueryError("$filter is not implemented by this host", code="NotImplemented")
        if name == "limit":
            # More than MAX_LIMIT is allowed and served in pages of MAX_LIMIT: PACT only
            # forbids returning more than asked.
            limit = min(_integer("limit", value, 1), MAX_LIMIT)
        elif name == "after":
            after = _integer("after", value, 0)
        elif api == 2:
            continue  # v2.3 has no other parameters; unknown ones are ignored
        elif not value.strip():
            # An empty value constrains nothing (PACT's conformance tool sends
            # `classification=` for footprints without classifications and expects them all).
            continue
        elif name in _KEYED:
            keys.setdefault(_KEYED[name], []).append(value.strip().lower())
        elif name in _TIMES:
            try:
                times[_TIMES[name]] = parse_time(value, what=raw_name)
            except SpecError as exc:
                raise QueryError(str(exc)) from None
        elif name == "status":
            statuses.append(value.strip().lower())
        # Other parameters (host extensions are prefixed x-<identifier>-) are ignored.
    return Query(
        limit=limit,
        after=after,
        keys={kind: tuple(values) for kind, values in keys.items()},
        statuses=tuple(statuses),
        **times,
    )
