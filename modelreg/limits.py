"""The limits every manifest keeps, on every write and every read, with one message each.

One table, so a limit that reading enforces is never one that writing forgets
(a write that commits what the next read refuses breaks the registry for
everyone). Pure: each check returns the message of the breach, or None; the
callers (manifest validation, the write path, the HTTP body reader, the CLI)
turn it into their own error with the file, line and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from modelreg.errors import InvalidManifestError, Problem

MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # the default of policy.max_manifest_bytes
MAX_DEPTH = 32  # nesting of mappings and lists inside a value (hyperparameters, bodies)
MAX_DOCUMENT_DEPTH = MAX_DEPTH + 8  # a whole manifest: its own structure above such a value
MAX_ID_LENGTH = 63  # a DNS label: deploy targets name Kubernetes objects after the id
MAX_URL_LENGTH = 2048

# Names Windows refuses as a file or folder, with or without an extension.
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)
# Query parameters that carry a secret (presigned URLs, SAS tokens, OAuth).
SECRET_QUERY = re.compile(
    r"^(x-amz-(signature|credential|security-token)|x-goog-(signature|credential)"
    r"|signature|sig|token|access_token|id_token|auth|apikey|api_key|key|password|pwd|secret"
    r"|client_secret)$",
    re.IGNORECASE,
)
SSH = ("ssh", "git+ssh", "sftp")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Limit:
    name: str
    value: str
    why: str


# The table (docs/security.md shows it; a test keeps the two in step).
TABLE = (
    Limit("manifest bytes", f"{MAX_MANIFEST_BYTES} (policy.max_manifest_bytes)", "memory, parse"),
    Limit(
        "nesting depth",
        f"{MAX_DEPTH} in a value, {MAX_DOCUMENT_DEPTH} in a file",
        "recursion in parsers and serialisers",
    ),
    Limit("model id length", str(MAX_ID_LENGTH), "file names, Kubernetes names"),
    Limit("model id", "not a Windows device name, no trailing '.'", "checkout on Windows"),
    Limit("numbers", "finite (no NaN, Infinity)", "JSON output stays JSON"),
    Limit("URLs", "no user:password@, no secret query parameters", "no secret in git history"),
)


def size(nbytes: int, limit: int = MAX_MANIFEST_BYTES) -> str | None:
    if nbytes > limit:
        return f"file is {nbytes} bytes, over the limit of {limit} (policy.max_manifest_bytes)"
    return None


def depth_message(limit: int = MAX_DEPTH) -> str:
    return f"nested deeper than the limit of {limit} levels"


def model_id(value: str) -> str | None:
    if len(value) > MAX_ID_LENGTH:
        return f"id is {len(value)} characters, over the limit of {MAX_ID_LENGTH}"
    if value.split(".", 1)[0].lower() in WINDOWS_RESERVED:
        return f"id {value!r} is a reserved device name on Windows (cannot be checked out there)"
    if value.endswith("."):
        return f"id {value!r} ends with '.', which Windows drops from file names"
    return None


def number(value: float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number (NaN and Infinity are not JSON)"
    return None


def url(value: str) -> str | None:
    """A message when ``value`` is a URL carrying a secret (never write one into git)."""
    # Credentials need a user part or a query: most URLs have neither.
    if ("@" not in value and "?" not in value) or not URL.match(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    # A user name alone is no secret over ssh (git@host), but is one over http (a token).
    if parts.password is not None or (parts.username and parts.scheme not in SSH):
        return (
            "URL carries credentials (user:password@host): keep secrets out of the "
            "registry and give them to the store instead (environment, profile, storage options)"
        )
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if SECRET_QUERY.match(name):
            return (
                f"URL carries a secret in its query parameter {name!r} (a signed or tokened "
                "URL): register the plain URL and give credentials to the store instead"
            )
    return None


@dataclass(frozen=True)
class Breach:
    """One value over a limit: where it is (inside the value scanned) and why."""

    path: tuple[str | int, ...]
    message: str


def check_files(files: Mapping[str, bytes | None], limit: int = MAX_MANIFEST_BYTES) -> None:
    """Raise :class:`InvalidManifestError` when a file about to be committed is over the
    size that reading it back would refuse (a write must never break the next read)."""
    problems = [
        Problem(path, None, None, "", message)
        for path, data in files.items()
        if data is not None and (message := size(len(data), limit)) is not None
    ]
    if problems:
        raise InvalidManifestError(problems)


def scan(value: Any, limit: int = MAX_DEPTH) -> list[Breach]:
    """Every breach inside a JSON-like value: depth, non-finite numbers, secret URLs.

    Iterative, so a value nested far past the limit is reported, not a crash.
    """
    found: list[Breach] = []
    for path, item in _walk(value):
        if len(path) > limit:
            found.append(Breach(path, depth_message(limit)))
            break
        message = (
            number(item)
            if isinstance(item, float)
            else url(item)
            if isinstance(item, str)
            else None
        )
        if message is not None:
            found.append(Breach(path, message))
    return found


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    # Depth first, so a recursive value (a YAML alias to itself) goes past the
    # limit along one branch and the scan stops there.
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        yield path, item
        if isinstance(item, (Mapping, list, tuple)):
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            stack.extend(((*path, k), v) for k, v in reversed(list(pairs)))


def _clean(value: Any, limit: int) -> bool:
    """True when nothing inside ``value`` is over a limit: the fast path of every read,
    no paths built (they are, by :func:`scan`, only once something is found)."""
    stack = [(value, 0)]
    pop, push, isfinite = stack.pop, stack.append, math.isfinite
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is str:
            if "://" in item and url(item) is not None:
                return False
        elif kind is float:
            if not isfinite(item):
                return False
        elif kind is dict or kind is list or kind is tuple:
            if depth >= limit:
                return False
            depth += 1
            for child in item.values() if kind is dict else item:
                push((child, depth))
        elif isinstance(item, (str, float, Mapping, list, tuple)):  # subclasses: the slow way
            return not scan(item, limit - depth)
    return True


def first(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The first breach inside ``value`` as 'path: message', or None."""
    if _clean(value, limit):
        return None
    found = scan(value, limit)
    if not found:
        return None
    b = found[0]
    where = ".".join(str(p) for p in b.path[:8]) + ("..." if len(b.path) > 8 else "")
    return f"{where}: {b.message}" if where else b.message
