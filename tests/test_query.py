"""Listing, one set of rules for the library, the CLI and HTTP: filters, sort, pages. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from modelreg.http.app import HttpError, parse_query
from modelreg.query import Query, QueryError, Summary, apply, matches, order

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def summary(model_id: str, name: str, framework: str = "xgboost", **extra: object) -> Summary:
    fields: dict[str, object] = {
        "id": model_id,
        "name": name,
        "description": "",
        "framework": framework,
        "source": None,
        "type": None,
        "status": "registered",
        "owner": None,
        "organization": None,
        "workspace": None,
        "customer": None,
        "tags": (),
        "stages": frozenset(),
        "created_at": None,
        "updated_at": None,
        "latest_version": 0,
    }
    fields.update(extra)
    return Summary(**fields)  # type: ignore[arg-type]


MODELS = [
    summary("a", "beta", "onnx", tags=("x",), created_at=T0),
    summary("b", "Alpha", "xgboost", tags=("y",), created_at=T0 + dt.timedelta(days=1)),
    summary("c", "gamma", "sklearn", tags=("x", "y")),
]


def ids(items: Sequence[Summary]) -> list[str]:
    return [s.id for s in items]


def test_several_values_of_one_filter_mean_or_and_filters_mean_and() -> None:
    either = Query(filters={"framework": ("onnx", "sklearn")})
    assert ids(apply(MODELS, either).items) == ["a", "c"]
    both = Query(filters={"framework": ("onnx", "sklearn"), "tag": ("y",)})
    assert ids(apply(MODELS, both).items) == ["c"]
    assert matches(MODELS[1], Query(search="ALPHA"))
    assert not matches(MODELS[1], Query(search="gamma"))


def test_sort_is_case_blind_on_names_stable_on_ids_and_missing_values_go_last() -> None:
    assert ids(order(MODELS, "name")) == ["b", "a", "c"]
    assert ids(order(MODELS, "-name")) == ["c", "a", "b"]
    assert ids(order(MODELS, "createdAt:desc")) == ["b", "a", "c"]
    assert ids(order(MODELS, "created_at")) == ["a", "b", "c"]
    page = apply(MODELS, Query(sort="id", limit=1, offset=1))
    assert (ids(page.items), page.total) == (["b"], 3)


@pytest.mark.parametrize("bad", [{"sort": "colour"}, {"sort": "name:up"}, {"offset": -1}])
def test_a_bad_query_is_an_error(bad: dict[str, object]) -> None:
    with pytest.raises(QueryError):
        Query(**bad)  # type: ignore[arg-type]


def test_the_http_names_map_onto_one_query() -> None:
    q = parse_query(b"framework=onnx&framework=sklearn&workspaceId=ws&sort=-createdAt&limit=5")
    assert q.filters == {"framework": ("onnx", "sklearn"), "workspace": ("ws",)}
    assert (q.sort, q.limit, q.offset) == ("created_at:desc", 5, 0)
    assert parse_query(b"").sort == "created_at:desc"  # the API's default: newest first
    for bad in (b"framework=keras", b"sort=owner", b"limit=5000", b"status=deleted"):
        with pytest.raises(HttpError):
            parse_query(bad)


LABELLED = [
    summary("a", "a", labels={"team": "risk", "tier": "gold"}),
    summary("b", "b", labels={"team": "risk"}),
    summary("c", "c", labels={"team": "growth", "tier": ""}),
    summary("d", "d"),
]


def test_label_values_are_a_selector_every_one_holds() -> None:
    def found(*selector: str) -> list[str]:
        return ids(apply(LABELLED, Query(filters={"label": selector})).items)

    assert found("team=risk") == ["a", "b"]
    assert found("team=risk", "tier=gold") == ["a"]  # AND, not OR
    assert found("team=risk", "tier=silver") == []
    assert found("tier") == ["a", "c"]  # KEY alone: set, to anything (even empty)
    assert found("tier=") == ["c"]
    assert found("team=Risk") == []  # values compare exactly
    both = Query(filters={"label": ("team=risk",), "tag": ("x",)})
    assert ids(
        apply([*LABELLED, summary("e", "e", tags=("x",), labels={"team": "risk"})], both).items
    ) == ["e"]


def test_a_label_selector_without_a_key_is_an_error_here_and_over_http() -> None:
    with pytest.raises(QueryError, match="names no key"):
        Query(filters={"label": ("=risk",)})
    assert parse_query(b"label=team%3Drisk&label=tier").filters == {"label": ("team=risk", "tier")}
    with pytest.raises(HttpError) as caught:
        parse_query(b"label=%3Drisk")
    assert caught.value.status == 400
