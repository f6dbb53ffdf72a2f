"""Publishing footprints: checks, idempotence, deprecation chains, payloads never edited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cfp_engine.errors import DataError, SpecError
from cfp_engine.exchange.database import Footprint
from cfp_engine.exchange.publishing import deprecate, list_footprints, publish, sha256_text

from exchange_helpers import OTHER_COMPANY, footprint, footprint_id, pact_label


def _row(database, number):
    with database.session() as session:
        return session.scalar(select(Footprint).where(Footprint.id == footprint_id(number)))


def test_publish_stores_the_document_as_given(database):
    document = footprint(1)
    done = publish(database, document)
    assert (done.id, done.api, done.deprecated, done.new) == (footprint_id(1), 3, (), True)
    row = _row(database, 1)
    assert json.loads(row.payload) == document
    assert row.sha256 == sha256_text(row.payload)
    assert row.status == "Active"


def test_publishing_the_same_document_again_changes_nothing(database):
    publish(database, footprint(1))
    again = publish(database, footprint(1))
    assert again.new is False
    assert len(list_footprints(database)) == 1


def test_a_different_document_under_a_published_id_is_refused(database):
    publish(database, footprint(1))
    changed = footprint(1)
    changed["pcf"]["pcfExcludingBiogenicUptake"] = "0.2"
    with pytest.raises(SpecError, match="never changed"):
        publish(database, changed)
    assert json.loads(_row(database, 1).payload)["pcf"]["pcfExcludingBiogenicUptake"] == "0.102851"


def test_a_new_footprint_deprecates_the_old_one_and_names_it(database):
    publish(database, footprint(1))
    first_payload = _row(database, 1).payload
    second = publish(database, footprint(2))
    assert second.deprecated == (footprint_id(1),)
    third = publish(database, footprint(3))
    assert third.deprecated == (footprint_id(2),)  # 1 was no longer Active
    statuses = {row.id: row.status for row in list_footprints(database)}
    assert statuses == {
        footprint_id(1): "Deprecated",
        footprint_id(2): "Deprecated",
        footprint_id(3): "Active",
    }
    assert json.loads(_row(database, 2).payload)["precedingPfIds"] == [footprint_id(1)]
    assert json.loads(_row(database, 3).payload)["precedingPfIds"] == [footprint_id(2)]
    # The old payload is byte for byte what was published; only the status column changed.
    assert _row(database, 1).payload == first_payload


def test_only_the_same_product_and_company_are_deprecated(database):
    publish(database, footprint(1, product="urn:gtin:1"))
    publish(database, footprint(2, product="urn:gtin:1", company=OTHER_COMPANY))
    publish(database, footprint(3, product="urn:gtin:2"))
    publish(database, footprint(4, product="urn:gtin:1", spec_version="3.0.0"))
    statuses = {row.id: row.status for row in list_footprints(database)}
    assert statuses == {
        footprint_id(1): "Deprecated",
        footprint_id(2): "Active",  # another company
        footprint_id(3): "Active",  # another product
        footprint_id(4): "Active",
    }


def test_product_ids_match_case_insensitively_for_deprecation(database):
    publish(database, footprint(1, product="urn:gtin:ABC"))
    assert publish(database, footprint(2, product="URN:GTIN:abc")).deprecated == (footprint_id(1),)


def test_deprecate_by_id(database):
    publish(database, footprint(1))
    assert deprecate(database, footprint_id(1)) is True
    assert deprecate(database, footprint_id(1)) is False
    assert _row(database, 1).status == "Deprecated"
    with pytest.raises(DataError, match="no published footprint"):
        deprecate(database, footprint_id(99))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("companyIds"), "missing companyIds"),
        (lambda d: d["pcf"].update(pcfExcludingBiogenicUptake=0.1), "not a decimal string"),
        (lambda d: d.update(id="not-a-uuid"), "not a UUID"),
        (lambda d: d.update(specVersion="1.0.0"), "neither a PACT"),
        (lambda d: d["pcf"].update(referencePeriodEnd="2025-12-31"), "RFC 3339"),
    ],
)
def test_invalid_footprints_are_refused_and_nothing_is_stored(database, change, message):
    document = footprint(1)
    change(document)
    with pytest.raises(SpecError, match=message):
        publish(database, document)
    assert list_footprints(database) == []


def test_labels_made_by_cfp_label_publish(database, builtin_table):
    for fmt, api in (("pact", 3), ("pact-v2", 2)):
        done = publish(database, pact_label(fmt))
        assert done.api == api and done.new


def test_a_recalculated_label_under_the_old_id_can_take_a_new_id(database):
    publish(database, footprint(1))
    recalculated = footprint(1)
    recalculated["pcf"]["pcfExcludingBiogenicUptake"] = "0.2"
    done = publish(database, recalculated, renew_id=True)
    assert done.renamed_from == footprint_id(1) and done.id != footprint_id(1)
    assert done.deprecated == (footprint_id(1),)
    with database.session() as session:
        row = session.scalar(select(Footprint).where(Footprint.id == done.id))
    stored = json.loads(row.payload)
    assert stored["id"] == done.id
    assert stored["precedingPfIds"] == [footprint_id(1)]
    assert stored["pcf"]["pcfExcludingBiogenicUptake"] == "0.2"
    # Publishing the same document again finds it under its new id.
    again = publish(database, recalculated, renew_id=True)
    assert (again.id, again.new) == (done.id, False)
    assert len(list_footprints(database)) == 2


def test_publish_many_is_all_or_nothing(database):
    from cfp_engine.exchange.publishing import publish_many

    bad = footprint(3)
    del bad["pcf"]["declaredUnitOfMeasurement"]
    with pytest.raises(SpecError, match="c.json"):
        publish_many(
            database, [("a.json", footprint(1)), ("b.json", footprint(2)), ("c.json", bad)]
        )
    assert list_footprints(database) == []
    done = publish_many(database, [("a.json", footprint(1)), ("b.json", footprint(2))])
    assert done[1].deprecated == (footprint_id(1),)  # the batch sees its own earlier rows


def _stored(database):
    from cfp_engine.exchange.database import FootprintKey

    with database.session() as session:
        rows = session.execute(
            select(Footprint.id, Footprint.status, Footprint.payload, FootprintKey.kind)
            .join(FootprintKey, FootprintKey.footprint_pk == Footprint.pk)
            .order_by(Footprint.id, FootprintKey.kind, FootprintKey.value)
        ).all()
    return [tuple(row) for row in rows]


def test_a_batch_of_new_footprints_is_stored_as_one_by_one(database, tmp_path):
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.publishing import publish_many

    documents = [
        ("d", footprint(i, product=f"urn:gtin:{i}", classifications=[f"urn:c:{i % 3}"]))
        for i in range(1, 13)
    ]
    batched = publish_many(database, documents)
    other = open_database(f"sqlite:///{tmp_path / 'one-by-one.sqlite'}")
    try:
        single = [publish(other, document) for _, document in documents]
        assert batched == single
        assert _stored(database) == _stored(other)
    finally:
        other.dispose()


def test_a_batch_that_replaces_footprints_takes_the_careful_path(database):
    from cfp_engine.exchange.publishing import publish_many

    publish(database, footprint(1, product="urn:gtin:1"))
    done = publish_many(
        database,
        [("a", footprint(2, product="urn:gtin:2")), ("b", footprint(3, product="urn:gtin:1"))],
    )
    assert [d.deprecated for d in done] == [(), (footprint_id(1),)]
    # two documents of one product in one batch: the second replaces the first
    inner = publish_many(
        database,
        [("c", footprint(4, product="urn:gtin:9")), ("d", footprint(5, product="urn:gtin:9"))],
    )
    assert [d.deprecated for d in inner] == [(), (footprint_id(4),)]
    assert json.loads(_row(database, 5).payload)["precedingPfIds"] == [footprint_id(4)]
