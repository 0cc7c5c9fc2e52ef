"""``modelreg artifacts`` and ``register --artifact`` from the command line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from modelreg import Registry
from tests.artifacts.stores import Store, payload, registry_on
from tests.conftest import git


def local_registry(tmp_path: Path) -> Registry:
    return registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))


def test_verify_table_json_and_exit_code(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    reg = local_registry(tmp_path)
    r = run_cli("register", "churn-xgb", "--artifact", f"model={payload(tmp_path)}", cwd=reg.root)
    assert r.code == 0 and r.err == "", r.err  # no progress bar when not at a terminal
    r = run_cli("artifacts", "verify")
    assert r.code == 0 and "churn-xgb@1/model  ok" in r.out
    assert "1 artifact(s) checked (size and sha256), 0 problem(s)" in r.out

    uri = reg.get("churn-xgb").versions[0].artifacts["model"].uri
    Path(uri.removeprefix("file://")).write_bytes(b"tampered")
    r = run_cli("artifacts", "verify", "churn-xgb@latest")
    assert r.code == 6
    assert "size-mismatch" in r.out and "8 bytes, expected 300000" in r.out
    assert "1 problem(s)" in r.err
    r = run_cli("artifacts", "verify", "--json")
    assert r.code == 6
    data = json.loads(r.out)
    assert data["ok"] is False and data["checked"] == 1
    assert data["results"][0]["status"] == "size-mismatch"
    assert data["results"][0]["actual_size"] == 8

    r = run_cli("artifacts", "verify", "nope@1")
    assert r.code == 4 and r.err.startswith("error: ") and "Traceback" not in r.err


def test_pull_writes_role_folders_and_reports(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    reg = local_registry(tmp_path)
    src = payload(tmp_path, size=50_000)
    reg.register_version("churn-xgb", artifacts={"model": src}, stage="production")
    dest = tmp_path / "serving"
    r = run_cli("artifacts", "pull", "churn-xgb@production", str(dest), "--json", cwd=reg.root)
    assert r.code == 0, r.err
    (item,) = json.loads(r.out)
    assert item["downloaded"] is True and item["size"] == 50_000
    assert (dest / "model" / "model.bst").read_bytes() == src.read_bytes()
    r = run_cli("artifacts", "pull", "churn-xgb@production", str(dest))
    assert r.code == 0 and "from the cache" in r.out

    (dest / "model" / "model.bst").write_bytes(b"edited")
    r = run_cli("artifacts", "pull", "churn-xgb@production", str(dest))
    assert r.code == 6 and "--force" in r.err
    assert (dest / "model" / "model.bst").read_bytes() == b"edited"


def test_gc_lists_and_deletes_orphans(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    reg = local_registry(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    stray = tmp_path / "store" / "churn-xgb" / "7" / "model" / "stray.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x" * 10)
    r = run_cli("artifacts", "gc", cwd=reg.root)
    assert r.code == 0 and "0 object(s)" in r.out  # younger than the default --min-age
    r = run_cli("artifacts", "gc", "--min-age", "0s", "--json")
    data = json.loads(r.out)
    assert data["deleted"] is False and data["bytes"] == 10
    assert [o["uri"] for o in data["objects"]] == [stray.as_uri()]
    assert stray.exists()
    r = run_cli("artifacts", "gc", "--min-age", "0s", "--delete")
    assert r.code == 0 and "1 object(s), 10 B, deleted" in r.out
    assert not stray.exists()
    assert len(reg.verify_artifacts()) == 1 and reg.verify_artifacts()[0].ok
    r = run_cli("artifacts", "gc", "--min-age", "soon")
    assert r.code == 2 and "expected a number" in r.err


def test_list_shows_recorded_artifacts(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    reg = local_registry(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    r = run_cli("artifacts", "list", "--json", cwd=reg.root)
    (item,) = json.loads(r.out)
    assert item["label"] == "churn-xgb@1/model" and item["size"] == 300_000
    r = run_cli("artifacts", "list", "churn-xgb")
    assert "churn-xgb@1/model" in r.out and "293.0 KiB" in r.out


def test_validate_refuses_credentials_in_the_config(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    reg = local_registry(tmp_path)
    config = reg.root / "modelreg.yaml"
    config.write_text(
        config.read_text().replace(
            "storage_options: {}",
            "storage_options: {region_name: eu-west-1, aws_secret_access_key: x,"
            " client_kwargs: {region_name: eu-west-1, aws_session_token: y}}",
        )
    )
    r = run_cli("validate", cwd=reg.root)
    assert r.code == 3
    assert "artifacts.storage_options" in r.out and "aws_secret_access_key" in r.out
    assert "client_kwargs.aws_session_token" in r.out
    assert "region_name" not in r.out


def test_progress_bar_at_a_terminal(tmp_path: Path) -> None:
    reg = local_registry(tmp_path)
    git(reg.root, "status")
    src = payload(tmp_path, size=20 * 1024 * 1024)
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "modelreg", "register", "churn-xgb", "--artifact", f"model={src}"],
        cwd=reg.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
        timeout=120,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0, shown
    assert b"Registered churn-xgb@1" in proc.stdout
    text = shown.decode(errors="replace")
    assert "model.bst (20.0 MiB)" in text and "100%" in text, text
