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
    ],
)
def test_publish_usage_errors(db, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
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
        "serve", "--db", db, "clients", "add", "r", "--events-url", "http://r.example/3/events"
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


@pytest.mark.parametrize("workers", [1, 2])
def test_cfp_serve_dev_tls_answers_over_https(tmp_path, db, workers):
    """The real command in a child process: dev certificate made in the store, HTTPS answers."""
    import httpx

    home = tmp_path / "home"
    environment = {
        **os.environ,
        "CFP_ENGINE_HOME": str(home),
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    port = free_port()
    command = [sys.executable, "-m", "cfp_engine", "serve", "--db", db, "--dev-tls"]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cert = home / "exchange" / "tls" / "dev-cert.pem"
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and answer is None:
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.3)
            if not cert.exists():
                continue
            trust = ssl.create_default_context(cafile=str(cert))
            try:
                answer = httpx.get(
                    f"https://127.0.0.1:{port}/.well-known/openid-configuration", verify=trust
                )
            except httpx.TransportError:
                continue
        assert answer is not None, "cfp serve did not answer within 60 s"
        assert answer.json()["token_endpoint"] == f"https://127.0.0.1:{port}/auth/token"
        assert (home / "exchange" / "tls" / "dev-key.pem").stat().st_mode & 0o077 == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/3/footprints", timeout=5)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
