"""`modelreg diff BASE [HEAD]`: what a change does, per model, in text, JSON and Markdown."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.delta import delta
from modelreg.manifest import Challenger, Deployment
from tests.conftest import RunCli, git
from tests.review.pullrequest import MANIFEST, VERSION_3, append

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)


@pytest.fixture
def feature(churn: Registry) -> Registry:
    """A branch that changes churn-xgb in every way, adds one model and removes another."""
    churn.create_model("old-model", name="Old", framework="onnx")
    git(churn.root, "checkout", "-qb", "feature")
    churn.register_version(
        "churn-xgb", label="v1.2.0", metrics={"accuracy": 0.95, "f1": 0.9}, stage="staging"
    )
    churn.set_stage("churn-xgb", 1, "archived")
    churn.update("churn-xgb", description="Now with more data", tags=["churn"])
    with churn.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            Deployment(
                target="kserve",
                version=2,
                challenger=Challenger(version=3, traffic_percent=10),
                hardware="cpu-small",
                deployed_at=NOW,
            ),
            message="deploy",
        )
    churn.create_model("new-model", name="New", framework="sklearn")
    churn.register_version("new-model", metrics={"auc": 0.7})
    churn.delete("old-model")
    return churn


def test_text(feature: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("diff", "main", cwd=feature.root)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith("3 model(s) changed since ")
    body = r.out.split("\n", 1)[1]
    assert body == (
        "churn-xgb: changed\n"
        "  version 3 (v1.2.0) added, stage staging: accuracy 0.95 (+0.03), f1 0.9, "
        "deltas vs production v2\n"
        "  version 1: none → archived\n"
        "  deployment: not deployed → version 2 on kserve "
        "(challenger 3 at 10 %, cpu-small, 1 replica)\n"
        "  description: (none) → Now with more data\n"
        "  tags: [churn, xgboost] → [churn]\n"
        "new-model: added\n"
        "  version 1 added, stage none: auc 0.7\n"
        "old-model: removed\n"
    )


def test_json_and_head_argument(feature: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    git(feature.root, "checkout", "-q", "main")
    r = run_cli("diff", "main", "feature", "--format", "json", cwd=feature.root)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["head"] == git(feature.root, "rev-parse", "feature").strip()
    churn, new, old = data["models"]
    assert [m["kind"] for m in data["models"]] == ["changed", "added", "removed"]
    (added,) = churn["versions_added"]
    assert added["baseline_version"] == 2
    assert added["metric_deltas"] == {"accuracy": pytest.approx(0.03)}
    assert churn["stage_moves"] == [{"version": 1, "before": "none", "after": "archived"}]
    assert churn["deployment"]["before"] is None
    assert {e["field"] for e in churn["metadata"]} == {"description", "tags"}
    assert new["events"] == ["model created", "version 1 registered"]
    assert old["events"] == ["model deleted"]
    # the working tree of main has nothing to show
    assert json.loads(run_cli("diff", "main", "--json", cwd=feature.root).out)["models"] == []


def test_markdown_for_a_pull_request_comment(feature: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("diff", "main", "--format", "markdown", cwd=feature.root)
    md = r.out
    assert md.startswith("<!-- modelreg-diff -->\n### modelreg: 3 model(s) changed\n")
    assert "#### ✏️ `churn-xgb` — changed" in md
    assert "| 3 | v1.2.0 | staging | accuracy 0.95 (+0.03), f1 0.9 |" in md
    assert "- version 1: `none` → `archived`" in md
    assert "#### 🆕 `new-model` — added" in md and "#### 🗑️ `old-model` — removed" in md


def test_a_hand_written_version_and_an_unfetched_base(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    append(churn.root / MANIFEST, VERSION_3)  # uncommitted, on main
    r = run_cli("diff", "HEAD", cwd=churn.root)
    assert "version 3 (v1.2.0) added, stage staging: accuracy 0.95 (+0.03)" in r.out
    r = run_cli("diff", "origin/main", cwd=churn.root)
    assert r.code == 7 and "not in this clone" in r.err and "Traceback" not in r.err


def test_a_broken_manifest_is_reported_not_raised(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    path: Path = churn.root / MANIFEST
    path.write_text(path.read_text().replace("framework: xgboost", "framework: cobol"))
    r = run_cli("diff", "HEAD", cwd=churn.root)
    assert r.code == 3 and "Traceback" not in r.err
    assert "churn-xgb: invalid" in r.out and f"{MANIFEST}:7:12: framework" in r.out


def test_delta_of_metadata_archive_and_undeploy() -> None:
    from modelreg.manifest import Model

    old = Model.model_validate(
        {
            "id": "m",
            "name": "M",
            "framework": "onnx",
            "versions": [{"version": 1, "created_at": NOW}],
            "deployment": {"target": "k8s", "version": 1, "deployed_at": NOW, "replicas": 2},
        }
    )
    new = old.model_copy(update={"deployment": None, "archived": True, "name": "M2"})
    d = delta(old, new, "m")
    assert d.deployment == ("version 1 on k8s (2 replicas)", None)
    assert [(e.field, e.before, e.after) for e in d.metadata] == [
        ("name", "M", "M2"),
        ("archived", False, True),
    ]
    assert d.added == () and d.kind == "changed"


def test_a_changed_label_and_a_moved_alias(churn: Registry, run_cli: RunCli) -> None:
    churn.update("churn-xgb", labels={"team": "risk", "tier": "gold"})
    churn.set_alias("churn-xgb@1", "champion")
    git(churn.root, "checkout", "-qb", "labels")
    churn.update("churn-xgb", labels={"team": "ops", "region": "eu"})
    churn.set_alias("churn-xgb@2", "champion")
    churn.set_alias("churn-xgb@1", "shadow")
    churn.update_version("churn-xgb@2", labels={"reviewed": "yes"})
    r = run_cli("diff", "main", cwd=churn.root)
    assert r.code == 0, r.err
    assert r.out.split("\n", 1)[1] == (
        "churn-xgb: changed\n"
        "  labels.region: (none) → eu\n"
        "  labels.team: risk → ops\n"
        "  labels.tier: gold → (none)\n"
        "  alias champion moved 1 -> 2\n"
        "  alias shadow set to version 1\n"
        "  version 2 edited: labels\n"
    )
    (d,) = json.loads(run_cli("diff", "main", "--json", cwd=churn.root).out)["models"]
    assert d["alias_moves"] == [
        {"alias": "champion", "before": 1, "after": 2},
        {"alias": "shadow", "before": None, "after": 1},
    ]
    assert {"field": "labels.team", "before": "risk", "after": "ops"} in d["metadata"]
    md = run_cli("diff", "main", "--format", "markdown", cwd=churn.root).out
    assert "- alias champion moved 1 -> 2" in md
