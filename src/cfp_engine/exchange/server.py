"""Run the host: uvicorn over TLS, one or several worker processes.

Plain HTTP is refused: without a certificate and key (or ``dev_tls``) nothing starts.
The database is migrated once here, before the workers start; each worker serves the
API and delivers the outbox (see :mod:`.outbox`).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cfp_engine.errors import SpecError, quote_input
from cfp_engine.exchange.app import DB_ENV_VAR, EVENTS_CA_ENV_VAR, PUBLIC_URL_ENV_VAR
from cfp_engine.exchange.database import open_database
from cfp_engine.exchange.protocol import h11_options, http_protocol


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8443
    db_url: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    dev_tls: bool = False
    workers: int = 1
    #: CA bundle to verify recipients' events endpoints with (default: the system's).
    events_ca: str | None = None
    #: The URL recipients know the host by (behind a reverse proxy); default
    #: ``https://{host}:{port}``.
    public_url: str | None = None


def tls_files(options: ServeOptions) -> tuple[str, str]:
    """The certificate and key to serve with; :class:`SpecError` when TLS is not configured."""
    if options.dev_tls:
        if options.tls_cert or options.tls_key:
            raise SpecError("dev_tls: give either dev_tls or tls_cert and tls_key, not both")
        from cfp_engine.exchange.tls import dev_tls_paths

        cert, key = dev_tls_paths()
        return str(cert), str(key)
    if not (options.tls_cert and options.tls_key):
        raise SpecError(
            "tls_cert: the host serves HTTPS only; give tls_cert and tls_key "
            "(or dev_tls for a self-signed certificate on this machine)"
        )
    for name, path in (("tls_cert", options.tls_cert), ("tls_key", options.tls_key)):
        if not Path(path).is_file():
            raise SpecError(f"{name}: {quote_input(path)} is not a readable file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(options.tls_cert, options.tls_key)
    except (ssl.SSLError, OSError) as exc:
        raise SpecError(
            f"tls_cert: cannot use {quote_input(options.tls_cert)} with "
            f"{quote_input(options.tls_key)} ({exc})"
        ) from None
    return options.tls_cert, options.tls_key


def serve(options: ServeOptions) -> None:
    """Serve until interrupted."""
    import uvicorn

    if options.workers < 1:
        raise SpecError(f"workers: must be at least 1, not {options.workers}")
    cert, key = tls_files(options)
    if options.events_ca is not None:
        if not Path(options.events_ca).is_file():
            raise SpecError(f"events_ca: {quote_input(options.events_ca)} is not a readable file")
        os.environ[EVENTS_CA_ENV_VAR] = str(Path(options.events_ca).resolve())
    public_url = options.public_url or f"https://{options.host}:{options.port}"
    if not public_url.startswith("https://"):
        raise SpecError(f"public_url: {quote_input(public_url)} is not an https:// URL")
    os.environ[PUBLIC_URL_ENV_VAR] = public_url.rstrip("/")
    database = open_database(options.db_url)
    database.dispose()
    os.environ[DB_ENV_VAR] = database.url
    uvicorn.run(
        "cfp_engine.exchange.app:app_from_environment",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        ssl_certfile=cert,
        ssl_keyfile=key,
        # An idle keep-alive connection is closed after 5 s; beyond 1000 connections and
        # requests in progress a worker answers 503 at once instead of queueing. A client
        # that sends its headers slowly holds one connection, not the worker (asyncio):
        # put a reverse proxy with header and body timeouts in front for the open
        # internet (README, "behind a reverse proxy").
        timeout_keep_alive=5,
        limit_concurrency=1000,
        server_header=False,
        # uvloop and httptools when installed (see .protocol); no access log: one log
        # line per request cost a tenth of the request's time, and the proxy keeps one.
        access_log=False,
        log_level="warning",
        http=http_protocol(),
        **h11_options(),
    )
