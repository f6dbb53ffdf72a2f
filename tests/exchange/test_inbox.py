"""Answers waiting in the host database: only answers to this store's requests are taken."""

from __future__ import annotations

import json

from sqlalchemy import select

from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.database import Client, EventRequest, open_database, utcnow
from cfp_engine.exchange.events import EVENT_TYPES
from cfp_engine.exchange.inbox import import_answers

import make_pact as mp


def test_an_answer_to_no_request_of_this_store_is_ignored_once(tmp_path, fresh_home):
    database = open_database(f"sqlite:///{tmp_path / 'inbox.sqlite'}")
    client = add_client(database, "a supplier")
    event = {
        "type": EVENT_TYPES[3]["fulfilled"],
        "specversion": "1.0",
        "id": "answer-1",
        "source": "https://supplier.example",
        "data": {"requestEventId": "never-sent", "pfs": [mp.resin()]},
    }
    with database.session.begin() as session:
        pk = session.scalar(select(Client.pk).where(Client.client_id == client.client_id))
        session.add(
            EventRequest(
                client_pk=pk,
                api=3,
                event_id="answer-1",
                event_type=event["type"],
                body=json.dumps(event),
                received_at=utcnow(),
                state="received",
            )
        )
    try:
        report = import_answers(database)
        assert not report.imported and not report.rejected
        assert report.ignored == [
            {"event": "answer-1", "reason": "it answers no request of this store"}
        ]
        again = import_answers(database)
        assert not again.ignored  # taken once
        with database.session() as session:
            (row,) = session.scalars(select(EventRequest)).all()
        assert row.state == "ignored"
    finally:
        database.dispose()
