"""Errors and messages that tell a new user what to do next."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import NotFoundError, Registry
from tests.conftest import RunCli


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


def test_list_refuses_values_that_cannot_match(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    for option, value, known in (
        ("--status", "deleted", "registered, deployed, archived"),
        ("--framework", "jax", "pytorch"),
        ("--stage", "prod", "production"),
        ("--source", "kaggle", "automl"),
    ):
        r = run_cli("-R", str(churn.root), "list", option, value)
        assert r.code == 2, (option, r.out, r.err)
        assert repr(value) in r.err and known in r.err


def test_list_says_when_nothing_is_shown(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("-R", str(churn.root), "list", "--tag", "nothing-has-this")
    assert r.code == 0 and r.out == "" and "no models match" in r.err
    r = run_cli("-R", str(churn.root), "list", "--limit", "0")
    assert "(1 model(s) match; --limit 0 shows none)" in r.out
    assert "--offset 0 for more" not in r.out
    r = run_cli("-R", str(churn.root), "list", "--offset", "5")
    assert "--offset 5 is past the end" in r.out


def test_a_reference_ending_in_at_is_an_error(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("-R", str(churn.root), "show", "churn-xgb@")
    assert r.code == 2 and "names no version after '@'" in r.err and "churn-xgb@latest" in r.err


def test_help_says_what_options_do(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("keys", "add", "--help")
    assert "model-registry:write" not in r.out and "read-only" in r.out
    assert "Default: .modelreg/keys.yaml" in run_cli("keys", "remove", "--help").out
    assert "with a version in stage" in run_cli("list", "--help").out
    verify = run_cli("artifacts", "verify", "--help").out
    assert "SPEC" not in verify and "Without MODEL" in verify


def test_serve_without_the_server_extra_says_what_to_install(
    churn: Registry,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    r = run_cli("-R", str(churn.root), "serve")
    assert r.code == 1
    assert "pip install 'modelreg[server]'" in r.err
    assert "Serving" not in r.err and "ModuleNotFoundError" not in r.err


def test_traceback_is_accepted_after_the_verb(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        run_cli("-R", str(churn.root), "show", "nope", "--traceback")
    r = run_cli("-R", str(churn.root), "show", "nope")
    assert r.code == 4 and "Traceback" not in r.err


def cli(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """``modelreg ARGS`` in a new process, with real standard input and output."""
    return subprocess.run(
        [sys.executable, "-c", "from modelreg.cli import run; run()", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def test_dash_is_standard_input_and_output(churn: Registry, tmp_path: Path) -> None:
    data = b"weights from a pipe" * 100
    done = cli(
        "register", "churn-xgb", "--artifact", "model=-", "--json", cwd=churn.root, stdin=data
    )
    assert done.returncode == 0, done.stderr
    artifact = json.loads(done.stdout)["artifacts"]["model"]
    assert artifact["size"] == len(data)
    assert artifact["sha256"] == hashlib.sha256(data).hexdigest()
    assert artifact["uri"].endswith("/model")
    exported = cli("export", "-", cwd=churn.root)
    assert exported.returncode == 0, exported.stderr
    assert [m["id"] for m in json.loads(exported.stdout)["models"]] == ["churn-xgb"]
    assert not (churn.root / "-").exists()
    two = cli("register", "churn-xgb", "--artifact", "a=-", "--artifact", "b=-", cwd=churn.root)
    assert two.returncode == 2 and b"only one artifact can come from stdin" in two.stderr


def test_bad_times_are_usage_errors_in_plain_words(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    for value, said in (
        ("yesterday", "'yesterday' is not a date and time in ISO 8601"),
        ("2025-01-23T12:00:00", "has no timezone: add Z for UTC"),
    ):
        r = run_cli("-R", str(churn.root), "register", "churn-xgb", "--trained-at", value)
        assert r.code == 2, r.err
        assert said in r.err and "Input should be" not in r.err
    r = run_cli("-R", str(churn.root), "register", "churn-xgb", "--data-window", "a..b")
    assert r.code == 2 and "'a' is not a date and time" in r.err


def test_a_bad_model_id_says_what_is_allowed(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("-R", str(churn.root), "create", "Bad_ID", "--name", "B", "--framework", "onnx")
    assert r.code != 0
    assert "'Bad_ID' is not valid: use lower-case letters" in r.err
    assert "^[a-z0-9]" not in r.err


def test_a_typo_in_a_model_id_gets_a_suggestion(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("-R", str(churn.root), "show", "churn-xbg")
    assert r.code == 4 and "did you mean 'churn-xgb'?" in r.err
    r = run_cli("-R", str(churn.root), "show", "fraud-lstm")
    assert r.code == 4 and "did you mean" not in r.err


def test_a_misspelt_field_gets_a_suggestion_and_no_raw_wording(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("framework: xgboost", "framwork: xgboost").replace(
            "name: Churn Prediction XGBoost", "name: 5"
        )
    )
    r = run_cli("-R", str(churn.root), "validate", "--ref", "HEAD")
    assert r.code == 0  # the commit is fine; the working tree is not
    r = run_cli("-R", str(churn.root), "validate")
    assert r.code == 3
    assert "framwork: unknown field (did you mean 'framework'?)" in r.out
    assert "Field required" not in r.out and "framework: required" not in r.out
    assert "(YAML reads `5` as an int; quote it: '5')" in r.out


def test_a_fresh_registry_deploys_the_help_examples_or_says_the_fix(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    root = tmp_path / "reg"
    assert run_cli("init", str(root)).code == 0
    config = (root / "modelreg.yaml").read_text()
    assert "gpu-a100-40gb:" in config and "default_target: kubernetes" in config
    assert "# Hardware profiles" in config  # explained where the user edits them
    (tmp_path / "m.bst").write_bytes(b"m")
    reg = ("-R", str(root))
    assert run_cli(*reg, "create", "churn-xgb", "--name", "C", "--framework", "xgboost").code == 0
    assert (
        run_cli(*reg, "register", "churn-xgb", "--artifact", f"model={tmp_path / 'm.bst'}").code
        == 0
    )
    r = run_cli(*reg, "deploy", "churn-xgb", "--hardware", "gpu-a100-40gb", "--autoscale", "1:5@70")
    assert r.code == 0, r.err
    assert (root / "deploy/kubernetes/churn-xgb").is_dir()
    r = run_cli(*reg, "deploy", "churn-xgb", "--target", "kserve", "--dry-run")
    assert r.code == 5 and "set artifacts.root in modelreg.yaml" in r.err
    r = run_cli(*reg, "deploy", "churn-xgb", "--hardware", "tpu-v5", "--dry-run")
    assert r.code == 4 and "add it under `hardware:` in modelreg.yaml" in r.err


def test_a_url_can_be_recorded_as_given_without_reading_its_store(
    churn: Registry,
    run_cli: RunCli,
) -> None:
    # no server answers at this address: reading the store would fail
    uri = "s3://no-credentials-here/models/churn/model.bst"
    reg = ("-R", str(churn.root))
    r = run_cli(*reg, "register", "churn-xgb", "--artifact", f"model={uri}", "--as-given")
    assert r.code == 0, r.err
    assert "--as-given: URLs recorded without size or sha256" in r.out
    artifact = Registry.open(churn.root).get("churn-xgb").versions[-1].artifacts["model"]
    assert (artifact.uri, artifact.size, artifact.sha256) == (uri, None, None)
    r = run_cli(*reg, "register", "churn-xgb", "--artifact", "model=./local.bst", "--as-given")
    assert r.code == 2 and "--as-given records URLs" in r.err
