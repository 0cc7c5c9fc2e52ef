"""The read-only HTTP API: a bare ASGI app over a :class:`Follower`'s snapshot.

Bare ASGI rather than a framework router: the hot path (list a page, get a
model) is a dict lookup, a filter over an in-memory index and a join of
pre-serialised bytes, and a framework's request/response objects would cost
more than that work. Every answer is JSON, errors included.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from modelreg import limits
from modelreg.export import content_type
from modelreg.http.openapi import openapi_document
from modelreg.http.snapshot import GZIP_MIN, Follower, Item, Snapshot, gz
from modelreg.keys import ANYONE, READ_SCOPE, Tenant
from modelreg.query import Query, QueryError, matches
from modelreg.vocabulary import Framework, Source, Status

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API = "/api/v1/model-registry/models"
TERMINAL = "/terminal/ml-models"
MAX_BODY = 64 * 1024
MAX_LIMIT = 1000
DEFAULT_SORT = "createdAt:desc"
# The API's names for what :class:`query.Query` filters and sorts on, and the values a
# filter accepts (None: any); repeated parameters mean OR (label: all must hold), as on
# the command line.
FILTER_PARAMS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "framework": ("framework", tuple(f.value for f in Framework)),
    "source": ("source", tuple(s.value for s in Source)),
    "status": ("status", tuple(s.value for s in Status)),
    "tag": ("tag", None),
    "label": ("label", None),
    "workspaceId": ("workspace", None),
}
SORT_PARAMS = {
    "id": "id",
    "name": "name",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "latestVersion": "latest_version",
    "framework": "framework",
    "source": "source",
    "status": "status",
}
READ_ONLY = (
    "This registry is read-only over HTTP: changes are made through pull requests "
    "editing models/<id>/model.yaml, the modelreg CLI, or the Python library "
    "(from modelreg import Registry)."
)
# query parameters of GET .../versions -> the version search filter they set
VERSION_PARAMS: dict[str, str | None] = {
    "modelId": "model",
    "stage": "stage",
    "alias": "alias",
    "label": "label",
    "tag": "tag",
    "framework": "framework",
    "source": "source",
    "type": "type",
    "status": "status",
    "owner": "owner",
    "organizationId": "organization",
    "workspaceId": "workspace",
    "customerId": "customer",
    "where": None,
    "search": None,
    "sort": None,
    "limit": None,
    "offset": None,
}
JSON = b"application/json"
VARY = b"Accept-Encoding, Authorization, X-API-Key"


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str | None = None,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(message or error)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers

    def body(self) -> bytes:
        data: dict[str, Any] = {"success": False, "error": self.error}
        if self.message:
            data["message"] = self.message
        return json.dumps(data).encode()


def _unauthorized(terminal: bool, why: str = "missing or invalid API key") -> HttpError:
    # The terminal seed documents exactly {"success": false, "error": "Unauthorized"}.
    return HttpError(
        401,
        "Unauthorized",
        None if terminal else why,
        ((b"www-authenticate", b'Bearer realm="modelreg"'),),
    )


# Methods that would change something: on a read-only server they are told how
# changes are made. The Allow header names exactly what the OpenAPI document lists.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ = "GET, HEAD"


def _not_allowed(method: str, allowed: str) -> HttpError:
    return HttpError(
        405,
        "Method Not Allowed",
        READ_ONLY if method in WRITE_METHODS else f"allowed methods: {allowed or 'none'}",
        ((b"allow", allowed.encode()),),
    )


class Request:
    __slots__ = (
        "accept_gzip",
        "api_key",
        "credentials",
        "if_none_match",
        "method",
        "query",
        "segments",
    )

    def __init__(self, scope: Scope) -> None:
        self.method: str = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        raw = raw.split(b"?", 1)[0]
        # Split the raw path before decoding, so an id holding "%2F" stays one segment.
        self.segments = [unquote(s.decode("latin-1")) for s in raw.split(b"/")[1:]]
        self.query: bytes = scope.get("query_string", b"")
        # Every credential presented, in any header: more than one distinct value is
        # ambiguous (which one would a proxy or a log have checked?) and refused.
        self.credentials: set[str] = set()
        self.if_none_match: bytes | None = None
        self.accept_gzip = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                bearer = scheme.lower() == "bearer"
                self.credentials.add(token.strip() if bearer else value.decode("latin-1"))
            elif name == b"x-api-key":
                self.credentials.add(value.decode("latin-1").strip())
            elif name == b"if-none-match":
                self.if_none_match = value
            elif name == b"accept-encoding":
                self.accept_gzip = accepts_gzip(value)
        self.api_key = next(iter(self.credentials)) if len(self.credentials) == 1 else None


def accepts_gzip(header: bytes) -> bool:
    """Whether an Accept-Encoding header admits gzip (``gzip;q=0`` refuses it, RFC 9110)."""
    verdict = None
    for part in header.decode("latin-1").lower().split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding == "gzip":
            return q > 0
        if coding == "*":
            verdict = q > 0
    return bool(verdict)


class App:
    """The ASGI application. ``follower`` supplies the snapshot and the keyring."""

    def __init__(
        self, follower: Follower, *, follow: bool = True, max_body: int = MAX_BODY
    ) -> None:
        self.follower = follower
        self.follow = follow
        self.max_body = max_body
        self.openapi = json.dumps(openapi_document()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.follow:
                    self.follower.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.follower.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = Request(scope)
        page = _site_path(req.segments)
        if page is not None:
            await self._site(req, page, send)
            return
        try:
            status, body, etag, gzipped = await self._route(req, receive)
        except HttpError as exc:
            await _send(send, exc.status, exc.body(), None, None, exc.headers, req.method)
            return
        except Exception:  # never a traceback on the wire; one line in the log
            traceback.print_exc()
            terminal = req.segments[:2] == ["terminal", "ml-models"]
            err = HttpError(
                500, "Failed to retrieve model registry" if terminal else "Internal Server Error"
            )
            await _send(send, 500, err.body(), None, None, (), req.method)
            return
        if etag is not None and req.if_none_match is not None and _matches(req.if_none_match, etag):
            await _send(send, 304, b"", etag, None, (), req.method)
            return
        await _send(send, status, body, etag, gzipped, (), req.method)

    async def _site(self, req: Request, page: str, send: Send) -> None:
        """A file of the HTML catalog (index, model pages, assets) at the served commit."""
        try:
            tenant = self._auth(req)
            if tenant.bound:
                raise HttpError(
                    403,
                    "Forbidden",
                    "the HTML catalog lists every model: use a key not bound to a tenant, "
                    "or the JSON API",
                )
            self._method(req.method, READ)
            snap = self.follower.snapshot
            body = snap.site().get(page)
            if body is None:
                raise HttpError(404, "Not Found", f"no page /{page}")
        except HttpError as exc:
            await _send(send, exc.status, exc.body(), None, None, exc.headers, req.method)
            return
        etag = f'"{snap.commit[:20]}-site"'.encode()
        if req.if_none_match is not None and _matches(req.if_none_match, etag):
            await _send(send, 304, b"", etag, None, (), req.method)
            return
        await _send(
            send, 200, body, etag, False, (), req.method, content_type=content_type(page).encode()
        )

    # ----------------------------------------------------------- routing

    def _auth(self, req: Request, terminal: bool = False) -> Tenant:
        ring = self.follower.keyring
        if ring is None:
            return ANYONE
        if len(req.credentials) > 1:
            raise _unauthorized(terminal, "more than one API key presented: send one")
        key = ring.authenticate(req.api_key)
        if key is None:
            raise _unauthorized(terminal)
        if READ_SCOPE not in key.scopes:
            raise HttpError(
                403, "Forbidden", None if terminal else f"this key lacks the scope {READ_SCOPE}"
            )
        return key.tenant

    def _etag(self, snap: Snapshot, tenant: Tenant, gzipped: bool) -> bytes:
        tag = tenant.tag()
        return (
            f'"{snap.commit[:20]}{"-" + tag if tag else ""}{"-gz" if gzipped else ""}"'
        ).encode()

    async def _route(
        self, req: Request, receive: Receive
    ) -> tuple[int, bytes, bytes | None, bool | None]:
        seg = req.segments
        n = len(seg)
        if n >= 4 and seg[:4] == ["api", "v1", "model-registry", "models"]:
            tenant = self._auth(req)
            if n == 4:
                self._method(req.method, READ)
                return self._cached(
                    req, tenant, ("list", req.query), lambda s: self._list(s, req, tenant)
                )
            if n == 5 and seg[4]:
                self._method(req.method, READ)
                return self._model(req, tenant, seg[4])
            if n == 6 and seg[5] == "deploy" and seg[4]:
                raise _not_allowed(req.method, "")  # a write route of the seed API only
            raise HttpError(404, "Not Found", f"no route {'/'.join(['', *seg])}")
        if seg == ["api", "v1", "model-registry", "versions"]:
            tenant = self._auth(req)
            self._method(req.method, READ)
            return self._cached(
                req, tenant, ("versions", req.query), lambda s: self._versions(s, req, tenant)
            )
        if seg == ["terminal", "ml-models"]:
            tenant = self._auth(req, terminal=True)
            if req.method != "POST":
                raise _not_allowed(req.method, "POST")
            customer = await _customer_id(receive, self.max_body)
            return self._cached(
                req, tenant, ("terminal", customer), lambda s: self._terminal(s, tenant, customer)
            )
        if seg == ["healthz"]:
            self._method(req.method, READ)
            # Anyone may ask (load balancers carry no key), so it says only whether the
            # server is current, never why not: the reason (a manifest's errors, the
            # keys file) goes to the log, where the operator looks.
            f = self.follower
            body = json.dumps(
                {
                    "status": "degraded" if f.error else "ok",
                    "commit": f.snapshot.catalog.commit,
                }
            ).encode()
            return 200, body, None, None
        if seg == ["openapi.json"]:
            self._method(req.method, READ)
            return 200, self.openapi, None, None
        if seg == ["catalog.json"]:
            tenant = self._auth(req)
            self._method(req.method, READ)
            return self._cached(
                req,
                tenant,
                ("catalog",),
                lambda s: s.catalog_document([i for i in s.items if tenant.allows(i.entry.model)]),
            )
        raise HttpError(404, "Not Found", f"no route {'/'.join(['', *seg]) or '/'}")

    @staticmethod
    def _method(method: str, allowed: str) -> None:
        """Refuse a method ``allowed`` (``"GET, HEAD"``) does not name, with 405."""
        if method not in allowed.split(", "):
            raise _not_allowed(method, allowed)

    def _cached(
        self, req: Request, tenant: Tenant, key: tuple[Any, ...], build: Callable[[Snapshot], bytes]
    ) -> tuple[int, bytes, bytes | None, bool | None]:
        snap = self.follower.snapshot
        full_key = (tenant.key, *key)
        hit = snap.cache.get(full_key)
        if hit is None:
            hit = snap.remember(full_key, build(snap))
        body, zipped = hit
        if req.accept_gzip and zipped is not None:
            return 200, zipped, self._etag(snap, tenant, True), True
        return 200, body, self._etag(snap, tenant, False), False

    def _model(
        self, req: Request, tenant: Tenant, model_id: str
    ) -> tuple[int, bytes, bytes | None, bool | None]:
        snap = self.follower.snapshot
        item = snap.by_id.get(model_id)
        # Another tenant's model is as absent as a model that does not exist.
        if item is None or not tenant.allows(item.entry.model):
            raise HttpError(404, "Not Found", f"no model {model_id!r}")
        if req.accept_gzip and len(item.full) >= GZIP_MIN:
            return 200, item.gzipped(), self._etag(snap, tenant, True), True
        return 200, item.full, self._etag(snap, tenant, False), False

    def _list(self, snap: Snapshot, req: Request, tenant: Tenant) -> bytes:
        q = parse_query(req.query)
        limit = q.limit if q.limit is not None else 20
        ordered = snap.ordered(q.sort)
        if not (q.search or q.filters or tenant.bound):
            page: list[Item] = ordered[q.offset : q.offset + limit]
            total = len(ordered)
        else:
            matched = [i for i in ordered if matches(i.listed, q) and tenant.allows(i.entry.model)]
            total = len(matched)
            page = matched[q.offset : q.offset + limit]
        return b'{"count":%d,"limit":%d,"offset":%d,"models":[%s]}' % (
            total,
            limit,
            q.offset,
            b",".join(i.summary for i in page),
        )

    def _versions(self, snap: Snapshot, req: Request, tenant: Tenant) -> bytes:
        """Version search: the CLI's ``modelreg versions`` filters, in camelCase."""
        from modelreg.errors import ModelregError
        from modelreg.versions import VersionQuery, search
        from modelreg.where import parse

        pairs = parse_qsl(req.query.decode("latin-1"), keep_blank_values=True)
        unknown = sorted({k for k, _ in pairs} - set(VERSION_PARAMS))
        if unknown:
            raise HttpError(
                400,
                "Bad Request",
                f"unknown parameter {unknown[0]!r} (known: {', '.join(VERSION_PARAMS)})",
            )
        many: dict[str, list[str]] = {}
        for key, value in pairs:
            if value != "":
                many.setdefault(key, []).append(value)
        one = {k: v[-1] for k, v in many.items()}
        limit = _int(one.get("limit"), "limit", 20, MAX_LIMIT)
        offset = _int(one.get("offset"), "offset", 0, None)
        filters = {
            name: tuple(v) for k, v in many.items() if (name := VERSION_PARAMS[k]) is not None
        }
        try:
            query = VersionQuery(
                filters=filters,
                where=tuple(parse(w) for w in many.get("where", ())),
                search=one.get("search"),
                sort=one.get("sort") or "model",
                limit=limit,
                offset=offset,
            )
        except ModelregError as exc:
            raise HttpError(400, "Bad Request", str(exc)) from None
        docs = [doc for item, doc in snap.version_documents() if tenant.allows(item.entry.model)]
        page = search(docs, query)
        body = b",".join(snap.version_record(mid, n) for mid, n in page.items)
        return b'{"count":%d,"limit":%d,"offset":%d,"versions":[%s]}' % (
            page.total,
            limit,
            offset,
            body,
        )

    def _terminal(self, snap: Snapshot, tenant: Tenant, customer: str | None) -> bytes:
        parts = [
            m
            for i in snap.items
            if tenant.allows(i.entry.model) and (customer is None or i.listed.customer == customer)
            for m in i.metrics
        ]
        return b'{"success":true,"model_metrics":[%s],"count":%d}' % (b",".join(parts), len(parts))


# ------------------------------------------------------------- helpers


def _int(raw: str | None, name: str, default: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, "Bad Request", f"{name} must be an integer, not {raw!r}") from None
    if value < 0 or (maximum is not None and value > maximum):
        bound = f"between 0 and {maximum}" if maximum is not None else "0 or more"
        raise HttpError(400, "Bad Request", f"{name} must be {bound}, not {value}")
    return value


def parse_query(raw: bytes) -> Query:
    """The list parameters of the API as a :class:`Query`. Raises :class:`HttpError` 400."""
    single: dict[str, str] = {}
    filters: dict[str, tuple[str, ...]] = {}
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in FILTER_PARAMS:
            field, allowed = FILTER_PARAMS[name]
            if not value:
                continue
            if allowed is not None and value not in allowed:
                raise HttpError(
                    400, "Bad Request", f"{name} must be one of {', '.join(allowed)}, not {value!r}"
                )
            filters[field] = (*filters.get(field, ()), value)
        else:
            single[name] = value  # the last value wins, as for any single-valued parameter
    sort = _sort(single.get("sort") or DEFAULT_SORT)
    try:
        return Query(
            search=single.get("search") or None,
            filters=filters,
            sort=sort,
            limit=_int(single.get("limit"), "limit", 20, MAX_LIMIT),
            offset=_int(single.get("offset"), "offset", 0, None),
        )
    except QueryError as exc:
        raise HttpError(400, "Bad Request", str(exc)) from None


def _sort(raw: str) -> str:
    """``FIELD``, ``FIELD:asc|desc`` or ``-FIELD`` in the API's names, as a Query sort."""
    name, _, direction = raw.partition(":")
    if name.startswith("-"):
        name, direction = name[1:], direction or "desc"
    if name not in SORT_PARAMS or direction not in ("", "asc", "desc"):
        raise HttpError(
            400,
            "Bad Request",
            f"sort must be FIELD[:asc|:desc] with FIELD one of {', '.join(SORT_PARAMS)}, "
            f"not {raw!r}",
        )
    return f"{SORT_PARAMS[name]}:{direction or 'asc'}"


async def _customer_id(receive: Receive, max_body: int) -> str | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise HttpError(413, "Payload Too Large", f"the body is over {max_body} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    raw = b"".join(chunks).strip()
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise HttpError(400, "Bad Request", f"the body is {limits.depth_message()}") from None
    except ValueError:
        raise HttpError(
            400, "Bad Request", 'the body must be JSON: {} or {"customer_id": "..."}'
        ) from None
    if not isinstance(data, dict):
        raise HttpError(
            400, "Bad Request", 'the body must be a JSON object: {} or {"customer_id": "..."}'
        )
    customer = data.get("customer_id")
    if customer is not None and not isinstance(customer, str):
        raise HttpError(400, "Bad Request", "customer_id must be a string")
    return customer


def _site_path(segments: list[str]) -> str | None:
    """The site file a path names (``/`` is the index), or None for the API's routes."""
    if segments in ([""], ["index.html"]):
        return "index.html"
    if segments in (["assets", "site.css"], ["assets", "site.js"]):
        return "/".join(segments)
    if len(segments) == 2 and segments[0] == "models" and segments[1].endswith(".html"):
        return "/".join(segments)
    return None


def _matches(header: bytes, etag: bytes) -> bool:
    for candidate in header.split(b","):
        c = candidate.strip()
        if c.startswith(b"W/"):
            c = c[2:]
        if c == etag or c == b"*":
            return True
    return False


async def _send(
    send: Send,
    status: int,
    body: bytes,
    etag: bytes | None,
    gzipped: bool | None,
    extra: tuple[tuple[bytes, bytes], ...],
    method: str,
    *,
    content_type: bytes = JSON,
) -> None:
    headers = [(b"content-type", content_type)] if status != 304 else []
    if status != 304:
        headers.append((b"content-length", str(len(body)).encode()))
    if etag is not None:
        headers += [(b"etag", etag), (b"cache-control", b"no-cache"), (b"vary", VARY)]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": b"" if method == "HEAD" or status == 304 else body}
    )


def create_app(follower: Follower, *, follow: bool = True, max_body: int = MAX_BODY) -> App:
    """The ASGI app serving ``follower``'s snapshots (it starts following on startup)."""
    return App(follower, follow=follow, max_body=max_body)


__all__ = ["App", "create_app", "gz"]
