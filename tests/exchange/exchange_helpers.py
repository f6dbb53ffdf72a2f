"""Helpers of the PACT host tests: hand-made footprints, a real TLS server.

The server is uvicorn on a free loopback port, in a thread of the test process, serving
a real database over TLS with a certificate made for the test; clients are httpx clients
that trust that certificate.
"""

from __future__ import annotations

import copy
import socket
import ssl
import threading
import time
import uuid
from pathlib import Path

import pytest

COMPANY = "urn:uuid:11111111-2222-3333-4444-555555555555"
OTHER_COMPANY = "urn:uuid:99999999-8888-7777-6666-555555555555"

_TEMPLATE = {
    "specVersion": "3.0.0",
    "id": "",
    "created": "2026-01-01T00:00:00Z",
    "status": "Active",
    "companyName": "Acme",
    "companyIds": [COMPANY],
    "productDescription": "PET bottle, 500 mL",
    "productIds": ["urn:gtin:4012345000009"],
    "productNameCompany": "PET bottle, 500 mL",
    "pcf": {
        "declaredUnitOfMeasurement": "piece",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "0.0255",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T23:59:59Z",
        "boundaryProcessesDescription": "Cradle to grave.",
        "pcfExcludingBiogenicUptake": "0.102851",
        "pcfIncludingBiogenicUptake": "0.102851",
        "fossilCarbonContent": "0.0165158",
        "biogenicCarbonContent": "0",
        "fossilGhgEmissions": "0.102851",
        "landUseChangeGhgEmissions": "0",
        "biogenicCO2Uptake": "0",
        "biogenicNonCO2Emissions": "0",
        "aircraftGhgEmissions": "0",
        "packagingEmissionsIncluded": False,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067"],
        "exemptedEmissionsPercent": "0",
        "exemptedEmissionsDescription": "None.",
        "primaryDataShare": "0",
        "geographyCountry": "JP",
    },
}


def footprint(
    number: int,
    *,
    product: str | list[str] = "urn:gtin:4012345000009",
    company: str | list[str] = COMPANY,
    geography: str | None = "JP",
    region: str | None = None,
    classifications: list[str] | None = None,
    validity: tuple[str, str] | None = None,
    reference_end: str = "2025-12-31T23:59:59Z",
    spec_version: str = "3.0.0",
) -> dict:
    """A valid PACT v3 footprint with id ``uuid(number)`` and the given keys."""
    document = copy.deepcopy(_TEMPLATE)
    document["id"] = footprint_id(number)
    document["specVersion"] = spec_version
    document["productIds"] = [product] if isinstance(product, str) else list(product)
    document["companyIds"] = [company] if isinstance(company, str) else list(company)
    document["pcf"]["referencePeriodEnd"] = reference_end
    del document["pcf"]["geographyCountry"]
    if geography:
        document["pcf"]["geographyCountry"] = geography
    if region:
        document["pcf"]["geographyRegionOrSubregion"] = region
    if classifications:
        document["productClassifications"] = classifications
    if validity:
        document["validityPeriodStart"], document["validityPeriodEnd"] = validity
    return document


def footprint_id(number: int) -> str:
    return str(uuid.UUID(int=number + (0xABCD << 96)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Host:
    """A running host: ``url``, ``cert``, and helpers to get tokens and clients."""

    def __init__(self, database, tls, **app_options):
        import uvicorn

        from cfp_engine.exchange.app import create_app

        self.database = database
        self.tokens: dict[str, str] = {}
        self.cert, key = tls
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(database, **app_options),
            host="127.0.0.1",
            port=self.port,
            ssl_certfile=str(self.cert),
            ssl_keyfile=str(key),
            log_level="error",
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test host did not start")
            time.sleep(0.02)

    def http(self, **options):
        import httpx

        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=str(self.cert)),
            timeout=10,
            **options,
        )

    def token(self, client) -> str:
        """A new access token of ``client``."""
        with self.http() as http:
            response = http.post(
                "/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def reader(self, client):
        """An httpx client that sends ``client``'s bearer token (one token per client)."""
        if client.client_id not in self.tokens:
            self.tokens[client.client_id] = self.token(client)
        return self.http(headers={"Authorization": f"Bearer {self.tokens[client.client_id]}"})

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def pact_label(
    fmt: str,
    *,
    example: str = "pet-bottle",
    product_id: str = "urn:gtin:4012345000009",
    created: str = "2026-01-01",
) -> dict:
    """The PACT label (``fmt`` ``pact`` or ``pact-v2``) of an example spec, as ``cfp label``
    makes it (needs the built-in store)."""
    import json
    from datetime import datetime, timezone

    from cfp_engine.labels.make import make_disclosure, render_label
    from cfp_engine.spec.product import load_spec

    spec = load_spec(EXAMPLES / f"{example}.yaml")
    facts = {
        "company_name": "Acme",
        "company_ids": (COMPANY,),
        "product_ids": (product_id,),
        "product_category_cpc": "36490",
        "reference_period": "2025-01-01:2025-12-31",
        "created": datetime.fromisoformat(created).replace(tzinfo=timezone.utc),
    }
    return json.loads(render_label(make_disclosure(spec, facts=facts), fmt))


class PostgresServer:
    """A throwaway PostgreSQL server from Debian's binaries, on a free loopback port.

    ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
    user (which Debian's package creates) through ``runuser``.
    """

    def __init__(self):
        import glob
        import os
        import pwd
        import shutil
        import subprocess
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.skip("PostgreSQL tests need the server binaries (/usr/lib/postgresql/*/bin)")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pytest.skip("PostgreSQL tests need psycopg (pip install 'cfp-engine[postgresql]')")
        self.bin = Path(found[-1]).parent
        # Not under pytest's folders: those are private to root, and the server may run as
        # the postgres user.
        folder = self.folder = Path(tempfile.mkdtemp(prefix="cfp-test-postgres-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root, and there is no postgres user to run initdb as")
            self.prefix = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
            folder.chmod(0o755)
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        self.data = folder / "data"
        self.port = free_port()
        self.counter = 0
        self._run = subprocess.run
        self._run(
            [*self.prefix, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
            + ["--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options]
            + ["-l", str(folder / "server.log"), "-w", "start"],
            check=True,
            capture_output=True,
        )

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        self.counter += 1
        name = f"test_{self.counter}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        import shutil

        stop = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
        self._run([*self.prefix, *stop], capture_output=True)
        for _ in range(50):  # the server's last processes may still be writing as they exit
            shutil.rmtree(self.folder, ignore_errors=True)
            if not self.folder.exists():
                break
            time.sleep(0.1)


BACKENDS = ["sqlite", "postgresql"]


def database_url(request, folder: Path) -> str:
    """A new empty database of the backend ``request.param`` (a parametrised fixture's)."""
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'host.sqlite'}"
    return request.getfixturevalue("postgres").new_database()
