"""The host over real TLS: tokens, access control, every filter, pagination, bad input.

A uvicorn server on a loopback port serves a SQLite database; httpx is the client. The
expected footprints of each filter are worked out by hand from the table below.
"""

from __future__ import annotations

import ssl

import httpx
import pytest
from sqlalchemy import text

from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.publishing import publish

from exchange_helpers import (
    BACKENDS,
    COMPANY,
    OTHER_COMPANY,
    Host,
    database_url,
    footprint,
    footprint_id,
    v2_footprint,
)

# id  product  company  geography     classifications  validity (start .. end)
# 1   gtin:1   A        DE            c1               2026-01-01 .. 2026-12-31  (Deprecated by 4)
# 2   gtin:2   A        FR            c2               2027-01-01 .. 2027-12-31
# 3   gtin:3   B        DE            c1, c2           2025-12-31 .. 2028-12-31  (PACT default)
# 4   gtin:1   A        JP, Asia      -                2026-06-01 .. 2029-01-01
C1, C2 = "urn:pact:productclassification:un-cpc:1", "urn:pact:productclassification:un-cpc:2"
TABLE = [
    footprint(
        1,
        product="urn:gtin:1",
        geography="DE",
        classifications=[C1],
        validity=("2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"),
    ),
    footprint(
        2,
        product="urn:gtin:2",
        geography="FR",
        classifications=[C2],
        validity=("2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z"),
    ),
    footprint(
        3,
        product="urn:gtin:3",
        company=OTHER_COMPANY,
        geography="DE",
        classifications=[C1, C2],
        reference_end="2025-12-31T00:00:00Z",
    ),
    footprint(
        4,
        product="urn:gtin:1",
        geography="JP",
        region="Asia",
        validity=("2026-06-01T00:00:00Z", "2029-01-01T00:00:00Z"),
    ),
]


@pytest.fixture(scope="module", params=BACKENDS)
def table_host(request, tmp_path_factory, tls_files):
    """One host per backend for the read-only tests of this module (they only add events)."""
    from cfp_engine.exchange.database import open_database

    database = open_database(database_url(request, tmp_path_factory.mktemp("table")))
    for document in TABLE:
        publish(database, document)
    running = Host(database, tls_files)
    running.everyone = add_client(database, "everyone")
    running.company_b = add_client(database, "company-b", companies=[OTHER_COMPANY.upper()])
    running.product_2 = add_client(database, "product-2", products=["urn:gtin:2"])
    yield running
    running.stop()
    database.dispose()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.text
    by_id = {footprint_id(n): n for n in range(1, 100)}
    return {by_id[item["id"]] for item in response.json()["data"]}


FILTERS = [
    ("productId=urn:gtin:1", {1, 4}),
    ("productId=URN:GTIN:1", {1, 4}),
    ("productid=urn:gtin:1", {1, 4}),
    ("productId=urn:gtin:1&productId=urn:gtin:3", {1, 3, 4}),
    (f"companyId={OTHER_COMPANY}", {3}),
    (f"companyId={COMPANY}&companyId={OTHER_COMPANY}", {1, 2, 3, 4}),
    ("geography=de", {1, 3}),
    ("geography=Asia", {4}),
    (f"classification={C1}", {1, 3}),
    (f"classification={C2}&classification={C1}", {1, 2, 3}),
    ("status=Active", {2, 3, 4}),
    ("status=deprecated", {1}),
    ("status=Active&status=Deprecated", {1, 2, 3, 4}),
    ("status=BogusStatusValue", set()),
    ("validOn=2026-03-01T00:00:00Z", {1, 3}),
    ("validOn=2026-01-01T00:00:00Z", {1, 3}),  # the bounds are inclusive
    ("validAfter=2026-01-01T00:00:00Z", {2, 4}),  # strictly after
    ("validBefore=2027-06-01T00:00:00Z", {1}),
    ("validBefore=2026-12-31T00:00:00Z", set()),  # strictly before
    (f"companyId={COMPANY}&geography=DE", {1}),
    ("productId=urn:gtin:1&status=Active", {4}),
    ("productId=urn:gtin:1&productId=urn:gtin:2&geography=FR&geography=JP", {2, 4}),
    ("productId=urn:gtin:3&validOn=2028-12-31T00:00:00Z", {3}),
    ("productId=urn:gtin:3&validOn=2028-12-31T00:00:01Z", set()),
    ("x-acme-invoice=1", {1, 2, 3, 4}),  # host extensions this host lacks are ignored
    ("classification=", {1, 2, 3, 4}),  # an empty value constrains nothing
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_filters(table_host, query, expected):
    with table_host.reader(table_host.everyone) as http:
        assert _ids(http.get(f"/3/footprints?{query}")) == expected


def test_a_client_sees_only_what_is_released_to_it(table_host):
    with table_host.reader(table_host.company_b) as http:
        assert _ids(http.get("/3/footprints")) == {3}
        assert _ids(http.get("/3/footprints?productId=urn:gtin:1")) == set()
        assert http.get(f"/3/footprints/{footprint_id(3)}").status_code == 200
        hidden = http.get(f"/3/footprints/{footprint_id(1)}")
        missing = http.get(f"/3/footprints/{footprint_id(99)}")
    with table_host.reader(table_host.product_2) as http:
        assert _ids(http.get("/3/footprints")) == {2}
    # Another client's footprint is answered exactly as one that does not exist.
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "NotFound"
    assert hidden.json()["message"].replace(footprint_id(1), "?") == missing.json()[
        "message"
    ].replace(footprint_id(99), "?")


def test_get_footprint_serves_the_payload_with_its_current_status(table_host):
    with table_host.reader(table_host.everyone) as http:
        response = http.get(f"/3/footprints/{footprint_id(1)}")
        newer = http.get(f"/3/footprints/{footprint_id(4).upper()}")
    assert response.status_code == 200
    served = response.json()["data"]
    assert served == {**TABLE[0], "status": "Deprecated"}
    assert newer.json()["data"]["precedingPfIds"] == [footprint_id(1)]


def test_v2_and_v3_are_served_apart(database, tls_files):
    v2 = v2_footprint(7, geography="DE")
    publish(database, v2)
    publish(database, footprint(8))
    running = Host(database, tls_files)
    try:
        reader = add_client(database, "r")
        with running.reader(reader) as http:
            assert _ids(http.get("/2/footprints")) == {7}
            assert _ids(http.get("/3/footprints")) == {8}
            assert http.get(f"/2/footprints/{footprint_id(7)}").status_code == 200
            gone = http.get(f"/2/footprints/{footprint_id(8)}")
            assert (gone.status_code, gone.json()["code"]) == (404, "NoSuchFootprint")
            assert http.get(f"/3/footprints/{footprint_id(7)}").status_code == 404
            # v2.3 has no v3 filters: they are ignored, not applied.
            assert _ids(http.get("/2/footprints?geography=FR")) == {7}
            dollar = http.get("/2/footprints?$filter=created ge '2020-01-01T00:00:00Z'")
            assert (dollar.status_code, dollar.json()["code"]) == (400, "NotImplemented")
    finally:
        running.stop()


def test_pagination_walks_every_footprint_exactly_once(database, tls_files):
    for number in range(1, 26):
        publish(database, footprint(number, product=f"urn:gtin:{number}"))
    running = Host(database, tls_files)
    try:
        with running.reader(add_client(database, "r")) as http:
            seen, pages = [], 0
            url = "/3/footprints?limit=7&status=Active"
            first_link = None
            while url:
                response = http.get(url)
                assert response.status_code == 200
                page = [item["id"] for item in response.json()["data"]]
                assert len(page) <= 7
                seen += page
                pages += 1
                link = response.headers.get("link")
                if link is None:
                    url = None
                    continue
                first_link = first_link or link
                assert link.startswith(f"<{running.url}/3/footprints?") and link.endswith(
                    '>; rel="next"'
                )
                url = link[1 : link.index(">")]
                assert "status=Active" in url
            assert pages == 4  # 7 + 7 + 7 + 4
            assert sorted(seen) == sorted(footprint_id(n) for n in range(1, 26))
            assert len(seen) == len(set(seen)) == 25
            # A pagination link can be called again, with the same answer.
            again = first_link[1 : first_link.index(">")]
            assert http.get(again).json() == http.get(again).json()
            assert [i["id"] for i in http.get(again).json()["data"]] == seen[7:14]
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("limit=0", 400),
        ("limit=-1", 400),
        ("limit=abc", 400),
        ("limit=1.5", 400),
        ("limit=" + "9" * 40, 400),
        ("after=-1", 400),
        ("validOn=yesterday", 400),
        ("validAfter=2026-01-01", 400),
        ("$filter=created ge '2023-01-15T10:15:30Z'", 400),
        ("productId=%00", 400),
        ("productId=" + "x" * 600, 400),
    ],
)
def test_bad_queries_get_pact_errors(table_host, query, status):
    with table_host.reader(table_host.everyone) as http:
        response = http.get(f"/3/footprints?{query}")
    assert response.status_code == status
    assert response.json()["code"] == "BadRequest"
    assert response.json()["message"]


def test_a_huge_limit_returns_everything_at_once(table_host):
    with table_host.reader(table_host.everyone) as http:
        response = http.get("/3/footprints?limit=1000000000")
    assert _ids(response) == {1, 2, 3, 4}
    assert "link" not in response.headers


INJECTIONS = [
    "' OR '1'='1",
    "x'); DROP TABLE footprints; --",
    '" OR ""="',
    "%",
    "_",
    "urn:gtin:1' --",
    "1 UNION SELECT payload FROM footprints",
]


@pytest.mark.parametrize(
    "name", ["productId", "companyId", "geography", "classification", "status"]
)
@pytest.mark.parametrize("value", INJECTIONS)
def test_sql_injection_strings_match_nothing(table_host, name, value):
    with table_host.reader(table_host.everyone) as http:
        assert _ids(http.get("/3/footprints", params={name: value})) == set()
        assert _ids(http.get("/3/footprints")) == {1, 2, 3, 4}  # nothing dropped


@pytest.mark.parametrize("name", ["validOn", "validAfter", "validBefore"])
@pytest.mark.parametrize("value", INJECTIONS)
def test_sql_injection_strings_in_dates_are_bad_requests(table_host, name, value):
    with table_host.reader(table_host.everyone) as http:
        response = http.get("/3/footprints", params={name: value})
    assert (response.status_code, response.json()["code"]) == (400, "BadRequest")


def test_token_endpoint(table_host):
    client = table_host.everyone
    form = {"grant_type": "client_credentials"}
    with table_host.http() as http:
        good = http.post("/auth/token", data=form, auth=(client.client_id, client.client_secret))
        post = http.post(
            "/auth/token",
            data={**form, "client_id": client.client_id, "client_secret": client.client_secret},
        )
        wrong = http.post("/auth/token", data=form, auth=(client.client_id, "wrong"))
        unknown = http.post("/auth/token", data=form, auth=("nobody", client.client_secret))
        anonymous = http.post("/auth/token", data=form)
        grant = http.post(
            "/auth/token", data={"grant_type": "password"}, auth=(client.client_id, "x")
        )
        garbage = http.post(
            "/auth/token", data=form, headers={"Authorization": "Basic %%%not-base64"}
        )
        huge = http.post("/auth/token", content=b"a" * 2_000_000)
        discovery = http.get("/.well-known/openid-configuration")
    assert good.status_code == 200
    assert good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 3600
    assert good.headers["cache-control"] == "no-store"
    assert post.status_code == 200
    for refused in (wrong, unknown, anonymous, garbage):
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        assert "access_token" not in refused.json()
    assert wrong.json() == unknown.json()  # nothing tells which ids exist
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    assert huge.status_code == 413
    assert discovery.json()["token_endpoint"] == f"{table_host.url}/auth/token"


def test_expired_and_forged_tokens(database, tls_files):
    publish(database, footprint(1))
    client = add_client(database, "r")
    running = Host(database, tls_files, token_lifetime_s=1)
    try:
        token = running.token(client)
        with running.http() as http:
            ok = http.get("/3/footprints", headers={"Authorization": f"Bearer {token}"})
            forged = http.get("/3/footprints", headers={"Authorization": f"Bearer {token}x"})
            no_token = http.get("/3/footprints")
            basic = http.get("/3/footprints", headers={"Authorization": "Basic eDp5"})
            import time

            time.sleep(1.2)
            expired = http.get(
                f"/3/footprints/{footprint_id(1)}", headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        running.stop()
    assert ok.status_code == 200
    assert (forged.status_code, forged.json()["code"]) == (401, "BadRequest")
    assert (basic.status_code, basic.json()["code"]) == (401, "BadRequest")
    assert (no_token.status_code, no_token.json()["code"]) == (400, "BadRequest")
    assert (expired.status_code, expired.json()["code"]) == (401, "TokenExpired")
    assert "data" not in expired.json()


CREATED = {
    "specversion": "1.0",
    "id": "request-1",
    "source": "https://recipient.example/events",
    "time": "2026-01-01T00:00:00Z",
    "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
    "data": {"productId": ["urn:gtin:1"], "comment": "Please send"},
}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (CREATED, 200),
        (
            {
                **CREATED,
                "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
                "data": {"pfIds": [footprint_id(1)]},
            },
            200,
        ),
        (
            {
                **CREATED,
                "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
                "data": {"pfIds": ["urn:gtin:4712345060507"]},
            },
            400,
        ),
        ({**CREATED, "specversion": "0.3"}, 400),
        ({**CREATED, "type": "com.example.other"}, 400),
        ({**CREATED, "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"}, 400),
        ({**CREATED, "data": "text"}, 400),
        ([CREATED], 400),
    ],
)
def test_events_are_checked(table_host, body, status):
    with table_host.reader(table_host.everyone) as http:
        response = http.post(
            "/3/events", json=body, headers={"Content-Type": "application/cloudevents+json"}
        )
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["code"] == "BadRequest"


def test_malformed_and_oversized_event_bodies(table_host):
    with table_host.reader(table_host.everyone) as http:
        malformed = http.post("/3/events", content=b'{"specversion": "1.0", ')
        nested = http.post("/3/events", content=b"[" * 100_000 + b"]" * 100_000)
        oversized = http.post("/3/events", content=b" " * 1_500_000)
        anonymous = httpx.post(
            f"{table_host.url}/3/events",
            json=CREATED,
            verify=ssl.create_default_context(cafile=str(table_host.cert)),
        )
    assert (malformed.status_code, malformed.json()["code"]) == (400, "BadRequest")
    assert nested.status_code == 400
    assert (oversized.status_code, oversized.json()["code"]) == (413, "BadRequest")
    assert anonymous.status_code == 400


def test_plain_http_gets_no_data(table_host):
    plain = table_host.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        response = httpx.get(f"{plain}/3/footprints", timeout=5)
        assert "data" not in response.text  # reached only if the server answered at all
        raise httpx.HTTPError("answered without data")


def test_requests_that_did_not_come_over_tls_are_refused(database):
    """Plain HTTP reaching the application (e.g. from a proxy that does not speak TLS to
    it) is refused: the application is called directly, over no socket."""
    import asyncio

    from cfp_engine.exchange.app import create_app

    async def post():
        transport = httpx.ASGITransport(app=create_app(database))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post("/auth/token", data={"grant_type": "client_credentials"})

    response = asyncio.run(post())
    assert (response.status_code, response.json()["code"]) == (400, "BadRequest")
    assert "HTTPS only" in response.json()["message"]


def test_internal_errors_are_pact_errors_without_details(database, tls_files):
    client = add_client(database, "r")
    running = Host(database, tls_files)
    try:
        with running.reader(client) as http:
            with database.engine.begin() as connection:
                connection.execute(text("DROP TABLE footprint_keys"))
            response = http.get("/3/footprints")
            # The server closes the connection after an internal error, and says so: the
            # client's next request goes on a new one instead of failing.
            assert response.headers["connection"] == "close"
            after = http.get(f"/3/footprints/{footprint_id(1)}")
    finally:
        running.stop()
    assert response.status_code == 500
    assert response.json() == {"code": "InternalError", "message": "internal error"}
    assert after.json()["code"] in {"NotFound", "InternalError"}


def test_unknown_paths_and_methods(table_host):
    with table_host.reader(table_host.everyone) as http:
        assert http.get("/4/footprints").json()["code"] == "NotFound"
        wrong = http.delete("/3/footprints")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "BadRequest")
