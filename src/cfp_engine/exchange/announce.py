"""Tell data recipients about new footprints: PACT ``Published`` events through the outbox.

Every client with an events endpoint that may see a newly published footprint gets one
``Published`` event naming the new footprints it may see (``data.pfIds``). The events wait
in the outbox until the server's sender delivers them; their ``source`` (the host's URL)
is filled in by the sender, which knows where it serves.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from cfp_engine.exchange.answers import enqueue, new_event
from cfp_engine.exchange.database import Client, Database
from cfp_engine.exchange.listing import get_footprint
from cfp_engine.exchange.publishing import Published


def announce(database: Database, published: Iterable[Published]) -> int:
    """Queue ``Published`` events for the new footprints; the number of events queued."""
    fresh = [done for done in published if done.new]
    if not fresh:
        return 0
    with database.session() as session:
        recipients = session.execute(
            select(Client.pk, Client.events_url).where(Client.events_url.is_not(None))
        ).all()
    queued = 0
    for client_pk, url in recipients:
        for api in (2, 3):
            ids = [
                done.id
                for done in fresh
                if done.api == api and get_footprint(database, client_pk, api, done.id)
            ]
            if ids:
                enqueue(database, client_pk, url, new_event("published", api, "", {"pfIds": ids}))
                queued += 1
    return queued
