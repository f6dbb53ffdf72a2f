"""``cfp pull``: footprints from a real host over TLS into a private store, and its errors.

The host is the project's own (``Host``: uvicorn over TLS, SQLite); the hosts that
misbehave (no OpenID discovery, a malformed page, a PACT error, an invalid footprint)
are small Starlette apps on loopback over TLS as well.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

import make_pact as mp
from exchange_helpers import Host, footprint, footprint_id, free_port, start_tls_app

PRODUCTS = [f"urn:gtin:49000000010{n:02d}" for n in range(5)]


@pytest.fixture
def supplier(tls_files, tmp_path):
    """A host with five footprints of five products and a client for them: (host, client)."""
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.publishing import publish_many

    database = open_database(f"sqlite:///{tmp_path / 'supplier.sqlite'}")
    publish_many(
        database,
        [(f"fp{n}", footprint(n, product=product)) for n, product in enumerate(PRODUCTS)],
    )
    client = add_client(database, "recipient")
    host = Host(database, tls_files)
    yield host, client
    host.stop()
    database.dispose()


def cfp_pull(url, client_id, secret, *extra, ca=None, name="SUP"):
    args = ["pull", url, "--name", name, "--client-id", client_id, "--client-secret", secret]
    if ca is not None:
        args += ["--ca-file", str(ca)]
    return CliRunner().invoke(cli, [*args, *map(str, extra)])


def stored(name="SUP"):
    from cfp_engine.store.registry import read_registry

    return read_registry()["databases"].get(name)


def test_pull_follows_pages_filters_and_reports_unchanged(supplier, fresh_home):
    from cfp_engine.store.imports.pact_pull import pull_footprints

    host, client = supplier
    options = dict(name="SUP", client_id=client.client_id, client_secret=client.client_secret)
    # Pages of 2: the five footprints take three pages, joined by Link rel="next".
    report = pull_footprints(host.url, ca_file=str(host.cert), page_size=2, **options)
    assert report.listed == 5 and len(report.new) == 5 and report.stored
    record = stored()
    assert set(record["footprints"]) == {footprint_id(n) for n in range(5)}
    first = record["footprints"][footprint_id(0)]
    assert first["source"] == host.url and first["fetched_at"] == report.fetched_at
    assert record["pull"]["client_id"] == client.client_id
    assert "secret" not in json.dumps(record["pull"])
    # Again, nothing changed: the store is not rewritten.
    again = pull_footprints(host.url, ca_file=str(host.cert), **options)
    assert len(again.unchanged) == 5 and not again.stored
    assert "nothing changed" in again.render()
    # A filtered pull lists only those products; the others are kept as they were.
    some = pull_footprints(host.url, ca_file=str(host.cert), product_ids=PRODUCTS[1:3], **options)
    assert some.listed == 2 and len(some.unchanged) == 2
    assert set(stored()["footprints"]) == {footprint_id(n) for n in range(5)}


def test_the_secret_comes_from_the_environment(supplier, fresh_home, monkeypatch):
    host, client = supplier
    monkeypatch.setenv("CFP_PULL_SECRET_SUP_CO", client.client_secret)
    args = ["pull", host.url, "--name", "sup-co", "--client-id", client.client_id]
    result = CliRunner().invoke(
        cli, [*args, "--ca-file", str(host.cert), "--product-id", PRODUCTS[0], "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [item["id"] for item in report["new"]] == [footprint_id(0)]
    assert report["new"][0]["figures_per_unit"]["total"] == pytest.approx(0.102851)
    monkeypatch.delenv("CFP_PULL_SECRET_SUP_CO")
    result = CliRunner().invoke(cli, [*args, "--ca-file", str(host.cert)])
    assert result.exit_code == 2
    assert "--client-secret: not given, and CFP_PULL_SECRET_SUP_CO is not set" in result.output


@pytest.mark.parametrize(
    "case, expected",
    [
        ("wrong secret", "authentication failed: invalid_client"),
        ("no ca file", "TLS failure"),
        ("host down", "cannot connect"),
        ("http url", "PACT requires TLS"),
    ],
)
def test_errors_are_one_line_exit_2_and_store_nothing(supplier, fresh_home, case, expected):
    host, client = supplier
    url, secret, ca = host.url, client.client_secret, host.cert
    if case == "wrong secret":
        secret = "not-the-secret"
    elif case == "no ca file":
        ca = None
    elif case == "host down":
        url = f"https://127.0.0.1:{free_port()}"
    else:
        url = host.url.replace("https", "http")
    result = cfp_pull(url, client.client_id, secret, ca=ca)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]
    assert "Traceback" not in result.output
    assert stored() is None


def misbehaving_host(tls_files, pages):
    """A host without OpenID discovery whose /3/footprints answers ``pages`` in turn."""
    from starlette.responses import JSONResponse, Response

    served = {"token_requests": 0, "pages": list(pages)}

    async def token(request):
        served["token_requests"] += 1
        return JSONResponse({"access_token": "t", "token_type": "Bearer"})

    async def footprints(request):
        if request.headers.get("authorization") != "Bearer t":
            return JSONResponse({"code": "BadRequest", "message": "no token"}, status_code=401)
        status, body = served["pages"].pop(0)
        return Response(body, status_code=status, media_type="application/json")

    routes = {"/auth/token": (token, ["POST"]), "/3/footprints": (footprints, ["GET"])}
    return start_tls_app(routes, tls_files), served


@pytest.mark.parametrize(
    "page, expected",
    [
        ((200, '{"items": []}'), 'the page is not a PACT list ({"data": [...]})'),
        ((200, "not json"), "the page is not a PACT list"),
        ((400, '{"code": "BadRequest", "message": "bad filter"}'), "BadRequest (HTTP 400)"),
        ((500, "oops"), "listing footprints: HTTP 500"),
    ],
)
def test_a_malformed_page_or_a_pact_error_is_one_line(tls_files, fresh_home, page, expected):
    server, served = misbehaving_host(tls_files, [page])
    try:
        result = cfp_pull(server.url, "id", "secret", ca=tls_files[0])
    finally:
        server.stop()
    assert result.exit_code == 2, result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1
    # No OpenID discovery at this host: the token came from the /auth/token fallback.
    assert served["token_requests"] == 1
    assert stored() is None


def test_invalid_and_deprecated_footprints_are_reported_not_stored(tls_files, fresh_home):
    page = json.dumps({"data": [mp.resin(), mp.invalid(), mp.deprecated()]})
    server, _ = misbehaving_host(tls_files, [(200, page)])
    try:
        result = cfp_pull(server.url, "id", "secret", ca=tls_files[0])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert "new             1" in result.output and "rejected        1" in result.output
    assert f"! rejected  footprint 2 ({mp.INVALID_ID})" in result.output
    assert "pcfExcludingBiogenicUptake" in result.output
    assert set(stored()["footprints"]) == {mp.RESIN_ID}


def test_a_host_with_only_invalid_footprints_stores_nothing(tls_files, fresh_home):
    server, _ = misbehaving_host(tls_files, [(200, json.dumps({"data": [mp.invalid()]}))])
    try:
        result = cfp_pull(server.url, "id", "secret", ca=tls_files[0])
    finally:
        server.stop()
    assert result.exit_code == 2
    assert "no valid Active footprint listed, nothing stored (1 rejected" in result.output
    assert stored() is None


def test_a_v2_host_is_pulled_with_the_filters_applied_here(tls_files, tmp_path, fresh_home):
    """The v2.3 API has no filters: the listed footprints are filtered by productIds."""
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.publishing import publish
    from cfp_engine.store.imports.pact_pull import pull_footprints

    database = open_database(f"sqlite:///{tmp_path / 'v2.sqlite'}")
    publish(database, mp.liquid())
    other = mp.liquid()
    other["id"], other["productIds"] = footprint_id(7), ["urn:gtin:4900000000998"]
    publish(database, other)
    client = add_client(database, "recipient")
    host = Host(database, tls_files)
    try:
        report = pull_footprints(
            host.url, name="SOLV", client_id=client.client_id,
            client_secret=client.client_secret, version=2, ca_file=str(host.cert),
            product_ids=[mp.LIQUID_GTIN],
        )  # fmt: skip
    finally:
        host.stop()
        database.dispose()
    assert report.listed == 1 and [item["id"] for item in report.new] == [mp.LIQUID_ID]
    record = stored("SOLV")
    assert record["pull"]["version"] == 2
    # 2.0 kg CO2e per 2 liter: 1.0 per liter, 0.27 of it biogenic non-CO2.
    figures = record["footprints"][mp.LIQUID_ID]["figures_per_unit"]
    assert figures["total"] == pytest.approx(1.0) and figures["biogenic"] == pytest.approx(0.27)


def test_the_online_check_asks_the_host(supplier, fresh_home, monkeypatch):
    """Active and alone passes; a newer Active footprint of the product or a host that is
    down fails, naming the newer footprint or the reason."""
    from cfp_engine.exchange.publishing import publish
    from cfp_engine.store.imports.pact_pull import pull_footprints
    from cfp_engine.verify.suppliers import online_check

    host, client = supplier
    pull_footprints(
        host.url, name="SUP", client_id=client.client_id, client_secret=client.client_secret,
        ca_file=str(host.cert),
    )  # fmt: skip
    record = {"database": "SUP", **stored()["footprints"][footprint_id(0)]}
    monkeypatch.setenv("CFP_PULL_SECRET_SUP", client.client_secret)
    check = online_check(record)
    assert check.passed is True, check.detail
    # Another company's footprint of the same product: the old one stays Active, but it
    # is no longer the only one.
    newer = footprint(
        9, product=PRODUCTS[0], company="urn:uuid:0000aaaa-0000-0000-0000-000000000000"
    )
    publish(host.database, newer)
    check = online_check(record)
    assert check.passed is False
    assert f"a newer footprint of its product: {footprint_id(9)}" in check.detail
    host.stop()
    check = online_check(record)
    assert check.passed is False and "cannot connect" in check.detail


def test_the_official_examples_are_pulled_checked_against_the_official_schema(
    tls_files, fresh_home
):
    from conftest import SHARED_REFERENCE

    pact = SHARED_REFERENCE / "pact"
    if not pact.is_dir():
        pytest.skip("../shared/reference/pact is absent")
    page = (pact / "v3/examples/list-footprints-response.json").read_text(encoding="utf-8")
    listed = json.loads(page)["data"]
    server, _ = misbehaving_host(tls_files, [(200, page)])
    try:
        result = cfp_pull(server.url, "id", "secret", "--schema-dir", pact, ca=tls_files[0])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert f"new             {len(listed)}" in result.output
    assert set(stored()["footprints"]) == {f["id"] for f in listed}


@pytest.mark.parametrize("version", [3, 2])
def test_a_request_is_a_pact_event_the_host_accepts_and_the_store_notes(
    supplier, fresh_home, version
):
    from sqlalchemy import select

    from cfp_engine.exchange.database import EventRequest
    from cfp_engine.store.imports.pact_pull import request_footprints, sent_requests

    host, client = supplier
    event_id = request_footprints(
        host.url, name="SUP", client_id=client.client_id, client_secret=client.client_secret,
        product_ids=["urn:gtin:4900000000998"], version=version, ca_file=str(host.cert),
        source="https://me.example",
    )  # fmt: skip
    with host.database.session() as session:
        (row,) = session.scalars(select(EventRequest)).all()
    event = json.loads(row.body)
    assert row.event_id == event_id and event["source"] == "https://me.example"
    if version == 3:
        assert event["type"] == "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
        assert event["data"] == {"productId": ["urn:gtin:4900000000998"]}
    else:
        assert event["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
        assert event["data"]["pf"] == {"productIds": ["urn:gtin:4900000000998"]}
    noted = sent_requests()[event_id]
    assert noted["url"] == host.url and noted["state"] == "sent"
    assert client.client_secret not in json.dumps(noted)
