"""The HTML catalog: export of 1,000 models x 10 versions with and without HTML, page sizes.

    .venv/bin/python benchmarks/site_bench.py [--models 1000] [--versions 10]

Target: the export with HTML (cards, charts; timelines from git are shown separately,
as they cost one git call per model) within 2x of the JSON-only export measured in
the same run. Each export goes to a fresh folder, so every file is written.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from generate import generate

from modelreg import Registry
from modelreg.export import export, read_catalog
from modelreg.site.sources import gather


def best_of(n: int, fn: Callable[[int], object]) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "reg", args.models, args.versions)
        reg = Registry.open(root)
        out = Path(tmp) / "out"

        def json_only(i: int) -> None:
            export(read_catalog(reg), str(out / f"json-{i}"))

        def with_html(i: int) -> None:
            catalog = read_catalog(reg)
            export(catalog, str(out / f"html-{i}"), site=gather(reg, catalog, history=False))

        def with_history(i: int) -> None:
            catalog = read_catalog(reg)
            export(catalog, str(out / f"hist-{i}"), site=gather(reg, catalog, history=True))

        base = best_of(args.runs, json_only)
        html = best_of(args.runs, with_html)
        hist = best_of(1, with_history)
        print(f"export of {args.models} models x {args.versions} versions (best of {args.runs})")
        print(f"  {'JSON only (baseline)':<40}{base:8.2f} s")
        print(f"  {'JSON + HTML':<40}{html:8.2f} s   {html / base:.2f}x   target <= 2x")
        print(
            f"  {'JSON + HTML + git timelines':<40}{hist:8.2f} s   {hist / base:.2f}x   (no target)"
        )
        site = out / "html-0"
        pages = [p.stat().st_size for p in (site / "models").glob("*.html")]
        print("page sizes (uncompressed)")
        print(f"  {'index.html':<40}{(site / 'index.html').stat().st_size / 1024:8.1f} KiB")
        print(f"  {'models/<id>.html median':<40}{statistics.median(pages) / 1024:8.1f} KiB")
        print(f"  {'models/<id>.html max':<40}{max(pages) / 1024:8.1f} KiB")
        for asset in ("site.css", "site.js"):
            size = (site / "assets" / asset).stat().st_size / 1024
            print(f"  {'assets/' + asset:<40}{size:8.1f} KiB")


if __name__ == "__main__":
    main()
