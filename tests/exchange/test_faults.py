"""Faults at the host: slow clients, idle connections, the token cache.

Loopback only, bounded: every loop has a deadline.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

from sqlalchemy import delete

from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.database import Token
from cfp_engine.exchange.publishing import publish
from cfp_engine.exchange.tokens import TokenCache, issue_token

from exchange_helpers import Host, footprint, footprint_id


def _tls_socket(host: Host) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(host.cert))
    raw = socket.create_connection(("127.0.0.1", host.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_clients_sending_headers_byte_by_byte_do_not_block_others(database, tls_files):
    publish(database, footprint(1))
    client = add_client(database, "reader")
    running = Host(database, tls_files)
    slow_sockets = [_tls_socket(running) for _ in range(8)]
    request = b"GET /3/footprints HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 40
    stop = threading.Event()

    def trickle() -> None:
        # One byte per socket every 50 ms: a header never ends while the others are served.
        for index in range(len(request)):
            if stop.is_set():
                return
            for slow in slow_sockets:
                slow.sendall(request[index : index + 1])
            time.sleep(0.05)

    trickler = threading.Thread(target=trickle, daemon=True)
    try:
        trickler.start()
        time.sleep(0.3)  # the slow clients have started their headers
        with running.reader(client) as http:
            timings = []
            for _ in range(20):
                start = time.perf_counter()
                response = http.get(f"/3/footprints/{footprint_id(1)}")
                timings.append(time.perf_counter() - start)
                assert response.status_code == 200
        assert trickler.is_alive()  # the slow headers were still arriving meanwhile
        assert max(timings) < 2.0  # nobody waited for the slow clients
    finally:
        stop.set()
        trickler.join(10)
        for slow in slow_sockets:
            slow.close()
        running.stop()


def test_an_idle_keep_alive_connection_is_closed(database, tls_files):
    running = Host(database, tls_files)  # timeout_keep_alive=5, as cfp serve
    try:
        connection = _tls_socket(running)
        connection.sendall(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.settimeout(15)
        received = b""
        while b"token_endpoint" not in received:
            received += connection.recv(65536)
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 12:
            try:
                if connection.recv(65536) == b"":
                    closed = True
                    break
            except (ssl.SSLError, OSError):
                closed = True
                break
        assert closed
        assert 3 < time.monotonic() - start < 12
        connection.close()
    finally:
        running.stop()


def test_the_token_cache_refuses_expired_tokens_and_forgets_deleted_ones(database):
    client = add_client(database, "cached")
    from sqlalchemy import select

    from cfp_engine.exchange.database import Client

    with database.session() as session:
        pk = session.scalar(select(Client.pk).where(Client.client_id == client.client_id))
    token = issue_token(database, pk).access_token
    cache = TokenCache(database, ttl_s=0.3)
    assert cache.check(token).client_pk == pk
    assert cache.cached(token).client_pk == pk  # now answered from memory
    assert cache.check(token + "x").problem == "invalid"
    assert cache.cached(token + "x") is None  # refusals are not cached
    with database.session.begin() as session:
        session.execute(delete(Token))
    assert cache.check(token).client_pk == pk  # within ttl_s: still trusted
    time.sleep(0.35)
    assert cache.check(token).problem == "invalid"  # after ttl_s the database is asked

    short = issue_token(database, pk, lifetime_s=1).access_token
    cache = TokenCache(database, ttl_s=60)
    assert cache.check(short).client_pk == pk
    time.sleep(1.05)
    assert cache.cached(short).problem == "expired"  # a cached token still expires


def test_request_heads_beyond_the_bound_are_refused(database, tls_files):
    from cfp_engine.exchange.protocol import MAX_HEAD_BYTES

    running = Host(database, tls_files)
    try:
        replies = {}
        for size in (MAX_HEAD_BYTES // 2, 10 * MAX_HEAD_BYTES):
            connection = _tls_socket(running)
            head = b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n"
            head += b"X-Padding: " + b"a" * size + b"\r\n\r\n"
            with contextlib.suppress(OSError):  # the host may close before it is all sent
                connection.sendall(head)
            received = b""
            while True:
                try:
                    chunk = connection.recv(65536)
                except OSError:
                    break
                received += chunk
                if not chunk or b"token_endpoint" in received:
                    break
            replies[size] = received.split(b"\r\n", 1)[0]
            connection.close()
    finally:
        running.stop()
    assert replies[MAX_HEAD_BYTES // 2] == b"HTTP/1.1 200 OK"
    assert replies[10 * MAX_HEAD_BYTES] == b"HTTP/1.1 400 Bad Request"
