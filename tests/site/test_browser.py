"""The HTML catalog in a real headless Chromium: from a folder (file://) and from
``modelreg serve`` (http://). Chromium comes from the OS package; a missing browser
is a failure, never a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.export import export, read_catalog
from modelreg.site.sources import gather
from tests.http.conftest import Server, start_server, stop_server
from tests.site.browser import Browser
from tests.site.siterepo import ACCURACY, HOSTILE_DESCRIPTION, HOSTILE_NAME


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


@pytest.fixture(scope="module")
def exported(site_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    reg = Registry.open(site_root)
    dest = tmp_path_factory.mktemp("export")
    catalog = read_catalog(reg)
    export(catalog, str(dest), site=gather(reg, catalog))
    return dest


@pytest.fixture(scope="module")
def served(site_root: Path) -> Iterator[Server]:
    srv = start_server(site_root, None)
    yield srv
    stop_server(srv)


def _visible_ids(browser: Browser) -> list[str]:
    ids: list[str] = browser.js(
        "Array.from(document.querySelectorAll('#models tbody tr'))"
        ".filter(function (r) { return !r.hidden; }).map(function (r) { return r.dataset.id; })"
    )
    return ids


@pytest.fixture(params=["file", "http"])
def base(request: pytest.FixtureRequest, exported: Path) -> str:
    if request.param == "file":
        return exported.as_uri() + "/"
    server: Server = request.getfixturevalue("served")
    return server.url + "/"


def test_pages_load_without_console_errors(browser: Browser, base: str) -> None:
    for page in ("index.html", "models/churn-xgb.html", "models/evil-model.html"):
        browser.errors.clear()
        browser.open(base + page)
        assert browser.js("document.readyState") == "complete"
        assert browser.js("document.styleSheets.length") == 1  # the stylesheet loaded
        assert browser.errors == [], page
    assert browser.js("window.__pwned === undefined")


def test_search_and_filters_narrow_the_list(browser: Browser, base: str) -> None:
    browser.open(base + "index.html")
    assert _visible_ids(browser) == ["churn-xgb", "evil-model", "grid-onnx"]
    assert browser.js("document.getElementById('count').textContent") == "3 of 3 models"
    browser.type_text("#search", "churn")
    assert _visible_ids(browser) == ["churn-xgb"]
    assert browser.js("document.getElementById('count').textContent") == "1 of 3 models"
    browser.js("document.getElementById('search').value = ''")
    browser.choose("#filter-framework", "onnx")
    assert _visible_ids(browser) == ["grid-onnx"]
    browser.choose("#filter-framework", "")
    browser.choose("#filter-stages", "production")
    assert _visible_ids(browser) == ["churn-xgb"]
    browser.choose("#filter-stages", "")
    browser.choose("#filter-labels", "team=risk")
    assert _visible_ids(browser) == ["churn-xgb"]
    browser.choose("#filter-labels", "")
    browser.choose("#filter-customer", "acme")
    assert _visible_ids(browser) == ["churn-xgb"]
    browser.choose("#filter-tags", "grid")
    assert _visible_ids(browser) == []
    assert browser.js("document.getElementById('empty').hidden") is False
    assert browser.errors == []


def test_columns_sort(browser: Browser, base: str) -> None:
    browser.open(base + "index.html")
    order = "Array.from(document.querySelectorAll('#models tbody tr')).map(r => r.dataset.id)"
    browser.js("document.querySelector('button[data-sort=framework]').click()")
    assert browser.js(order) == ["grid-onnx", "evil-model", "churn-xgb"]  # onnx, pytorch, xgboost
    browser.js("document.querySelector('button[data-sort=framework]').click()")
    assert browser.js(order) == ["churn-xgb", "evil-model", "grid-onnx"]
    browser.js("document.querySelector('button[data-sort=versions]').click()")
    assert browser.js(order)[-1] == "churn-xgb"


def test_chart_shows_one_point_per_version(browser: Browser, base: str) -> None:
    browser.open(base + "models/churn-xgb.html")
    points = browser.js(
        "Array.from(document.querySelectorAll('svg[data-metric=accuracy] circle.point'))"
        ".map(c => [Number(c.dataset.version), Number(c.dataset.value),"
        " c.getBoundingClientRect().width > 0])"
    )
    assert points == [[i, acc, True] for i, acc in enumerate(ACCURACY, start=1)]
    # drawn left to right and higher for a better accuracy
    xs = browser.js(
        "Array.from(document.querySelectorAll('svg[data-metric=accuracy] circle.point'))"
        ".map(c => [c.getBoundingClientRect().x, c.getBoundingClientRect().y])"
    )
    assert [x for x, _ in xs] == sorted(x for x, _ in xs)
    assert xs[3][1] < xs[0][1]


def test_hostile_text_is_shown_as_text(browser: Browser, base: str) -> None:
    browser.open(base + "models/evil-model.html")
    assert browser.js("document.getElementById('model-name').textContent") == HOSTILE_NAME
    assert browser.js("document.getElementById('description').textContent") == HOSTILE_DESCRIPTION
    assert browser.js("document.querySelectorAll('main img, main script').length") == 0
    assert browser.js("document.querySelectorAll('#card a').length") == 0
    assert browser.js("window.__pwned === undefined")
    browser.open(base + "index.html")
    browser.type_text("#search", "evil")
    assert _visible_ids(browser) == ["evil-model"]
    assert browser.js("window.__pwned === undefined")
    assert browser.errors == []


def test_screenshots(browser: Browser, exported: Path, tmp_path: Path) -> None:
    """Screenshots of the index and a model page; with $MODELREG_SCREENSHOTS=docs they
    replace docs/site-index.png and docs/site-model.png, which the README shows."""
    out = Path(os.environ.get("MODELREG_SCREENSHOTS") or tmp_path)
    browser.open(exported.as_uri() + "/index.html")
    browser.screenshot(out / "site-index.png")
    browser.open(exported.as_uri() + "/models/churn-xgb.html")
    browser.screenshot(out / "site-model.png")
    for name in ("site-index.png", "site-model.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert browser.errors == []
