"""GET /api/v1/model-registry/versions over the real server: the CLI's version search in
the registry API's camelCase style, tenants applied, bad parameters a 400."""

from __future__ import annotations

import jsonschema

from modelreg.catalog import load_schema
from tests.http.conftest import Server

VERSIONS = "/api/v1/model-registry/versions"


def _valid(body: object) -> None:
    defs = load_schema()["$defs"]
    jsonschema.Draft202012Validator({"$defs": defs, "$ref": "#/$defs/VersionList"}).validate(body)


def test_versions_are_filtered_sorted_and_shaped_like_the_registry_api(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:
        everything = c.get(VERSIONS).json()
        _valid(everything)
        assert everything["count"] == 4
        assert [(v["modelId"], v["version"]) for v in everything["versions"]] == [
            ("customer_validation_lstm", 1),
            ("model_abc123", 1),
            ("model_abc123", 2),
            ("model_abc123", 3),
        ]
        r = c.get(
            VERSIONS,
            params={"where": "metrics.accuracy >= 0.9", "sort": "-metrics.accuracy"},
        ).json()
        _valid(r)
        assert [(v["modelId"], v["version"]) for v in r["versions"]] == [
            ("model_abc123", 3),
            ("model_abc123", 2),
        ]
        top = r["versions"][0]
        assert top["metrics"] == {"accuracy": 0.94, "f1Score": 0.93}
        assert top["stage"] == "production" and top["createdAt"].endswith("Z")
        both = c.get(
            VERSIONS,
            params=[("where", "metrics.accuracy > 0.9"), ("where", "metrics.f1_score < 0.92")],
        ).json()
        assert [v["version"] for v in both["versions"]] == [2]
        prod = c.get(VERSIONS, params={"stage": "production", "limit": 1}).json()
        assert prod["count"] == 2 and len(prod["versions"]) == 1 and prod["limit"] == 1


def test_a_tenant_sees_only_the_versions_of_its_models(server: Server) -> None:
    with server.client(server.keys["org_xyz"]) as c:
        r = c.get(VERSIONS).json()
        assert {v["modelId"] for v in r["versions"]} == {"model_abc123"}


def test_bad_parameters_are_a_400_that_says_why(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:
        for params, says in [
            ({"where": "metrics.accuracy >== 0.9"}, "is not an operator"),
            ({"where": "colour == red"}, "unknown field 'colour'"),
            ({"sort": "colour"}, "unknown field"),
            ({"stage": "prod"}, "unknown stage 'prod'"),
            ({"modelid": "x"}, "unknown parameter 'modelid'"),
        ]:
            r = c.get(VERSIONS, params=params)
            assert r.status_code == 400, params
            assert says in r.json()["message"], r.json()
        assert c.post(VERSIONS, json={}).status_code == 405
