"""The read-only HTTP API over the catalog (the only package importing uvicorn)."""

from __future__ import annotations

from modelreg.http.app import App, create_app
from modelreg.http.server import LOOPBACK, serve
from modelreg.http.snapshot import Follower, Snapshot

__all__ = ["LOOPBACK", "App", "Follower", "Snapshot", "create_app", "serve"]
