"""The bounds the HTTP server runs within, and the uvicorn settings that enforce them.

Most are uvicorn's own settings (keep-alive timeout, concurrency, backlog, the
h11 parser's header size). Two gaps of uvicorn's fast (httptools) parser are
closed by a small subclass of its protocol, passed through uvicorn's ``http``
setting: a bound on the size of a request head (2 MB of headers was answered),
and a time a client has to send one (100 slow clients held the server 20 s).
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Bounds:
    """What one request, one connection and the whole server may take."""

    max_head_bytes: int = 16 * 1024  # request line + headers; over it: 431, closed
    head_timeout: float = 10.0  # seconds to send a whole request head; then 408, closed
    keep_alive_timeout: int = 5  # seconds an idle connection is kept between requests
    max_body_bytes: int = 64 * 1024  # enforced by the app while reading (413)
    max_concurrency: int = 512  # connections + requests in flight; over it: 503
    backlog: int = 1024  # connections waiting to be accepted
    shutdown_timeout: int = 5  # seconds in-flight requests get on shutdown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT = Bounds()
LATE = 0.05  # a head timer this late means the event loop was busy, not the client slow
GRACE = 0.5  # then the head gets this much more, once
HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
HEAD_TOO_SLOW = b"HTTP/1.1 408 Request Timeout\r\n"


def _closing(status_line: bytes, message: str) -> bytes:
    body = message.encode()
    return (
        status_line
        + b"content-type: text/plain; charset=utf-8\r\n"
        + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        + body
    )


def uvicorn_settings(bounds: Bounds) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` enforcing ``bounds``."""
    fast = importlib.util.find_spec("httptools") is not None
    return {
        "http": bounded_httptools(bounds) if fast else "h11",
        "h11_max_incomplete_event_size": bounds.max_head_bytes,
        "timeout_keep_alive": bounds.keep_alive_timeout,
        "limit_concurrency": bounds.max_concurrency,
        "backlog": bounds.backlog,
        "timeout_graceful_shutdown": bounds.shutdown_timeout,
    }


def bounded_httptools(bounds: Bounds) -> type:
    """uvicorn's httptools protocol, bounded in request-head size and time."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        head_bytes = 0
        head_timer: asyncio.TimerHandle | None = None
        refused = False  # answered 431/408 and closing: the parser's callbacks do nothing
        head_due = 0.0
        stalled = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self.refused:
                super().data_received(data)

        def on_message_begin(self) -> None:
            if not self.refused:
                super().on_message_begin()
                self.head_bytes = 0
                self._arm()

        def on_url(self, url: bytes) -> None:
            if not self._count(len(url)):
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if not self._count(len(name) + len(value) + 4):
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            if not self.refused:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self.refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self.refused:
                super().on_message_complete()

        def _count(self, n: int) -> bool:
            """Count request-head bytes; True once refused."""
            self.head_bytes += n
            if self.head_bytes > bounds.max_head_bytes and not self.refused:
                self._refuse(HEAD_TOO_LARGE, f"request head over {bounds.max_head_bytes} bytes")
            return self.refused

        def _arm(self) -> None:
            if self.head_timer is None:
                self.stalled = False
                self.head_due = self.loop.time() + bounds.head_timeout
                self.head_timer = self.loop.call_later(bounds.head_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _too_slow(self) -> None:
            late = self.loop.time() - self.head_due
            if late > LATE and not self.stalled:
                # The loop itself was stalled (timers can run before the bytes that
                # arrived meanwhile are read): one grace period, so only the client's
                # slowness is ever cut off, never the server's own.
                self.stalled = True
                self.head_due = self.loop.time() + GRACE
                self.head_timer = self.loop.call_later(GRACE, self._too_slow)
                return
            self.head_timer = None
            self._refuse(HEAD_TOO_SLOW, f"request head not sent within {bounds.head_timeout} s")

        def _refuse(self, status_line: bytes, message: str) -> None:
            self.refused = True
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(_closing(status_line, message))
                self.transport.close()

    return BoundedHttpToolsProtocol
