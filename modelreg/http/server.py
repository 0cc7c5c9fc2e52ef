"""Running the app under uvicorn (httptools + uvloop when installed)."""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path

from modelreg.errors import ModelregError
from modelreg.http.app import create_app
from modelreg.http.bounds import DEFAULT, Bounds, uvicorn_settings
from modelreg.http.snapshot import Follower

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class UnsafeBindError(ModelregError):
    exit_code = 2


def serve(
    path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    ref: str | None = "HEAD",
    keys_file: Path | None = None,
    allow_anonymous: bool = False,
    interval: float = 1.0,
    follow: tuple[str, str] | None = None,
    fetch_interval: float = 30.0,
    bounds: Bounds = DEFAULT,
) -> None:
    """Serve the registry at ``path`` until interrupted.

    With ``follow`` (remote, branch) the branch is fetched every ``fetch_interval``
    seconds and its remote-tracking ref is served. The server runs within ``bounds``
    (head size and time, keep-alive, body size, concurrency: see
    :mod:`modelreg.http.bounds` and docs/security.md). Without a keys file every
    request is allowed, so the server then only binds to loopback unless
    ``allow_anonymous``. Raises :class:`UnsafeBindError`.
    """
    import uvicorn

    if keys_file is None and host not in LOOPBACK and not allow_anonymous:
        raise UnsafeBindError(
            f"refusing to serve without API keys on {host}: pass --keys FILE "
            "(see `modelreg keys add`), bind to 127.0.0.1, or say --allow-anonymous"
        )
    follower = Follower(
        path,
        ref,
        keys_file=keys_file,
        interval=interval,
        on_swap=_settle_heap,
        fetch=follow,
        fetch_interval=fetch_interval,
    )
    app = create_app(follower, max_body=bounds.max_body_bytes)
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop=loop,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        **uvicorn_settings(bounds),
    )


def _settle_heap() -> None:
    """A snapshot is many long-lived objects: this server process keeps them out of the
    cyclic collector's full passes, which otherwise stall requests for tens of ms (p99)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
