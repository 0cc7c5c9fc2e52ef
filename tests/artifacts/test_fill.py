"""``modelreg artifacts verify --fill``: size and sha256 of artifacts registered as given,
read later from their store (a local file, S3 on moto's server) and recorded in one commit."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import ConflictError
from tests.artifacts.stores import Store, make_store, payload, registry_on
from tests.conftest import RunCli, git, head


def _artifact(
    root: Path, version: int = -1, role: str = "model"
) -> tuple[str, int | None, str | None]:
    a = Registry.open(root).get("churn-xgb").versions[version].artifacts[role]
    return a.uri, a.size, a.sha256


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_fill_records_what_was_registered_as_given(
    kind: str, tmp_path: Path, run_cli: RunCli, request: pytest.FixtureRequest
) -> None:
    store = make_store(kind, tmp_path, request)
    reg = registry_on(tmp_path / "reg", store)
    data = payload(tmp_path, size=70_000).read_bytes()
    uri = store.url("elsewhere", "run-9", "model.bst")  # written by training, not by modelreg
    store.write(uri, data)
    r = run_cli("register", "churn-xgb", "--artifact", f"model={uri}", "--as-given", cwd=reg.root)
    assert r.code == 0, r.err
    assert _artifact(reg.root) == (uri, None, None)

    r = run_cli("artifacts", "verify")  # without --fill: checked, nothing written
    assert r.code == 0, r.err
    assert "no size and sha256 recorded (verify --fill records them)" in r.out
    before = head(reg.root)

    r = run_cli("artifacts", "verify", "--fill", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["ok"] is True and out["filled"] == ["churn-xgb@1/model"]
    assert out["commit"] == head(reg.root) != before
    assert _artifact(reg.root) == (uri, len(data), hashlib.sha256(data).hexdigest())
    subject = git(reg.root, "log", "-1", "--format=%s").strip()
    assert subject == "churn-xgb: record the size and sha256 of 1/model"
    assert git(reg.root, "status", "--porcelain") == ""
    assert run_cli("validate", "--base", before).code == 0  # the change rules accept it

    r = run_cli("artifacts", "verify", "--fill")  # nothing left to fill: no commit
    assert r.code == 0 and "recorded for 0" in r.out
    assert head(reg.root) == out["commit"]
    store.write(uri, data[:-1])  # and from now on the recorded size is checked
    r = run_cli("artifacts", "verify")
    assert r.code == 6 and "size-mismatch" in r.out


def test_fill_never_changes_what_is_recorded(tmp_path: Path, run_cli: RunCli) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg = registry_on(tmp_path / "reg", store)
    good, bad = store.url("in", "good.bin"), store.url("in", "bad.bin")
    store.write(good, b"good bytes")
    store.write(bad, b"twelve bytes")
    args = ["register", "churn-xgb", "--artifact", f"model={bad}", "--no-hash"]
    assert run_cli(*args, cwd=reg.root).code == 0  # size 12 recorded, no sha256
    store.write(bad, b"other bytes, longer")
    r = run_cli("register", "churn-xgb", "--artifact", f"model={good}", "--as-given")
    assert r.code == 0
    before = head(reg.root)

    r = run_cli("artifacts", "verify", "--fill")
    assert r.code == 6  # the problem is reported...
    assert "churn-xgb@1/model  size-mismatch" in r.out and "19 bytes, expected 12" in r.out
    assert "churn-xgb@2/model  filled" in r.out  # ...and what could be read is recorded
    assert "1 problem(s); size and sha256 recorded for 1" in r.err
    assert git(reg.root, "rev-parse", "HEAD~1").strip() == before
    assert _artifact(reg.root, 0) == (bad, 12, None)  # left as it was
    assert _artifact(reg.root, 1)[1:] == (10, hashlib.sha256(b"good bytes").hexdigest())


def test_fill_refuses_a_manifest_changed_since_the_bytes_were_read(tmp_path: Path) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg = registry_on(tmp_path / "reg", store)
    uri = store.url("in", "model.bin")
    store.write(uri, b"bytes")
    from modelreg.manifest import Artifact

    reg.register_version("churn-xgb", artifacts={"model": Artifact(uri=uri)})
    measured = reg.verify_artifacts(measure=True)
    assert [r.measured for r in measured] == [
        Artifact(uri=uri, size=5, sha256=hashlib.sha256(b"bytes").hexdigest())
    ]
    path = reg.root / "models/churn-xgb/model.yaml"
    path.write_text(path.read_text().replace(uri, store.url("in", "other.bin")))
    git(reg.root, "commit", "-qam", "point the artifact elsewhere")
    before = head(reg.root)
    with pytest.raises(ConflictError, match="verify again"):
        Registry.open(reg.root).fill_artifacts(measured)
    assert head(reg.root) == before and git(reg.root, "status", "--porcelain") == ""


def test_fill_options_that_cannot_go_together(tmp_path: Path, run_cli: RunCli) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    for args, text in (
        (("--fill", "--quick"), "--quick"),
        (("--fill", "--ref", "HEAD"), "--ref"),
        (("--push",), "go with --fill"),
    ):
        r = run_cli("artifacts", "verify", *args, cwd=reg.root)
        assert r.code == 2 and text in r.err, (args, r.err)
    assert "--fill" in run_cli("artifacts", "verify", "--help").out


def test_the_bar_counts_the_bytes_of_artifacts_without_a_recorded_size(tmp_path: Path) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg = registry_on(tmp_path / "reg", store)
    uri = store.url("in", "model.bin")
    store.write(uri, bytes(2 * 1024 * 1024))
    from modelreg.manifest import Artifact

    reg.register_version("churn-xgb", artifacts={"model": Artifact(uri=uri)})
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", "artifacts", "verify", "--fill"],
        cwd=reg.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
        timeout=120,
    )
    os.close(follower)
    shown = b""
    while chunk := _read(leader):
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0, shown
    assert b"churn-xgb@1/model  filled" in proc.stdout
    text = shown.decode(errors="replace")
    *_, bar = (line for line in text.replace("\r", "\n").splitlines() if "verify 1" in line)
    assert "2.00MB" in bar, text
    assert "%" not in bar  # no total to measure against: bytes and rate only


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the other end closed
        return b""
