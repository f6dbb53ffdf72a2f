"""Tell data recipients about new footprints: PACT ``Published`` events through the outbox.

Every client with an events endpoint that may see a newly published footprint gets one
``Published`` event naming the new footprints it may see (``data.pfIds``). The events wait
in the outbox until the server's sender delivers them; their ``source`` (the host's URL)
is filled in by the sender, which knows where it serves.

A footprint is announced once: it is marked (``announced_at``) in the transaction that
queues its events, so announcing it again, from this process or another, queues nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from cfp_engine.exchange.answers import new_event, outbox_event
from cfp_engine.exchange.database import Client, Database, Footprint, utcnow
from cfp_engine.exchange.listing import get_footprint_json
from cfp_engine.exchange.publishing import Published


def announce(database: Database, published: Iterable[Published]) -> int:
    """Queue ``Published`` events for the new footprints not announced yet; the number of
    events queued."""
    fresh = [done for done in published if done.new]
    if not fresh:
        return 0
    queued = 0
    with database.session.begin() as session:
        claimed = []
        for done in fresh:
            # A conditional UPDATE claims the footprint: of two concurrent calls, one wins.
            result = session.execute(
                update(Footprint)
                .where(
                    Footprint.id == done.id,
                    Footprint.api == done.api,
                    Footprint.announced_at.is_(None),
                )
                .values(announced_at=utcnow())
            )
            if result.rowcount:
                claimed.append(done)
        if not claimed:
            return 0
        recipients = session.execute(
            select(Client.pk, Client.events_url).where(Client.events_url.is_not(None))
        ).all()
        for client_pk, url in recipients:
            for api in (2, 3):
                ids = [
                    done.id
                    for done in claimed
                    if done.api == api and get_footprint_json(database, client_pk, api, done.id)
                ]
                if ids:
                    event = new_event("published", api, "", {"pfIds": ids})
                    session.add(outbox_event(client_pk, url, event))
                    queued += 1
    return queued
