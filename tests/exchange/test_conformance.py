"""PACT's own conformance tool against this host, for v3.0 and v2.3.

The tool (WBCSD pact-conformance-service, MIT; ``../shared/tools/pact-conformance-run``)
runs in its command-line mode against a host started here over TLS, on SQLite and on
PostgreSQL (whose reads take another path, see ``exchange.async_reads``), with two real
PACT v3 and two v2.3 labels made by ``cfp label``. In this mode the asynchronous cases
(a callback to the tool's own listener) stay PENDING: 13 and 14.B. Every other
mandatory case must pass. The first run installs the tool's npm packages into a cache
(``npm ci``, network needed once).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cfp_engine.exchange.clients import add_client
from cfp_engine.exchange.publishing import publish

from exchange_helpers import BACKENDS, Host, database_url, pact_label

TOOL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "pact-conformance-run"
ASYNCHRONOUS = {"13", "14.B"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CASE = re.compile(r"^([✓✗⧗])\s+Test Case ([0-9]+(?:\.[A-Z])?):")


def parse_report(output: str) -> tuple[dict[str, str], dict[str, int]]:
    """The mandatory cases' marks (``✓``, ``✗``, ``⧗``) by number, and the statistics."""
    text = _ANSI.sub("", output)
    mandatory = text.split("Mandatory Tests:\n", 1)[1].split("Non-Mandatory Tests:", 1)[0]
    marks = {}
    for line in mandatory.splitlines():
        found = _CASE.match(line.strip())
        if found:
            marks[found.group(2)] = found.group(1)
    statistics = text.split("STATISTICS", 1)[1].split("Mandatory Tests:", 1)[1]
    numbers = {
        "mandatory": int(re.match(r"\s*(\d+)", statistics).group(1)),
        "passed": int(re.search(r"Passed:\s*(\d+)", statistics).group(1)),
        "failed": int(re.search(r"Failed:\s*(\d+)", statistics).group(1)),
    }
    return marks, numbers


@pytest.fixture(scope="module", params=BACKENDS)
def conformance_host(request, tmp_path_factory, tls_files, builtin_table):
    if not TOOL.is_file():
        pytest.skip(f"PACT's conformance tool is not at {TOOL}")
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("PACT's conformance tool needs Node.js and npm (Debian: nodejs, npm)")
    from cfp_engine.exchange.database import open_database

    database = open_database(database_url(request, tmp_path_factory.mktemp("pact")))
    for example, product in (
        ("pet-bottle", "urn:gtin:4012345000009"),
        ("aluminium-can", "urn:gtin:4012345000016"),
    ):
        for fmt in ("pact", "pact-v2"):
            publish(database, pact_label(fmt, example=example, product_id=product))
    running = Host(database, tls_files)
    running.tool_client = add_client(database, "pact-conformance")
    yield running
    running.stop()
    database.dispose()


@pytest.mark.parametrize("version", ["V3.0", "V2.3"])
def test_every_mandatory_synchronous_case_passes(conformance_host, version):
    client = conformance_host.tool_client
    environment = {**os.environ, "NODE_EXTRA_CA_CERTS": str(conformance_host.cert)}
    completed = subprocess.run(
        [
            str(TOOL),
            "--baseUrl",
            conformance_host.url,
            "--clientId",
            client.client_id,
            "--clientSecret",
            client.client_secret,
            "--version",
            version,
            "--organizationName",
            "cfp-engine",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=900,
    )
    output = completed.stdout + completed.stderr
    assert "STATISTICS" in output, output[-3000:]
    marks, numbers = parse_report(output)
    failed = sorted(number for number, mark in marks.items() if mark == "✗")
    pending = {number for number, mark in marks.items() if mark == "⧗"}
    print(  # shown with pytest -s: the figures the README quotes
        f"PACT conformance {version} ({conformance_host.database.engine.dialect.name}): "
        f"{numbers['passed']} of {numbers['mandatory']} mandatory "
        f"cases passed, {numbers['failed']} failed, pending {sorted(pending)}"
    )
    assert failed == [], output[-6000:]
    assert numbers["failed"] == 0
    assert pending <= ASYNCHRONOUS
    assert numbers["passed"] == numbers["mandatory"] - len(pending)
    assert numbers["passed"] >= 10  # the tool ran its cases, not an empty selection
