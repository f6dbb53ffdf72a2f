"""``cfp publish`` and ``cfp serve`` (with ``serve clients``): outputs, exit codes, a server."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli

from conftest import EXAMPLES, ROOT
from exchange_helpers import footprint, footprint_id, free_port


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'host.sqlite'}"


@pytest.fixture
def label_file(tmp_path):
    def write(document, name="label.json"):
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return write


def test_publish_list_and_deprecate(db, label_file):
    first = run("publish", "--db", db, label_file(footprint(1), "a.json"))
    assert first.exit_code == 0, first.output
    assert first.stdout == f"{footprint_id(1)}: published (PACT v3)\n"
    again = run("publish", "--db", db, label_file(footprint(1), "a.json"))
    assert again.stdout == f"{footprint_id(1)}: already published (unchanged)\n"
    second = run("publish", "--db", db, label_file(footprint(2), "b.json"))
    assert second.stdout.splitlines() == [
        f"{footprint_id(2)}: published (PACT v3)",
        f"  {footprint_id(1)}: Deprecated, now in precedingPfIds",
    ]
    listed = run("publish", "--db", db, "--list")
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [footprint_id(1), footprint_id(2)]
    assert "Deprecated" in lines[0] and "Active" in lines[1]
    deprecated = run("publish", "--db", db, "--deprecate", footprint_id(2))
    assert deprecated.stdout == f"{footprint_id(2)}: Deprecated\n"
    assert "Active" not in run("publish", "--db", db, "--list").stdout


def test_a_taken_id_points_to_new_id(db, label_file):
    run("publish", "--db", db, label_file(footprint(1)))
    changed = footprint(1)
    changed["pcf"]["pcfExcludingBiogenicUptake"] = "0.5"
    refused = run("publish", "--db", db, label_file(changed, "changed.json"))
    assert refused.exit_code == 2
    assert "already published" in refused.stderr and "(--new-id)" in refused.stderr
    renamed = run("publish", "--db", db, "--new-id", label_file(changed, "changed.json"))
    assert renamed.exit_code == 0, renamed.output
    assert f"new id for {footprint_id(1)}" in renamed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give label files, or --spec SPEC"),
        (("--list", "--deprecate", "x"), "give label files, or --spec SPEC"),
        (("--deprecate", "nope"), "--deprecate: no published footprint has id 'nope'"),
        (("missing.json",), "no such label file"),
        (("missing.json", "--public"), "--public: the public page shows the readable label"),
        (("--spec", "x.yaml", "--public"), "--public: give --public-url"),
        (
            ("--spec", "x.yaml", "--public", "--public-url", "http://plain.example"),
            "--public-url: 'http://plain.example' is not an https:// URL",
        ),
    ],
)
def test_publish_usage_errors(db, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CFP_EXCHANGE_PUBLIC_URL", raising=False)
    result = run("publish", "--db", db, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_publishing_a_bad_label_writes_nothing(db, label_file, tmp_path):
    bad = footprint(1)
    del bad["pcf"]["declaredUnitAmount"]
    result = run("publish", "--db", db, label_file(bad))
    assert result.exit_code == 2
    assert "missing pcf.declaredUnitAmount" in result.stderr
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"specVersion": ', encoding="utf-8")
    assert run("publish", "--db", db, malformed).exit_code == 2
    assert run("publish", "--db", db, "--list").stdout == ""


def test_a_bad_database_url_is_one_line(tmp_path):
    result = run("publish", "--db", "nosuchdriver://x", "--list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --db: 'nosuchdriver://x' is not a database URL")


def test_publish_spec_computes_and_publishes(db, builtin_table):
    facts = (
        "--company-name",
        "Acme",
        "--company-id",
        "urn:uuid:11111111-2222-3333-4444-555555555555",
        "--product-id",
        "urn:gtin:4012345000009",
        "--reference-period",
        "2025-01-01:2025-12-31",
    )
    v3 = run("publish", "--db", db, "--spec", EXAMPLES / "pet-bottle.yaml", *facts)
    assert v3.exit_code == 0, v3.output
    assert "published (PACT v3)" in v3.stdout
    v2 = run(
        "publish",
        "--db",
        db,
        "--spec",
        EXAMPLES / "pet-bottle.yaml",
        "--pact-version",
        "2",
        "--product-category-cpc",
        "36490",
        *facts,
    )
    assert v2.exit_code == 0, v2.output
    assert "published (PACT v2)" in v2.stdout
    # The same product again, a year on: a new footprint replaces the old one.
    later = [*facts[:-1], "2026-01-01:2026-12-31"]
    v3_later = run("publish", "--db", db, "--spec", EXAMPLES / "pet-bottle.yaml", *later)
    assert v3_later.exit_code == 0, v3_later.output
    assert "Deprecated, now in precedingPfIds" in v3_later.stdout


def test_publish_spec_public_prints_the_page_address(db, builtin_table, monkeypatch):
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.pages import public_page

    monkeypatch.setenv("CFP_EXCHANGE_PUBLIC_URL", "https://cfp.example.jp/host/")
    facts = (
        "--company-name",
        "Acme",
        "--company-id",
        "urn:uuid:11111111-2222-3333-4444-555555555555",
        "--product-id",
        "urn:gtin:4012345000009",
        "--reference-period",
        "2025-01-01:2025-12-31",
    )
    spec = EXAMPLES / "pet-bottle.yaml"
    result = run("publish", "--db", db, "--spec", spec, *facts, "--public")
    assert result.exit_code == 0, result.output
    first, page = result.stdout.splitlines()
    footprint_id_ = first.split(":")[0]
    assert page == f"  public page: https://cfp.example.jp/host/labels/{footprint_id_}"
    assert run("publish", "--db", db, "--list").stdout.rstrip().endswith("public")
    database = open_database(db)
    try:
        english = public_page(database, footprint_id_, "en")
        japanese = public_page(database, footprint_id_, "ja")
    finally:
        database.dispose()
    assert '<html lang="en">' in english and '<html lang="ja">' in japanese
    assert f"https://cfp.example.jp/host/labels/{footprint_id_}</a>" in japanese


def test_clients_add_list_rotate_remove(db):
    added = run("serve", "--db", db, "clients", "add", "acme", "--companies", "urn:uuid:A")
    assert added.exit_code == 0, added.output
    found = dict(line.split(": ", 1) for line in added.stdout.splitlines())
    assert re.fullmatch(r"[0-9a-f]{32}", found["client_id"])
    assert len(found["client_secret"]) >= 40
    assert "shown only now" in added.stderr
    listed = run("serve", "--db", db, "clients", "list")
    assert listed.stdout.split()[:2] == ["acme", found["client_id"]]
    assert "company:urn:uuid:a" in listed.stdout
    assert found["client_secret"] not in listed.stdout
    rotated = run("serve", "--db", db, "clients", "rotate", "acme")
    new = dict(line.split(": ", 1) for line in rotated.stdout.splitlines())
    assert new["client_id"] == found["client_id"]
    assert new["client_secret"] != found["client_secret"]
    assert run("serve", "--db", db, "clients", "add", "acme").exit_code == 2
    assert run("serve", "--db", db, "clients", "remove", found["client_id"]).exit_code == 0
    assert run("serve", "--db", db, "clients", "list").stdout == ""
    gone = run("serve", "--db", db, "clients", "remove", "acme")
    assert gone.exit_code == 2 and "no client" in gone.stderr


def test_clients_need_https_events_urls(db):
    result = run(
        "serve",
        "--db",
        db,
        "clients",
        "add",
        "r",
        "--events-url",
        "http://r.example/3/events",
        "--events-client-id",
        "id",
        "--events-client-secret",
        "secret",
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --events-url: 'http://r.example/3/events' is not")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "plain HTTP is refused"),
        (("--tls-cert", "cert.pem"), "plain HTTP is refused"),
        (("--tls-cert", "missing.pem", "--tls-key", "missing.pem"), "is not a readable file"),
        (("--dev-tls", "--tls-cert", "a", "--tls-key", "b"), "not both"),
        (("--dev-tls", "--events-ca", "missing.pem"), "--events-ca: 'missing.pem' is not a"),
    ],
)
def test_serve_refuses_to_start_without_tls(db, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("serve", "--db", db, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_rejects_a_key_that_is_not_a_key(db, tmp_path):
    (tmp_path / "cert.pem").write_text("not a certificate")
    result = run(
        "serve", "--db", db, "--tls-cert", tmp_path / "cert.pem", "--tls-key", tmp_path / "cert.pem"
    )
    assert result.exit_code == 2
    assert "--tls-cert: cannot use" in result.stderr


class Served:
    """``cfp serve --dev-tls`` in a child process (its own process group)."""

    def __init__(self, home: Path, db: str, *extra: str, workers: int = 1):
        self.home, self.port = home, free_port()
        environment = {
            **os.environ,
            "CFP_ENGINE_HOME": str(home),
            "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        command = [sys.executable, "-m", "cfp_engine", "serve", "--db", db, "--dev-tls"]
        command += ["--port", str(self.port), "--workers", str(workers), *extra]
        self.process = subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.cert = home / "exchange" / "tls" / "dev-cert.pem"
        self.url = f"https://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60):
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stdout.read().decode()
            time.sleep(0.3)
            if not self.cert.exists():
                continue
            trust = ssl.create_default_context(cafile=str(self.cert))
            try:
                return httpx.get(f"{self.url}/.well-known/openid-configuration", verify=trust)
            except httpx.TransportError:
                continue
        raise AssertionError(f"cfp serve did not answer within {timeout} s")

    def http(self):
        import httpx

        return httpx.Client(
            base_url=self.url, verify=ssl.create_default_context(cafile=str(self.cert)), timeout=10
        )

    def stop(self, sig=signal.SIGINT) -> None:
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.mark.parametrize("workers", [1, 2])
def test_cfp_serve_dev_tls_answers_over_https(tmp_path, db, workers):
    """The real command in a child process: dev certificate made in the store, HTTPS answers."""
    import httpx

    served = Served(tmp_path / "home", db, workers=workers)
    try:
        answer = served.wait_ready()
        assert answer.json()["token_endpoint"] == f"{served.url}/auth/token"
        key = served.home / "exchange" / "tls" / "dev-key.pem"
        assert key.stat().st_mode & 0o077 == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{served.port}/3/footprints", timeout=5)
    finally:
        served.stop()


def test_a_request_accepted_before_kill_9_is_answered_after_a_restart(tmp_path, db, tls_files):
    """Accepted, not yet delivered (the recipient is down), host killed: the answer survives."""
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.publishing import publish

    from exchange_helpers import Receiver

    receiver = Receiver(tls_files)
    receiver.fail_next = 1000  # down for now
    database = open_database(db)
    publish(database, footprint(1, product="urn:gtin:1"))
    client = add_client(
        database,
        "recipient",
        events_url=f"{receiver.url}/3/events",
        events_client_id=Receiver.client_id,
        events_client_secret=Receiver.client_secret,
    )
    home = tmp_path / "home"
    served = Served(home, db, "--events-ca", str(tls_files[0]))
    try:
        served.wait_ready()
        with served.http() as http:
            token = http.post(
                "/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            ).json()["access_token"]
            accepted = http.post(
                "/3/events",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "specversion": "1.0",
                    "id": "before-kill",
                    "source": "https://recipient.example",
                    "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
                    "data": {"productId": ["urn:gtin:1"]},
                },
            )
        assert accepted.status_code == 200
        deadline = time.monotonic() + 30
        while receiver.refused == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.refused >= 1  # the host tried, and the recipient was down
    finally:
        served.stop(signal.SIGKILL)
    receiver.fail_next = 0
    restarted = Served(home, db, "--events-ca", str(tls_files[0]))
    try:
        restarted.wait_ready()
        (event,) = receiver.wait_for(1, timeout=60)
    finally:
        restarted.stop()
        receiver.stop()
        database.dispose()
    assert event["data"]["requestEventId"] == "before-kill"
    assert [pf["id"] for pf in event["data"]["pfs"]] == [footprint_id(1)]


def test_publish_queues_published_events_for_recipients(db, label_file):
    from sqlalchemy import select

    from cfp_engine.exchange.database import OutboxEvent, open_database

    added = run(
        "serve", "--db", db, "clients", "add", "r", "--events-url", "https://r.example/3/events"
    )
    assert added.exit_code == 2
    assert added.stderr.startswith(
        "Error: --events-url: needs --events-client-id and --events-client-secret"
    )
    run(
        "serve",
        "--db",
        db,
        "clients",
        "add",
        "r",
        "--events-url",
        "https://r.example/3/events",
        "--events-client-id",
        "id",
        "--events-client-secret",
        "secret",
    )
    result = run("publish", "--db", db, label_file(footprint(1)))
    assert result.exit_code == 0, result.output
    assert "1 Published event(s) queued for data recipients" in result.stderr
    database = open_database(db)
    with database.session() as session:
        (queued,) = session.scalars(select(OutboxEvent))
    database.dispose()
    assert (queued.url, queued.state) == ("https://r.example/3/events", "pending")
    assert footprint_id(1) in queued.body
