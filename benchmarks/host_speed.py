"""Throughput and latency of the PACT host (``cfp serve``) with many published footprints.

    python benchmarks/host_speed.py [N] [--workers 1,2] [--db URL] [--clients C]
        [--seconds S] [--load wrk|httpx] [--src DIR] [--postgres]

Publishes N (default 100,000) hand-made PACT v3 footprints (each its own product) into a
fresh database (SQLite in a temporary store unless ``--db`` names another, e.g. a
PostgreSQL URL), registers a client, and for each worker count W (default 1 and 2) starts
``cfp serve --dev-tls --workers W`` on a free loopback port and measures, with C
concurrent HTTPS clients (default 16, keep-alive connections):

- GetFootprint (``GET /3/footprints/{id}`` of random ids) for S seconds (default 10),
  after a 3 s warm-up: requests per second, p50 and p99 latency. The load comes from
  ``wrk`` (Debian package wrk; a C load generator, script ``host_get.lua``) when it is
  installed, else from httpx
  on asyncio in this process, which measures the client as much as the server;
- ListFootprints: the time to walk every footprint through pagination (``limit=100``,
  following the ``Link: rel="next"`` headers), one request at a time.

``--src DIR`` runs another checkout's ``src`` (e.g. the main branch, for figures before a
change). The load generator shares the machine with the server: on 2 cores the figures
are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
SRC = ROOT / "src"
#: Seconds of load before measuring: the workers open their database connections and
#: PostgreSQL prepares its statements (without it, p99 counts those first requests).
WARMUP_S = 3
if "--src" in sys.argv:  # before anything imports cfp_engine
    SRC = Path(sys.argv[sys.argv.index("--src") + 1]).resolve()
sys.path.insert(0, str(SRC))

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
    environment["PYTHONPATH"] = str(SRC) + os.pathsep + environment.get("PYTHONPATH", "")
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


def measure_wrk(base: str, token: str, n: int, clients: int, seconds: float) -> None:
    """GetFootprint under wrk's load (two threads, ``clients`` connections), after a
    warm-up of :data:`WARMUP_S` seconds that is not measured."""
    environment = {**os.environ, "CFP_BENCH_TOKEN": token, "CFP_BENCH_N": str(n)}
    script = Path(__file__).resolve().parent / "host_get.lua"
    warmup = ["wrk", "-t2", f"-c{clients}", f"-d{WARMUP_S}s", "-s", str(script), base]
    subprocess.run(warmup, env=environment, capture_output=True, timeout=60, check=True)
    run = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "-s", str(script), base],
        env=environment,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    found = re.search(r"WRK (.*)", run.stdout)
    figures = dict(item.split("=") for item in found.group(1).split())
    rate = int(figures["requests"]) / float(figures["seconds"])
    print(
        f"GetFootprint (wrk): {rate:,.0f} requests/s with {clients} connections, "
        f"p50 {float(figures['p50_ms']):.1f} ms, p99 {float(figures['p99_ms']):.1f} ms, "
        f"{figures['non2xx']} non-2xx, {figures['socket_errors']} socket errors"
    )


async def measure(
    base: str, cert: Path, client, n: int, clients: int, seconds: float, load: str
) -> None:
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
        if load == "wrk":
            measure_wrk(base, token, n, clients, seconds)
            await get_with_httpx(http, n, clients, 0)
        else:
            await get_with_httpx(http, n, clients, seconds)
        await walk(http, base)


async def get_with_httpx(http, n: int, clients: int, seconds: float) -> None:
    """GetFootprint from ``clients`` asyncio tasks of this process (no figures if 0 s)."""
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

    if not seconds:
        return
    start = time.perf_counter()
    await asyncio.gather(*(get_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    print(
        f"GetFootprint (httpx): {len(latencies) / elapsed:,.0f} requests/s with {clients} "
        f"clients, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, {errors} errors"
    )


async def walk(http, base: str) -> None:
    """ListFootprints: every footprint, page after page (``limit=100``)."""
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
    elapsed = time.perf_counter() - start
    print(
        f"ListFootprints: walked {seen:,} footprints in {pages:,} pages of 100 in "
        f"{elapsed:.1f} s (p50 {percentile(page_times, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(page_times, 0.99) * 1000:.1f} ms per page)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument("--db", default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--load", choices=("wrk", "httpx"), default=None)
    parser.add_argument("--src", default=None, help="the cfp_engine sources to run")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="run on a throwaway PostgreSQL server from Debian's binaries (fsync off)",
    )
    options = parser.parse_args()
    postgres = None
    if options.postgres:
        from exchange_helpers import PostgresServer

        postgres = PostgresServer()
        options.db = postgres.new_database()
    try:
        run(options)
    finally:
        if postgres is not None:
            postgres.stop()


def run(options) -> None:
    load = options.load or ("wrk" if shutil.which("wrk") else "httpx")
    work = Path(tempfile.mkdtemp(prefix="cfp-host-bench-"))
    os.environ["CFP_ENGINE_HOME"] = str(work / "home")
    url = options.db or f"sqlite:///{work / 'host.sqlite'}"
    print(f"cfp_engine from {SRC}; load from {load}")
    print(f"Publishing {options.n:,} footprints into {url.split('@')[-1]} ...")
    print(f"  {publish(url, options.n):.1f} s")
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.database import open_database

    database = open_database(url)
    client = add_client(database, f"bench-{time.time_ns()}")
    database.dispose()
    for workers in [int(w) for w in options.workers.split(",")]:
        process, base, cert = start_server(url, work / "home", workers)
        try:
            asyncio.run(wait_ready(base, cert))
            print(f"cfp serve --workers {workers} at {base}")
            asyncio.run(
                measure(base, cert, client, options.n, options.clients, options.seconds, load)
            )
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(30)
    print(f"(data left in {work})")


if __name__ == "__main__":
    main()
