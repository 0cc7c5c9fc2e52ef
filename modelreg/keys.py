"""API keys for the read-only HTTP API: hashed at rest, compared in constant time.

A key reads ``mr_<id>_<secret>``: the id (public, 8 hex digits) finds the
stored entry, the whole key's SHA-256 is compared with
:func:`hmac.compare_digest`. Keys carry 256 random bits, so a plain SHA-256
is enough; a slow password hash would only slow every request down.

A key may be bound to a tenant (organization, workspace, customer): it then
sees only the models whose fields equal every bound value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from modelreg.errors import ConflictError, InvalidManifestError, NotFoundError, Problem

if TYPE_CHECKING:
    from modelreg.manifest import Model

READ_SCOPE = "model-registry:read"
WRITE_SCOPE = "model-registry:write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)
DEFAULT_KEYS_FILE = ".modelreg/keys.yaml"  # relative to the registry root
PREFIX = "mr_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


BINDINGS = ("organization", "workspace", "customer")


@dataclass(frozen=True)
class Tenant:
    """What a key is bound to; a tenant bound to nothing sees everything.

    A binding is a non-empty string or absent (None): an empty one is refused
    here, when the value is made, so "" can never pass for "unbound" (it would
    share an unbound key's cached answers) nor for a model's missing field.
    """

    organization: str | None = None
    workspace: str | None = None
    customer: str | None = None

    def __post_init__(self) -> None:
        for attr in BINDINGS:
            value = getattr(self, attr)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidManifestError(
                    [
                        Problem(
                            f"--{attr}",
                            None,
                            None,
                            attr,
                            f"an empty {attr} binding is refused: bind a value, or leave "
                            "it out to bind nothing",
                        )
                    ]
                )

    @property
    def bound(self) -> bool:
        return self.key != (None, None, None)

    @property
    def key(self) -> tuple[str | None, str | None, str | None]:
        """The one canonical identity of a tenant: every cached answer is keyed by it."""
        return (self.organization, self.workspace, self.customer)

    def allows(self, model: Model) -> bool:
        return (
            (self.organization is None or model.organization == self.organization)
            and (self.workspace is None or model.workspace == self.workspace)
            and (self.customer is None or model.customer == self.customer)
        )

    def tag(self) -> str:
        """A stable name of :attr:`key` for ETags ('' when unbound)."""
        if not self.bound:
            return ""
        return hashlib.sha256(json.dumps(self.key).encode()).hexdigest()[:16]


ANYONE = Tenant()


@dataclass(frozen=True)
class ApiKey:
    """A stored key: never the key itself, only its hash."""

    name: str
    id: str
    hash: str
    scopes: tuple[str, ...]
    tenant: Tenant = field(default_factory=Tenant)
    created_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "hash": f"sha256:{self.hash}",
            "scopes": list(self.scopes),
        }
        for attr in BINDINGS:
            value = getattr(self.tenant, attr)
            if value is not None:
                out[attr] = value
        if self.created_at:
            out["created_at"] = self.created_at
        return out


@dataclass(frozen=True)
class Keyring:
    """The keys of one keys file, looked up by id."""

    keys: tuple[ApiKey, ...] = ()

    def by_id(self) -> dict[str, ApiKey]:
        return {k.id: k for k in self.keys}

    def authenticate(self, presented: str | None) -> ApiKey | None:
        """The stored key matching ``presented``, else None (constant time in the secret)."""
        if not presented:
            return None
        key_id = presented[len(PREFIX) : len(PREFIX) + 8] if presented.startswith(PREFIX) else ""
        found = self.by_id().get(key_id)
        expected = found.hash if found else "0" * 64
        ok = hmac.compare_digest(digest(presented), expected)
        return found if ok and found is not None else None

    def add(
        self,
        name: str,
        scopes: Sequence[str],
        tenant: Tenant = ANYONE,
        *,
        now: dt.datetime | None = None,
    ) -> tuple[Keyring, str]:
        """A new keyring holding a fresh key, and the key (shown once, never stored)."""
        if any(k.name == name for k in self.keys):
            raise ConflictError(f"a key named {name!r} already exists (remove it first)")
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise InvalidManifestError(
                [
                    Problem(
                        "--scope",
                        None,
                        None,
                        "scope",
                        f"unknown scope {bad[0]!r} (known: {', '.join(SCOPES)})"
                        if bad
                        else "at least one scope is needed",
                    )
                ]
            )
        taken = set(self.by_id())
        key_id = secrets.token_hex(4)
        while key_id in taken:
            key_id = secrets.token_hex(4)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        when = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
        stored = ApiKey(
            name,
            key_id,
            digest(key),
            tuple(dict.fromkeys(scopes)),
            tenant,
            when.isoformat().replace("+00:00", "Z"),
        )
        return replace(self, keys=(*self.keys, stored)), key

    def remove(self, name: str) -> Keyring:
        if not any(k.name == name for k in self.keys):
            raise NotFoundError(f"no key named {name!r}")
        return replace(self, keys=tuple(k for k in self.keys if k.name != name))

    def dumps(self) -> str:
        header = (
            "# modelreg API keys: hashes only (the keys were shown once). "
            "Manage with `modelreg keys`.\n"
        )
        return header + yaml.safe_dump(
            {"keys": [k.to_dict() for k in self.keys]}, sort_keys=False, allow_unicode=True
        )


def _problem(file: str, where: str, message: str) -> InvalidManifestError:
    return InvalidManifestError([Problem(file, None, None, where, message)])


def parse(text: str, file: str) -> Keyring:
    """A keys file (YAML or JSON). Raises :class:`InvalidManifestError` naming the entry."""
    try:
        data = json.loads(text) if file.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise _problem(file, "", f"not valid YAML/JSON: {exc}") from None
    if data is None:
        return Keyring()
    if not isinstance(data, dict) or not isinstance(data.get("keys", []), list):
        raise _problem(file, "keys", "expected a mapping with a list 'keys'")
    keys = []
    for i, item in enumerate(data.get("keys") or []):
        where = f"keys[{i}]"
        if not isinstance(item, dict):
            raise _problem(file, where, "expected a mapping")
        h = str(item.get("hash", ""))
        algo, _, hexed = h.partition(":")
        if algo != "sha256" or len(hexed) != 64:
            raise _problem(file, f"{where}.hash", "expected 'sha256:<64 hex digits>'")
        scopes = item.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise _problem(file, f"{where}.scopes", "expected a list of scopes")
        key_id = item.get("id")
        if not isinstance(key_id, str) or len(key_id) != 8:
            raise _problem(file, f"{where}.id", "expected the key's 8-character id")
        for a in BINDINGS:
            if item.get(a) is not None and not isinstance(item[a], str):
                raise _problem(file, f"{where}.{a}", "expected a string (quote it)")
        try:
            tenant = Tenant(*(item.get(a) for a in BINDINGS))
        except InvalidManifestError as exc:
            p = exc.problems[0]
            raise _problem(file, f"{where}.{p.field}", p.message) from None
        keys.append(
            ApiKey(
                str(item.get("name", key_id)),
                key_id,
                hexed,
                tuple(scopes),
                tenant,
                None if item.get("created_at") is None else str(item["created_at"]),
            )
        )
    return Keyring(tuple(keys))


def load(path: Path) -> Keyring:
    """The keyring in ``path``; an empty one if the file does not exist."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Keyring()
    return parse(text, str(path))


def save(ring: Keyring, path: Path) -> None:
    """Write atomically, readable by the owner only (hashes are not secrets, but still)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = (
        json.dumps({"keys": [k.to_dict() for k in ring.keys]}, indent=2) + "\n"
        if path.suffix == ".json"
        else ring.dumps()
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def visible(models: Iterable[Model], tenant: Tenant) -> list[Model]:
    return [m for m in models if tenant.allows(m)]
