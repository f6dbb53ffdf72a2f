"""The PACT host as an ASGI application (Starlette): auth, footprints v2.3 and v3.0, events.

Routes (PACT Technical Specifications v2.3 and v3.0 on one base URL):

- ``POST /auth/token``: OAuth2 client credentials (RFC 6749 section 4.4), client
  authenticated by HTTP Basic (or ``client_id``/``client_secret`` in the form body);
  ``invalid_client`` (RFC 6749 section 5.2) on failure;
- ``GET /.well-known/openid-configuration``: the token endpoint (tokens are opaque, so
  there is no JWKS);
- ``GET /{2,3}/footprints`` (filters, ``limit``, RFC 8288 ``Link: <...>; rel="next"``) and
  ``GET /{2,3}/footprints/{id}``;
- ``POST /{2,3}/events``: CloudEvents, checked and kept (see :mod:`.events`); a footprint
  request is answered through the outbox (:mod:`.answers`, :mod:`.outbox`);
- ``GET /labels/{id}``: the readable label of a public footprint, for people, no token
  (``?lang=ja`` or ``Accept-Language``; see :mod:`.pages`).

Errors are PACT error bodies ``{"code": ..., "message": ...}``. Requests that did not
arrive over TLS are refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import logging
import os
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from cfp_engine.exchange import answers, clients, events, listing, pages, tokens
from cfp_engine.exchange.async_reads import AsyncReads
from cfp_engine.exchange.database import Database, open_database
from cfp_engine.exchange.filters import QueryError, parse_query
from cfp_engine.exchange.outbox import RetryPolicy, Sender

logger = logging.getLogger(__name__)

#: Largest request body accepted (token requests and events), in bytes.
MAX_BODY_BYTES = 1_000_000
DB_ENV_VAR = "CFP_EXCHANGE_DB"
#: A CA bundle to verify recipients' events endpoints with (default: the system's).
EVENTS_CA_ENV_VAR = "CFP_EXCHANGE_EVENTS_CA"
#: The host's public base URL (the ``source`` of the events it sends).
PUBLIC_URL_ENV_VAR = "CFP_EXCHANGE_PUBLIC_URL"
_STATUS = {
    "BadRequest": 400,
    "AccessDenied": 403,
    "NotFound": 404,
    "NoSuchFootprint": 404,
    "TokenExpired": 401,
    "NotImplemented": 400,
    "InternalError": 500,
}
# The label page is static HTML with inline CSS and SVG: nothing else may load or run.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept-Language",
    "Cache-Control": "public, max-age=300",
}
_NO_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><p>No public label has this address.</p></body></html>
"""


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None, headers=None):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or _STATUS[code]
        self.headers = headers


def _error(code: str, message: str, status: int | None = None, headers=None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message}, status_code=status or _STATUS[code], headers=headers
    )


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="cfp-engine"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError("BadRequest", f"the body is larger than {limit} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("BadRequest", f"the body is larger than {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    # RFC 6749 section 2.3.1: id and secret are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


def create_app(
    database: Database,
    *,
    token_lifetime_s: int = tokens.DEFAULT_LIFETIME_S,
    max_body_bytes: int = MAX_BODY_BYTES,
    sender: Sender | None = None,
    token_cache_s: float = 30.0,
) -> Starlette:
    """The host application serving ``database``.

    Parameters
    ----------
    database
        The host database.
    token_lifetime_s
        How long an access token is valid.
    max_body_bytes
        The largest request body accepted (413 beyond).
    sender
        Delivers the outbox (answers to footprint requests) while the application runs;
        without one, answers are queued for another process to send.
    token_cache_s
        How long a checked access token is trusted without asking the database (see
        :class:`.tokens.TokenCache`); 0 asks every time.
    """
    token_cache = tokens.TokenCache(database, ttl_s=token_cache_s)
    reads = AsyncReads.for_database(database)

    def on_event_loop() -> AsyncReads | None:
        # The pool opens with the application (lifespan); until then, threads serve.
        return reads if reads is not None and reads.is_open else None

    async def token(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body_bytes)
        except ApiError as exc:
            return _oauth_error("invalid_request", exc.message, exc.status)
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return _oauth_error("invalid_request", "the body is not a form")
        credentials = _basic_credentials(request.headers.get("authorization", ""))
        if credentials is None and "client_id" in form:
            credentials = form.get("client_id", ""), form.get("client_secret", "")
        if credentials is None or len(credentials[0]) > 200 or len(credentials[1]) > 200:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                "unsupported_grant_type", "only grant_type=client_credentials is supported"
            )
        client_pk = await run_in_threadpool(clients.authenticate, database, *credentials)
        if client_pk is None:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        issued = await run_in_threadpool(
            tokens.issue_token, database, client_pk, lifetime_s=token_lifetime_s
        )
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def openid_configuration(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": base,
                "token_endpoint": f"{base}/auth/token",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "response_types_supported": ["token"],
            }
        )

    async def client_of(request: Request) -> int:
        header = request.headers.get("authorization")
        if not header:
            raise ApiError("BadRequest", "an access token is needed (Authorization: Bearer ...)")
        scheme, _, value = header.partition(" ")
        bearer = 'Bearer realm="cfp-engine"'
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError("BadRequest", "invalid access token", 401, {"WWW-Authenticate": bearer})
        value = value.strip()
        check = token_cache.cached(value)
        if check is None:
            check = await run_in_threadpool(token_cache.check, value)
        if check.problem == "expired":
            raise ApiError(
                "TokenExpired",
                "the access token has expired",
                headers={"WWW-Authenticate": bearer + ', error="invalid_token"'},
            )
        if check.client_pk is None:
            raise ApiError(
                "BadRequest",
                "invalid access token",
                401,
                {"WWW-Authenticate": bearer + ', error="invalid_token"'},
            )
        return check.client_pk

    def footprint_routes(api: int) -> list[Route]:
        missing = "NotFound" if api == 3 else "NoSuchFootprint"

        async def list_footprints(request: Request) -> Response:
            client_pk = await client_of(request)
            try:
                query = parse_query(request.query_params.multi_items(), api=api)
            except QueryError as exc:
                raise ApiError(exc.code, str(exc)) from None
            if on_event_loop():
                page = await listing.list_page_json_async(reads, client_pk, api, query)
            else:
                page = await run_in_threadpool(
                    listing.list_page_json, database, client_pk, api, query
                )
            headers = {}
            if page.next_after is not None:
                url = request.url.include_query_params(limit=query.limit, after=page.next_after)
                headers["Link"] = f'<{url}>; rel="next"'
            # The stored JSON texts, not decoded and encoded again.
            body = '{"data":[' + ",".join(page.footprints) + "]}"
            return Response(body, media_type="application/json", headers=headers)

        async def get_footprint(request: Request) -> Response:
            client_pk = await client_of(request)
            footprint_id = request.path_params["id"]
            if on_event_loop():
                document = await listing.get_footprint_json_async(
                    reads, client_pk, api, footprint_id
                )
            else:
                document = await run_in_threadpool(
                    listing.get_footprint_json, database, client_pk, api, footprint_id
                )
            if document is None:
                raise ApiError(missing, f"no footprint with id {footprint_id[:64]!r}")
            return Response('{"data":' + document + "}", media_type="application/json")

        async def post_event(request: Request) -> Response:
            client_pk = await client_of(request)
            body = await _read_body(request, max_body_bytes)
            try:
                event = events.check_event(body, api=api)
            except QueryError as exc:
                raise ApiError(exc.code, str(exc)) from None
            new = await run_in_threadpool(events.record_event, database, client_pk, api, event)
            if new and event["type"] == events.EVENT_TYPES[api]["created"]:
                source = str(request.base_url).rstrip("/")
                queued = await run_in_threadpool(
                    answers.answer, database, client_pk, api, event, source=source
                )
                if queued and sender is not None:
                    sender.wake()
            return Response(status_code=200)

        return [
            Route(f"/{api}/footprints", list_footprints, methods=["GET"]),
            Route(f"/{api}/footprints/{{id}}", get_footprint, methods=["GET"]),
            Route(f"/{api}/events", post_event, methods=["POST"]),
        ]

    async def label_page(request: Request) -> Response:
        lang = pages.page_language(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        page = await run_in_threadpool(pages.public_page, database, request.path_params["id"], lang)
        if page is None:
            return HTMLResponse(
                _NO_PAGE, status_code=404, headers={"X-Content-Type-Options": "nosniff"}
            )
        return HTMLResponse(page, headers={**_PAGE_HEADERS, "Content-Language": lang})

    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.code, exc.message, exc.status, exc.headers)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return _error("NotFound", "no such resource", 404)
        if exc.status_code == 405:
            return _error("BadRequest", "method not allowed", 405, exc.headers)
        return _error("BadRequest", str(exc.detail), exc.status_code)

    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.exception("internal error on %s %s", request.method, request.url.path)
        # Starlette raises the error again once this is sent, and uvicorn then closes the
        # connection: say so, or a client would send its next request into a closed one.
        return _error("InternalError", "internal error", headers={"Connection": "close"})

    routes = [
        Route("/auth/token", token, methods=["POST"]),
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        *footprint_routes(3),
        *footprint_routes(2),
        Route("/labels/{id}", label_page, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if reads is not None:
            await reads.open()
        if sender is not None:
            sender.start()
        try:
            yield
        finally:
            if sender is not None:
                await run_in_threadpool(sender.stop)
            if reads is not None:
                await reads.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
    )
    return TlsOnly(app)


def _freeze_startup_objects() -> None:
    """Keep the objects made while starting out of the garbage collector's full passes.

    A worker process holds tens of thousands of objects from its imports (SQLAlchemy,
    the engine's libraries) that live as long as it does. Python's full collections
    walked them all: a pause of about 70 ms every two seconds under load, which was the
    host's p99 latency. ``gc.freeze()`` moves them to a generation no collection visits
    (https://docs.python.org/3/library/gc.html#gc.freeze); what is garbage now is
    collected first.
    """
    gc.collect()
    gc.freeze()


class TlsOnly:
    """ASGI middleware: refuse any HTTP request that did not arrive over TLS."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("scheme") != "https":
            response = _error("BadRequest", "this host answers over HTTPS only", 400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def app_from_environment():
    """The application for uvicorn's worker processes (database URL in ``CFP_EXCHANGE_DB``).

    Each worker also runs a sender for the outbox; the senders share the work through
    the database.
    """
    import ssl

    database = open_database(os.environ.get(DB_ENV_VAR) or None, migrate=False)
    ca = os.environ.get(EVENTS_CA_ENV_VAR)
    verify = ssl.create_default_context(cafile=ca) if ca else True
    source = os.environ.get(PUBLIC_URL_ENV_VAR, "")
    sender = Sender(database, RetryPolicy(), verify=verify, source=source)
    app = create_app(database, sender=sender)
    _freeze_startup_objects()
    return app
