"""The HTTP protocol the host's uvicorn speaks: httptools, with a bound on request heads.

uvicorn's httptools protocol (its fastest) takes request lines and headers of any size:
a client could make a worker hold megabytes per connection before the application sees
a byte. h11 has a limit (``h11_max_incomplete_event_size``) but parses in pure Python,
at a fraction of the speed. :class:`BoundedHttpToolsProtocol` keeps httptools and answers
400 and closes the connection once a request's head passes :data:`MAX_HEAD_BYTES`
without ending (nginx's default is 4 buffers of 8 KiB:
https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers).
"""

from __future__ import annotations

#: The most bytes a request line and its headers may take.
MAX_HEAD_BYTES = 64 * 1024


def http_protocol():
    """What to pass as uvicorn's ``http``: the bounded httptools protocol, or ``"h11"``
    with the same bound when httptools is not installed."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return BoundedHttpToolsProtocol


def h11_options() -> dict[str, int]:
    """uvicorn options that bound the head under h11 (unused with httptools)."""
    return {"h11_max_incomplete_event_size": MAX_HEAD_BYTES}


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # no httptools: http_protocol() chooses h11
    HttpToolsProtocol = object  # type: ignore[assignment,misc]


class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's httptools protocol, refusing request heads over :data:`MAX_HEAD_BYTES`.

    The bytes are counted as they arrive, before httptools buffers them: a head that
    does not end within the bound is refused at the next read (asyncio reads at most
    256 KiB at a time, so a connection holds at most that much more).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self._head_bytes > MAX_HEAD_BYTES:
                self.send_400_response("Request line and headers too large.")
                return
            self._head_bytes += len(data)
        super().data_received(data)
