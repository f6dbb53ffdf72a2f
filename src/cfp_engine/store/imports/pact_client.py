"""A data recipient's client of a PACT host (Technical Specifications v3.0 and v2.3).

:class:`PactClient` authenticates with OAuth2 client credentials, lists footprints
following RFC 8288 ``Link: <...>; rel="next"`` pages, gets one footprint and posts events.
The token endpoint is found as the specifications require: the host's OpenID Provider
Metadata (``/.well-known/openid-configuration``, its ``token_endpoint``) first, and
``{base URL}/auth/token`` when the host has none
(https://docs.carbon-transparency.org/tr/data-exchange-protocol/latest/#api-auth).

Every failure (host down, TLS, wrong credentials, a PACT error body, a page that is not
a list of footprints) is one :class:`~cfp_engine.errors.ExchangeError` naming the host.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from cfp_engine.errors import ExchangeError, SpecError, quote_input

#: The most pages one listing follows (a host whose ``next`` links never end).
MAX_PAGES = 10_000
#: Seconds to wait for the host (connect and each read).
TIMEOUT_S = 30.0


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash; :class:`SpecError` unless it is an https URL."""
    parts = urlsplit(str(url))
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise SpecError(
            f"url {quote_input(url)}: a PACT host's base URL is https://host[:port][/path] "
            "(PACT requires TLS)"
        )
    return str(url).rstrip("/")


class PactClient:
    """A client of the host at ``url`` with the credentials it gave this data recipient.

    Parameters
    ----------
    url
        The host's base URL (``https://...``); the API is under ``/{version}/``.
    client_id, client_secret
        The OAuth2 client credentials the host registered for this recipient.
    version
        The PACT API major version: 3 (``/3/...``) or 2 (v2.3, ``/2/...``).
    ca_file
        A PEM file of certificates to trust instead of the system's (a host with a
        self-signed certificate).
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        version: int = 3,
        ca_file: str | None = None,
        timeout_s: float = TIMEOUT_S,
    ):
        import httpx

        if version not in (2, 3):
            raise SpecError(f"version {version!r}: PACT API versions are 3 and 2")
        if not client_id or not client_secret:
            raise SpecError("client_id and client_secret: both are needed to authenticate")
        self.url = check_base_url(url)
        self.version = version
        self._credentials = (client_id, client_secret)
        try:
            verify: Any = ssl.create_default_context(cafile=ca_file) if ca_file else True
        except (OSError, ssl.SSLError) as exc:
            raise SpecError(
                f"ca_file {quote_input(ca_file)}: not a PEM certificate file ({exc})"
            ) from None
        self._http = httpx.Client(verify=verify, timeout=timeout_s, follow_redirects=False)
        self._token: str | None = None

    def __enter__(self) -> PactClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests -------------------------------------------------------------------

    def _request(self, method: str, url: str, **options):
        import httpx

        try:
            return self._http.request(method, url, **options)
        except httpx.ConnectError as exc:
            reason = str(exc) or type(exc).__name__
            if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
                raise ExchangeError(
                    f"{self.url}: TLS failure ({_short(reason)}); give the host's certificate "
                    "with ca_file=PEM if it is self-signed"
                ) from None
            raise ExchangeError(f"{self.url}: cannot connect ({_short(reason)})") from None
        except httpx.TimeoutException:
            raise ExchangeError(f"{self.url}: no answer within the timeout") from None
        except httpx.HTTPError as exc:
            raise ExchangeError(f"{self.url}: {type(exc).__name__}: {_short(str(exc))}") from None

    def token_endpoint(self) -> str:
        """The token endpoint: from OpenID discovery, else ``{url}/auth/token``."""
        response = self._request("GET", f"{self.url}/.well-known/openid-configuration")
        if response.status_code == 200:
            try:
                endpoint = response.json().get("token_endpoint")
            except (ValueError, AttributeError):
                endpoint = None
            if isinstance(endpoint, str) and urlsplit(endpoint).scheme == "https":
                return endpoint
        return f"{self.url}/auth/token"

    def authenticate(self) -> str:
        """A new access token (kept for the following requests)."""
        response = self._request(
            "POST",
            self.token_endpoint(),
            data={"grant_type": "client_credentials"},
            auth=self._credentials,
        )
        body = _json(response)
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            detail = body.get("error_description") if isinstance(body, dict) else None
            raise ExchangeError(
                f"{self.url}: authentication failed: {error or f'HTTP {response.status_code}'}"
                + (f" ({_short(str(detail))})" if detail else "")
                + ("; check client_id and client_secret" if error == "invalid_client" else "")
            )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ExchangeError(f"{self.url}: the token endpoint's answer has no access_token")
        self._token = token
        return token

    def _api(self, method: str, url: str, **options):
        """An API request with the bearer token (one new token when it expired)."""
        if self._token is None:
            self.authenticate()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token}", **options.pop("headers", {})}
            response = self._request(method, url, headers=headers, **options)
            if response.status_code == 401 and attempt == 1:
                self.authenticate()
                continue
            return response
        return response

    def _fail(self, response, what: str) -> ExchangeError:
        body = _json(response)
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            return ExchangeError(
                f"{self.url}: {what}: {body['code']} (HTTP {response.status_code}): "
                f"{_short(str(body.get('message', '')))}"
            )
        return ExchangeError(f"{self.url}: {what}: HTTP {response.status_code}")

    def list_footprints(
        self, filters: Iterable[tuple[str, str]] = (), *, limit: int | None = None
    ) -> Iterator[dict]:
        """Every footprint the host lists for this recipient, page after page.

        ``filters`` are v3 query parameters (``productId``, ``companyId``, ...; a
        repeated name means OR). The v2.3 API has no filters in its required part, so
        with ``version=2`` they are applied here to ``productIds`` and ``companyIds``.
        ``limit`` asks for pages of at most that many footprints (the host's default
        otherwise).
        """
        pairs = list(filters)
        params: list[tuple[str, str]] | None = pairs if self.version == 3 else []
        if limit is not None:
            params = [*params, ("limit", str(limit))]
        url = f"{self.url}/{self.version}/footprints"
        host = urlsplit(self.url).netloc
        for _ in range(MAX_PAGES):
            response = self._api("GET", url, params=params)
            if response.status_code != 200:
                raise self._fail(response, "listing footprints")
            data = _json(response)
            if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                raise ExchangeError(
                    f"{self.url}: listing footprints: the page is not a PACT list "
                    '({"data": [...]})'
                )
            for footprint in data["data"]:
                if self.version == 3 or _matches(footprint, pairs):
                    yield footprint
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            if urlsplit(following).netloc != host:
                raise ExchangeError(
                    f"{self.url}: listing footprints: the next page {quote_input(following)} "
                    "is on another host"
                )
            # The next link carries the whole query; params=[] would replace it (httpx).
            url, params = following, None
        raise ExchangeError(f"{self.url}: listing footprints: more than {MAX_PAGES} pages")

    def get_footprint(self, footprint_id: str) -> dict | None:
        """The footprint with this id, or None when the host has none (for this recipient)."""
        response = self._api("GET", f"{self.url}/{self.version}/footprints/{footprint_id}")
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise self._fail(response, f"getting footprint {footprint_id}")
        data = _json(response)
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise ExchangeError(
                f"{self.url}: getting footprint {footprint_id}: the answer is not "
                '{"data": {...}}'
            )
        return data["data"]

    def post_event(self, event: dict[str, Any]) -> None:
        """Send a CloudEvent to the host's events endpoint."""
        import json

        response = self._api(
            "POST",
            f"{self.url}/{self.version}/events",
            content=json.dumps(event).encode("utf-8"),
            headers={"Content-Type": "application/cloudevents+json; charset=UTF-8"},
        )
        if response.status_code != 200:
            raise self._fail(response, "sending the event")


def _json(response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


_LIST_FIELDS = {"productId": "productIds", "companyId": "companyIds"}


def _matches(footprint: Any, pairs: list[tuple[str, str]]) -> bool:
    """Whether a v2 footprint passes the v3-style filters (OR within a name, AND across)."""
    if not pairs:
        return True
    if not isinstance(footprint, dict):
        return True  # reported as invalid by the import, not silently dropped
    wanted: dict[str, set[str]] = {}
    for name, value in pairs:
        wanted.setdefault(name, set()).add(value.lower())
    for name, values in wanted.items():
        field = _LIST_FIELDS.get(name)
        if field is None:
            raise SpecError(f"{name}: the v2.3 API filters only by productId and companyId")
        have = {str(v).lower() for v in footprint.get(field) or ()}
        if not have & values:
            return False
    return True
