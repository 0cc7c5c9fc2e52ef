"""validate checks again only what changed since a run found the registry valid, and
still finds every problem a full check finds."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from modelreg import Registry


def validate(root: Path) -> list[str]:
    with Registry.open(root) as reg:
        return [f"{p.field}: {p.message}" for p in reg.validate()]


def record(reg: Registry) -> Path:
    assert reg.cache.path is not None
    return reg.cache.path.with_name("checked")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_valid_registry_is_recorded_and_a_later_problem_still_found(churn: Registry) -> None:
    hour_ago = time.time_ns() - 3600 * 10**9
    for f in (churn.root / "models").rglob("*.*"):
        os.utime(f, ns=(hour_ago, hour_ago))  # past the racy window: trusted on status
    assert validate(churn.root) == []
    assert record(churn).is_file()
    saved = record(churn).read_bytes()
    assert validate(churn.root) == []
    assert record(churn).read_bytes() == saved  # nothing read again, nothing saved again
    edit(churn.root / "models/churn-xgb/model.yaml", "framework: xgboost", "framework: xgb")
    (problem,) = validate(churn.root)
    assert problem.startswith("framework:")


def test_a_changed_parent_rechecks_the_models_that_name_it(churn: Registry) -> None:
    churn.create_model("churn-ft", name="Fine-tuned", framework="xgboost")
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@1"})
    assert validate(churn.root) == []
    # the parent's first version removed by hand: churn-ft, unchanged, now names nothing
    manifest = churn.root / "models/churn-xgb/model.yaml"
    text = manifest.read_text()
    first = re.search(r"^- version: 1\n(?:  .*\n)*", text, re.MULTILINE)
    assert first is not None
    manifest.write_text(text.replace(first.group(0), ""))
    problems = validate(churn.root)
    assert any("churn-xgb@1" in p and p.startswith("versions[0].lineage.parent") for p in problems)


def test_a_model_removed_by_hand_rechecks_every_parent(churn: Registry) -> None:
    churn.create_model("churn-ft", name="Fine-tuned", framework="xgboost")
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@1"})
    assert validate(churn.root) == []
    for f in (churn.root / "models/churn-xgb").iterdir():
        f.unlink()
    (churn.root / "models/churn-xgb").rmdir()
    problems = validate(churn.root)
    assert any("churn-xgb" in p and "lineage.parent" in p for p in problems)


def test_a_config_change_checks_every_manifest_again(churn: Registry) -> None:
    churn.set_stage("churn-xgb", 1, "challenger")
    assert validate(churn.root) == []
    config = churn.root / "modelreg.yaml"
    config.write_text(config.read_text() + "policy:\n  promotion:\n    max_challengers: 0\n")
    (problem,) = validate(churn.root)
    assert problem.startswith("versions[0].stage:") and "the policy allows 0" in problem


def test_the_size_limit_holds_for_a_manifest_parsed_before(churn: Registry) -> None:
    churn.update("churn-xgb", description="A long description. " * 60)
    assert validate(churn.root) == []
    config = churn.root / "modelreg.yaml"
    config.write_text(config.read_text() + "policy:\n  max_manifest_bytes: 1024\n")
    (problem,) = validate(churn.root)
    assert "1024" in problem


def test_a_card_changed_after_a_valid_run_is_checked(churn: Registry) -> None:
    assert validate(churn.root) == []
    (churn.root / "models/churn-xgb/README.md").write_bytes(b"# Churn\n\xff\xfe bad bytes\n")
    (problem,) = validate(churn.root)
    assert "not UTF-8" in problem


def test_a_broken_manifest_is_found_again_while_the_others_are_recorded(
    churn: Registry,
) -> None:
    churn.create_model("lstm", name="LSTM", framework="tensorflow")
    churn.create_model("child", name="Child", framework="onnx")
    churn.register_version("child", lineage={"parent": "churn-xgb@1"})
    lstm = churn.root / "models/lstm/model.yaml"
    edit(lstm, "framework: tensorflow", "framework: tf")
    child = churn.root / "models/child/model.yaml"
    edit(child, "parent: churn-xgb@1", "parent: churn-xgb@9")
    for _ in range(2):  # the second run reads the record the first one saved
        problems = validate(churn.root)
        assert len(problems) == 2
        assert any(p.startswith("framework:") for p in problems)
        assert any("churn-xgb@9" in p for p in problems)
    assert record(churn).is_file()
    edit(churn.root / "models/churn-xgb/model.yaml", "framework: xgboost", "framework: xgb")
    assert len(validate(churn.root)) == 3
