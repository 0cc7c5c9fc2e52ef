"""Progress bars: bytes, rate and time left, for transfers and for `artifacts verify`."""

from __future__ import annotations

import io
import re

from modelreg import Registry
from modelreg.cli._common import byte_bars, verify_bar


def test_a_transfer_bar_shows_bytes_rate_and_time_left() -> None:
    out = io.StringIO()
    update = byte_bars(out)("s3://bucket/models/churn/3/model/model.bst", 3 * 1024 * 1024)
    for _ in range(3):
        update(1024 * 1024)
    text = out.getvalue()
    assert "model.bst" in text
    assert "3.00M/3.00M" in text  # bytes moved of the total, in binary units
    assert re.search(r"[\d.]+[kMG]?B/s", text)  # the rate
    assert re.search(r"<\d\d:\d\d", text)  # the time left


def test_verify_shows_one_bar_over_every_artifact(churn: Registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        f = tmp_path / f"m{n}.bin"
        f.write_bytes(b"x" * 50_000)
        churn.register_version("churn-xgb", artifacts={"model": f})
    listed = churn.artifacts()
    total = sum(a.size or 0 for _, a in listed)
    out = io.StringIO()
    with verify_bar(True, total, len(listed), file=out) as feed:
        assert feed is not None
        results = churn.verify_artifacts(checked=lambda r: feed(r.expected_size or 0))
    assert all(r.ok for r in results) and len(results) == 3
    text = out.getvalue()
    assert "verify 3 artifact(s)" in text and "146k/146k" in text.replace("K", "k")
    with verify_bar(False, total, 3, file=out) as none:
        assert none is None
