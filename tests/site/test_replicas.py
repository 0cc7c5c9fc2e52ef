"""Two `modelreg serve --follow origin/main` replicas over one bare remote: after a push
both serve the new commit, and no response ever mixes two commits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelreg import Registry
from tests.conftest import git
from tests.http.conftest import Server, start_server, stop_server

FETCH_INTERVAL = "200ms"
DEADLINE_S = 60.0  # a bound on correctness on a loaded machine, not a speed target


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    src = Registry.init(tmp_path / "src")
    src.create_model("churn", name="Churn", framework="xgboost")
    src.register_version("churn", metrics={"auc": 0.8})
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(src.root), str(bare))
    return bare


@pytest.fixture
def replicas(tmp_path: Path, remote: Path) -> Iterator[list[Server]]:
    servers = []
    try:
        for i in (1, 2):
            clone = tmp_path / f"replica{i}"
            git(tmp_path, "clone", "-q", str(remote), str(clone))
            servers.append(
                start_server(
                    clone, None, "--follow", "origin/main", "--fetch-interval", FETCH_INTERVAL
                )
            )
        yield servers
    finally:
        for server in servers:
            stop_server(server)


def _observe(server: Server) -> tuple[str, list[str], str, str]:
    """(catalog commit, its model ids, the index page's commit, the index's count line)."""
    catalog = httpx.get(f"{server.url}/catalog.json", timeout=10).json()
    page = httpx.get(f"{server.url}/", timeout=10)
    count = page.text.split('id="count" aria-live="polite">', 1)[1].split("<", 1)[0]
    etag = page.headers["etag"].strip('"').removesuffix("-site")
    return catalog["commit"], [m["id"] for m in catalog["models"]], etag, count


def test_replicas_follow_a_push_atomically(
    tmp_path: Path, remote: Path, replicas: list[Server]
) -> None:
    old = git(remote, "rev-parse", "main").strip()
    for server in replicas:
        assert _observe(server) == (old, ["churn"], old[:20], "1 of 1 models")
        assert server.wait_for(lambda b: b["commit"] == old)["status"] == "ok"

    dev = tmp_path / "dev"
    git(tmp_path, "clone", "-q", str(remote), str(dev))
    reg = Registry.open(dev)
    with reg.transaction("two models in one commit"):
        reg.create_model("fraud", name="Fraud", framework="onnx")
        reg.create_model("grid", name="Grid", framework="sklearn")
    git(dev, "push", "-q", "origin", "main")
    new = git(remote, "rev-parse", "main").strip()
    assert new != old

    expected = {old: ["churn"], new: ["churn", "fraud", "grid"]}
    counts = {old: "1 of 1 models", new: "3 of 3 models"}
    seen: dict[str, set[str]] = {s.url: set() for s in replicas}
    deadline = time.monotonic() + DEADLINE_S
    while not all(new in commits for commits in seen.values()):
        assert time.monotonic() < deadline, f"replicas did not switch to {new}: {seen}"
        for server in replicas:
            commit, ids, page_commit, count = _observe(server)
            # one snapshot per response: never the models of one commit with another's id
            assert ids == expected[commit]
            page_full = next(c for c in expected if c.startswith(page_commit))
            assert count == counts[page_full]
            seen[server.url].add(commit)
    for server in replicas:
        assert server.wait_for(lambda b: b["commit"] == new)["status"] == "ok"
