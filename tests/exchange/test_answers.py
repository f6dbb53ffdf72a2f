"""The asynchronous flow: footprint requests answered through the outbox to an HTTPS receiver.

A real receiver (uvicorn over TLS, with its own ``/auth/token``) stands for the data
recipient; the host delivers with the credentials the recipient gave it.
"""

from __future__ import annotations

import ssl
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cfp_engine.exchange.answers import enqueue
from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.database import OutboxEvent, utcnow
from cfp_engine.exchange.outbox import RetryPolicy, Sender
from cfp_engine.exchange.publishing import publish

from exchange_helpers import (
    OTHER_COMPANY,
    Host,
    Receiver,
    footprint,
    footprint_id,
    v2_footprint,
)

V3_CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
V2_CREATED = "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"


@pytest.fixture
def receiver(tls_files):
    running = Receiver(tls_files)
    yield running
    running.stop()


def _sender(database, tls_files, **policy):
    trust = ssl.create_default_context(cafile=str(tls_files[0]))
    return Sender(database, RetryPolicy(backoff_s=0.1, **policy), verify=trust)


def _recipient(database, receiver, name="recipient", api=3, **releases):
    return add_client(
        database,
        name,
        events_url=f"{receiver.url}/{api}/events",
        events_client_id=Receiver.client_id,
        events_client_secret=Receiver.client_secret,
        **releases,
    )


@pytest.fixture
def flow(database, tls_files, receiver):
    publish(database, footprint(1, product="urn:gtin:1"))
    publish(database, footprint(2, product="urn:gtin:2"))
    publish(database, footprint(3, product="urn:gtin:1", company=OTHER_COMPANY))
    sender = _sender(database, tls_files)
    host = Host(database, tls_files, sender=sender)
    yield host
    host.stop()


def _request(host, client, body, api=3):
    with host.reader(client) as http:
        response = http.post(
            f"/{api}/events", json=body, headers={"Content-Type": "application/cloudevents+json"}
        )
    assert response.status_code == 200, response.text
    assert response.content == b""


def _created(request_id, **data):
    return {
        "specversion": "1.0",
        "id": request_id,
        "source": "https://recipient.example",
        "time": "2026-01-01T00:00:00Z",
        "type": V3_CREATED,
        "data": data,
    }


def test_a_request_is_fulfilled_with_the_matching_footprints(flow, receiver, database):
    client = _recipient(database, receiver)
    _request(flow, client, _created("req-1", productId=["urn:gtin:1"]))
    (event,) = receiver.wait_for(1)
    assert event["type"] == "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
    assert event["specversion"] == "1.0" and event["source"] == flow.url
    assert event["data"]["requestEventId"] == "req-1"
    assert [pf["id"] for pf in event["data"]["pfs"]] == [footprint_id(1), footprint_id(3)]


def test_a_request_for_nothing_known_is_rejected(flow, receiver, database):
    client = _recipient(database, receiver)
    _request(flow, client, _created("req-2", productId=["urn:null"]))
    (event,) = receiver.wait_for(1)
    assert event["type"] == "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
    assert event["data"]["requestEventId"] == "req-2"
    assert event["data"]["error"]["code"] == "NotFound"


def test_an_answer_carries_only_what_is_released_to_the_requester(flow, receiver, database):
    client = _recipient(database, receiver, companies=[OTHER_COMPANY])
    _request(flow, client, _created("req-3", productId=["urn:gtin:1"]))
    _request(flow, client, _created("req-4", productId=["urn:gtin:2"]))
    first, second = sorted(receiver.wait_for(2), key=lambda e: e["data"]["requestEventId"])
    assert [pf["id"] for pf in first["data"]["pfs"]] == [footprint_id(3)]
    assert second["type"].endswith("RequestRejectedEvent.3")  # gtin:2 is company A's


def test_a_v2_request_gets_a_v2_answer(database, tls_files, receiver):
    v2 = v2_footprint(7, product="urn:gtin:7")
    publish(database, v2)
    host = Host(database, tls_files, sender=_sender(database, tls_files))
    try:
        client = _recipient(database, receiver, api=2)
        body = {
            **_created("req-v2"),
            "type": V2_CREATED,
            "data": {"pf": {"productIds": ["urn:gtin:7"]}},
        }
        _request(host, client, body, api=2)
        (event,) = receiver.wait_for(1)
    finally:
        host.stop()
    assert event["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
    assert [pf["id"] for pf in event["data"]["pfs"]] == [footprint_id(7)]


def test_delivery_is_retried_until_the_receiver_takes_it(flow, receiver, database):
    receiver.fail_next = 2
    client = _recipient(database, receiver)
    _request(flow, client, _created("req-5", productId=["urn:gtin:2"]))
    (event,) = receiver.wait_for(1)
    assert event["data"]["requestEventId"] == "req-5"
    assert receiver.refused == 2
    deadline = time.monotonic() + 20
    while True:  # the receiver has the event; the host marks it sent right after
        with database.session() as session:
            (row,) = session.scalars(select(OutboxEvent))
        if row.state == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (row.state, row.attempts) == ("sent", 3)


def _queued(database, receiver, client_name="recipient"):
    client = _recipient(database, receiver, name=client_name)
    with database.session() as session:
        from cfp_engine.exchange.database import Client

        client_pk = session.scalar(select(Client.pk).where(Client.client_id == client.client_id))
    enqueue(database, client_pk, f"{receiver.url}/3/events", {"id": "e", "type": "t"})
    return client_pk


def test_backoff_doubles_after_each_failure(database, tls_files, receiver):
    _queued(database, receiver)
    receiver.stop()  # down: connection refused
    trust = ssl.create_default_context(cafile=str(tls_files[0]))
    sender = Sender(database, RetryPolicy(backoff_s=1.0, max_backoff_s=3.0), verify=trust)
    for expected in (1.0, 2.0, 3.0, 3.0):  # 1, 2, 4 capped at 3, 8 capped at 3
        with database.session.begin() as session:  # make the event due now
            session.execute(update(OutboxEvent).values(next_attempt_at=utcnow()))
        before = utcnow()
        assert sender.run_once() == 1
        after = utcnow()
        with database.session() as session:
            (row,) = session.scalars(select(OutboxEvent))
        assert row.state == "pending" and "ConnectError" in row.last_error
        assert before + timedelta(seconds=expected) <= row.next_attempt_at
        assert row.next_attempt_at <= after + timedelta(seconds=expected)


def test_delivery_gives_up_after_the_bounded_time(database, tls_files, receiver):
    _queued(database, receiver)
    receiver.fail_next = 100
    sender = _sender(database, tls_files, give_up_after_s=0.0)
    assert sender.run_once() == 1
    with database.session() as session:
        (row,) = session.scalars(select(OutboxEvent))
    assert (row.state, row.attempts) == ("failed", 1)
    assert sender.run_once() == 0


def test_an_event_claimed_by_a_dead_sender_is_sent_after_its_lease(database, tls_files, receiver):
    _queued(database, receiver)
    crashed = _sender(database, tls_files, lease_s=0.5)
    assert len(crashed._claim()) == 1  # claimed, then the process died before sending
    survivor = _sender(database, tls_files, lease_s=0.5)
    assert survivor.run_once() == 0  # still leased to the dead sender
    time.sleep(0.6)
    assert survivor.run_once() == 1
    assert len(receiver.wait_for(1)) == 1


def test_two_senders_never_claim_the_same_event(database, tls_files, receiver):
    for name in ("a", "b", "c"):
        _queued(database, receiver, client_name=name)
    first, second = _sender(database, tls_files), _sender(database, tls_files)
    claimed = [event.pk for event in first._claim(limit=2)] + [e.pk for e in second._claim()]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 3


def test_queued_events_survive_a_restart(database, tls_files, receiver):
    _queued(database, receiver)
    database.dispose()  # the process that queued it is gone
    from cfp_engine.exchange.database import open_database

    reopened = open_database(str(database.engine.url.render_as_string(hide_password=False)))
    try:
        assert _sender(reopened, tls_files).run_once() == 1
    finally:
        reopened.dispose()
    assert len(receiver.wait_for(1)) == 1


def test_a_requester_without_an_events_endpoint_is_not_answered(flow, database):
    client = add_client(database, "no-endpoint")
    _request(flow, client, _created("req-6", productId=["urn:gtin:1"]))
    with database.session() as session:
        assert session.scalars(select(OutboxEvent)).all() == []


def test_publishing_announces_to_the_recipients_who_may_see_it(database, tls_files, receiver):
    from cfp_engine.exchange.announce import announce
    from cfp_engine.exchange.publishing import publish_many

    _recipient(database, receiver, name="everything")
    _recipient(database, receiver, name="company-b", companies=[OTHER_COMPANY])
    add_client(database, "no-endpoint")
    first = publish_many(database, [("a", footprint(1)), ("b", footprint(2, product="urn:gtin:2"))])
    assert announce(database, first) == 1  # company B may see neither
    assert announce(database, first) == 0  # announced once: nothing queued again
    third = publish_many(database, [("c", footprint(3, company=OTHER_COMPANY))])
    assert announce(database, third) == 2
    assert (
        announce(database, publish_many(database, [("c", footprint(3, company=OTHER_COMPANY))]))
        == 0
    )
    trust = ssl.create_default_context(cafile=str(tls_files[0]))
    sender = Sender(database, RetryPolicy(), verify=trust, source="https://host.example")
    assert sender.run_once() == 3
    events = receiver.wait_for(3)
    assert {event["type"] for event in events} == {
        "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
    }
    assert all(event["source"] == "https://host.example" for event in events)
    assert sorted(sorted(event["data"]["pfIds"]) for event in events) == sorted(
        [
            sorted([footprint_id(1), footprint_id(2)]),
            [footprint_id(3)],
            [footprint_id(3)],
        ]
    )


def test_a_request_sent_twice_is_answered_once(flow, receiver, database):
    client = _recipient(database, receiver)
    _request(flow, client, _created("req-twice", productId=["urn:gtin:1"]))
    _request(flow, client, _created("req-twice", productId=["urn:gtin:1"]))
    other_source = dict(_created("req-twice", productId=["urn:gtin:2"]), source="https://b.example")
    _request(flow, client, other_source)  # same id from another source: another event
    events = receiver.wait_for(2)
    time.sleep(0.5)  # a third answer, were one queued, would have arrived by now
    assert len(receiver.wait_for(2)) == 2
    assert sorted(len(event["data"]["pfs"]) for event in events) == [1, 2]
    with database.session() as session:
        assert len(session.scalars(select(OutboxEvent)).all()) == 2


def test_announcing_from_two_calls_queues_each_footprint_once(database):
    from cfp_engine.exchange.announce import announce
    from cfp_engine.exchange.publishing import publish_many

    add_client(
        database,
        "listener",
        events_url="https://listener.example/3/events",
        events_client_id="me",
        events_client_secret="secret",
    )
    published = publish_many(database, [("a", footprint(1)), ("b", footprint(2))])
    assert announce(database, published[:1]) == 1
    assert announce(database, published) == 1  # only footprint 2 is new to announce
    with database.session() as session:
        bodies = [row.body for row in session.scalars(select(OutboxEvent))]
    assert [footprint_id(1) in body for body in bodies] == [True, False]
    assert [footprint_id(2) in body for body in bodies] == [False, True]
