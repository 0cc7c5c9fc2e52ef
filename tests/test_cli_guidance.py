"""Errors and messages that tell a new user what to do next."""

from __future__ import annotations

from pathlib import Path

from modelreg import Registry


def test_init_says_to_cd_into_the_new_registry(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("init", "my-registry", cwd=tmp_path)
    assert r.code == 0, r.err
    assert "cd my-registry" in r.out
    # and what it says works
    assert run_cli("list", cwd=tmp_path / "my-registry").code == 0
    (tmp_path / "other").mkdir()
    here = run_cli("init", cwd=tmp_path / "other")
    assert here.code == 0 and "cd " not in here.out


def test_unarchive_brings_a_model_back_and_register_says_so(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("-R", str(churn.root), "archive", "churn-xgb").code == 0
    refused = run_cli("-R", str(churn.root), "register", "churn-xgb")
    assert refused.code == 5
    assert "modelreg unarchive churn-xgb" in refused.err
    r = run_cli("-R", str(churn.root), "unarchive", "churn-xgb")
    assert r.code == 0, r.err
    assert Registry.open(churn.root).get("churn-xgb").status.value == "registered"
    assert run_cli("-R", str(churn.root), "register", "churn-xgb").code == 0
    log = churn.history("churn-xgb")
    assert "unarchived" in " ".join(str(e) for c in log for e in c.events)


def test_a_missing_registry_folder_is_named(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("-R", str(tmp_path / "nowhere"), "list")
    assert r.code == 4
    assert "nowhere does not exist" in r.err


def test_outside_git_the_error_says_how_to_start(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "modelreg.yaml").write_text("apiVersion: modelreg/v1\nkind: Registry\n")
    r = run_cli("-R", str(tmp_path), "create", "m", "--name", "M", "--framework", "onnx")
    assert r.code == 7, r.err
    assert "git init" in r.err and "modelreg init" in r.err
