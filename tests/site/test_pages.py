"""The HTML catalog as exported: pages, cards, charts, timelines, hostile text escaped."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.export import export, read_catalog
from modelreg.site import render
from modelreg.site.sources import gather, host_links
from tests.conftest import RunCli, git
from tests.site.siterepo import ACCURACY, HOSTILE_CUSTOMER, HOSTILE_DESCRIPTION, HOSTILE_NAME


@pytest.fixture(scope="module")
def pages(site_root: Path) -> dict[str, str]:
    reg = Registry.open(site_root)
    files = render(gather(reg, read_catalog(reg)))
    return {path: data.decode() for path, data in files.items()}


def test_one_page_per_model_an_index_and_assets(pages: dict[str, str]) -> None:
    assert sorted(pages) == [
        "assets/site.css",
        "assets/site.js",
        "index.html",
        "models/churn-xgb.html",
        "models/evil-model.html",
        "models/grid-onnx.html",
    ]
    index = pages["index.html"]
    for model_id in ("churn-xgb", "evil-model", "grid-onnx"):
        assert f'href="models/{model_id}.html"' in index
    assert "3 of 3 models" in index
    # offline: nothing is loaded from another origin
    for page in pages.values():
        assert not re.search(r'(src|href)="(https?:)?//', page)


def test_hostile_text_is_escaped_everywhere(pages: dict[str, str]) -> None:
    for path, page in pages.items():
        if path.endswith(".html"):
            assert "<script>window.__pwned" not in page, path
            assert "<img src=x" not in page, path
            assert 'href="javascript:' not in page, path
    evil = pages["models/evil-model.html"]
    assert "&lt;script&gt;window.__pwned = &#34;name&#34;&lt;/script&gt;Evil &amp; Co" in evil
    assert "&lt;b&gt;loss&lt;/b&gt;" in evil  # a metric name in the chart and the table
    # the index's embedded JSON cannot close its <script> element
    index = pages["index.html"]
    data = index.split('<script type="application/json" id="catalog-data">', 1)[1]
    assert data.index("</script>") > data.index("\\u003c/script\\u003e")
    assert HOSTILE_CUSTOMER not in index
    assert HOSTILE_NAME not in index and HOSTILE_DESCRIPTION not in index


def test_card_rendered_as_commonmark_without_raw_html(pages: dict[str, str]) -> None:
    churn = pages["models/churn-xgb.html"]
    assert "<strong>churn</strong>" in churn
    assert "<table>" in churn
    evil = pages["models/evil-model.html"]
    assert "&lt;script&gt;window.__pwned = 'card'&lt;/script&gt;" in evil
    card = evil.split('id="card"', 1)[1].split("</section>")[0]
    assert "<a " not in card  # the javascript: link is left as text, not made a link


def test_chart_has_one_point_per_version(pages: dict[str, str]) -> None:
    churn = pages["models/churn-xgb.html"]
    chart = churn.split('data-metric="accuracy"', 1)[1].split("</svg>", 1)[0]
    versions = re.findall(r'class="point"[^>]*data-version="(\d+)" data-value="([0-9.e-]+)"', chart)
    assert [(int(v), float(x)) for v, x in versions] == list(enumerate(ACCURACY, start=1))
    assert 'data-metric="f1_score"' in churn


def test_stage_timeline_comes_from_git_history(site_root: Path, pages: dict[str, str]) -> None:
    churn = pages["models/churn-xgb.html"]
    timeline = churn.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    production = timeline.split("<h3>production</h3>", 1)[1].split("</table>", 1)[0]
    held = re.findall(r"<tr><td>v(\d+)</td>", production)
    assert held == ["2", "4"]
    # v2's period ended with the commit that promoted v4
    promoted_v4 = git(
        site_root,
        "log",
        "-1",
        "--format=%h",
        "--grep",
        "version 4",
        "--grep",
        "production",
        "--all-match",
    ).strip()
    assert promoted_v4 and promoted_v4[:10] in production
    assert "now" in production


def test_aliases_labels_and_lineage(pages: dict[str, str]) -> None:
    churn = pages["models/churn-xgb.html"]
    row = churn.split('<tr data-version="4">', 1)[1].split("</tr>", 1)[0]
    assert '<span class="alias">champion</span>' in row
    timeline = churn.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    champion = timeline.split("<h3>alias champion</h3>", 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr><td>v(\d+)</td>", champion) == ["2", "4"]
    assert '<span class="label">team=risk</span>' in churn
    assert 'child <a href="grid-onnx.html">grid-onnx@1</a> from v4' in churn
    grid = pages["models/grid-onnx.html"]
    lineage = grid.split('id="lineage"', 1)[1].split("</section>", 1)[0]
    assert '<a href="churn-xgb.html">churn-xgb@4</a>' in lineage
    assert "0123abcd0123" in lineage and "s3://data/grid/2024.parquet" in lineage


def test_deployment_shows_the_ab_split(pages: dict[str, str]) -> None:
    deployment = pages["models/churn-xgb.html"].split('id="deployment"', 1)[1]
    assert "v3 with 10% of traffic" in deployment
    assert "v4 90%" in deployment and "v3 10%" in deployment


def test_versions_table_shows_artifacts_with_size_and_digest(pages: dict[str, str]) -> None:
    churn = pages["models/churn-xgb.html"]
    row = churn.split('<tr data-version="1">', 1)[1].split("</tr>", 1)[0]
    assert "v1.1.0" in row and "6.8 KiB" in row and "sha256:" in row


def test_history_links_on_known_hosts() -> None:
    assert host_links("git@github.com:acme/models.git", "main") == (
        "https://github.com/acme/models/commits/main/",
        "https://github.com/acme/models/commit/",
    )
    assert host_links("https://gitlab.com/acme/ml/models", "main", "registry/") == (
        "https://gitlab.com/acme/ml/models/-/commits/main/registry/",
        "https://gitlab.com/acme/ml/models/-/commit/",
    )
    assert host_links("https://git.example.com/acme/models.git", "main") is None
    assert host_links("git@github.com:acme/models.git", 'main"><script>') is None


def test_export_writes_html_beside_json_and_only_changes(site_root: Path, tmp_path: Path) -> None:
    reg = Registry.open(site_root)
    dest = tmp_path / "out"
    catalog = read_catalog(reg)
    first = export(catalog, str(dest), site=gather(reg, catalog))
    assert "index.html" in first.written and "models/churn-xgb.html" in first.written
    assert (dest / "models/churn-xgb.json").exists()
    again = export(catalog, str(dest), site=gather(reg, catalog))
    assert again.written == ()
    json_only = export(catalog, str(tmp_path / "json"))
    assert not any(p.endswith(".html") for p in json_only.written)


def test_export_removes_pages_of_deleted_models(tmp_path: Path) -> None:
    from tests.site.siterepo import build_site_registry

    reg = build_site_registry(tmp_path / "reg")
    dest = tmp_path / "out"
    export(read_catalog(reg), str(dest), site=gather(reg, read_catalog(reg), history=False))
    shutil.rmtree(reg.root / "models/grid-onnx")
    reg = Registry.open(reg.root)
    result = export(read_catalog(reg), str(dest), site=gather(reg, read_catalog(reg)))
    assert "models/grid-onnx.html" in result.removed
    assert not (dest / "models/grid-onnx.html").exists()
    assert "2 of 2 models" in (dest / "index.html").read_text()


def test_cli_export_no_html(site_root: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = run_cli("-R", str(site_root), "export", str(tmp_path / "a"))
    assert out.code == 0, out.err
    assert (tmp_path / "a/index.html").exists()
    assert f"Open {(tmp_path / 'a/index.html').as_uri()}" in out.out
    out = run_cli("-R", str(site_root), "export", str(tmp_path / "b"), "--no-html")
    assert out.code == 0, out.err
    assert not (tmp_path / "b/index.html").exists()
    assert (tmp_path / "b/catalog.json").exists()
