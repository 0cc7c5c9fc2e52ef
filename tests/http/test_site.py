"""The HTML catalog served at / by `modelreg serve` (browser behaviour: tests/site)."""

from __future__ import annotations

from typing import Any


def test_index_and_model_pages_are_html(server: Any) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.get("/")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert 'id="catalog-data"' in r.text
        assert c.get("/index.html").content == r.content
        etag = r.headers["etag"]
        assert c.get("/", headers={"If-None-Match": etag}).status_code == 304
        model_id = r.text.split('href="models/', 1)[1].split(".html", 1)[0]
        page = c.get(f"/models/{model_id}.html")
        assert page.status_code == 200 and 'id="versions"' in page.text
        js = c.get("/assets/site.js")
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        assert c.head("/").content == b""


def test_site_errors(server: Any) -> None:
    with server.client() as c:
        assert c.get("/").status_code == 401  # keys configured: the pages need one too
    with server.client(server.keys["demo"]) as c:
        r = c.get("/")
        assert r.status_code == 403  # a tenant's key would see every model there
        assert "not bound to a tenant" in r.json()["message"]
    with server.client(server.keys["admin"]) as c:
        r = c.get("/models/nope.html")
        assert r.status_code == 404 and r.json()["message"] == "no page /models/nope.html"
        assert c.post("/").status_code == 405
