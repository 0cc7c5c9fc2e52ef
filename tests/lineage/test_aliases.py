"""Aliases through the library and the CLI, on real repositories: one commit per move,
resolution everywhere a reference is taken, history of moves, refusals that write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from modelreg import Registry
from modelreg.errors import NotFoundError, RuleViolationError
from modelreg.manifest import Deployment
from tests.conftest import Result, git, head


def _commits(reg: Registry) -> int:
    return int(git(reg.root, "rev-list", "--count", "HEAD").strip())


def test_set_and_move_an_alias_one_commit_each(churn: Registry) -> None:
    before = _commits(churn)
    churn.set_alias("churn-xgb@1", "champion")
    assert _commits(churn) == before + 1
    assert churn.get("churn-xgb").aliases == {"champion": 1}
    assert churn.resolve("churn-xgb@champion")[1].version == 1
    churn.set_alias("churn-xgb@production", "champion")  # a stage names the version to point at
    assert churn.resolve("churn-xgb@champion")[1].version == 2
    assert git(churn.root, "log", "-1", "--format=%s").strip() == (
        "churn-xgb: alias champion moved from version 1 to 2"
    )
    # setting it where it already points writes nothing
    commit = head(churn.root)
    churn.set_alias("churn-xgb@2", "champion")
    assert head(churn.root) == commit
    text = (churn.root / "models/churn-xgb/model.yaml").read_text()
    assert "aliases:\n  champion: 2\n" in text or "aliases: {champion: 2}" in text
    git(churn.root, "fsck", "--strict")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("production", "is a stage"),
        ("staging", "is a stage"),
        ("latest", "newest version"),
        ("Champion", "not valid"),
        ("7", "not valid"),
        ("eu prod", "not valid"),
    ],
)
def test_a_bad_alias_name_is_refused_and_nothing_is_written(
    churn: Registry, name: str, says: str
) -> None:
    commit = head(churn.root)
    with pytest.raises(RuleViolationError, match=says):
        churn.set_alias("churn-xgb@1", name)
    assert head(churn.root) == commit
    assert git(churn.root, "status", "--porcelain") == ""


def test_an_alias_to_a_missing_version_is_refused(churn: Registry) -> None:
    commit = head(churn.root)
    with pytest.raises(NotFoundError):
        churn.set_alias("churn-xgb@9", "champion")
    assert head(churn.root) == commit


def deployed_champion_and_a_shadow(churn: Registry) -> None:
    """Aliases champion (version 2, deployed on kserve) and shadow (version 1)."""
    churn.set_alias("churn-xgb@2", "champion")
    churn.set_alias("churn-xgb@1", "shadow")
    with churn.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            Deployment.model_validate(
                {"target": "kserve", "version": 2, "deployed_at": "2025-01-01T00:00:00Z"}
            ),
            message="churn-xgb: deploy version 2",
        )


def test_remove_an_alias_and_refuse_it_while_deployed(churn: Registry) -> None:
    deployed_champion_and_a_shadow(churn)
    commit = head(churn.root)
    with pytest.raises(RuleViolationError, match=r"deployed on kserve.*--force"):
        churn.remove_alias("churn-xgb", "champion")
    assert head(churn.root) == commit
    churn.remove_alias("churn-xgb", "shadow")  # not deployed: no force needed
    churn.remove_alias("churn-xgb", "champion", force=True)
    assert churn.get("churn-xgb").aliases == {}
    assert "deployed on kserve" in git(churn.root, "log", "-1", "--format=%s")
    (removal,) = [e for e in churn.history("churn-xgb")[0].events if e.kind == "alias"]
    assert str(removal) == "alias champion removed (was version 2, which is deployed)"
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        churn.remove_alias("churn-xgb", "champion")


def test_alias_history_says_which_version_held_it_from_when_to_when(churn: Registry) -> None:
    churn.set_alias("churn-xgb@1", "champion")
    first = head(churn.root)
    churn.set_alias("churn-xgb@2", "champion")
    second = head(churn.root)
    churn.remove_alias("churn-xgb", "champion")
    third = head(churn.root)
    periods = churn.alias_history("churn-xgb", "champion")
    assert [(p.version, p.commit, p.ended_by) for p in periods] == [
        (1, first, second),
        (2, second, third),
    ]
    events = [str(e) for c in churn.history("churn-xgb") for e in c.events]
    assert "alias champion removed (was version 2)" in events
    assert "alias champion moved 1 -> 2" in events
    assert "alias champion set to version 1" in events


def test_a_hand_edited_alias_to_a_missing_version_fails_validate(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    path.write_text(path.read_text().replace("tags:", "aliases: {champion: 5}\ntags:", 1))
    (problem,) = churn.validate()
    assert problem.field == "aliases.champion"
    assert "names version 5, which does not exist" in problem.message
    assert problem.line is not None


def test_alias_cli(churn: Registry, run_cli: Callable[..., Result]) -> None:
    root = churn.root
    r = run_cli("alias", "churn-xgb@1", "champion", cwd=root)
    assert r.code == 0, r.err
    assert r.out.strip() == "churn-xgb@champion -> version 1"
    r = run_cli("show", "churn-xgb@champion", "--json", cwd=root)
    assert json.loads(r.out)["version"] == 1
    r = run_cli("alias", "churn-xgb@2", "production", cwd=root)
    assert r.code == 5 and "is a stage" in r.err and "Traceback" not in r.err
    r = run_cli("alias", "churn-xgb", "champion", cwd=root)
    assert r.code == 2 and "which version?" in r.err
    r = run_cli("alias", "churn-xgb@2", "champion", cwd=root)
    r = run_cli("history", "churn-xgb", "--alias", "champion", "--json", cwd=root)
    periods: list[dict[str, Any]] = json.loads(r.out)
    assert [p["version"] for p in periods] == [1, 2] and periods[1]["until"] is None
    r = run_cli("alias", "churn-xgb", "champion", "--remove", "--json", cwd=root)
    assert r.code == 0 and json.loads(r.out)["aliases"] == {}
    r = run_cli("show", "churn-xgb@champion", cwd=root)
    assert r.code == 4 and "aliases: none" in r.err


def test_a_pull_request_may_not_remove_a_deployed_alias_by_hand(
    churn: Registry, run_cli: Callable[..., Result]
) -> None:
    deployed_champion_and_a_shadow(churn)
    git(churn.root, "checkout", "-qb", "feature")
    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text()
    assert "  shadow: 1\n" in text and "  champion: 2\n" in text
    path.write_text(text.replace("  shadow: 1\n", ""))  # not deployed: may go
    r = run_cli("validate", "--base", "main", cwd=churn.root)
    assert r.code == 0, r.out + r.err
    path.write_text(text.replace("  champion: 2\n", ""))
    r = run_cli("validate", "--base", "main", "--json", cwd=churn.root)
    assert r.code == 3
    (problem,) = json.loads(r.out)["problems"]
    assert problem["field"] == "aliases" and problem["line"] is not None
    assert "alias champion was removed" in problem["message"]
    assert "deployed on kserve" in problem["message"]
