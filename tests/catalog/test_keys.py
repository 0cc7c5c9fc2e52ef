"""API keys: shown once, stored hashed, checked in constant time, bound to tenants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelreg.errors import ConflictError, InvalidManifestError, NotFoundError
from modelreg.keys import READ_SCOPE, Keyring, Tenant, digest, load, parse, save
from modelreg.manifest import Model


def test_a_key_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    ring, key = Keyring().add("dash", [READ_SCOPE], Tenant(organization="org_a"))
    path = tmp_path / "keys.yaml"
    save(ring, path)
    text = path.read_text()
    assert key not in text and key.split("_", 2)[2] not in text  # the secret part
    assert digest(key) in text
    assert path.stat().st_mode & 0o077 == 0
    loaded = load(path)
    found = loaded.authenticate(key)
    assert found is not None and found.name == "dash"
    assert found.tenant == Tenant(organization="org_a") and found.scopes == (READ_SCOPE,)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # same id, wrong secret
        lambda k: "mr_00000000_" + k.split("_", 2)[2],  # unknown id
        lambda k: k.upper(),
        lambda k: "",
        lambda k: "not-a-key",
        lambda k: k + "x",
    ],
)
def test_wrong_keys_are_refused(mangle: Any) -> None:
    ring, key = Keyring().add("k", [READ_SCOPE])
    assert ring.authenticate(mangle(key)) is None
    assert ring.authenticate(None) is None


def test_names_are_unique_scopes_are_known_and_remove_works(tmp_path: Path) -> None:
    ring, _ = Keyring().add("k", [READ_SCOPE])
    with pytest.raises(ConflictError):
        ring.add("k", [READ_SCOPE])
    with pytest.raises(InvalidManifestError, match="unknown scope"):
        ring.add("other", ["model-registry:admin"])
    assert ring.remove("k").keys == ()
    with pytest.raises(NotFoundError):
        ring.remove("nope")


def test_json_keys_files_and_clear_errors(tmp_path: Path) -> None:
    ring, key = Keyring().add("k", [READ_SCOPE], Tenant(customer="c1"))
    path = tmp_path / "keys.json"
    save(ring, path)
    assert json.loads(path.read_text())["keys"][0]["customer"] == "c1"
    assert load(path).authenticate(key) is not None
    assert load(tmp_path / "missing.yaml").keys == ()
    with pytest.raises(InvalidManifestError, match=r"keys\[0\]\.hash"):
        parse("keys:\n- {name: a, id: abcdefgh, hash: md5:x, scopes: []}\n", "k.yaml")
    with pytest.raises(InvalidManifestError, match="keys"):
        parse("- just a list\n", "k.yaml")


def test_tenant_binding() -> None:
    model = Model.model_validate(
        {
            "id": "m",
            "name": "M",
            "framework": "onnx",
            "organization": "o1",
            "workspace": "w1",
            "customer": "c1",
        }
    )
    assert Tenant().allows(model) and not Tenant().bound and Tenant().tag() == ""
    assert Tenant("o1", "w1", "c1").allows(model)
    assert Tenant(organization="o1").allows(model)
    assert not Tenant(organization="o2").allows(model)
    assert not Tenant("o1", "w2").allows(model)
    assert not Tenant(customer="c2").allows(model)
    assert Tenant(organization="o1").tag() != Tenant(workspace="o1").tag()


def test_keys_cli_prints_once_and_lists_without_secrets(tmp_path: Path, run_cli: Any) -> None:
    from modelreg import Registry

    reg = Registry.init(tmp_path / "reg")
    res = run_cli("-R", str(reg.root), "keys", "add", "dash", "--workspace", "ws_1")
    assert res.code == 0, res.err
    key = res.out.strip()
    assert key.startswith("mr_")
    stored = reg.root / ".modelreg" / "keys.yaml"
    assert key not in stored.read_text()
    listed = run_cli("-R", str(reg.root), "keys", "list", "--json")
    rows = json.loads(listed.out)
    assert rows[0]["name"] == "dash" and rows[0]["workspace"] == "ws_1" and "hash" not in rows[0]
    assert key not in listed.out
    assert run_cli("-R", str(reg.root), "keys", "add", "dash").code == 5
    assert run_cli("-R", str(reg.root), "keys", "remove", "dash").code == 0
    assert load(stored).keys == ()
