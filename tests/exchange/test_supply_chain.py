"""End to end: a resin supplier, a bottle maker and a customer exchange footprints over PACT.

Two hosts run on loopback over TLS, each on its own SQLite database (the ``Host`` helper:
uvicorn in a thread of the test process); the bottle maker and the customer each have an
engine store of their own (``CFP_ENGINE_HOME``, switched between the parties' steps). Every
step goes through the ``cfp`` command line: publish, pull, label, verify.

The figures, by hand: virgin resin 2.0 kg CO2e/kg (1.8 fossil, 0.2 land-use change),
recycled resin 0.5 kg CO2e/kg (0.5 fossil); the bottle body is 23 g, the variant
``rpet-50`` half recycled (cut-off: the recycled share carries the recycled resin's
footprint): 0.023 x (0.5 x 2.0 + 0.5 x 0.5) = 0.02875 kg CO2e per bottle.
"""

from __future__ import annotations

import json
import math
import ssl

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

import make_pact as mp
from conftest import copy_home
from exchange_helpers import Host

VIRGIN_ID = "5b0c6f2e-1a2b-4c3d-8e4f-000000000001"
RECYCLED_ID = "5b0c6f2e-1a2b-4c3d-8e4f-000000000002"
NEWER_RECYCLED_ID = "5b0c6f2e-1a2b-4c3d-8e4f-000000000003"
COLOURED_ID = "5b0c6f2e-1a2b-4c3d-8e4f-000000000004"
VIRGIN_GTIN = "urn:gtin:4900000000103"
RECYCLED_GTIN = "urn:gtin:4900000000110"
COLOURED_GTIN = "urn:gtin:4900000000127"
BOTTLE_GTIN = "urn:gtin:4900000000134"


def resin(fid, gtin, name, total, fossil, luc="0"):
    footprint = mp.v3(
        fid, gtin, name, "kilogram", "1", total, fossil=fossil, luc=luc, mass="1",
        primaryDataShare="100",
    )  # fmt: skip
    footprint["companyName"] = "Resin Co"
    footprint["companyIds"] = ["urn:company:resin"]
    return footprint


SPEC = f"""product:
  id: pet-bottle-rpet
  name: PET bottle, 500 mL (supplier resin)
  declared_unit: 1 piece
approach: cut-off
components:
  - id: body
    virgin: "RESIN::{VIRGIN_GTIN}"
    recycled: "RESIN::{RECYCLED_GTIN}"
    mass: 23 g
    recycled_content: 30 %
variants:
  rpet-50:
    description: bottle body half of recycled PET
    components: {{body: {{recycled_content: 50 %}}}}
label:
  company_name: Bottle Co
  company_ids: ["urn:company:bottle"]
  product_ids: ["{BOTTLE_GTIN}"]
  reference_period: {{start: "2025-01-01", end: "2025-12-31"}}
"""


def run(*args, env=None):
    """``cfp ARGS``; fails the test unless it exits 0."""
    result = CliRunner().invoke(cli, list(map(str, args)), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def host_database(path):
    from cfp_engine.exchange.database import open_database

    return open_database(f"sqlite:///{path}")


@pytest.fixture
def chain(built_home, tls_files, tmp_path, monkeypatch):
    """The supplier's and the bottle maker's hosts, the parties' homes and credentials."""
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.outbox import RetryPolicy, Sender
    from cfp_engine.exchange.publishing import publish

    homes = {party: copy_home(built_home, tmp_path / party) for party in ("bottle", "customer")}
    trust = ssl.create_default_context(cafile=str(tls_files[0]))
    databases = {party: host_database(tmp_path / f"{party}.sqlite") for party in ("resin", "b")}
    bottle_host = Host(databases["b"], tls_files)
    # The bottle maker's host takes the supplier's answers to its requests as a client.
    at_bottle = add_client(databases["b"], "resin-co events")
    sender = Sender(databases["resin"], RetryPolicy(backoff_s=0.2), verify=trust)
    resin_host = Host(databases["resin"], tls_files, sender=sender)
    sender.source = resin_host.url
    clients = {
        "bottle": add_client(
            databases["resin"],
            "bottle-co",
            events_url=f"{bottle_host.url}/3/events",
            events_client_id=at_bottle.client_id,
            events_client_secret=at_bottle.client_secret,
        ),
        "customer": add_client(databases["resin"], "customer (auditor)"),
        "customer at bottle": add_client(databases["b"], "customer"),
    }
    publish(
        databases["resin"], resin(VIRGIN_ID, VIRGIN_GTIN, "PET resin, virgin", "2.0", "1.8", "0.2")
    )
    publish(
        databases["resin"], resin(RECYCLED_ID, RECYCLED_GTIN, "PET resin, recycled", "0.5", "0.5")
    )
    spec = tmp_path / "bottle.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    yield {
        "homes": homes,
        "databases": databases,
        "resin": resin_host,
        "bottle": bottle_host,
        "clients": clients,
        "spec": spec,
        "ca": tls_files[0],
        "tmp": tmp_path,
        "monkeypatch": monkeypatch,
    }
    resin_host.stop()
    bottle_host.stop()
    for database in databases.values():
        database.dispose()


def as_party(chain, party):
    chain["monkeypatch"].setenv("CFP_ENGINE_HOME", str(chain["homes"][party]))


def pull(chain, host, client, name, *extra):
    return run(
        "pull", chain[host].url, "--name", name, "--client-id", client.client_id,
        "--client-secret", client.client_secret, "--ca-file", chain["ca"], *extra,
    )  # fmt: skip


def test_a_footprint_travels_from_supplier_to_customer_and_verifies_online(chain):
    from cfp_engine.store.imports.pact_payloads import load_payload
    from cfp_engine.store.registry import read_registry

    tmp, spec = chain["tmp"], chain["spec"]
    # The bottle maker pulls the two resins, labels the half-recycled variant, publishes.
    as_party(chain, "bottle")
    report = pull(chain, "resin", chain["clients"]["bottle"], "RESIN")
    assert "new             2" in report and "rejected        0" in report
    label = tmp / "bottle.pact.json"
    run("label", spec, "--variant", "rpet-50", "-o", label)
    document = json.loads(label.read_text())
    assert math.isclose(
        float(document["pcf"]["pcfExcludingBiogenicUptake"]), 0.023 * (0.5 * 2.0 + 0.5 * 0.5),
        rel_tol=1e-5,
    )  # fmt: skip
    used = document["extensions"][0]["data"]["result"]["provenance"]["supplier_footprints"]
    assert {u["id"] for u in used} == {VIRGIN_ID, RECYCLED_ID}
    assert {u["source"] for u in used} == {chain["resin"].url}
    run("publish", label, "--db", f"sqlite:///{tmp / 'b.sqlite'}")

    # The customer pulls the bottle, and the resins it was made with (as its auditor may).
    as_party(chain, "customer")
    report = pull(chain, "bottle", chain["clients"]["customer at bottle"], "BOTTLE")
    assert "new             1" in report and BOTTLE_GTIN in report
    pull(chain, "resin", chain["clients"]["customer"], "RESIN")
    (bottle,) = read_registry()["databases"]["BOTTLE"]["footprints"].values()
    assert bottle["source"] == chain["bottle"].url and bottle["fetched_at"]
    received = tmp / "received.pact.json"
    received.write_text(json.dumps(load_payload(bottle["sha256"])[0]), encoding="utf-8")

    secret = {"CFP_PULL_SECRET_RESIN": chain["clients"]["customer"].client_secret}
    output = run("verify", received, "--spec", spec, "--online", env=secret)
    assert output.count("status at the supplier's host: Active at") == 2

    # The supplier publishes a new recycled-resin figure: the old one is deprecated.
    from cfp_engine.exchange.publishing import publish

    published = publish(
        chain["databases"]["resin"],
        resin(NEWER_RECYCLED_ID, RECYCLED_GTIN, "PET resin, recycled", "0.4", "0.4"),
    )
    assert published.deprecated == (RECYCLED_ID,)
    result = CliRunner().invoke(
        cli, ["verify", str(received), "--spec", str(spec), "--online"], env=secret
    )
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if "FAIL]" in line]
    assert len(failed) == 1, result.output
    assert RECYCLED_ID in failed[0] and NEWER_RECYCLED_ID in failed[0]
    assert "superseded: the host lists it as Deprecated" in failed[0]

    # Without the secret the online check cannot run: a failed check saying why.
    result = CliRunner().invoke(cli, ["verify", str(received), "--spec", str(spec), "--online"])
    assert result.exit_code == 1 and "set CFP_PULL_SECRET_RESIN" in result.output

    # Pulling again updates the resin to the newer figure and says so.
    report = pull(chain, "resin", chain["clients"]["customer"], "RESIN")
    assert "changed         1" in report and "deprecated      1" in report
    assert f"superseded by {NEWER_RECYCLED_ID}" in report
    assert "unchanged       1" in report
    record = read_registry()["databases"]["RESIN"]
    assert set(record["footprints"]) == {VIRGIN_ID, NEWER_RECYCLED_ID}
    assert RECYCLED_ID in {r["id"] for r in record["earlier"]}
    # The old payload is kept: the label's supplier figures still check against it, while
    # the re-computation now uses the newer resin: 0.023 x (0.5 x 2.0 + 0.5 x 0.4).
    result = CliRunner().invoke(cli, ["verify", str(received), "--spec", str(spec)])
    assert result.exit_code == 1
    assert f"pass] supplier footprint {RECYCLED_ID}" in result.output
    assert "label 0.02875, re-computed 0.0276" in result.output


def test_a_requested_footprint_arrives_asynchronously_and_is_usable(chain):
    from cfp_engine.store.imports.pact_pull import sent_requests

    as_party(chain, "bottle")
    client = chain["clients"]["bottle"]
    db = f"sqlite:///{chain['tmp'] / 'b.sqlite'}"
    request = (
        "--request", "--product-id", COLOURED_GTIN, "--source", chain["bottle"].url,
    )  # fmt: skip
    # The supplier lists no coloured resin yet: the request is rejected.
    output = pull(chain, "resin", client, "RESIN", *request)
    assert "Sent footprint request" in output
    inbox = chain["databases"]["b"]
    _wait_for_answers(inbox, 1)
    output = run("pull", "--answers", "--db", db)
    assert "0 fulfilled, 1 rejected" in output and "NotFound" in output

    # It publishes the footprint; a second request is fulfilled.
    from cfp_engine.exchange.publishing import publish

    publish(
        chain["databases"]["resin"],
        resin(COLOURED_ID, COLOURED_GTIN, "PET resin, blue", "2.4", "2.4"),
    )
    pull(chain, "resin", client, "RESIN", *request)
    _wait_for_answers(inbox, 2)
    output = run("pull", "--answers", "--db", db)
    assert "1 fulfilled, 0 rejected" in output and COLOURED_ID in output
    states = {r["state"] for r in sent_requests().values()}
    assert states == {"rejected", "imported"}
    # Taken once: nothing left to import.
    assert "0 fulfilled, 0 rejected, 0 ignored" in run("pull", "--answers", "--db", db)

    # The footprint is usable: 23 g of it is 0.023 x 2.4 kg CO2e.
    spec = chain["tmp"] / "blue.yaml"
    spec.write_text(
        SPEC.replace(f'virgin: "RESIN::{VIRGIN_GTIN}"', f'virgin: "RESIN::{COLOURED_GTIN}"')
        .replace("recycled_content: 30 %", "recycled_content: 0 %"),
        encoding="utf-8",
    )  # fmt: skip
    from cfp_engine.store.registry import read_registry

    record = read_registry()["databases"]["RESIN"]
    assert record["footprints"][COLOURED_ID]["source"] == chain["resin"].url
    label = chain["tmp"] / "blue.pact.json"
    run("label", spec, "-o", label)
    total = float(json.loads(label.read_text())["pcf"]["pcfExcludingBiogenicUptake"])
    assert math.isclose(total, 0.023 * 2.4, rel_tol=1e-5)


ANSWERS = (
    "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
    "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
)


def _wait_for_answers(database, count, timeout=20.0):
    """Wait until the host database has ``count`` answers to requests."""
    import time

    from sqlalchemy import func, select

    from cfp_engine.exchange.database import EventRequest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.session() as session:
            got = session.scalar(
                select(func.count())
                .select_from(EventRequest)
                .where(EventRequest.event_type.in_(ANSWERS))
            )
        if got >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} answer(s) did not arrive within {timeout} s")
