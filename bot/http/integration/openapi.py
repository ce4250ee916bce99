"""Operations declared next to their views, and the OpenAPI document built from them.

``@api.operation(...)`` registers an aiohttp route *and* its contract: scope,
query parameters, request body and response schemas. The wrapper enforces the
contract (authenticate, check scope, validate path, query and body, apply
Idempotency-Key to POSTs) before the view runs, so the document served at
``/api/openapi.json`` — built from the app's registered routes and these
declarations — describes what the server really accepts and answers.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput, Conflict, NotFound
from bot.base.services import Connection, Services
from bot.domain.integration import idempotency
from bot.domain.integration.credentials import Integration, authenticate, require
from bot.http.auth import bearer_token
from bot.http.validation import Schema, SchemaError, strict_json_loads, validate

log = logging.getLogger(__name__)

ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Bad input (stable code in error.code)",
    401: "Missing, unknown, expired or revoked credentials",
    403: "The key lacks the scope, or the caseworker the role, this operation needs",
    404: "No such resource in this municipality",
    409: "Conflicts with the current state (or the Idempotency-Key's first request has "
    "not answered)",
    413: "The body is larger than the configured maximum",
    415: "The body has the wrong media type (application/json unless stated)",
    422: "Idempotency-Key reused with a different request",
    503: "The database is unavailable; retry later",
}

# Names for schema objects in components/schemas (by identity).
_NAMES: dict[int, tuple[str, Schema]] = {}


def named(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Give a schema a name in the document's components; returns the schema itself."""
    _NAMES[id(schema)] = (name, schema)
    return schema


named("Error", ERROR)


@dataclass
class Call:
    """One validated request, handed to a view."""

    request: web.Request
    svc: Services
    who: Integration
    conn: Connection
    body: dict[str, Any]
    query: dict[str, Any]
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def param(self, name: str) -> str:
        return self.request.match_info[name]


Reply = tuple[int, dict[str, Any] | None]
View = Callable[[Call], Awaitable[Reply]]


_PATH_PARAM = re.compile(r"\{(\w+)\}")

# The resource a path parameter names, for its 404 code ("case_not_found").
_PARAM_RESOURCE = {
    "case_id": "case",
    "person_id": "person",
    "entry_id": "entry",
    "message_id": "scheduled",
}


@dataclass(frozen=True)
class Operation:
    """The contract of one route."""

    method: str
    path: str
    summary: str
    tag: str
    security: str | None = "integration"  # integration | staff | either | None
    scope: str | None = None
    body: Schema | None = None
    query: Mapping[str, Schema] = field(default_factory=dict)
    responses: Mapping[int, Schema | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    resource: str = "resource"
    description: str = ""
    # The request body's media type (a non-JSON body is declared as a string).
    body_type: str = "application/json"
    # Other media types a success answer may come in, e.g. {200: ("text/csv",)}.
    media: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # Path parameters that are not our ids (UUIDs), e.g. a case type's code.
    path_schemas: Mapping[str, Schema] = field(default_factory=dict)

    @property
    def idempotent(self) -> bool:
        """Idempotency-Key is required (integration POSTs)."""
        return self.method == "POST" and self.security == "integration"

    @property
    def idempotency_optional(self) -> bool:
        """Idempotency-Key is honoured when given (caseworker POSTs)."""
        return self.method == "POST" and self.security == "staff"

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    def resource_of(self, param: str) -> str:
        """What a path parameter names, for its 404 code."""
        return _PARAM_RESOURCE.get(param, self.resource)


def default_errors(method: str, path: str) -> tuple[int, ...]:
    errors = [400, 401, 403, 503]
    if "{" in path or method != "GET":
        errors.append(404)
    if method in ("POST", "PATCH", "PUT"):
        errors += [409, 413, 415]
    if method == "POST":
        errors.append(422)
    return tuple(sorted(errors))


class Api:
    """A route table whose routes carry their OpenAPI contract."""

    def __init__(self) -> None:
        self.routes = web.RouteTableDef()
        self.operations: dict[tuple[str, str], Operation] = {}

    def declare(self, op: Operation) -> None:
        """Record the contract of a route registered elsewhere (views we do not own)."""
        self.operations[(op.method, op.path)] = op

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        scope: str,
        responses: Mapping[int, Schema | None],
        body: Schema | None = None,
        query: Mapping[str, Schema] | None = None,
        resource: str = "resource",
        description: str = "",
    ) -> Callable[[View], View]:
        op = Operation(
            method=method,
            path=path,
            summary=summary,
            tag=tag,
            scope=scope,
            body=body,
            query=dict(query or {}),
            responses=dict(responses),
            errors=default_errors(method, path),
            resource=resource,
            description=description,
        )

        def register(view: View) -> View:
            self.declare(op)

            async def handler(request: web.Request) -> web.StreamResponse:
                return await _run(op, view, request)

            handler.__name__ = view.__name__
            handler.__doc__ = view.__doc__
            self.routes.route(method, path)(handler)
            return view

        return register


# -- the wrapper ---------------------------------------------------------------


async def read_body(request: web.Request, schema: Schema) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema`` (415/413/400 otherwise)."""
    if request.content_type != "application/json":
        raise ApiError(
            "Send JSON (Content-Type: application/json)", code="unsupported_media_type", status=415
        )
    raw = await request.read()  # aiohttp enforces client_max_size: 413 body_too_large
    try:
        data = strict_json_loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput("The body is not valid JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object", code="malformed_json")
    validate(data, schema)
    return data


def read_query(request: web.Request, params: Mapping[str, Schema]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name in request.query:
        if name not in params:
            raise BadInput(f"Unknown query parameter: {name}", code="unknown_parameter")
    for name, schema in params.items():
        values = request.query.getall(name, [])
        if not values:
            if "default" in schema:
                query[name] = schema["default"]
            continue
        if len(values) > 1:
            raise BadInput(f"{name}: give it once", code="bad_parameter")
        raw: Any = values[0]
        code = str(schema.get("x-code", "bad_parameter"))
        if schema.get("type") == "integer":
            try:
                raw = int(raw, 10)
            except ValueError:
                raise BadInput(f"{name}: must be an integer", code=code) from None
        try:
            validate(raw, schema, name)
        except SchemaError as exc:
            raise BadInput(exc.message, code=code) from exc
        query[name] = raw
    return query


def check_ids(op: Operation, request: web.Request) -> None:
    """Every id in the path is one of ours (a UUID), else 404 as for an unknown id."""
    for name in op.path_params:
        if name in op.path_schemas:
            continue  # not an id: the view checks it
        value = request.match_info.get(name, "")
        try:
            ok = str(uuid.UUID(value)) == value
        except ValueError:
            ok = False
        if not ok:
            resource = op.resource_of(name)
            raise NotFound(f"No such {resource}", code=f"{resource}_not_found")


async def _run(op: Operation, view: View, request: web.Request) -> web.StreamResponse:
    svc = request.app[SERVICES]
    who = await authenticate(svc, bearer_token(request))
    if op.scope is not None:
        require(who, op.scope)
    check_ids(op, request)
    query = read_query(request, op.query)
    body: dict[str, Any] = {}
    if op.body is not None:
        body = await read_body(request, op.body)
    if op.idempotent:
        key = idempotency.key_from(request.headers)
        status, payload, replayed = await _idempotent(op, view, request, svc, who, key, body, query)
        response = _respond(status, payload)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response
    call_hooks: list[Callable[[], None]] = []
    if op.method == "GET":
        async with svc.read() as conn:
            status, payload = await view(Call(request, svc, who, conn, body, query, call_hooks))
    else:
        async with svc.write_or_conflict() as conn:
            status, payload = await view(Call(request, svc, who, conn, body, query, call_hooks))
    for hook in call_hooks:
        hook()
    return _respond(status, payload)


async def _idempotent(
    op: Operation,
    view: View,
    request: web.Request,
    svc: Services,
    who: Integration,
    key: str,
    body: dict[str, Any],
    query: dict[str, Any],
) -> tuple[int, dict[str, Any] | None, bool]:
    req_hash = idempotency.request_hash(op.method, request.path_qs, body)
    hooks: list[Callable[[], None]] = []
    stored: idempotency.Stored | None = None
    status: int = 500
    payload: dict[str, Any] | None = None
    try:
        async with svc.write_or_conflict() as conn:
            stored = await idempotency.lookup(conn, svc, who, key)
            if stored is None:
                row_id, dek = await idempotency.begin(conn, svc, who, key, req_hash)
                status, payload = await view(Call(request, svc, who, conn, body, query, hooks))
                await idempotency.finish(conn, svc, row_id, dek, status, payload)
    except Conflict:
        # Either a concurrent duplicate committed first, or the view hit a real conflict.
        async with svc.read() as conn:
            stored = await idempotency.lookup(conn, svc, who, key)
        if stored is None:
            raise
    if stored is not None:
        if stored.request_hash != req_hash:
            raise idempotency.reused()
        return stored.status, stored.payload, True
    for hook in hooks:
        hook()
    return status, payload, False


def _respond(status: int, payload: dict[str, Any] | None) -> web.Response:
    if status == 204 or payload is None:
        return web.Response(status=status)
    return web.json_response(payload, status=status)


# -- the document --------------------------------------------------------------


def _refs(schema: Any, components: dict[str, Any]) -> Any:
    """Replace named schemas by $ref (recursively), collecting them in ``components``."""
    if isinstance(schema, Mapping):
        name = _NAMES.get(id(schema))
        inner = {k: _refs(v, components) for k, v in schema.items()}
        if name is not None:
            components.setdefault(name[0], inner)
            return {"$ref": f"#/components/schemas/{name[0]}"}
        return inner
    if isinstance(schema, list):
        return [_refs(v, components) for v in schema]
    return schema


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(op.path_schemas.get(name, {"type": "string", "format": "uuid"})),
        }
        for name in op.path_params
    ]
    for name, schema in op.query.items():
        params.append({"name": name, "in": "query", "required": False, "schema": dict(schema)})
    if op.idempotent or op.idempotency_optional:
        params.append(
            {
                "name": idempotency.HEADER,
                "in": "header",
                "required": op.idempotent,
                "description": (
                    "Same key, same request: one effect and the same answer "
                    "(kept 24 hours). Same key, different request: 422."
                    if op.idempotent
                    else "Optional; honoured when given. Same key, same request: one effect "
                    "and the same answer (kept 24 hours, per caseworker). Same key, different "
                    "request: 422 idempotency_key_reused. While the first request runs: "
                    "409 idempotency_key_in_progress; if its server stopped mid-way, "
                    "409 idempotency_key_in_doubt until the key expires."
                ),
                "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"},
            }
        )
    return params


def _operation_doc(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in sorted(op.responses.items()):
        entry: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
        content: dict[str, Any] = {}
        if schema is not None:
            content["application/json"] = {"schema": _refs(schema, components)}
        for media in op.media.get(status, ()):
            content[media] = {"schema": {"type": "string"}}
        if content:
            entry["content"] = content
        responses[str(status)] = entry
    for status in op.errors:
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _refs(ERROR, components)}},
        }
    doc: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{op.path}".replace("/", "_")
        .replace("{", "")
        .replace("}", "")
        .replace("__", "_"),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
    }
    if op.description:
        doc["description"] = op.description
    if op.scope:
        doc["x-scope"] = op.scope
    if op.security == "integration":
        doc["security"] = [{"integrationKey": []}]
    elif op.security == "staff":
        doc["security"] = [{"staffToken": []}]
    elif op.security == "either":
        doc["security"] = [{"integrationKey": []}, {"staffToken": []}]
    else:
        doc["security"] = []
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {op.body_type: {"schema": _refs(op.body, components)}},
        }
    return doc


def registered(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD twins of GET left out)."""
    out = []
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*"):
            continue
        out.append((route.method, canonical))
    return out


def undeclared(app: web.Application, operations: Mapping[tuple[str, str], Operation]) -> list[str]:
    """Routes under /api/v1 the app serves without a declared contract (must be none)."""
    return [
        f"{method} {path}"
        for method, path in sorted(registered(app))
        if path.startswith("/api/v1/") and (method, path) not in operations
    ]


def build_document(
    app: web.Application, operations: Mapping[tuple[str, str], Operation], *, server: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every registered route that has a declared contract.

    A route under /api/v1 without a contract is a bug: it is logged here, and
    ``tests/integration/test_openapi.py`` fails on it.
    """
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for method, path in sorted(registered(app)):
        op = operations.get((method, path))
        if op is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation_doc(op, components)
    missing = undeclared(app, operations)
    if missing:
        log.warning("routes without a contract: %s", ", ".join(missing))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tovholder API",
            "version": "1",
            "description": (
                "The case system's (fagsystem/ESDH) interface to Tovholder: directory, "
                "cases and participants, updates to families, and event subscriptions; "
                "and the caseworkers' own API (conversations, replies, staffing, journal, "
                "reminders). The case system authenticates with an integration key "
                "(Authorization: Bearer tvk_…) and every POST it sends needs an "
                "Idempotency-Key. Caseworkers authenticate with a personal token "
                "(Bearer tvh_…); on their POSTs Idempotency-Key is optional and honoured "
                "when given (optional so that simple clients keep working; send one to "
                "retry safely): the same key "
                "and request give one effect and the same status and body, the same key "
                "with another request is 422 idempotency_key_reused. Keys are scoped to "
                "the municipality and the integration key or caseworker that sent them. "
                "Errors are "
                '{"error": {"code", "message"}} with a stable code; an id that does not '
                "exist in the caller's municipality, or that the caller may not see, is "
                "404. Lists from the case system's API are paginated: pass next_cursor "
                "back as cursor. The case system's API never echoes personal data back; "
                "the caseworkers' API shows a caseworker the cases they work on."
            ),
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "integrationKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "tvk_…",
                    "description": "A per-integration key, scoped to one municipality.",
                },
                "staffToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "tvh_…",
                    "description": "A caseworker's personal token.",
                },
            },
        },
    }
