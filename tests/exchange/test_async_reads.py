"""The host's reads on PostgreSQL run on the event loop (psycopg's asyncio pool), give
what the threaded path gives, and survive dropped connections; workers freeze their
startup objects out of the garbage collector's passes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cfp_engine.exchange import listing
from cfp_engine.exchange.async_reads import AsyncReads
from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.database import open_database
from cfp_engine.exchange.filters import parse_query
from cfp_engine.exchange.publishing import deprecate, publish

from exchange_helpers import COMPANY, Host, PostgresServer, footprint, footprint_id


@pytest.fixture
def pg_database(postgres):
    database = open_database(postgres.new_database())
    yield database
    database.dispose()


def _terminate_other_connections(url: str) -> int:
    """Close, from the server's side, every connection to the database of ``url``."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = f"host={parsed.host} port={parsed.port} user={parsed.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (parsed.database,),
        ).fetchall()
    return len(rows)


def test_sqlite_has_no_async_reads(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'host.sqlite'}")
    assert AsyncReads.for_database(database) is None
    database.dispose()


def test_without_psycopg_pool_postgresql_reads_run_in_threads(pg_database, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as if not installed
    assert AsyncReads.for_database(pg_database) is None
    assert "psycopg_pool is not installed" in caplog.text


def test_postgresql_reads_do_not_use_the_threaded_path(pg_database, tls_files, monkeypatch):
    for n in (1, 2, 3):
        publish(pg_database, footprint(n, product=f"urn:gtin:{n}"))
    client = add_client(pg_database, "reader")

    def threaded(*args):
        raise AssertionError("a PostgreSQL read went through a worker thread")

    monkeypatch.setattr(listing, "get_footprint_json", threaded)
    monkeypatch.setattr(listing, "list_page_json", threaded)
    host = Host(pg_database, tls_files)
    try:
        with host.reader(client) as http:
            one = http.get(f"/3/footprints/{footprint_id(2)}")
            assert one.status_code == 200, one.text
            assert one.json()["data"]["productIds"] == ["urn:gtin:2"]
            assert http.get(f"/3/footprints/{footprint_id(9)}").status_code == 404
            page = http.get("/3/footprints", params={"limit": 2})
            assert page.status_code == 200, page.text
            assert [item["id"] for item in page.json()["data"]] == [
                footprint_id(1),
                footprint_id(2),
            ]
            assert 'rel="next"' in page.headers["link"]
    finally:
        host.stop()


def test_async_and_threaded_reads_give_the_same_pages(pg_database):
    """Every filter kind, IN lists included, through both paths of one database."""
    import asyncio

    # 4, 5 and 6 supersede 1, 2 and 3 (same products); 6 is then withdrawn.
    for n in range(1, 7):
        publish(pg_database, footprint(n, product=f"urn:gtin:{n % 3}"))
    deprecate(pg_database, footprint_id(6))
    everyone = add_client(pg_database, "everyone")
    by_product = add_client(pg_database, "product-1", products=["urn:gtin:1"])
    pks = {}
    from sqlalchemy import select

    from cfp_engine.exchange.database import Client

    with pg_database.session() as session:
        for client in (everyone, by_product):
            pks[client.client_id] = session.scalar(
                select(Client.pk).where(Client.client_id == client.client_id)
            )
    queries = [
        [],
        [("limit", "2")],
        [("productId", "urn:gtin:1"), ("productId", "URN:GTIN:2")],
        [("companyId", COMPANY)],
        [("status", "Deprecated"), ("status", "active")],
        [("status", "Deprecated")],
        [("validOn", "2026-03-01T00:00:00Z")],
        [("validAfter", "2020-01-01T00:00:00Z"), ("validBefore", "2040-01-01T00:00:00Z")],
        [("productId", "urn:gtin:1"), ("status", "Active"), ("limit", "1")],
    ]

    async def async_side():
        reads = AsyncReads.for_database(pg_database)
        await reads.open()
        try:
            found = []
            for client_pk in pks.values():
                for pairs in queries:
                    query = parse_query(pairs, api=3)
                    page = await listing.list_page_json_async(reads, client_pk, 3, query)
                    found.append((page.footprints, page.next_after))
                for n in range(0, 8):
                    found.append(
                        await listing.get_footprint_json_async(reads, client_pk, 3, footprint_id(n))
                    )
            return found
        finally:
            await reads.close()

    threaded = []
    for client_pk in pks.values():
        for pairs in queries:
            page = listing.list_page_json(pg_database, client_pk, 3, parse_query(pairs, api=3))
            threaded.append((page.footprints, page.next_after))
        for n in range(0, 8):
            threaded.append(listing.get_footprint_json(pg_database, client_pk, 3, footprint_id(n)))
    on_loop = asyncio.run(async_side())
    assert on_loop == threaded
    # The comparison is not between two empty lists: the pages hold footprints.
    pages = [entry for entry in threaded if isinstance(entry, tuple)]
    assert sum(len(footprints) for footprints, _ in pages) > 20
    assert any(after is not None for _, after in pages)  # and some have a next page
    # The last eight are footprints 0 to 7 as product-1's client gets them.
    assert json.loads(threaded[-8 + 1])["status"] == "Deprecated"  # superseded by 4
    assert json.loads(threaded[-8 + 4])["status"] == "Active"
    assert threaded[-8 + 2] is None  # urn:gtin:2 is not released to this client


def test_reads_survive_connections_the_server_dropped(pg_database, tls_files):
    publish(pg_database, footprint(1, product="urn:gtin:1"))
    client = add_client(pg_database, "reader")
    host = Host(pg_database, tls_files)
    try:
        with host.reader(client) as http:
            assert http.get(f"/3/footprints/{footprint_id(1)}").status_code == 200
            assert _terminate_other_connections(pg_database.url) >= 1
            for _ in range(5):  # each pooled connection may be one the server closed
                response = http.get(f"/3/footprints/{footprint_id(1)}")
                assert response.status_code == 200, response.text
                assert response.json()["data"]["id"] == footprint_id(1)
    finally:
        host.stop()


def test_reads_fail_promptly_during_an_outage_and_resume_after_it(tls_files):
    """PostgreSQL stopped: reads are PACT InternalErrors within the pool's wait; started
    again: reads are served within the pool's reconnect time, whatever the outage's length.
    (A server of its own: the session's is shared.)"""
    import time

    from cfp_engine.exchange.async_reads import CONNECTION_TIMEOUT_S, RECONNECT_TIMEOUT_S

    server = PostgresServer()
    database = open_database(server.new_database())
    publish(database, footprint(1, product="urn:gtin:1"))
    client = add_client(database, "reader")
    host = Host(database, tls_files)
    path = f"/3/footprints/{footprint_id(1)}"
    try:
        with host.reader(client) as http:
            assert http.get(path).status_code == 200  # the token is now checked and cached
            server.pause()
            try:
                for _ in range(2):
                    start = time.monotonic()
                    response = http.get(path)
                    assert response.status_code == 500
                    assert response.json() == {"code": "InternalError", "message": "internal error"}
                    assert time.monotonic() - start < CONNECTION_TIMEOUT_S + 2
                # Longer than the pool's retries: it has given up reconnecting by itself.
                time.sleep(RECONNECT_TIMEOUT_S + 1)
                assert http.get(path).status_code == 500
            finally:
                server.resume()
            back = time.monotonic()
            while (response := http.get(path)).status_code != 200:
                assert time.monotonic() - back < RECONNECT_TIMEOUT_S + CONNECTION_TIMEOUT_S
                time.sleep(0.2)
            assert response.json()["data"]["id"] == footprint_id(1)
            assert time.monotonic() - back < RECONNECT_TIMEOUT_S + 1
    finally:
        host.stop()
        database.dispose()
        server.stop()


def test_a_worker_freezes_its_startup_objects(tmp_path):
    """``cfp serve``'s application factory moves the objects of its start-up out of the
    collector's passes (gc.freeze), a fresh interpreter having none frozen."""
    program = (
        "import gc, os\n"
        "assert gc.get_freeze_count() == 0\n"
        f"os.environ['CFP_EXCHANGE_DB'] = 'sqlite:///{tmp_path / 'host.sqlite'}'\n"
        "from cfp_engine.exchange.database import open_database\n"
        "open_database(os.environ['CFP_EXCHANGE_DB']).dispose()\n"
        "from cfp_engine.exchange.app import app_from_environment\n"
        "app_from_environment()\n"
        "print(gc.get_freeze_count())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    assert int(run.stdout.strip()) > 10_000
