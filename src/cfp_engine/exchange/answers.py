"""Answering a data recipient's footprint request (the PACT ``RequestCreated`` event).

The request's criteria are the ListFootprints filters (v3.0: ``data.productId``,
``data.companyId``, ...; v2.3: the ``data.pf`` fields ``productIds`` and ``companyIds``).
The footprints released to the requester that match are sent back in a ``Fulfilled``
event; when none match, a ``Rejected`` event says so. The answer goes into the outbox
(:mod:`.outbox`), which delivers it to the requester's events endpoint.
"""

from __future__ import annotations

import json
import uuid
from datetime import timezone
from typing import Any

from sqlalchemy import select

from cfp_engine.exchange.database import Client, Database, OutboxEvent, utcnow
from cfp_engine.exchange.events import EVENT_TYPES
from cfp_engine.exchange.filters import QueryError, parse_query
from cfp_engine.exchange.listing import list_page

#: The most footprints one answer carries.
MAX_ANSWER = 1000
_V3_CRITERIA = (
    "productId",
    "companyId",
    "geography",
    "classification",
    "validOn",
    "validAfter",
    "validBefore",
    "status",
)
_V2_CRITERIA = {"productIds": "productId", "companyIds": "companyId"}


def criteria(event: dict[str, Any], api: int) -> list[tuple[str, str]]:
    """The request's criteria as ListFootprints query pairs."""
    data = event.get("data") or {}
    pairs: list[tuple[str, str]] = []
    if api == 3:
        names = {name: name for name in _V3_CRITERIA}
        source = data
    else:
        names = _V2_CRITERIA
        source = data.get("pf") if isinstance(data.get("pf"), dict) else {}
    for field, name in names.items():
        values = source.get(field)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and value:
                pairs.append((name, value))
    return pairs


def new_event(kind: str, api: int, source: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": EVENT_TYPES[api][kind],
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": utcnow().replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def answer(database: Database, client_pk: int, api: int, event: dict, *, source: str) -> bool:
    """Queue the answer to a request; False when the requester has no events endpoint."""
    with database.session() as session:
        client = session.scalar(select(Client).where(Client.pk == client_pk))
    if client is None or not client.events_url:
        return False
    request_id = event["id"]
    missing = "NotFound" if api == 3 else "NoSuchFootprint"
    pairs = criteria(event, api)
    try:
        query = parse_query([*pairs, ("limit", str(MAX_ANSWER))], api=3)
    except QueryError as exc:
        reply = new_event(
            "rejected",
            api,
            source,
            {"requestEventId": request_id, "error": {"code": "BadRequest", "message": str(exc)}},
        )
    else:
        found = list_page(database, client_pk, api, query).footprints if pairs else []
        if found:
            reply = new_event(
                "fulfilled", api, source, {"requestEventId": request_id, "pfs": found}
            )
        else:
            message = (
                "no footprint matches the request"
                if pairs
                else "the request names no product, company or other criterion"
            )
            error = {"code": missing, "message": message}
            reply = new_event(
                "rejected", api, source, {"requestEventId": request_id, "error": error}
            )
    enqueue(database, client_pk, client.events_url, reply)
    return True


def outbox_event(client_pk: int, url: str, event: dict[str, Any]) -> OutboxEvent:
    """The outbox row that sends ``event`` to ``url`` now."""
    now = utcnow()
    return OutboxEvent(
        client_pk=client_pk,
        url=url,
        body=json.dumps(event, ensure_ascii=False),
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


def enqueue(database: Database, client_pk: int, url: str, event: dict[str, Any]) -> None:
    """Keep ``event`` in the outbox, to send to ``url`` now."""
    with database.session.begin() as session:
        session.add(outbox_event(client_pk, url, event))
