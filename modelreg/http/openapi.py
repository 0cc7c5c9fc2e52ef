"""The OpenAPI 3.1 document of the HTTP API, built on ``schemas/catalog.schema.json``."""

from __future__ import annotations

import json
from typing import Any

from modelreg.catalog import load_schema
from modelreg.vocabulary import Framework, Source, Status


def _refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _refs(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_refs(v) for v in value]
    return value


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, **_json("Error")}


AUTH_ERRORS = {
    "401": _err("Missing or invalid API key"),
    "403": _err("The key lacks the scope model-registry:read"),
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
WRITE_405 = {
    "405": _err("Read-only: changes are made through pull requests, the CLI or the library"),
    **AUTH_ERRORS,
}
ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Model id",
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _get(
    summary: str,
    ok: dict[str, Any],
    *,
    params: list[dict[str, Any]] | None = None,
    errors: dict[str, Any] | None = None,
    secure: bool = True,
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "304": {"description": "Not modified (ETag)"}}
    responses.update(errors or {})
    if secure:
        responses.update(AUTH_ERRORS)
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if secure:
        op["security"] = SECURITY
    return op


def _write(
    summary: str, params: list[dict[str, Any]] | None = None, body: bool = True
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary + " (read-only here: answers 405)",
        "responses": WRITE_405,
        "security": SECURITY,
    }
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return op


OR = " (repeat the parameter for several values: any of them matches)"


def openapi_document() -> dict[str, Any]:
    """Every route, its parameters, responses and security, as OpenAPI 3.1."""
    schema = load_schema()
    components = _refs(schema["$defs"])
    bad = {"400": _err("Invalid parameter")}
    list_params = [
        _query("search", {"type": "string"}, "Search id, name and description"),
        _query("framework", {"enum": [f.value for f in Framework]}, "Filter by framework" + OR),
        _query("source", {"enum": [s.value for s in Source]}, "Filter by source" + OR),
        _query("status", {"enum": [s.value for s in Status]}, "Filter by status" + OR),
        _query("tag", {"type": "string"}, "Filter by tag" + OR),
        _query("workspaceId", {"type": "string"}, "Filter by workspace" + OR),
        _query(
            "limit", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 20}, "Page size"
        ),
        _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Models to skip"),
        _query(
            "sort",
            {
                "type": "string",
                "pattern": r"^-?(id|name|createdAt|updatedAt|latestVersion|framework|source|status)"
                r"(:(asc|desc))?$",
                "default": "createdAt:desc",
            },
            "FIELD[:asc|:desc]",
        ),
    ]
    many = {"type": "array", "items": {"type": "string"}}
    version_params = [
        _query("modelId", many, "Only versions of these models (repeat for OR)"),
        _query(
            "stage",
            {
                "type": "array",
                "items": {"enum": ["none", "staging", "challenger", "production", "archived"]},
            },
            "Only versions in these stages (repeat for OR)",
        ),
        _query("alias", many, "Only versions these aliases point at (repeat for OR)"),
        _query(
            "label",
            {"type": "array", "items": {"type": "string", "pattern": "^[^=]+(=.*)?$"}},
            "KEY or KEY=VALUE, on the version or its model (repeat: all hold)",
        ),
        _query("tag", many, "Version or model tag (repeat for OR)"),
        *(
            _query(name, many, f"Only versions of models with this {name} (repeat for OR)")
            for name in ("framework", "source", "type", "status", "owner")
        ),
        _query("organizationId", many, "Filter by organization"),
        _query("workspaceId", many, "Filter by workspace"),
        _query("customerId", many, "Filter by customer"),
        _query(
            "where",
            {
                "type": "array",
                "items": {
                    "type": "string",
                    "pattern": r"^(metrics|hyperparameters|training|lineage|labels)\.[A-Za-z0-9_]+"
                    r" ?(==|!=|>=|<=|>|<) ?[A-Za-z0-9_.+-]+$",
                },
            },
            "FIELD OP VALUE (repeat: all hold), OP one of == != >= <= > <; "
            "e.g. metrics.accuracy>=0.9, framework==xgboost",
        ),
        _query(
            "search", {"type": "string"}, "Text in model id, name, version label or description"
        ),
        _query(
            "sort",
            {
                "type": "string",
                "default": "model",
                "pattern": r"^-?(model|version|label|stage|createdAt|created_at|"
                r"(metrics|hyperparameters|training|lineage|labels)\.[A-Za-z0-9_]+)(:(asc|desc))?$",
            },
            "Any field a condition takes (-FIELD or FIELD:desc for descending), "
            "e.g. -metrics.accuracy, createdAt; default model id then version",
        ),
        _query(
            "limit", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 20}, "Page size"
        ),
        _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Versions to skip"),
    ]
    paths = {
        "/api/v1/model-registry/versions": {
            "get": _get(
                "Search versions across models",
                {"description": "A page of versions", **_json("VersionList")},
                params=version_params,
                errors=bad,
            ),
        },
        "/api/v1/model-registry/models": {
            "get": _get(
                "List registered models",
                {"description": "A page of models", **_json("ModelList")},
                params=list_params,
                errors=bad,
            ),
            "post": _write("Register a model"),
        },
        "/api/v1/model-registry/models/{id}": {
            "get": _get(
                "Get a registered model with all versions",
                {"description": "The model", **_json("RegisteredModel")},
                params=[ID_PARAM],
                errors={"404": _err("No such model (for this key)")},
            ),
            "put": _write("Update a model", [ID_PARAM]),
            "delete": _write("Delete a model", [ID_PARAM], body=False),
        },
        "/api/v1/model-registry/models/{id}/deploy": {
            "post": _write("Deploy a model", [ID_PARAM]),
        },
        "/terminal/ml-models": {
            "post": {
                "summary": "The shared catalog of model versions (terminal API)",
                "security": SECURITY,
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"customer_id": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "Model versions", **_json("TerminalModels")},
                    "400": _err("Body is not a JSON object"),
                    "413": _err("Body too large"),
                    **AUTH_ERRORS,
                    "500": _err("Failed to retrieve model registry"),
                },
            },
        },
        "/catalog.json": {
            "get": _get(
                "The whole catalog (every manifest, the commit)",
                {
                    "description": "catalog.json",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            ),
        },
        "/healthz": {
            "get": _get(
                "Liveness and the commit being served ('degraded': the ref moved to a "
                "commit that cannot be served, or the keys file stopped parsing; the "
                "reason is in the server's log, never here)",
                {
                    "description": "Alive",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status", "commit"],
                                "additionalProperties": False,
                                "properties": {
                                    "status": {"enum": ["ok", "degraded"]},
                                    "commit": {"type": ["string", "null"]},
                                },
                            }
                        }
                    },
                },
                secure=False,
            ),
        },
        "/openapi.json": {
            "get": _get(
                "This document",
                {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                secure=False,
            ),
        },
    }
    for item in paths.values():
        for op in item.values():
            op["responses"].setdefault("500", _err("Server error"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "modelreg catalog API",
            "version": "1",
            "description": "Read-only view of a git-backed model registry.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(openapi_document(), indent=2))
