"""Tenant isolation as a property: over random tenants, keys and request orders, on
every route, no answer ever carries a model outside its tenant, nor misses one inside.

One real server process holds its caches across every example, so an answer
cached for one tenant and served to another would show here: the order of
requests is what Hypothesis varies.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg import Registry
from modelreg.errors import InvalidManifestError
from modelreg.keys import READ_SCOPE, Keyring, Tenant, save
from tests.http.conftest import start_server, stop_server

API = "/api/v1/model-registry/models"
# Values a model's field may hold, "None" (the text) and "" included: neither may
# ever pass for "no binding".
FIELD_VALUES: tuple[str | None, ...] = (None, "", "a", "b", "None")
BINDINGS: tuple[str | None, ...] = (None, "a", "b", "None")
FIELDS = ("organization", "workspace", "customer")


@dataclass
class World:
    url: str
    models: dict[str, tuple[str | None, str | None, str | None]]
    keys: list[tuple[Tenant, str]]


def _sees(tenant: Tenant, fields: tuple[str | None, ...]) -> bool:
    # Written out here rather than calling Tenant.allows: the property must not
    # borrow the code it checks.
    bound = (tenant.organization, tenant.workspace, tenant.customer)
    return all(b is None or b == f for b, f in zip(bound, fields, strict=True))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("tenants")
    reg = Registry.init(base / "reg")
    models = {}
    combos = list(itertools.product(FIELD_VALUES, repeat=3))[::2]  # 63 of 125, all values
    with reg.transaction("tenants"):
        for i, (org, ws, cust) in enumerate(combos):
            model_id = f"m-{i:03d}"
            reg.create_model(
                model_id,
                name=f"Model {i}",
                framework="onnx",
                organization=org,
                workspace=ws,
                customer=cust,
            )
            reg.register_version(model_id, metrics={"acc": 0.5}, stage="production")
            models[model_id] = (org, ws, cust)
    ring, keys = Keyring(), []
    for i, bound in enumerate(itertools.product(BINDINGS, repeat=3)):
        tenant = Tenant(*bound)
        ring, key = ring.add(f"k{i}", [READ_SCOPE], tenant)
        keys.append((tenant, key))
    keys_file = base / "keys.yaml"
    save(ring, keys_file)
    server = start_server(reg.root, keys_file)
    try:
        yield World(server.url, models, keys)
    finally:
        stop_server(server)


ROUTES = ("list", "list-filtered", "model", "catalog", "terminal", "terminal-customer")
request_st = st.tuples(
    st.integers(0, 63),  # which key
    st.sampled_from(ROUTES),
    st.integers(0, 62),  # a model (for the model route)
    st.sampled_from(BINDINGS),  # a customer_id / workspaceId asked for
    st.booleans(),  # gzip
    st.sampled_from(("bearer", "x-api-key")),
)


@given(requests=st.lists(request_st, min_size=1, max_size=12))
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_answer_carries_a_model_outside_its_tenant(
    world: World, requests: list[tuple[int, str, int, str | None, bool, str]]
) -> None:
    with httpx.Client(base_url=world.url, timeout=10) as client:
        for key_index, route, model_index, asked, gzip, header in requests:
            tenant, key = world.keys[key_index]
            headers = (
                {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
            )
            headers["Accept-Encoding"] = "gzip" if gzip else "identity"
            _check(client, world, tenant, route, model_index, asked, headers)


def _check(
    client: httpx.Client,
    world: World,
    tenant: Tenant,
    route: str,
    model_index: int,
    asked: str | None,
    headers: dict[str, str],
) -> None:
    visible = {m for m, fields in world.models.items() if _sees(tenant, fields)}
    if route == "model":
        model_id = sorted(world.models)[model_index]
        r = client.get(f"{API}/{model_id}", headers=headers)
        assert r.status_code == (200 if model_id in visible else 404), (tenant, model_id)
        if r.status_code == 200:
            assert r.json()["id"] == model_id
        return
    if route.startswith("list"):
        params: dict[str, Any] = {"limit": 1000}
        if route == "list-filtered" and asked is not None:
            params["workspaceId"] = asked
            visible = {m for m in visible if world.models[m][1] == asked}
        r = client.get(API, params=params, headers=headers)
        seen = [m["id"] for m in _ok(r)["models"]]
        assert _ok(r)["count"] == len(seen)
    elif route == "catalog":
        r = client.get("/catalog.json", headers=headers)
        seen = [m["id"] for m in _ok(r)["models"]]
    else:
        body = {"customer_id": asked} if route == "terminal-customer" and asked else {}
        if body:
            visible = {m for m in visible if world.models[m][2] == asked}
        r = client.post("/terminal/ml-models", json=body, headers=headers)
        seen = [m["model_name"] for m in _ok(r)["model_metrics"]]
    assert len(seen) == len(set(seen))
    assert set(seen) == visible, (tenant, route, asked)


def _ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def test_every_tenant_is_one_cache_key_and_none_is_empty() -> None:
    tenants = [Tenant(*b) for b in itertools.product(BINDINGS, repeat=3)]
    assert len({t.key for t in tenants}) == len({t.tag() for t in tenants}) == len(tenants)
    assert [t for t in tenants if not t.bound] == [Tenant()]
    for field in FIELDS:
        for empty in ("", "  "):
            with pytest.raises(InvalidManifestError, match="empty"):
                Tenant(**{field: empty})


def test_the_world_has_every_kind_of_model(world: World) -> None:
    # the property above means something only if the models cover the values
    for i, field in enumerate(FIELDS):
        assert {fields[i] for fields in world.models.values()} == set(FIELD_VALUES), field
