"""Deliver the outbox: events to data recipients, retried with exponential backoff.

Each event waits in the ``outbox`` table until a sender delivers it. A sender claims a
due event by moving its ``next_attempt_at`` forward by a lease (an UPDATE that only one
sender can win, on SQLite and PostgreSQL alike), so several workers never send the same
event twice at once, and an event claimed by a sender that died (``kill -9``) is claimed
again once the lease ends: nothing is lost by a restart.

Delivery follows PACT's Action Events: the host gets an access token from the
recipient's ``/auth/token`` with the credentials the recipient gave for it
(``events_client_id``/``events_client_secret``), then POSTs the CloudEvent to the
recipient's events URL. A failed attempt is retried after ``backoff_s * 2**(n-1)``
seconds (at most ``max_backoff_s``) until ``give_up_after_s`` have passed since the event
was queued; it is then marked ``failed``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from cfp_engine.exchange.database import Client, Database, OutboxEvent, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    backoff_s: float = 2.0
    max_backoff_s: float = 600.0
    give_up_after_s: float = 24 * 3600.0
    lease_s: float = 60.0
    timeout_s: float = 10.0


class Sender:
    """Delivers due outbox events; :meth:`run_once` for one pass, :meth:`start` for a thread."""

    def __init__(
        self,
        database: Database,
        policy: RetryPolicy | None = None,
        *,
        verify=True,
        source: str = "",
    ):
        self.database = database
        #: The host's URL, the ``source`` of events queued without one.
        self.source = source
        self.policy = policy or RetryPolicy()
        self.verify = verify
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Look at the outbox now (an event was just queued)."""
        self._wake.set()

    def _claim(self, limit: int = 20) -> list[OutboxEvent]:
        now = utcnow()
        lease = now + timedelta(seconds=self.policy.lease_s)
        claimed = []
        with self.database.session.begin() as session:
            due = session.execute(
                select(OutboxEvent.pk, OutboxEvent.state, OutboxEvent.next_attempt_at)
                .where(
                    OutboxEvent.state.in_(("pending", "sending")),
                    OutboxEvent.next_attempt_at <= now,
                )
                .order_by(OutboxEvent.pk)
                .limit(limit)
            ).all()
        for pk, state, next_at in due:
            with self.database.session.begin() as session:
                won = session.execute(
                    update(OutboxEvent)
                    .where(
                        OutboxEvent.pk == pk,
                        OutboxEvent.state == state,
                        OutboxEvent.next_attempt_at == next_at,
                    )
                    .values(state="sending", next_attempt_at=lease)
                ).rowcount
                if won == 1:
                    claimed.append(session.get(OutboxEvent, pk))
        return claimed

    def run_once(self) -> int:
        """Try every due event once; the number tried."""
        import httpx

        events = self._claim()
        if not events:
            return 0
        with httpx.Client(verify=self.verify, timeout=self.policy.timeout_s) as http:
            for event in events:
                try:
                    self._deliver(http, event)
                except Exception as exc:  # noqa: BLE001 - any failure is retried later
                    self._failed(event, f"{type(exc).__name__}: {exc}")
                else:
                    self._finish(event, "sent", None)
        return len(events)

    def _deliver(self, http, event: OutboxEvent) -> None:
        with self.database.session() as session:
            client = session.get(Client, event.client_pk)
        if client is None or not client.events_client_id:
            raise RuntimeError("the recipient has no events credentials")
        parts = urlsplit(event.url)
        token_url = f"{parts.scheme}://{parts.netloc}/auth/token"
        granted = http.post(
            token_url,
            data={"grant_type": "client_credentials"},
            auth=(client.events_client_id, client.events_client_secret or ""),
        )
        granted.raise_for_status()
        token = granted.json()["access_token"]
        body = event.body
        if self.source and '"source": ""' in body:
            document = json.loads(body)
            document["source"] = document["source"] or self.source
            body = json.dumps(document, ensure_ascii=False)
        response = http.post(
            event.url,
            content=body.encode("utf-8"),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/cloudevents+json; charset=UTF-8",
            },
        )
        response.raise_for_status()

    def _finish(self, event: OutboxEvent, state: str, error: str | None) -> None:
        with self.database.session.begin() as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.pk == event.pk)
                .values(state=state, attempts=event.attempts + 1, last_error=error)
            )

    def _failed(self, event: OutboxEvent, error: str) -> None:
        attempts = event.attempts + 1
        now = utcnow()
        logger.warning(
            "event %s to %s failed (attempt %d): %s", event.pk, event.url, attempts, error
        )
        if (now - event.created_at).total_seconds() >= self.policy.give_up_after_s:
            self._finish(event, "failed", error[:500])
            return
        delay = min(self.policy.backoff_s * 2 ** (attempts - 1), self.policy.max_backoff_s)
        with self.database.session.begin() as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.pk == event.pk)
                .values(
                    state="pending",
                    attempts=attempts,
                    last_error=error[:500],
                    next_attempt_at=now + timedelta(seconds=delay),
                )
            )

    def start(self, poll_s: float = 1.0) -> None:
        """Deliver in a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:  # noqa: BLE001 - the database may be briefly unavailable
                    logger.exception("outbox pass failed")
                    busy = 0
                if not busy:
                    self._wake.wait(poll_s)
                    self._wake.clear()

        self._thread = threading.Thread(target=loop, name="cfp-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.policy.timeout_s * 3)
