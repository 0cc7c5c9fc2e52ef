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


def _read(
    operation_id: str,
    summary: str,
    ok: dict[str, Any],
    *,
    params: list[dict[str, Any]] | None = None,
    errors: dict[str, Any] | None = None,
    secure: bool = True,
) -> dict[str, Any]:
    """A GET operation and its HEAD twin: every GET route answers HEAD with the same
    status and headers, and no body."""
    responses: dict[str, Any] = {"200": ok, "304": {"description": "Not modified (ETag)"}}
    responses.update(errors or {})
    if secure:
        responses.update(AUTH_ERRORS)
    responses.setdefault("500", _err("Server error"))
    get: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    head: dict[str, Any] = {
        "operationId": operation_id + "Head",
        "summary": f"{summary} (headers only)",
    }
    for op, answers in ((get, responses), (head, _bodiless(responses))):
        if params:
            op["parameters"] = params
        if secure:
            op["security"] = SECURITY
        op["responses"] = answers
    return {"get": get, "head": head}


def _bodiless(responses: dict[str, Any]) -> dict[str, Any]:
    """The answers of a HEAD request: the GET's statuses, descriptions only."""
    return {status: {"description": r["description"]} for status, r in responses.items()}


def _page(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


# The HTML catalog's pages need a key not bound to a tenant: they list every model.
SITE_ERRORS = {
    "403": _err("The key lacks the scope model-registry:read, or is bound to a tenant"),
}


# Operations grouped as a reader of the document looks for them.
TAGS = {
    "models": "Registered models, in the shape of the seed model-registry API",
    "versions": "Versions across models: search by stage, alias, label, metrics",
    "terminal": "The shared catalog of model versions, in the shape of the seed terminal API",
    "catalog": "The whole catalog: one JSON document, and the HTML pages",
    "service": "Health of the server, and this document",
}


def _tag(path: str) -> str:
    if path.startswith("/api/v1/model-registry/models"):
        return "models"
    if path.startswith("/api/v1/model-registry/versions"):
        return "versions"
    if path.startswith("/terminal/"):
        return "terminal"
    return "service" if path in ("/healthz", "/openapi.json") else "catalog"


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
        _query(
            "label",
            {"type": "string", "pattern": "^[^=]+(=.*)?$"},
            "KEY=VALUE, or KEY for any value, on the model's labels "
            "(repeat the parameter: all must hold)",
        ),
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
    any_object = {"type": "object"}
    paths: dict[str, dict[str, Any]] = {
        "/api/v1/model-registry/versions": _read(
            "searchVersions",
            "Search versions across models",
            {"description": "A page of versions", **_json("VersionList")},
            params=version_params,
            errors=bad,
        ),
        "/api/v1/model-registry/models": _read(
            "listModels",
            "List registered models",
            {"description": "A page of models", **_json("ModelList")},
            params=list_params,
            errors=bad,
        ),
        "/api/v1/model-registry/models/{id}": _read(
            "getModel",
            "Get a registered model with all versions",
            {"description": "The model", **_json("RegisteredModel")},
            params=[ID_PARAM],
            errors={"404": _err("No such model (for this key)")},
        ),
        "/terminal/ml-models": {
            "post": {
                "operationId": "listTerminalModels",
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
        "/catalog.json": _read(
            "getCatalog",
            "The whole catalog (every manifest, the commit)",
            {
                "description": "catalog.json",
                "content": {"application/json": {"schema": any_object}},
            },
        ),
        "/healthz": _read(
            "getHealth",
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
        "/openapi.json": _read(
            "getOpenApi",
            "This document",
            {
                "description": "OpenAPI 3.1",
                "content": {"application/json": {"schema": any_object}},
            },
            secure=False,
        ),
        "/": _read(
            "getSite",
            "The HTML catalog: every model, searchable",
            _page("text/html", "The catalog's index page"),
            errors=SITE_ERRORS,
        ),
        "/index.html": _read(
            "getSiteIndex",
            "The HTML catalog's index page (as /)",
            _page("text/html", "The catalog's index page"),
            errors=SITE_ERRORS,
        ),
        "/models/{id}.html": _read(
            "getSiteModel",
            "The HTML page of one model: its versions, metrics and card",
            _page("text/html", "The model's page"),
            params=[ID_PARAM],
            errors={**SITE_ERRORS, "404": _err("No such page")},
        ),
        "/assets/site.css": _read(
            "getSiteStylesheet",
            "The HTML catalog's stylesheet",
            _page("text/css", "CSS"),
            errors=SITE_ERRORS,
        ),
        "/assets/site.js": _read(
            "getSiteScript",
            "The HTML catalog's script (search and sort in the browser)",
            _page("text/javascript", "JavaScript"),
            errors=SITE_ERRORS,
        ),
    }
    for path, item in paths.items():
        for op in item.values():
            op["tags"] = [_tag(path)]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "modelreg catalog API",
            "version": "1",
            "description": "Read-only view of a git-backed model registry. Every "
            "operation is listed; any other method of a listed path answers 405 with an "
            "Allow header naming the methods listed here. Changes (the seed APIs' POST, "
            "PUT and DELETE on models, and POST .../models/{id}/deploy) are made "
            "through pull requests, the modelreg CLI or the Python library: over HTTP "
            "they answer 405 saying so.",
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
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
