"""Shell completion of model ids, versions, stages, targets and hardware profiles, through
click's own completion protocol (what `eval "$(_MODELREG_COMPLETE=bash_source modelreg)"`
installs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg import Registry

Complete = Callable[..., list[str]]


@pytest.fixture
def complete(run_cli, monkeypatch: pytest.MonkeyPatch) -> Complete:  # type: ignore[no-untyped-def]
    def run(*words: str, cwd: Path) -> list[str]:
        line = ["modelreg", *words]
        monkeypatch.setenv("_MODELREG_COMPLETE", "bash_complete")
        monkeypatch.setenv("COMP_WORDS", " ".join(line))
        monkeypatch.setenv("COMP_CWORD", str(len(line) - 1))
        r = run_cli(*words, cwd=cwd)
        monkeypatch.delenv("_MODELREG_COMPLETE")
        assert r.code == 0, r.err
        # bash_complete prints "type,value" per line
        return [row.split(",", 1)[1] for row in r.out.splitlines() if row]

    return run


def test_model_ids_and_versions(churn: Registry, complete: Complete) -> None:
    churn.create_model("churn-lstm", name="L", framework="pytorch")
    root = churn.root
    assert complete("show", "ch", cwd=root) == ["churn-lstm", "churn-xgb"]
    assert complete("archive", "churn-x", cwd=root) == ["churn-xgb"]
    assert complete("show", "churn-xgb", cwd=root) == ["churn-xgb", "churn-xgb@"]
    versions = complete("promote", "churn-xgb@", cwd=root)
    assert versions[0] == "churn-xgb@latest"
    assert {"churn-xgb@1", "churn-xgb@2", "churn-xgb@production", "churn-xgb@v1.1.0"} <= set(
        versions
    )
    assert complete("deploy", "churn-xgb@v1", cwd=root) == ["churn-xgb@v1.0.0", "churn-xgb@v1.1.0"]
    assert complete("artifacts", "verify", "churn-xgb@p", cwd=root) == ["churn-xgb@production"]


def test_stages_targets_and_hardware(churn: Registry, complete: Complete) -> None:
    root = churn.root
    assert complete("promote", "churn-xgb@1", "ch", cwd=root) == ["challenger"]
    assert complete("list", "--stage", "pro", cwd=root) == ["production"]
    assert complete("deploy", "churn-xgb", "--target", "k", cwd=root) == ["kserve", "kubernetes"]
    assert complete("deploy", "churn-xgb", "--hardware", "", cwd=root) == [
        "cpu-small",
        "gpu-a100-40gb",
    ]


def test_outside_a_registry_nothing_is_completed(tmp_path: Path, complete: Complete) -> None:
    assert complete("show", "ch", cwd=tmp_path) == []
