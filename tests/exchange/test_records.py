"""Validity periods and filter keys kept for each footprint."""

from __future__ import annotations

from datetime import datetime

import pytest

from cfp_engine.errors import SpecError
from cfp_engine.exchange.records import filter_keys, parse_time, validity_period

from exchange_helpers import footprint


def test_validity_defaults_to_three_years_after_the_reference_period():
    start, end = validity_period(footprint(1, reference_end="2025-12-31T23:59:59Z"))
    assert start == datetime(2025, 12, 31, 23, 59, 59)
    assert end == datetime(2028, 12, 31, 23, 59, 59)


def test_validity_default_from_a_leap_day_ends_on_28_february():
    _, end = validity_period(footprint(1, reference_end="2024-02-29T00:00:00Z"))
    assert end == datetime(2027, 2, 28)


def test_a_given_validity_period_wins_and_is_converted_to_utc():
    document = footprint(1, validity=("2026-01-01T09:00:00+09:00", "2027-01-01T00:00:00Z"))
    assert validity_period(document) == (datetime(2026, 1, 1, 0, 0), datetime(2027, 1, 1))


def test_validity_end_before_start_is_refused():
    with pytest.raises(SpecError, match="before"):
        validity_period(footprint(1, validity=("2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z")))


@pytest.mark.parametrize("text", ["2026-01-01", "yesterday", "2026-01-01T00:00:00", 5, None])
def test_times_need_a_date_a_time_and_a_zone(text):
    with pytest.raises(SpecError):
        parse_time(text, what="validOn")


def test_filter_keys_are_lower_cased_and_cover_every_field():
    document = footprint(
        1,
        product=["URN:GTIN:1", "urn:gtin:2"],
        company="urn:uuid:ABC",
        geography="DE",
        region="Europe",
        classifications=["urn:pact:productclassification:un-cpc:1234"],
    )
    assert filter_keys(document) == {
        ("product", "urn:gtin:1"),
        ("product", "urn:gtin:2"),
        ("company", "urn:uuid:abc"),
        ("geography", "de"),
        ("geography", "europe"),
        ("classification", "urn:pact:productclassification:un-cpc:1234"),
    }


@pytest.mark.parametrize("value", ["urn:gtin:" + "1" * 600, "urn:gtin:1\x00"])
def test_overlong_or_nul_ids_are_refused(value):
    with pytest.raises(SpecError, match="at most 512"):
        filter_keys(footprint(1, product=value))
