"""The record of retired numbers (retired.yaml): written by delete, read by create,
checked by `validate` and `validate --base`."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import InvalidManifestError
from modelreg.retired import RETIRED_FILE, dumps, load
from tests.conftest import Result, RunCli, git
from tests.review.pullrequest import MANIFEST


def branch(root: Path, name: str) -> None:
    git(root, "checkout", "-qb", name)


def record(root: Path) -> str:
    return (root / RETIRED_FILE).read_text()


def test_a_new_registry_has_an_empty_record(registry: Registry) -> None:
    assert registry.base.retired_numbers() == {}
    assert RETIRED_FILE in git(registry.root, "ls-files")


def test_delete_records_the_numbers_in_its_own_commit(churn: Registry) -> None:
    churn.delete("churn-xgb")
    root = churn.root
    assert "churn-xgb: 2\n" in record(root)
    changed = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == sorted([MANIFEST, RETIRED_FILE])
    again = churn.create_model("churn-xgb", name="Again", framework="onnx")
    assert again.first_version == 3
    assert churn.register_version("churn-xgb").version == 3


def test_create_reads_the_record_not_the_history(churn: Registry) -> None:
    root = churn.root
    churn.delete("churn-xgb")
    # a reviewed edit of the record (say, numbers used elsewhere before a migration) wins
    (root / RETIRED_FILE).write_text(record(root).replace("churn-xgb: 2", "churn-xgb: 40"))
    git(root, "commit", "-qam", "retire more")
    assert churn.create_model("churn-xgb", name="Again", framework="onnx").first_version == 41
    assert churn.past("HEAD~1").retired_versions("churn-xgb") == 40
    assert churn.past("HEAD~3").retired_versions("churn-xgb") == 0  # before the delete


def test_a_registry_without_a_record_finds_the_numbers_in_history(churn: Registry) -> None:
    root = churn.root
    git(root, "rm", "-q", RETIRED_FILE)
    git(root, "commit", "-qm", "a registry made before the record")
    git(root, "rm", "-q", MANIFEST)
    git(root, "commit", "-qm", "deleted by hand")
    assert churn.base.retired_numbers() is None
    assert churn.create_model("churn-xgb", name="Again", framework="onnx").first_version == 3
    churn.delete("churn-xgb")  # the first delete starts the record
    assert churn.base.retired_numbers() == {"churn-xgb": 2}


def test_deleting_twice_never_lowers_a_number(churn: Registry) -> None:
    churn.delete("churn-xgb")
    churn.create_model("churn-xgb", name="Again", framework="onnx")
    churn.delete("churn-xgb")  # no versions of its own: the record stays at 2
    assert churn.base.retired_numbers() == {"churn-xgb": 2}


def test_a_transaction_deleting_two_models_records_both(churn: Registry) -> None:
    churn.create_model("other", name="Other", framework="onnx")
    churn.register_version("other")
    with churn.transaction("clean up"):
        churn.delete("churn-xgb")
        churn.delete("other")
    assert churn.base.retired_numbers() == {"churn-xgb": 2, "other": 1}


def test_a_broken_record_is_located(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    (root / RETIRED_FILE).write_text(dumps({"a": 3}).decode() + "b: two\nc: 0\n")
    r: Result = run_cli("validate", cwd=root)
    assert r.code == 3
    assert f"{RETIRED_FILE}:5:4" in r.out and "b: must be a whole number" in r.out
    assert f"{RETIRED_FILE}:6:4" in r.out and "c: must be a whole number" in r.out
    with pytest.raises(InvalidManifestError):
        churn.create_model("a", name="A", framework="onnx")


def test_load_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(InvalidManifestError, match="mapping of model id"):
        load(b"- churn-xgb\n", RETIRED_FILE)
    assert load(dumps({"b": 2, "a": 1}), RETIRED_FILE)[0] == {"a": 1, "b": 2}


def test_a_hand_deleted_manifest_must_be_retired(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    branch(root, "feature")
    git(root, "rm", "-q", MANIFEST)
    git(root, "commit", "-qm", "delete by hand")
    r: Result = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3, r.out
    assert RETIRED_FILE in r.out
    assert "without retiring its numbers: add `churn-xgb: 2`" in r.out
    (root / RETIRED_FILE).write_text(dumps({"churn-xgb": 2}).decode())
    git(root, "commit", "-qam", "retire its numbers")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 0, r.out


def test_a_pull_request_may_not_lower_or_drop_a_number(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    churn.delete("churn-xgb")
    branch(root, "feature")
    (root / RETIRED_FILE).write_text(record(root).replace("churn-xgb: 2", "churn-xgb: 1"))
    r: Result = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    assert "retired up to 2 on the base, 1 here" in r.out
    (root / RETIRED_FILE).write_text(dumps({}).decode())
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3 and "retired up to 2 on the base, nothing here" in r.out


def test_a_recreated_model_starts_above_the_record(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    old = (root / MANIFEST).read_text()
    branch(root, "feature")
    churn.delete("churn-xgb")  # deleted and re-created in the same pull request
    (root / MANIFEST).parent.mkdir(parents=True)
    (root / MANIFEST).write_text(old)
    r: Result = run_cli("validate", "--base", "main", cwd=root)
    # the manifest is back, unchanged: nothing was deleted or reused
    assert r.code == 0, r.out
    (root / MANIFEST).write_text(old.replace("version: 2", "version: 3"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "recreate")
    git(root, "checkout", "-q", "main")
    git(root, "checkout", "-qb", "second")
    churn.delete("churn-xgb")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--ff-only", "second")
    git(root, "checkout", "-qb", "third")
    (root / MANIFEST).parent.mkdir(parents=True)
    (root / MANIFEST).write_text(old.replace("accuracy: 0.92", "accuracy: 0.5"))
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    assert "an earlier model churn-xgb (since deleted) had versions up to 2" in r.out
