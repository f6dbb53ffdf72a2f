"""Incoming CloudEvents of the PACT Action Events (``POST /2/events``, ``/3/events``).

An event is checked (CloudEvents 1.0 structured JSON with a PACT event type) and kept in
the ``event_requests`` table, which also tells an event sent again (same ``source`` and
``id``) from a new one. A new ``RequestCreated`` event is answered by :mod:`.answers`;
``Published`` events from a recipient are only kept.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from cfp_engine.exchange.database import Database, EventRequest, utcnow
from cfp_engine.exchange.filters import QueryError

EVENT_TYPES = {
    3: {
        "created": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "fulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "rejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "published": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    },
    2: {
        "created": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "fulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
        "rejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        "published": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
    },
}


def check_event(body: bytes, *, api: int) -> dict[str, Any]:
    """The event in ``body``; :class:`QueryError` (BadRequest) if it is not a PACT event."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise QueryError("the body is not JSON") from None
    if not isinstance(event, dict):
        raise QueryError("an event is a JSON object")
    if event.get("specversion") != "1.0":
        raise QueryError('specversion must be "1.0" (CloudEvents 1.0)')
    for key in ("id", "source", "type"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise QueryError(f"the event needs a non-empty string {key}")
    kinds = {value: kind for kind, value in EVENT_TYPES[api].items()}
    kind = kinds.get(event["type"])
    if kind is None:
        raise QueryError(f"unknown event type {event['type'][:100]!r} for /{api}/events")
    data = event.get("data")
    if not isinstance(data, dict):
        raise QueryError("the event needs a data object")
    if kind == "published":
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids:
            raise QueryError("a published event needs data.pfIds, a list of footprint ids")
        for value in ids:
            try:
                uuid.UUID(str(value))
            except ValueError:
                raise QueryError(f"data.pfIds: {str(value)[:60]!r} is not a UUID") from None
    return event


def record_event(database: Database, client_pk: int, api: int, event: dict[str, Any]) -> bool:
    """Keep an accepted event; False when the client sent this event before.

    CloudEvents 1.0 ("id"): ``source`` and ``id`` identify an event, and a sender that
    did not hear back may send it again; the host answers it once.
    """
    with database.session.begin() as session:
        earlier = session.scalars(
            select(EventRequest.body).where(
                EventRequest.client_pk == client_pk,
                EventRequest.api == api,
                EventRequest.event_id == event["id"][:500],
            )
        )
        if any(json.loads(body).get("source") == event["source"] for body in earlier):
            return False
        session.add(
            EventRequest(
                client_pk=client_pk,
                api=api,
                event_id=event["id"][:500],
                event_type=event["type"][:200],
                body=json.dumps(event, ensure_ascii=False),
                received_at=utcnow(),
                state="received",
            )
        )
    return True
