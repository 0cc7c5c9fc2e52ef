"""Lineage through the library and the CLI: register records it (code from a real git
checkout), parents resolve or nothing is written, the graph has parents and children."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import NotFoundError, RuleViolationError
from tests.conftest import Result, git, head


@pytest.fixture
def family(churn: Registry) -> Registry:
    """churn-xgb@2 <- churn-ft@1 <- churn-eu@1, and churn-ft@2 from churn-xgb@1."""
    churn.create_model("churn-ft", name="Fine-tuned", framework="xgboost", source="fine-tuning")
    churn.create_model("churn-eu", name="EU", framework="xgboost", source="fine-tuning")
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@production"})
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@1"})
    churn.register_version("churn-eu", lineage={"parent": "churn-ft@1"})
    return churn


def test_a_parent_is_recorded_by_number(family: Registry) -> None:
    v = family.resolve("churn-ft@1")[1]
    assert v.lineage is not None and v.lineage.parent == "churn-xgb@2"


def test_graph_has_the_parent_chain_and_the_descendants(family: Registry) -> None:
    g = family.lineage("churn-eu@1")
    assert [n.ref for n in g.parents] == ["churn-ft@1", "churn-xgb@2"]
    assert g.children == ()
    g = family.lineage("churn-xgb@production")
    assert g.subject.ref == "churn-xgb@2" and g.parents == ()
    assert [(n.ref, n.depth) for n in g.children] == [("churn-ft@1", 1), ("churn-eu@1", 2)]
    g = family.lineage("churn-xgb@1")
    assert [n.ref for n in g.children] == ["churn-ft@2"]


def test_a_parent_that_does_not_resolve_is_refused_and_nothing_written(churn: Registry) -> None:
    commit = head(churn.root)
    for parent, says in [
        ("nobody@1", "no model 'nobody'"),
        ("churn-xgb@9", "has no version 9"),
        ("churn-xgb@champion", "no version, stage, alias or label 'champion'"),
    ]:
        with pytest.raises(NotFoundError, match=f"parent {parent} does not resolve.*{says}"):
            churn.register_version("churn-xgb", lineage={"parent": parent})
    assert head(churn.root) == commit
    assert git(churn.root, "status", "--porcelain") == ""


def test_validate_finds_a_dangling_or_looping_parent(family: Registry) -> None:
    path = family.root / "models/churn-eu/model.yaml"
    text = path.read_text()
    path.write_text(text.replace("parent: churn-ft@1", "parent: churn-ft@7"))
    (problem,) = family.validate()
    assert problem.field == "versions[0].lineage.parent"
    assert "churn-ft has no version 7" in problem.message and problem.line is not None
    # a loop: churn-xgb@1 made a child of its own grandchild
    path.write_text(text)
    base = family.root / "models/churn-xgb/model.yaml"
    base.write_text(
        base.read_text().replace(
            "  label: v1.0.0\n", "  label: v1.0.0\n  lineage: {parent: churn-ft@2}\n", 1
        )
    )
    problems = family.validate()
    assert any("cannot be a cycle" in p.message for p in problems), problems


def test_a_parent_model_is_not_deleted(family: Registry) -> None:
    with pytest.raises(RuleViolationError, match="parent of churn-eu@1"):
        family.delete("churn-ft")


def test_register_cli_records_code_run_data_and_parent(
    churn: Registry, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    code = tmp_path / "training"
    (code / "src").mkdir(parents=True)
    (code / "src" / "train.py").write_text("print('train')\n")
    git(code, "init", "-q", "-b", "main")
    git(code, "remote", "add", "origin", "https://user:secret@git.example.com/acme/churn.git")
    git(code, "add", ".")
    git(code, "commit", "-q", "-m", "training code")
    sha = head(code)
    r = run_cli(
        "register",
        "churn-xgb",
        "--code-from",
        str(code / "src" / "train.py"),
        "--run-id",
        "9f2c",
        "--run-url",
        "https://mlflow.example.com/r/9f2c",
        "--tracker",
        "mlflow",
        "--dataset",
        "train=s3://data/churn/2024.parquet#sha256:" + "ab" * 32,
        "--dataset",
        "test=s3://data/churn/holdout#2024-12",
        "--parent",
        "churn-xgb@production",
        "--tag",
        "tuned",
        "--label",
        "v2.0.0",
        "--label",
        "team=risk",
        "--annotation",
        "notes=[a, b]",
        "--json",
        cwd=churn.root,
    )
    assert r.code == 0, r.err
    v = json.loads(r.out)
    assert v["label"] == "v2.0.0" and v["tags"] == ["tuned"] and v["labels"] == {"team": "risk"}
    assert v["annotations"] == {"notes": ["a", "b"]}
    assert v["lineage"] == {
        "run": {"id": "9f2c", "url": "https://mlflow.example.com/r/9f2c", "tracker": "mlflow"},
        "code": {
            "repository": "https://git.example.com/acme/churn.git",
            "commit": sha,
            "path": "src/train.py",
        },
        "datasets": [
            {"uri": "s3://data/churn/2024.parquet", "sha256": "ab" * 32, "role": "train"},
            {"uri": "s3://data/churn/holdout", "version": "2024-12", "role": "test"},
        ],
        "parent": "churn-xgb@2",
    }
    (code / "src" / "train.py").write_text("print('changed')\n")
    r = run_cli("register", "churn-xgb", "--code-from", str(code), cwd=churn.root)
    assert r.code == 0 and "uncommitted changes" in r.out
    assert churn.get("churn-xgb").versions[-1].lineage.code.dirty  # type: ignore[union-attr]
    r = run_cli("lineage", "churn-xgb@3", cwd=churn.root)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith("churn-xgb@2")
    assert "churn-xgb@3" in r.out and "run: 9f2c (mlflow)" in r.out
    r = run_cli("lineage", "churn-xgb@2", "--json", cwd=churn.root)
    assert [c["ref"] for c in json.loads(r.out)["children"]] == ["churn-xgb@3"]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--dataset", "training=s3://x"), 2, "ROLE one of train"),
        (("--parent", "nobody@1"), 4, "parent nobody@1 does not resolve"),
        (("--label", "Bad Key=x"), 5, "not a Kubernetes-style key"),
        (("--label", "v1", "--label", "v2"), 2, "one human label per version"),
        (("--run-url", "https://x"), 2, "need --run-id"),
        (("--code-from", "/"), 4, "not inside a git checkout"),
    ],
)
def test_register_bad_lineage_input_writes_nothing(
    churn: Registry, run_cli: Callable[..., Result], args: tuple[str, ...], code: int, says: str
) -> None:
    commit = head(churn.root)
    r = run_cli("register", "churn-xgb", *args, cwd=churn.root)
    assert r.code == code and says in r.err and "Traceback" not in r.err, r.err
    assert head(churn.root) == commit
