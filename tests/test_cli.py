"""The CLI, in-process, on real registries: output, --json, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modelreg import Registry
from tests.conftest import git


def test_init_create_register_promote_show(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("init", str(tmp_path / "reg"), "--name", "demo")
    assert r.code == 0 and "Initialised registry demo" in r.out
    reg = tmp_path / "reg"
    r = run_cli(
        "create",
        "churn-xgb",
        "--name",
        "Churn",
        "--framework",
        "xgboost",
        "--tag",
        "churn",
        "--source",
        "automl",
        "--workspace",
        "ws_001",
        cwd=reg,
    )
    assert r.code == 0, r.err
    r = run_cli(
        "register",
        "churn-xgb",
        "--label",
        "v1.2.0",
        "--metric",
        "accuracy=0.94",
        "--param",
        "layers=[256, 128]",
        "--param",
        "optimizer=adam",
        "--trained-at",
        "2025-01-23T12:00:00Z",
        "--data-window",
        "2024-01-01T00:00:00Z..2024-12-31T23:59:59Z",
        "--epochs",
        "18",
        "--train-loss",
        "0.0234",
        "--json",
        cwd=reg,
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["version"] == 1 and data["hyperparameters"]["layers"] == [256, 128]
    assert data["training"]["epochs"] == 18
    r = run_cli("promote", "churn-xgb@v1.2.0", "production", cwd=reg)
    assert r.code == 0 and "now production" in r.out
    r = run_cli("show", "churn-xgb@production", "--json", cwd=reg)
    assert json.loads(r.out)["stage"] == "production"
    r = run_cli("show", "churn-xgb", cwd=reg)
    assert "VERSION" in r.out and "v1.2.0" in r.out
    r = run_cli("history", "churn-xgb", "--json", cwd=reg)
    events = [e["text"] for c in json.loads(r.out) for e in c["events"]]
    assert events == ["version 1 moved none -> production", "version 1 registered", "model created"]
    r = run_cli("history", "churn-xgb", "--stage", "production", "--json", cwd=reg)
    (period,) = json.loads(r.out)
    assert period["version"] == 1 and period["until"] is None
    assert git(reg, "status", "--porcelain") == ""


def test_list_json_filters_and_table(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    churn.create_model("lstm", name="LSTM", framework="tensorflow", customer="demo-customer")
    r = run_cli("-R", str(churn.root), "list", "--json")
    data = json.loads(r.out)
    assert data["count"] == 2 and [m["id"] for m in data["models"]] == ["churn-xgb", "lstm"]
    assert data["models"][0]["status"] == "registered"
    r = run_cli("-R", str(churn.root), "list", "--json", "--customer", "demo-customer")
    assert [m["id"] for m in json.loads(r.out)["models"]] == ["lstm"]
    r = run_cli("-R", str(churn.root), "list", "--limit", "1")
    assert "churn-xgb" in r.out and "lstm" not in r.out and "--offset 1" in r.out
    r = run_cli("-R", str(churn.root), "list", "--sort", "colour")
    assert r.code == 2 and "cannot sort on 'colour'" in r.err


def test_list_label_filter(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    churn.update("churn-xgb", labels={"team": "risk", "tier": "gold"})
    churn.create_model("lstm", name="LSTM", framework="tensorflow", labels={"team": "risk"})
    churn.create_model("gbm", name="GBM", framework="sklearn", labels={"team": "growth"})
    root = str(churn.root)

    def listed(*labels: str) -> list[str]:
        args = [a for label in labels for a in ("--label", label)]
        r = run_cli("-R", root, "list", "--json", *args)
        assert r.code == 0, r.err
        data = json.loads(r.out)
        assert data["count"] == len(data["models"])
        return [m["id"] for m in data["models"]]

    assert listed("team=risk") == ["churn-xgb", "lstm"]
    assert listed("team=risk", "tier=gold") == ["churn-xgb"]  # repeated: all must hold
    assert listed("tier") == ["churn-xgb"]
    assert listed("team=ops") == []
    r = run_cli("-R", root, "list", "--label", "team=growth", "--framework", "sklearn")
    assert r.code == 0 and "gbm" in r.out and "lstm" not in r.out
    r = run_cli("-R", root, "list", "--label", "team=ops")
    assert r.code == 0 and "no models match" in r.err
    r = run_cli("-R", root, "list", "--label", "=risk")
    assert r.code == 2 and "names no key" in r.err and "Traceback" not in r.err
    assert "--label KEY[=VALUE]" in run_cli("list", "--help").out


def test_registry_from_environment_and_ref(churn: Registry, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MODELREG_REGISTRY", str(churn.root))
    churn.register_version("churn-xgb")
    r = run_cli("show", "churn-xgb@latest", "--json", "--ref", "HEAD~1")
    assert json.loads(r.out)["version"] == 2
    r = run_cli("register", "churn-xgb", "--ref", "HEAD")
    assert r.code == 2  # --ref is for read commands only


def test_errors_have_codes_and_no_traceback(churn: Registry, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (("show", "nope"), 4, "no model 'nope'"),
        (("show", "churn-xgb@9"), 4, "no version 9"),
        (("create", "churn-xgb", "--name", "x", "--framework", "onnx"), 5, "already exists"),
        (("create", "Bad_Id", "--name", "x", "--framework", "onnx"), 5, "id"),
        (("register", "churn-xgb", "--metric", "acc=high"), 2, "not a number"),
        (("promote", "churn-xgb@1", "shipped"), 2, "shipped"),
        (("list", "--ref", "no-such-ref"), 4, "unknown git ref"),
    ]
    for args, code, text in cases:
        r = run_cli("-R", str(churn.root), *args)
        assert r.code == code, (args, r.err)
        assert text in r.err, (args, r.err)
        assert "Traceback" not in r.err
    r = run_cli("list", cwd=tmp_path)
    assert r.code == 4 and "no modelreg.yaml" in r.err


def test_validate_exit_code_and_json(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("-R", str(churn.root), "validate").code == 0
    path = churn.root / "models/churn-xgb/model.yaml"
    path.write_text(
        path.read_text()
        .replace("framework: xgboost", "framework: xgboost\ncolour: red")
        .replace("accuracy: 0.89", "accuracy: high")
    )
    r = run_cli("-R", str(churn.root), "validate", "--format", "json")
    assert r.code == 3
    problems = json.loads(r.out)["problems"]
    assert {p["field"] for p in problems} == {"colour", "versions[0].metrics.accuracy"}
    assert all(p["line"] and p["column"] for p in problems)


def test_traceback_only_when_asked(churn: Registry) -> None:
    cmd = [sys.executable, "-m", "modelreg", "-R", str(churn.root), "show", "nope"]
    quiet = subprocess.run(cmd, capture_output=True, text=True)
    assert quiet.returncode == 4 and "Traceback" not in quiet.stderr
    loud = subprocess.run([*cmd[:3], "--traceback", *cmd[3:]], capture_output=True, text=True)
    assert "Traceback" in loud.stderr and "NotFoundError" in loud.stderr


def test_update_archive_delete(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    base = ("-R", str(churn.root))
    assert (
        run_cli(
            *base,
            "update",
            "churn-xgb",
            "--add-tag",
            "q4",
            "--remove-tag",
            "xgboost",
            "--owner",
            "user_456",
        ).code
        == 0
    )
    model = Registry.open(churn.root).get("churn-xgb")
    assert model.tags == ["churn", "q4"] and model.owner == "user_456"
    assert run_cli(*base, "update", "churn-xgb").code == 2
    assert run_cli(*base, "archive", "churn-xgb").code == 0
    assert Registry.open(churn.root).get("churn-xgb").status.value == "archived"
    assert run_cli(*base, "delete", "churn-xgb").code == 0
    assert not (churn.root / "models" / "churn-xgb").exists()


def test_help_lists_commands_and_exit_codes(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--help")
    assert r.code == 0
    for word in ("init", "register", "promote", "history", "validate", "Exit codes"):
        assert word in r.out
