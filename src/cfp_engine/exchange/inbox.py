"""Answers to this recipient's footprint requests, received by its own ``cfp serve``.

``cfp pull --request`` sends a ``RequestCreated`` event to a supplier's host
(:func:`cfp_engine.store.imports.pact_pull.request_footprints`). The supplier's host answers
with a ``RequestFulfilled`` (footprints) or ``RequestRejected`` event posted to the events
endpoint of this recipient's host, which keeps every accepted event in its database
(:func:`cfp_engine.exchange.events.record_event`) and answers 200 at once. The footprints are
not stored from inside the host process: the store is the engine's, with its lock and
staging, and the host may run on another machine than the store's owner. They are
queued in the host database and :func:`import_answers` (``cfp pull --answers``) stores
them: only answers to requests this store sent (by ``data.requestEventId``), each
footprint checked like a pull, with the supplier's host as its provenance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from cfp_engine.exchange.database import Database, EventRequest
from cfp_engine.exchange.events import EVENT_TYPES

_KINDS = {
    value: kind
    for types in EVENT_TYPES.values()
    for kind, value in types.items()
    if kind in ("fulfilled", "rejected")
}


@dataclass
class InboxReport:
    """What :func:`import_answers` did with the answers waiting in the host database."""

    imported: list[Any] = field(default_factory=list)  # PullReports
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"Answers to footprint requests: {len(self.imported)} fulfilled, "
            f"{len(self.rejected)} rejected, {len(self.ignored)} ignored"
        ]
        for report in self.imported:
            lines.append(report.render())
        for item in self.rejected:
            lines.append(f"  request {item['request']} rejected by the host: {item['error']}")
        for item in self.ignored:
            lines.append(f"  event {item['event']} ignored: {item['reason']}")
        return "\n".join(lines)


def import_answers(database: Database) -> InboxReport:
    """Store the footprints of the ``Fulfilled`` answers waiting in ``database``.

    Each answer is taken once: its row's state becomes ``imported``, ``rejected`` or
    ``ignored`` (not an answer to a request of this store). An answer whose footprints
    cannot be stored (none valid) keeps its state, and the error is raised.
    """
    from cfp_engine.store.imports.pact_pull import import_answer, sent_requests

    report = InboxReport()
    with database.session() as session:
        rows = session.scalars(
            select(EventRequest)
            .where(EventRequest.event_type.in_(list(_KINDS)), EventRequest.state == "received")
            .order_by(EventRequest.pk)
        ).all()
    ledger = sent_requests()
    for row in rows:
        event = json.loads(row.body)
        data = event.get("data") or {}
        request_id = str(data.get("requestEventId", ""))
        kind = _KINDS[row.event_type]
        if request_id not in ledger:
            state = "ignored"
            report.ignored.append(
                {"event": event.get("id"), "reason": "it answers no request of this store"}
            )
        elif kind == "fulfilled":
            pfs = data.get("pfs")
            report.imported.append(
                import_answer(request_id, kind, pfs if isinstance(pfs, list) else [])
            )
            state = "imported"
        else:
            import_answer(request_id, kind, [], data.get("error"))
            report.rejected.append({"request": request_id, "error": data.get("error")})
            state = "rejected"
        with database.session.begin() as session:
            session.execute(
                update(EventRequest).where(EventRequest.pk == row.pk).values(state=state)
            )
    return report
