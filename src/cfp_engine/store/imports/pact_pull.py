"""Pull supplier footprints from a PACT host into the user store (``cfp pull``).

:func:`pull_footprints` lists the footprints a supplier's host releases to this data
recipient (:class:`~cfp_engine.store.imports.pact_client.PactClient`: OpenID discovery or
``/auth/token``, filters, pagination), checks each against the structural schema of its
``specVersion`` (and the official one with ``schema_dir``), and stores the valid
``Active`` ones as database ``name`` like ``cfp data import --format pact`` does
(:mod:`cfp_engine.store.imports.pact_import`), each footprint's provenance record naming
the host URL as its ``source``, and its fetch time and sha256.

Pulling again updates the database to what the host lists now. A footprint of a product
the pull did not cover (another ``product_ids`` filter) is kept as it was; one the host
no longer lists, or now lists as ``Deprecated``, leaves the database, but its record moves
to the registry's ``earlier`` list and its payload stays in the store, so labels made with
it still verify. Nothing is stored when the host cannot be read to the last page.

The registry record of ``name`` keeps what a later pull or ``cfp verify --online`` needs
to reach the host again (``pull``: URL, API version, client id, CA file); never the
secret, which is given each time (parameter, or the environment variable
:func:`secret_variable` names).

:func:`request_footprints` sends a ``RequestCreated`` event for products the host does
not list yet; the host answers at this recipient's own events endpoint (``cfp serve``),
and :func:`import_answer` stores the footprints of a ``Fulfilled`` answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cfp_engine.errors import DataError, SpecError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.paths import data_home
from cfp_engine.store.imports.pact_client import PactClient, check_base_url
from cfp_engine.store.imports.pact_footprints import (
    SupplierFootprint,
    extension_summaries,
    footprint_problems,
    read_footprint,
)
from cfp_engine.store.imports.pact_import import (
    FORMAT,
    PactImportReport,
    footprint_record,
    store_footprints,
)
from cfp_engine.store.imports.pact_payloads import load_payload
from cfp_engine.store.registry import read_registry

SECRET_ENV_PREFIX = "CFP_PULL_SECRET_"
_EVENT_TYPES = {
    3: "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
    2: "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
}


def secret_variable(name: str) -> str:
    """The environment variable holding the client secret for supplier ``name``.

    ``CFP_PULL_SECRET_`` and the name in upper case, each run of other characters than
    letters and digits written ``_`` (``resin-co`` -> ``CFP_PULL_SECRET_RESIN_CO``).
    """
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def secret_from_environment(name: str) -> str | None:
    return os.environ.get(secret_variable(name)) or None


@dataclass
class PullReport:
    """What a pull did: the footprints new, changed, unchanged, deprecated and rejected."""

    name: str
    url: str
    version: int
    fetched_at: str
    listed: int = 0
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    deprecated: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def render(self) -> str:
        """The report as text."""
        lines = [
            f"Pulled {self.name} from {self.url} (PACT API v{self.version}) at {self.fetched_at}",
            f"  listed          {self.listed} footprint(s); pulled and stored in "
            f"{self.seconds:.1f} s",
            f"  new             {len(self.new)}",
            f"  changed         {len(self.changed)}",
            f"  unchanged       {len(self.unchanged)}",
            f"  deprecated      {len(self.deprecated)}",
            f"  rejected        {len(self.rejected)}",
        ]
        if self.kept:
            lines.append(f"  kept            {len(self.kept)} (products this pull did not cover)")
        for item in self.new:
            lines.append(f"  + new       {_line(item, self.name)}")
        for item in self.changed:
            lines.append(f"  ~ changed   {_line(item, self.name)}")
            lines.append(f"      was {item['was']}")
        for item in self.unchanged:
            lines.append(f"  = unchanged {_line(item, self.name)}")
        for item in self.deprecated:
            lines.append(f"  x deprecated {item['id']} ({', '.join(item['product_ids'])})")
            lines.append(f"      {item['detail']}")
        for item in self.dropped:
            lines.append(f"  - no longer listed {item['id']} ({', '.join(item['product_ids'])})")
        for item in self.rejected:
            lines.append(f"  ! rejected  footprint {item['position']} ({item['id']}):")
            lines += [f"      {reason}" for reason in item["reasons"][:10]]
            if len(item["reasons"]) > 10:
                lines.append(f"      ... and {len(item['reasons']) - 10} more")
        if not self.stored:
            lines.append(f"  nothing changed: {self.name} is as the host lists it")
        return "\n".join(lines)


def _line(item: dict[str, Any], name: str) -> str:
    figures = item["figures_per_unit"]
    version = "" if item.get("version") is None else f" v{item['version']}"
    return (
        f"{item['id']}{version} (PACT {item['specVersion']}): {figures['total']:.6g} kg CO2e "
        f"per {item['unit']}; references {name}::{item['product_ids'][0]}"
    )


def _summary(record: dict[str, Any]) -> str:
    return f"{record['id']}: {record['figures_per_unit']['total']:.6g} kg CO2e per {record['unit']}"


def pull_footprints(
    url: str,
    *,
    name: str,
    client_id: str,
    client_secret: str | None = None,
    product_ids: Sequence[str] = (),
    company_ids: Sequence[str] = (),
    version: int = 3,
    ca_file: str | None = None,
    schema_dir: str | None = None,
    page_size: int | None = None,
) -> PullReport:
    """Pull the footprints the host at ``url`` lists into database ``name`` (module doc).

    Parameters
    ----------
    url
        The host's base URL (https).
    name
        The supplier's database name; specs refer to ``name::<productId>``.
    client_id, client_secret
        The credentials the host gave this recipient. Without ``client_secret`` it is
        read from the environment variable :func:`secret_variable` names.
    product_ids, company_ids
        Pull only these products / companies (the v3 ``productId`` / ``companyId``
        filters; several values mean any of them).
    version
        The PACT API: 3 (v3.0) or 2 (v2.3).
    ca_file
        A PEM file of certificates to trust for the host (a self-signed one).
    schema_dir
        A folder with the official PACT OpenAPI files to validate against as well.
    page_size
        Ask for pages of at most this many footprints (the host's default otherwise).

    Raises
    ------
    ExchangeError
        The host cannot be reached or read, or refused the credentials.
    DataError
        The host lists no valid ``Active`` footprint for the filters (nothing stored).
    """
    started = time.perf_counter()
    url = check_base_url(url)
    secret = client_secret or secret_from_environment(name)
    if not secret:
        raise SpecError(
            f"client_secret: not given, and {secret_variable(name)} is not set "
            "(the secret is never stored)"
        )
    filters = [("productId", p) for p in product_ids] + [("companyId", c) for c in company_ids]
    with PactClient(url, client_id, secret, version=version, ca_file=ca_file) as client:
        listed = list(client.list_footprints(filters, limit=page_size))
    fetched_at = _now()
    report = PullReport(name=name, url=url, version=version, fetched_at=fetched_at)
    report.listed = len(listed)
    pull = {
        "url": url,
        "version": version,
        "client_id": client_id,
        "ca_file": ca_file,
        "filters": [list(pair) for pair in filters],
        "pulled_at": fetched_at,
    }
    store(report, listed, covered_all=not filters, pull=pull, schema_dir=schema_dir)
    report.seconds = time.perf_counter() - started
    return report


def store(
    report: PullReport,
    listed: Sequence[Any],
    *,
    covered_all: bool,
    pull: dict[str, Any] | None,
    schema_dir: str | None = None,
) -> None:
    """Check the footprints ``listed`` and update database ``report.name`` with them.

    ``covered_all`` says the listing was every footprint the host releases (no filter):
    earlier footprints it does not hold leave the database.
    """
    name, url, fetched_at = report.name, report.url, report.fetched_at
    active: dict[str, SupplierFootprint] = {}
    deprecated: dict[str, dict] = {}
    for position, footprint in enumerate(listed, start=1):
        fid = str(footprint.get("id", "?")) if isinstance(footprint, dict) else "?"
        problems = footprint_problems(footprint, schema_dir=schema_dir)
        if not problems and (fid in active or fid in deprecated):
            problems = ["the host listed the same footprint id twice"]
        if problems:
            report.rejected.append({"position": position, "id": fid, "reasons": problems})
        elif footprint["status"] == "Active":
            active[fid] = read_footprint(footprint)
        else:
            deprecated[fid] = footprint
    record = read_registry()["databases"].get(name) or {}
    if record and record.get("format") != FORMAT:
        raise SpecError(
            f"name {name!r}: a database of format {record.get('format')} has this name; "
            "choose another name"
        )
    earlier: dict[str, dict] = dict(record.get("footprints") or {})
    pulled_products = {p for f in active.values() for p in f.product_ids}
    pulled_products |= {p for d in deprecated.values() for p in d.get("productIds") or ()}
    records: dict[str, dict] = {}
    valid: list[SupplierFootprint] = []
    for fid, footprint in active.items():
        new_record = footprint_record(footprint, url, fetched_at) | {"fetched_at": fetched_at}
        item = new_record | {"product_name": footprint.product_name}
        before = earlier.get(fid)
        if before is not None and before["sha256"] == footprint.sha256:
            records[fid] = before  # unchanged: its first fetch stays its provenance
            report.unchanged.append(item)
        else:
            replaced = before or next(
                (r for r in earlier.values() if set(r["product_ids"]) & set(footprint.product_ids)),
                None,
            )
            records[fid] = new_record
            if replaced is None:
                report.new.append(item | {"extensions": extension_summaries(footprint.payload)})
            else:
                report.changed.append(item | {"was": _summary(replaced)})
        valid.append(footprint)
    for fid in deprecated:
        if fid in earlier:
            newer = [
                f.id
                for f in active.values()
                if set(f.product_ids) & set(earlier[fid]["product_ids"])
            ]
            detail = (
                f"superseded by {', '.join(newer)}"
                if newer
                else f"the host lists no Active footprint of this product now; it leaves {name}"
            )
            report.deprecated.append(
                {"id": fid, "product_ids": earlier[fid]["product_ids"], "detail": detail}
            )
    for fid, before in earlier.items():
        if fid in records or fid in deprecated:
            continue
        if covered_all or set(before["product_ids"]) & pulled_products:
            report.dropped.append(before)
            continue
        payload, _ = load_payload(before["sha256"])
        records[fid] = before
        valid.append(read_footprint(payload))
        report.kept.append(before)
    if not valid:
        reasons = "; ".join(f"{r['id']}: {r['reasons'][0]}" for r in report.rejected[:3])
        raise DataError(
            f"{url}: no valid Active footprint "
            f"{'listed' if covered_all else 'for these filters'}, nothing stored"
            + (f" ({len(report.rejected)} rejected; {reasons})" if reasons else "")
        )
    same_pull = pull is None or _settings(pull) == _settings(record.get("pull"))
    if (
        same_pull
        and set(records) == set(earlier)
        and all(records[k] is earlier[k] for k in records)
    ):
        return  # nothing to write: the store is what the host lists
    document = json.dumps([f.payload for f in valid], sort_keys=True).encode("utf-8")
    imported = PactImportReport(
        name=name,
        file=url,
        sha256=hashlib.sha256(document).hexdigest(),
        size_bytes=len(document),
        rejected=report.rejected,
    )
    extra = {"pull": pull} if pull is not None else {"pull": record.get("pull")}
    store_footprints(imported, valid, records, imported_at=fetched_at, extra=extra)
    report.stored = True


def _settings(pull: dict[str, Any] | None) -> dict[str, Any]:
    """A pull's settings but its time (a new client id or URL is written to the store)."""
    return {k: v for k, v in (pull or {}).items() if k != "pulled_at"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- asynchronous requests --------------------------------------------------------------


def requests_path():
    """The ledger of footprint requests sent (``imports/pact/requests.json``)."""
    return data_home() / "imports" / "pact" / "requests.json"


def sent_requests() -> dict[str, dict[str, Any]]:
    """The requests sent from this store, by event id."""
    path = requests_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DataError(f"{path}: the ledger of footprint requests is not JSON") from None


def request_footprints(
    url: str,
    *,
    name: str,
    client_id: str,
    client_secret: str | None = None,
    product_ids: Sequence[str] = (),
    company_ids: Sequence[str] = (),
    version: int = 3,
    ca_file: str | None = None,
    source: str = "",
) -> str:
    """Send a ``RequestCreated`` event for products the host does not list yet.

    The host answers asynchronously at this recipient's events endpoint (the one it
    registered for this recipient). The request is noted in the store's ledger
    (:func:`sent_requests`) so that only answers to it are imported
    (:func:`import_answer`). Returns the event id.

    Parameters
    ----------
    source
        This recipient's own base URL (the event's ``source``).
    """
    url = check_base_url(url)
    secret = client_secret or secret_from_environment(name)
    if not secret:
        raise SpecError(
            f"client_secret: not given, and {secret_variable(name)} is not set "
            "(the secret is never stored)"
        )
    if not product_ids and not company_ids:
        raise SpecError("product_ids: a request names at least one product or company")
    event_id = str(uuid.uuid4())
    if version == 3:
        data: dict[str, Any] = {}
        if product_ids:
            data["productId"] = list(product_ids)
        if company_ids:
            data["companyId"] = list(company_ids)
    else:
        pf: dict[str, Any] = {}
        if product_ids:
            pf["productIds"] = list(product_ids)
        if company_ids:
            pf["companyIds"] = list(company_ids)
        data = {"pf": pf, "comment": "requested with cfp pull"}
    event = {
        "type": _EVENT_TYPES[version],
        "specversion": "1.0",
        "id": event_id,
        "source": source or "cfp-engine",
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": data,
    }
    with PactClient(url, client_id, secret, version=version, ca_file=ca_file) as client:
        client.post_event(event)
    ledger = sent_requests()
    ledger[event_id] = {
        "name": name,
        "url": url,
        "version": version,
        "client_id": client_id,
        "ca_file": ca_file,
        "product_ids": list(product_ids),
        "company_ids": list(company_ids),
        "sent_at": _now(),
        "state": "sent",
    }
    _write_ledger(ledger)
    return event_id


def _write_ledger(ledger: dict[str, Any]) -> None:
    path = requests_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(ledger, indent=1, sort_keys=True).encode("utf-8")
    write_bytes_atomically(path, lambda f: f.write(data))


def import_answer(request_id: str, kind: str, footprints: Iterable[Any], error: Any = None):
    """Store the answer to request ``request_id`` (``fulfilled`` or ``rejected``).

    A fulfilled answer's footprints are checked and stored under the request's supplier
    name like a pull of those products (provenance: the host the request went to).
    Returns the :class:`PullReport` (None for a rejection, whose reason the ledger keeps).

    Raises
    ------
    DataError
        No request with this id was sent from this store.
    """
    ledger = sent_requests()
    request = ledger.get(request_id)
    if request is None:
        raise DataError(f"request_id {request_id!r}: no such request was sent from this store")
    report = None
    if kind == "fulfilled":
        report = PullReport(
            name=request["name"],
            url=request["url"],
            version=request["version"],
            fetched_at=_now(),
        )
        listed = list(footprints)
        report.listed = len(listed)
        record = read_registry()["databases"].get(request["name"]) or {}
        pull = record.get("pull") or {
            key: request[key] for key in ("url", "version", "client_id", "ca_file")
        }
        store(report, listed, covered_all=False, pull=pull)
        request["state"] = "imported"
    else:
        request["state"] = "rejected"
        request["error"] = error
    request["answered_at"] = _now()
    _write_ledger(ledger)
    return report
