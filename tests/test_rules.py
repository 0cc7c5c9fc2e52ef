"""The change rules, one test per rule: pure, two manifests in, violations out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from modelreg.config import RegistryConfig
from modelreg.manifest import Model
from modelreg.rules import check_added, check_change, check_model, check_renames

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def version(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "version": n,
        "created_at": T0 + dt.timedelta(days=n),
        "metrics": {"accuracy": 0.8 + n / 100},
        **extra,
    }


def model(*versions: dict[str, Any], **extra: Any) -> Model:
    return Model.model_validate(
        {
            "id": "churn",
            "name": "Churn",
            "framework": "xgboost",
            "versions": list(versions),
            **extra,
        }
    )


DEPLOYED = {"deployment": {"target": "kserve", "version": 2, "deployed_at": T0}}


def messages(old: Model | None, new: Model | None, **kw: Any) -> list[str]:
    return [v.message for v in check_change(old, new, **kw)]


def test_an_appended_version_and_stage_and_description_edits_pass() -> None:
    old = model(version(1), version(2, stage="production"))
    new = model(
        version(1, stage="archived", description="superseded"),
        version(2, stage="production"),
        version(3, stage="staging"),
    )
    assert check_change(old, new) == []
    assert check_change(None, new) == []
    assert check_change(old, old) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metrics", {"accuracy": 0.99}),
        ("metrics", {"accuracy": 0.81, "f1": 0.5}),
        ("hyperparameters", {"depth": 7}),
        ("training", {"epochs": 3}),
        ("created_at", T0 + dt.timedelta(days=30)),
        ("label", "v9"),
        ("artifacts", {"model": {"uri": "s3://b/other.bin"}}),
        ("tags", ["tuned"]),
        ("lineage", {"run": {"id": "run-9", "tracker": "mlflow"}}),
        ("lineage", {"parent": "base@1"}),
    ],
)
def test_a_released_version_is_immutable(field: str, value: Any) -> None:
    old = model(version(1), version(2))
    new = model(version(1), version(2, **{field: value}))
    (v,) = check_change(old, new)
    assert v.path[:3] == ("versions", 1, field) and not v.in_base
    assert f"version 2 is released: its {field} cannot change" in v.message


def test_labels_annotations_and_aliases_may_change() -> None:
    old = model(version(1, labels={"team": "risk"}), version(2), aliases={"champion": 1})
    new = model(
        version(1, labels={"team": "ops"}, annotations={"note": {"any": ["json"]}}),
        version(2, labels={"acme.com/tier": "gold"}),
        labels={"team": "risk"},
        annotations={"ticket": "RISK-42"},
        aliases={"champion": 2, "shadow": 1},
    )
    assert check_change(old, new) == []


SHA = "ab" * 32


@pytest.mark.parametrize(
    ("before", "after", "allowed"),
    [
        ({"uri": "s3://b/m.bin"}, {"uri": "s3://b/m.bin", "size": 5, "sha256": SHA}, True),
        (
            {"uri": "s3://b/m.bin", "size": 5},
            {"uri": "s3://b/m.bin", "size": 5, "sha256": SHA},
            True,
        ),
        (
            {"uri": "s3://b/m.bin", "size": 5},
            {"uri": "s3://b/m.bin", "size": 6, "sha256": SHA},
            False,
        ),
        (
            {"uri": "s3://b/m.bin", "sha256": SHA},
            {"uri": "s3://b/m.bin", "size": 5, "sha256": "cd" * 32},
            False,
        ),
        ({"uri": "s3://b/m.bin"}, {"uri": "s3://b/other.bin", "size": 5, "sha256": SHA}, False),
        ({"uri": "s3://b/m.bin", "size": 5, "sha256": SHA}, {"uri": "s3://b/m.bin"}, False),
    ],
)
def test_only_a_missing_size_and_sha256_may_be_recorded_later(
    before: dict[str, Any], after: dict[str, Any], allowed: bool
) -> None:
    old = model(version(1, artifacts={"model": before}))
    new = model(version(1, artifacts={"model": after}))
    found = messages(old, new)
    if allowed:
        assert found == []
    else:
        (message,) = found
        assert "version 1 is released: its artifacts cannot change" in message


def test_a_version_is_never_removed() -> None:
    old = model(version(1), version(2))
    (v,) = check_change(old, model(version(2)))
    assert v.path == ("versions",)
    assert "version 1 was removed" in v.message and "archived" in v.message


def test_a_new_version_never_takes_a_number_below_the_latest() -> None:
    old = model(version(1), version(3))
    (v,) = check_change(old, model(version(1), version(2), version(3)))
    assert v.path == ("versions", 1, "version")
    assert "version 2 is new but its number is taken" in v.message and "use 4" in v.message


def test_a_recreated_model_never_reuses_the_numbers_of_the_deleted_one() -> None:
    msgs = messages(None, model(version(1)), retired=3)
    assert len(msgs) == 1 and "an earlier model churn (since deleted)" in msgs[0]
    assert check_change(None, model(version(4), first_version=4), retired=3) == []


def test_first_version_never_goes_down() -> None:
    old = model(version(5), first_version=5)
    new = model(version(5), first_version=2)
    assert any("first_version went down from 5" in m for m in messages(old, new))


def test_the_id_never_changes() -> None:
    old = model(version(1))
    new = old.model_copy(update={"id": "churn-v2"})
    assert messages(old, new) == ["the model id changed from 'churn': ids never change"]


def test_a_deployed_model_is_not_deleted() -> None:
    old = model(version(1), version(2), **DEPLOYED)
    (v,) = check_change(old, None)
    assert v.in_base and v.path == ("deployment",)
    assert "deleted while deployed (version 2 on kserve)" in v.message
    assert check_change(model(version(1)), None) == []


def test_the_promotion_policy_is_off_by_default_and_enforced_when_set() -> None:
    old = model(version(1), version(2, stage="challenger"), version(3))
    moved = model(version(1), version(2, stage="production"), version(3, stage="production"))
    assert check_change(old, moved) == []
    strict = RegistryConfig.model_validate(
        {"policy": {"promotion": {"production_from": ["challenger", "staging"]}}}
    )
    (v,) = check_change(old, moved, strict)
    assert v.path == ("versions", 2, "stage")
    assert "version 3 moved from none" in v.message and "challenger, staging" in v.message
    direct = model(
        version(1), version(2, stage="challenger"), version(3), version(4, stage="production")
    )
    (v,) = check_change(old, direct, strict)
    assert "version 4 registered directly in production" in v.message


def test_an_edit_inside_a_block_points_at_the_changed_entry() -> None:
    old = model(version(1, hyperparameters={"a": 1, "opt": {"lr": 0.1, "m": 0.9}}))
    new = model(version(1, hyperparameters={"a": 1, "opt": {"lr": 0.1, "m": 0.5}}))
    (v,) = check_change(old, new)
    assert v.path == ("versions", 0, "hyperparameters", "opt", "m")


def test_a_renamed_model_is_found_by_its_released_versions() -> None:
    old = model(version(1), version(2))
    renamed = old.model_copy(update={"id": "churn-v2"})
    other = model(version(1, metrics={"accuracy": 0.5})).model_copy(update={"id": "other"})
    ((model_id, v),) = check_renames([old], [other, renamed])
    assert model_id == "churn-v2" and v.path == ("id",)
    assert "model churn-v2 is model churn renamed (version 1 is the same)" in v.message


def test_a_duplicate_number_is_not_also_an_edit_of_the_released_version() -> None:
    old = model(version(1), version(2))
    merged = model(version(1), version(2), version(2, metrics={"accuracy": 0.5}))
    assert check_change(old, merged) == []
    edited = model(version(1), version(2, label="x"), version(2, metrics={"accuracy": 0.5}))
    (v,) = check_change(old, edited)
    assert v.path == ("versions", 1, "label")


@pytest.mark.parametrize(
    "case",
    [
        # a plain append: nothing to say
        (model(version(1), version(2)), 1),
        # a number below first_version
        (model(version(3), first_version=5), 1),
        # a number already taken, and one that comes after a higher one
        (model(version(1), version(2), version(2)), 1),
        (model(version(1), version(5), version(3)), 1),
        # several added at once, one of them taken
        (model(version(1), version(2), version(1), version(3)), 2),
        # added in production or as a challenger: the whole model is checked
        (model(version(1, stage="production"), version(2, stage="production")), 1),
        (model(version(1, stage="challenger"), version(2, stage="challenger")), 1),
    ],
)
def test_check_added_says_what_check_model_says_of_the_added_versions(
    case: tuple[Model, int],
) -> None:
    full, added = case
    cut = len(full.versions) - added
    config = RegistryConfig.model_validate(
        {
            "apiVersion": "modelreg/v1",
            "kind": "Registry",
            "name": "r",
            "policy": {"promotion": {"max_challengers": 1}},
        }
    )
    expected = [
        v
        for v in check_model(full, config)
        if v.path[0] != "versions" or not isinstance(v.path[1], int) or v.path[1] >= cut
    ]
    assert check_added(full, added, config) == expected


def test_check_added_leaves_the_versions_before_alone() -> None:
    # two production versions committed by hand: the full check says so, an append
    # of a version that changes nothing about it does not repeat it
    broken = model(version(1, stage="production"), version(2, stage="production"), version(3))
    assert check_model(broken)
    assert check_added(broken, 1) == []
