"""Version search across models through the library and the CLI, on a real registry."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from modelreg import Registry
from modelreg.versions import VersionQuery
from modelreg.where import WhereError, parse
from tests.conftest import Result, head


@pytest.fixture
def fleet(registry: Registry) -> Registry:
    """Three models, six versions, labels, tags, aliases and one fine-tuned model."""
    with registry.transaction("fleet"):
        registry.create_model(
            "churn-xgb", name="Churn", framework="xgboost", labels={"team": "risk"}
        )
        registry.create_model("grid-onnx", name="Grid", framework="onnx", workspace="ws_2")
        registry.create_model(
            "churn-ft", name="Churn fine-tuned", framework="xgboost", source="fine-tuning"
        )
        for acc, stage in ((0.89, "archived"), (0.94, "production"), (0.91, "staging")):
            registry.register_version(
                "churn-xgb", metrics={"accuracy": acc, "f1_score": acc - 0.01}, stage=stage
            )
        registry.register_version("grid-onnx", metrics={"rmse": 0.2}, tags=["nightly"])
        registry.register_version(
            "grid-onnx",
            metrics={"rmse": 0.1, "accuracy": 0.97},
            labels={"team": "grid"},
            tags=["nightly", "tuned"],
        )
    registry.set_alias("churn-xgb@2", "champion")
    registry.set_alias("grid-onnx@2", "champion")
    registry.register_version(
        "churn-ft",
        metrics={"accuracy": 0.95},
        lineage={"parent": "churn-xgb@champion", "run": {"id": "r-1", "tracker": "mlflow"}},
    )
    return registry


def refs(reg: Registry, query: VersionQuery) -> list[str]:
    return [h.ref for h in reg.versions(query).items]


def test_all_versions_by_model_then_number(fleet: Registry) -> None:
    page = fleet.versions()
    assert page.total == 6
    assert [h.ref for h in page.items] == [
        "churn-ft@1",
        "churn-xgb@1",
        "churn-xgb@2",
        "churn-xgb@3",
        "grid-onnx@1",
        "grid-onnx@2",
    ]


@pytest.mark.parametrize(
    ("filters", "where", "expected"),
    [
        ({"stage": ("production",)}, (), ["churn-xgb@2"]),
        ({"stage": ("production", "staging")}, (), ["churn-xgb@2", "churn-xgb@3"]),
        ({"alias": ("champion",)}, (), ["churn-xgb@2", "grid-onnx@2"]),
        ({"label": ("team=risk",)}, (), ["churn-xgb@1", "churn-xgb@2", "churn-xgb@3"]),
        ({"label": ("team",)}, (), ["churn-xgb@1", "churn-xgb@2", "churn-xgb@3", "grid-onnx@2"]),
        ({"tag": ("tuned",)}, (), ["grid-onnx@2"]),
        ({"framework": ("onnx",)}, (), ["grid-onnx@1", "grid-onnx@2"]),
        ({"workspace": ("ws_2",)}, (), ["grid-onnx@1", "grid-onnx@2"]),
        ({"model": ("churn-ft",)}, (), ["churn-ft@1"]),
        ({}, ("metrics.accuracy >= 0.94",), ["churn-ft@1", "churn-xgb@2", "grid-onnx@2"]),
        (
            {},
            ("metrics.accuracy >= 0.9", "framework == xgboost"),
            ["churn-ft@1", "churn-xgb@2", "churn-xgb@3"],
        ),
        ({}, ("lineage.run.tracker == mlflow",), ["churn-ft@1"]),
        ({}, ("lineage.parent == churn-xgb@2",), ["churn-ft@1"]),
        ({}, ("source == fine-tuning",), ["churn-ft@1"]),
        ({"stage": ("production",)}, ("metrics.accuracy < 0.9",), []),
    ],
)
def test_filters_and_conditions_are_anded(
    fleet: Registry,
    filters: dict[str, tuple[str, ...]],
    where: tuple[str, ...],
    expected: list[str],
) -> None:
    query = VersionQuery(filters=filters, where=tuple(parse(w) for w in where))
    assert refs(fleet, query) == expected


def test_sort_by_a_metric_with_missing_values_last_and_pages(fleet: Registry) -> None:
    query = VersionQuery(sort="-metrics.accuracy")
    assert refs(fleet, query) == [
        "grid-onnx@2",
        "churn-ft@1",
        "churn-xgb@2",
        "churn-xgb@3",
        "churn-xgb@1",
        "grid-onnx@1",
    ]
    assert refs(fleet, VersionQuery(sort="metrics.accuracy"))[:2] == ["churn-xgb@1", "churn-xgb@3"]
    page = fleet.versions(VersionQuery(sort="-metrics.accuracy", limit=2, offset=1))
    assert [h.ref for h in page.items] == ["churn-ft@1", "churn-xgb@2"] and page.total == 6
    assert refs(fleet, VersionQuery(sort="-model"))[0] == "grid-onnx@2"


def test_bad_queries_are_refused(fleet: Registry) -> None:
    with pytest.raises(WhereError, match="unknown filter 'colour'"):
        VersionQuery(filters={"colour": ("red",)})
    with pytest.raises(WhereError, match="unknown stage 'prod'"):
        VersionQuery(filters={"stage": ("prod",)})
    with pytest.raises(WhereError, match="unknown field 'colour'"):
        VersionQuery(sort="-colour")


def test_a_search_reads_what_was_just_written(fleet: Registry) -> None:
    assert refs(fleet, VersionQuery(filters={"alias": ("shadow",)})) == []
    fleet.set_alias("churn-xgb@3", "shadow")
    assert refs(fleet, VersionQuery(filters={"alias": ("shadow",)})) == ["churn-xgb@3"]
    again = Registry.open(fleet.root)  # a new process: from the manifest cache
    assert refs(again, VersionQuery(filters={"alias": ("shadow",)})) == ["churn-xgb@3"]


def test_versions_cli(fleet: Registry, run_cli: Callable[..., Result]) -> None:
    root = fleet.root
    r = run_cli(
        "versions",
        "--where",
        "metrics.accuracy >= 0.9",
        "--sort",
        "-metrics.accuracy",
        "--json",
        cwd=root,
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["count"] == 4 and data["offset"] == 0 and data["limit"] is None
    first = data["versions"][0]
    assert first["ref"] == "grid-onnx@2" and first["aliases"] == ["champion"]
    assert first["labels"] == {"team": "grid"} and first["model_name"] == "Grid"
    r = run_cli("versions", "--alias", "champion", "--sort", "-metrics.accuracy", cwd=root)
    lines = r.out.splitlines()
    assert lines[0].split() == [
        "VERSION",
        "LABEL",
        "STAGE",
        "ALIASES",
        "CREATED",
        "METRICS.ACCURACY",
        "METRICS",
    ]
    assert lines[1].split()[0] == "grid-onnx@2" and len(lines) == 3
    r = run_cli("versions", "--limit", "1", cwd=root)
    assert "(1 of 6; --offset 1 for more)" in r.out
    commit = head(root)
    for args, says in [
        (("--where", "metrics.accuracy >== 0.9"), "is not an operator"),
        (("--where", "colour == red"), "unknown field 'colour'"),
        (("--stage", "prod"), "unknown stage"),
        (("--sort", "colour"), "unknown field"),
    ]:
        r = run_cli("versions", *args, cwd=root)
        assert r.code == 2 and says in r.err and "Traceback" not in r.err, (args, r.err)
    assert head(root) == commit


def test_labels_of_a_released_version_may_change(fleet: Registry) -> None:
    fleet.update_version("churn-xgb@1", labels={"team": "archive"}, annotations={"why": [1, 2]})
    v1 = fleet.resolve("churn-xgb@1")[1]
    assert v1.labels == {"team": "archive"} and v1.annotations == {"why": [1, 2]}
    assert refs(fleet, VersionQuery(filters={"label": ("team=archive",)})) == ["churn-xgb@1"]
    assert fleet.validate() == []


@pytest.mark.parametrize(
    "query",
    [
        VersionQuery(),
        VersionQuery(sort="-metrics.accuracy", limit=3),
        VersionQuery(filters={"label": ("team",), "tag": ("nightly",)}),
        VersionQuery(filters={"alias": ("champion",), "status": ("registered",)}),
        VersionQuery(where=(parse("metrics.rmse < 0.15"),), search="grid"),
        VersionQuery(where=(parse("created_at >= 2000-01-01"),), sort="-created_at"),
    ],
)
def test_summaries_and_manifests_give_the_same_answer(fleet: Registry, query: VersionQuery) -> None:
    from modelreg.query import Summary
    from modelreg.versions import document, needs_manifests, search

    assert not needs_manifests(query)
    models = fleet.models()
    full = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in models]
    slim = [document(Summary.from_tuple(Summary.of(m).to_tuple())) for m in models]
    assert search(full, query) == search(slim, query)
    assert search(full, query).total > 0


def test_labels_and_annotations_through_create_and_update(
    registry: Registry, run_cli: Callable[..., Result]
) -> None:
    root = registry.root
    r = run_cli(
        "create",
        "customer_validation_lstm",
        "--name",
        "LSTM",
        "--framework",
        "tensorflow",
        "--label",
        "team=risk",
        "--label",
        "acme.com/tier=gold",
        "--annotation",
        "ticket=RISK-42",
        cwd=root,
    )
    assert r.code == 0, r.err
    model = registry.get("customer_validation_lstm")
    assert model.labels == {"team": "risk", "acme.com/tier": "gold"}
    assert model.annotations == {"ticket": "RISK-42"}
    r = run_cli(
        "update",
        "customer_validation_lstm",
        "--label",
        "team=ops",
        "--remove-label",
        "acme.com/tier",
        "--annotation",
        "owners=[ana, bo]",
        cwd=root,
    )
    assert r.code == 0, r.err
    model = registry.get("customer_validation_lstm")
    assert model.labels == {"team": "ops"}
    assert model.annotations == {"ticket": "RISK-42", "owners": ["ana", "bo"]}
    registry.register_version("customer_validation_lstm", metrics={"loss": 0.1})
    r = run_cli("update", "customer_validation_lstm@1", "--label", "reviewed=yes", cwd=root)
    assert r.code == 0, r.err
    assert registry.resolve("customer_validation_lstm@1")[1].labels == {"reviewed": "yes"}
    commit = head(root)
    for args, code, says in [
        (("customer_validation_lstm", "--label", "Bad Key=x"), 5, "not a Kubernetes-style key"),
        (("customer_validation_lstm", "--label", "team=not ok"), 5, "label value 'not ok'"),
        (("customer_validation_lstm@1", "--name", "x"), 2, "nothing else"),
    ]:
        r = run_cli("update", *args, cwd=root)
        assert r.code == code and says in r.err and "Traceback" not in r.err, (args, r.err)
    assert head(root) == commit


@pytest.mark.parametrize(
    "query",
    [
        VersionQuery(),
        VersionQuery(sort="-metrics.accuracy", limit=3, offset=1),
        VersionQuery(filters={"alias": ("champion",)}),
        VersionQuery(where=(parse("lineage.run.tracker == mlflow"),)),
    ],
)
def test_versions_as_json_are_the_hits_dicts(fleet: Registry, query: VersionQuery) -> None:
    fleet.close()  # the cache saved: JSON served from it, as a new process would
    again = Registry.open(fleet.root)
    expected = again.versions(query)
    found = again.versions_json(query)
    assert found.items == [h.to_dict() for h in expected.items]
    assert (found.total, found.limit, found.offset) == (
        expected.total,
        expected.limit,
        expected.offset,
    )
    with fleet.transaction() as tx:  # pending states are searched the same way
        tx.set_alias("churn-xgb@3", "shadow")
        pending = fleet.versions_json(VersionQuery(filters={"alias": ("shadow",)}))
        assert [h["ref"] for h in pending.items] == ["churn-xgb@3"]
        assert pending.items[0]["aliases"] == ["shadow"]
