"""Throughput and latency of the PACT host (``cfp serve``) with many published footprints.

    python benchmarks/host_speed.py [N] [--workers W] [--db URL] [--clients C] [--seconds S]

Publishes N (default 100,000) hand-made PACT v3 footprints (each its own product) into a
fresh database (SQLite in a temporary store unless ``--db`` names another, e.g. a
PostgreSQL URL), registers a client, starts ``cfp serve --dev-tls`` with W workers
(default 1) on a free loopback port, and then measures, with C concurrent HTTPS clients
(default 16, httpx on asyncio in this process, keep-alive connections):

- GetFootprint (``GET /3/footprints/{id}`` of random ids) for S seconds (default 10):
  requests per second, p50 and p99 latency;
- ListFootprints: the time to walk every footprint through pagination (``limit=100``,
  following the ``Link: rel="next"`` headers).

The client shares the machine with the server: on 2 cores the figures are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from exchange_helpers import footprint, footprint_id, free_port  # noqa: E402


def publish(url: str, n: int) -> float:
    from cfp_engine.exchange.database import open_database
    from cfp_engine.exchange.publishing import publish_many

    database = open_database(url)
    start = time.perf_counter()
    chunk = 5000
    for first in range(0, n, chunk):
        documents = [
            ("bench", footprint(i, product=f"urn:gtin:{i}"))
            for i in range(first, min(n, first + chunk))
        ]
        publish_many(database, documents)
    database.dispose()
    return time.perf_counter() - start


def start_server(url: str, home: Path, workers: int) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    environment = {**os.environ, "CFP_ENGINE_HOME": str(home)}
    environment["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + environment.get("PYTHONPATH", "")
    process = subprocess.Popen(
        [sys.executable, "-m", "cfp_engine", "serve", "--db", url, "--dev-tls"]
        + ["--port", str(port), "--workers", str(workers)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, f"https://127.0.0.1:{port}", home / "exchange" / "tls" / "dev-cert.pem"


async def wait_ready(base: str, cert: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        if not cert.exists():
            continue
        try:
            async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(cert))) as h:
                await h.get(f"{base}/.well-known/openid-configuration")
                return
        except httpx.TransportError:
            continue
    raise SystemExit("the server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(base: str, cert: Path, client, n: int, clients: int, seconds: float) -> None:
    import httpx

    trust = ssl.create_default_context(cafile=str(cert))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, verify=trust, limits=limits, timeout=30) as http:
        token = (
            await http.post(
                "/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        latencies: list[float] = []
        errors = 0
        stop_at = time.perf_counter() + seconds
        rng = random.Random(1)

        async def get_loop() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                response = await http.get(f"/3/footprints/{footprint_id(rng.randrange(n))}")
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(get_loop() for _ in range(clients)))
        elapsed = time.perf_counter() - start
        print(
            f"GetFootprint: {len(latencies) / elapsed:,.0f} requests/s with {clients} clients, "
            f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, {errors} errors"
        )
        start = time.perf_counter()
        url, seen, pages, page_times = "/3/footprints?limit=100", 0, 0, []
        while url:
            page_start = time.perf_counter()
            response = await http.get(url)
            page_times.append(time.perf_counter() - page_start)
            seen += len(response.json()["data"])
            pages += 1
            link = response.headers.get("link")
            url = link[1 : link.index(">")].replace(base, "") if link else None
        walk = time.perf_counter() - start
        print(
            f"ListFootprints: walked {seen:,} footprints in {pages:,} pages of 100 in {walk:.1f} s "
            f"(p50 {percentile(page_times, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(page_times, 0.99) * 1000:.1f} ms per page)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cfp-host-bench-"))
    os.environ["CFP_ENGINE_HOME"] = str(work / "home")
    url = options.db or f"sqlite:///{work / 'host.sqlite'}"
    print(f"Publishing {options.n:,} footprints into {url.split('@')[-1]} ...")
    print(f"  {publish(url, options.n):.1f} s")
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.database import open_database

    database = open_database(url)
    client = add_client(database, f"bench-{time.time_ns()}")
    database.dispose()
    process, base, cert = start_server(url, work / "home", options.workers)
    try:
        asyncio.run(wait_ready(base, cert))
        print(f"cfp serve --workers {options.workers} at {base}")
        asyncio.run(measure(base, cert, client, options.n, options.clients, options.seconds))
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        print(f"(data left in {work})")


if __name__ == "__main__":
    main()
