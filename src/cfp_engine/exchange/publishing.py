"""Publish PACT footprints made by ``cfp label`` into the host database, and deprecate them.

A footprint is never edited once published: only its status changes. Publishing a new
footprint of the same product and company (same API version, a product id and a company
id in common) marks the older Active ones ``Deprecated`` and lists them in the new one's
``precedingPfIds`` (PACT v3.0 and v2.3, "precedingPfIds").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from cfp_engine.errors import DataError, SpecError, quote_input
from cfp_engine.exchange.database import (
    COMPANY,
    PRODUCT,
    Database,
    Footprint,
    FootprintKey,
    LabelPage,
    utcnow,
)
from cfp_engine.exchange.records import filter_keys, validity_period
from cfp_engine.spec.documents import dump_json
from cfp_engine.verify.reading import label_format
from cfp_engine.verify.structure import check_pact

ACTIVE, DEPRECATED = "Active", "Deprecated"
#: ``label_pages(where, footprint_id)``: the readable label of a public footprint, as HTML
#: pages by language (see :func:`cfp_engine.exchange.pages.label_pages`).
LabelPages = Callable[[str, str], Mapping[str, str]]
_API_OF_FORMAT = {"pact": 3, "pact-v2": 2}


class IdTakenError(SpecError):
    """Another footprint is published under the document's id."""


@dataclass(frozen=True)
class Published:
    """The outcome of :func:`publish`."""

    id: str
    api: int
    #: Ids of the footprints this one deprecated (now in its ``precedingPfIds``).
    deprecated: tuple[str, ...]
    #: False when the same document was already published (nothing changed).
    new: bool
    #: The document's own id when the footprint was published under a new one (renew_id).
    renamed_from: str | None = None


@dataclass(frozen=True)
class Listed:
    """One row of :func:`list_footprints`."""

    id: str
    spec_version: str
    status: str
    product_ids: tuple[str, ...]
    company_ids: tuple[str, ...]
    published_at: str
    public: bool


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_document(document: dict[str, Any], *, where: str = "the footprint") -> int:
    """The API version (2 or 3) of a PACT footprint; :class:`SpecError` if it is not usable."""
    fmt = label_format(document, where=where)
    api = _API_OF_FORMAT.get(fmt)
    if api is None:
        raise SpecError(f"{where}: only PACT v3 and v2.3 footprints can be published, not {fmt}")
    problems = check_pact(document, fmt)
    footprint_id = document.get("id")
    try:
        uuid.UUID(str(footprint_id))
    except ValueError:
        problems.append(f"id = {quote_input(footprint_id)} is not a UUID")
    if problems:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise SpecError(f"{where}: not a valid PACT footprint: {shown}")
    return api


def publish(
    database: Database,
    document: dict[str, Any],
    *,
    public: bool = False,
    renew_id: bool = False,
    where: str = "the footprint",
    label_pages: LabelPages | None = None,
) -> Published:
    """Store a PACT v3 or v2.3 footprint; deprecate the ones it replaces.

    Parameters
    ----------
    database
        The open host database.
    document
        The footprint, as written by ``cfp label`` (``--format pact`` or ``pact-v2``).
    public
        Whether it may be shown to anyone: its page ``/labels/{id}`` shows its readable
        label (needs ``label_pages``).
    renew_id
        When a different footprint already has the document's id, publish this one under
        a new random id instead of refusing it. ``cfp label`` derives the id from the
        product and variant unless the spec sets ``label.id``, so a re-calculated label of
        the same product comes with the id of the one it replaces.
    where
        How to name the document in messages (its file name).
    label_pages
        Called as ``label_pages(where, footprint_id)`` once the footprint's id is final;
        returns its readable label as HTML pages by language (``{"en": ..., "ja": ...}``),
        which the public page serves.

    Raises
    ------
    SpecError
        Not a valid PACT footprint, another footprint with the same id is published, or
        ``public`` without ``label_pages``.
    """
    (published,) = publish_many(
        database, [(where, document)], public=public, renew_id=renew_id, label_pages=label_pages
    )
    return published


def publish_many(
    database: Database,
    documents: Iterable[tuple[str, dict[str, Any]]],
    *,
    public: bool = False,
    renew_id: bool = False,
    label_pages: LabelPages | None = None,
) -> list[Published]:
    """Publish ``(where, document)`` pairs in one transaction: all of them or none.

    See :func:`publish` for the parameters.
    """
    if public and label_pages is None:
        raise SpecError(
            "public: a public footprint's page shows its readable label, which a PACT "
            "document alone does not carry; give label_pages (publish from the spec)"
        )
    documents = list(documents)
    published: list[Published] = []
    with database.session.begin() as session:
        for start in range(0, len(documents), _BATCH):
            batch = documents[start : start + _BATCH]
            done = _publish_new_batch(session, batch, public=public, label_pages=label_pages)
            if done is None:
                done = [
                    _publish_one(
                        session,
                        document,
                        public=public,
                        renew_id=renew_id,
                        where=where,
                        label_pages=label_pages,
                    )
                    for where, document in batch
                ]
            published += done
    return published


#: Documents published with one statement per table when none is known yet.
_BATCH = 500


def _publish_new_batch(session, batch, *, public: bool, label_pages) -> list[Published] | None:
    """Publish ``batch`` with a few statements when every document in it is new: no
    footprint has its text, its id, or one of its product ids (so nothing is replaced),
    and no two documents of the batch share a product id. None otherwise: the caller
    then publishes one document after the other (:func:`_publish_one`).

    Publishing 10^5 footprints one by one spent 4 to 6 ms each building statements;
    a batch of 500 takes a few statements in all.
    """
    prepared = []
    for where, document in batch:
        api = check_document(document, where=where)
        valid_from, valid_to = validity_period(document)
        keys = filter_keys(document)
        source_sha = sha256_text(dump_json(document, what=where, ensure_ascii=False))
        prepared.append((where, document, api, valid_from, valid_to, keys, source_sha))
    ids = [str(document["id"]).lower() for _, document, *_ in prepared]
    products = [value for *_, keys, _ in prepared for kind, value in keys if kind == PRODUCT]
    if len(set(ids)) < len(ids) or len(set(products)) < len(products):
        return None
    shas = [source_sha for *_, source_sha in prepared]
    # Two look-ups, not one with OR: each is an index search (an OR made PostgreSQL scan
    # the table).
    for known in (Footprint.source_sha256.in_(shas), Footprint.id.in_(ids)):
        if session.execute(select(Footprint.pk).where(known).limit(1)).first() is not None:
            return None
    if products:
        shared = select(FootprintKey.pk).where(
            FootprintKey.kind == PRODUCT, FootprintKey.value.in_(products)
        )
        if session.execute(shared.limit(1)).first() is not None:
            return None
    now = utcnow()
    rows = []
    for (where, document, api, valid_from, valid_to, _, source_sha), footprint_id in zip(
        prepared, ids, strict=True
    ):
        status = ACTIVE if document.get("status", ACTIVE) == ACTIVE else DEPRECATED
        payload = dump_json(dict(document, status=status), what=where, ensure_ascii=False)
        rows.append(
            _footprint_row(
                footprint_id, document, api, status, (valid_from, valid_to), now, public, payload
            )
            | {"source_sha256": source_sha}
        )
    statement = insert(Footprint).returning(Footprint.pk, sort_by_parameter_order=True)
    pks = session.execute(statement, rows).scalars().all()
    key_rows = [
        {"footprint_pk": pk, "kind": kind, "value": value}
        for pk, (*_, keys, _) in zip(pks, prepared, strict=True)
        for kind, value in sorted(keys)
    ]
    if key_rows:
        session.execute(insert(FootprintKey), key_rows)
    if public and label_pages is not None:
        page_rows = [
            {"footprint_pk": pk, "lang": lang, "html": html}
            for pk, (where, *_), footprint_id in zip(pks, prepared, ids, strict=True)
            for lang, html in label_pages(where, footprint_id).items()
        ]
        session.execute(insert(LabelPage), page_rows)
    return [
        Published(footprint_id, api, (), new=True)
        for footprint_id, (_, _, api, *_) in zip(ids, prepared, strict=True)
    ]


def _publish_one(
    session,
    document,
    *,
    public: bool,
    renew_id: bool,
    where: str,
    label_pages: LabelPages | None = None,
) -> Published:
    api = check_document(document, where=where)
    valid_from, valid_to = validity_period(document)
    keys = filter_keys(document)
    source_text = dump_json(document, what=where, ensure_ascii=False)
    source_sha = sha256_text(source_text)
    footprint_id = str(document["id"]).lower()
    # Core statements on the session's connection: no ORM objects to track.
    same = session.execute(
        select(Footprint.id).where(Footprint.source_sha256 == source_sha, Footprint.api == api)
    ).scalar()
    if same is not None:  # this very document, published before (maybe under a new id)
        return Published(same, api, (), new=False)
    existing = session.execute(
        select(Footprint.pk).where(Footprint.id == footprint_id, Footprint.api == api)
    ).scalar()
    renamed_from = None
    if existing is not None:
        if not renew_id:
            raise IdTakenError(
                f"{where}: a different footprint with id {footprint_id} is already "
                "published; published footprints are never changed: give the new one its "
                "own id (label.id in the spec) or let the host give it a new one"
            )
        renamed_from, footprint_id = footprint_id, str(uuid.uuid4())
    replaced = _same_product_and_company(session, api, keys)
    stored = dict(document) if renamed_from is None else dict(document, id=footprint_id)
    if replaced:
        preceding = list(document.get("precedingPfIds") or [])
        preceding += [row.id for row in replaced if row.id not in preceding]
        stored["precedingPfIds"] = preceding
    status = ACTIVE if document.get("status", ACTIVE) == ACTIVE else DEPRECATED
    # The payload states the status it is stored with, so it can be served as stored
    # while the footprint keeps that status (see served_json).
    stored["status"] = status
    payload = dump_json(stored, what=where, ensure_ascii=False)
    now = utcnow()
    if replaced:
        session.execute(
            update(Footprint)
            .where(Footprint.pk.in_([row.pk for row in replaced]))
            .values(status=DEPRECATED, updated_at=now)
        )
    row = _footprint_row(
        footprint_id, document, api, status, (valid_from, valid_to), now, public, payload
    ) | {"source_sha256": source_sha}
    pk = session.execute(insert(Footprint).values(row).returning(Footprint.pk)).scalar_one()
    if keys:
        session.execute(
            insert(FootprintKey),
            [{"footprint_pk": pk, "kind": kind, "value": value} for kind, value in keys],
        )
    if public and label_pages is not None:
        pages = label_pages(where, footprint_id)
        session.execute(
            insert(LabelPage),
            [{"footprint_pk": pk, "lang": lang, "html": html} for lang, html in pages.items()],
        )
    deprecated = tuple(r.id for r in replaced)
    return Published(footprint_id, api, deprecated, new=True, renamed_from=renamed_from)


def _same_product_and_company(session, api: int, keys: set[tuple[str, str]]) -> list:
    """The Active footprints of ``api`` sharing a product id and a company id with ``keys``."""
    products = [value for kind, value in keys if kind == PRODUCT]
    companies = [value for kind, value in keys if kind == COMPANY]
    if not products or not companies:
        return []

    # Driven by the (kind, value) index through the few footprints of these products;
    # the company is then checked on those alone (a company may have every footprint).
    of_products = select(FootprintKey.footprint_pk).where(
        FootprintKey.kind == PRODUCT, FootprintKey.value.in_(products)
    )
    of_companies = (
        select(FootprintKey.pk)
        .where(
            FootprintKey.footprint_pk == Footprint.pk,
            FootprintKey.kind == COMPANY,
            FootprintKey.value.in_(companies),
        )
        .correlate_except(FootprintKey)
        .exists()
    )
    query = (
        select(Footprint.pk, Footprint.id)
        .where(Footprint.pk.in_(of_products), of_companies)
        .where(Footprint.api == api, Footprint.status == ACTIVE)
        .order_by(Footprint.pk)
    )
    return list(session.execute(query))


def deprecate(database: Database, footprint_id: str) -> bool:
    """Mark a footprint ``Deprecated`` (in every API version); False if it already was.

    Raises
    ------
    DataError
        No footprint has this id.
    """
    with database.session.begin() as session:
        row = session.scalar(select(Footprint).where(Footprint.id == footprint_id.lower()))
        if row is None:
            raise DataError(
                f"footprint_id: no published footprint has id {quote_input(footprint_id)}"
            )
        if row.status == DEPRECATED:
            return False
        row.status = DEPRECATED
        row.updated_at = utcnow()
        return True


def list_footprints(database: Database) -> list[Listed]:
    """Every published footprint, oldest first."""
    with database.session() as session:
        rows = session.scalars(select(Footprint).order_by(Footprint.pk))
        listed = []
        for row in rows:
            document = json.loads(row.payload)
            listed.append(
                Listed(
                    id=row.id,
                    spec_version=row.spec_version,
                    status=row.status,
                    product_ids=tuple(document.get("productIds") or ()),
                    company_ids=tuple(document.get("companyIds") or ()),
                    published_at=row.published_at.isoformat(timespec="seconds") + "Z",
                    public=row.public,
                )
            )
        return listed


def served_json(payload: str, status: str, payload_status: str | None) -> str:
    """The payload as served, as JSON text: as stored while the status is the one it states.

    Parameters
    ----------
    payload
        The stored payload (``footprints.payload``).
    status
        The footprint's current status.
    payload_status
        The status the payload states (``footprints.payload_status``; None if unknown).
    """
    if payload_status == status:
        return payload
    document = json.loads(payload)
    document["status"] = status
    return json.dumps(document, ensure_ascii=False)


def _footprint_row(footprint_id, document, api, status, validity, now, public, payload) -> dict:
    """The columns of a new footprint row (``source_sha256`` aside)."""
    return {
        "id": footprint_id,
        "spec_version": str(document["specVersion"]),
        "api": api,
        "status": status,
        "payload_status": status,
        "valid_from": validity[0],
        "valid_to": validity[1],
        "created": str(document.get("created", "")),
        "published_at": now,
        "updated_at": now,
        "public": public,
        "payload": payload,
        "sha256": sha256_text(payload),
    }
