"""Operations declared next to their views, and the OpenAPI document built from them.

``@api.operation(...)`` registers an aiohttp route *and* its contract: who may
call (``security``), scope, query parameters, request body and response
schemas. It is the one way to declare a route under /api/v1, whoever calls it:

- ``security="integration"`` (the case system, ``Bearer tvk_…``): the view
  gets a validated :class:`Call` and answers a :data:`Reply`; the wrapper
  authenticates, checks the scope, validates path, query and body, opens the
  transaction and makes every POST idempotent (Idempotency-Key required);
- ``security="staff"`` (a caseworker, ``Bearer tvh_…``): the view is a plain
  aiohttp handler; the wrapper authenticates the caseworker (remembered for
  :func:`bot.http.auth.staff_user`), validates path, query and body (the
  validated body is :func:`bot.http.auth.body_of`), and honours an optional
  Idempotency-Key on POSTs (:mod:`bot.http.integration.staff_gate`);
- ``security="either"``: an integration key (which needs ``scope``) or a
  caseworker's token; the view finds the key with
  :func:`bot.http.auth.integration_of`;
- ``security="operator"`` (the deployment's operator, ``Bearer`` the
  ``TOVHOLDER_OPERATOR_TOKEN``): above every municipality, e.g. creating one;
  the view is a plain aiohttp handler and finds the body with ``body_of``.

Every check runs before the view, so refused input writes nothing, and the
document served at ``/api/openapi.json`` — built from the app's registered
routes and these declarations — describes what the server really accepts and
answers.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from aiohttp import web
from aiohttp.web_urldispatcher import DynamicResource

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput, Conflict, NotFound, Unauthorized
from bot.base.services import Connection, Services
from bot.base.staff import StaffUser
from bot.domain.integration import idempotency
from bot.domain.integration.credentials import PREFIX, Integration, authenticate, require
from bot.http.auth import BODY, INTEGRATION, bearer_token, require_operator, staff_user
from bot.http.integration import staff_gate
from bot.http.middleware import Handler
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
    422: "Idempotency-Key reused with a different request (POST), or a value we cannot "
    "use, such as a language we do not write (stable code in error.code)",
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
H = TypeVar("H", bound=Handler)
Security = Literal["integration", "staff", "either", "operator"]


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
        """Idempotency-Key is honoured when given (caseworker and operator POSTs)."""
        return self.method == "POST" and self.security in ("staff", "operator")

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    def resource_of(self, param: str) -> str:
        """What a path parameter names, for its 404 code."""
        return _PARAM_RESOURCE.get(param, self.resource)


def default_errors(method: str, path: str) -> tuple[int, ...]:
    """The error answers of an integration operation."""
    errors = [400, 401, 403, 503]
    if "{" in path or method != "GET":
        errors.append(404)
    if method in ("POST", "PATCH", "PUT"):
        errors += [409, 413, 415]
    if method == "POST":
        errors.append(422)
    return tuple(sorted(errors))


def staff_errors(method: str, path: str, body: Schema | None, security: str) -> tuple[int, ...]:
    """The error answers of a caseworker operation (a key's missing scope is 403 too)."""
    errors = {400, 401, 503}
    if "{" in path or method != "GET":
        errors.add(404)
    if method != "GET":
        errors |= {403, 409}
    if security == "either":
        errors.add(403)
    if body is not None:
        errors |= {413, 415}
    if method == "POST":
        errors.add(422)
    return tuple(sorted(errors))


def operator_errors(method: str, path: str, body: Schema | None) -> tuple[int, ...]:
    """The error answers of an operator operation (a POST's reused Idempotency-Key is 422)."""
    errors = {400, 401, 409, 413, 415, 503} if body is not None else {401, 503}
    if method == "POST":
        errors.add(422)
    if "{" in path:
        errors.add(404)  # no such municipality
    return tuple(sorted(errors))


def _errors_of(method: str, path: str, body: Schema | None, security: str) -> tuple[int, ...]:
    if security == "integration":
        return default_errors(method, path)
    if security == "operator":
        return operator_errors(method, path, body)
    return staff_errors(method, path, body, security)


def canonical(path: str) -> str:
    """The route's path as the document names it: ``{id:[^/]+}`` becomes ``{id}``."""
    return DynamicResource(path).canonical if "{" in path else path


# The contract of each registered handler, so the document is built from the
# routes an app really serves (whichever module's table they came from).
_CONTRACTS: dict[Callable[..., Any], Operation] = {}


class Api:
    """A route table whose routes carry their OpenAPI contract."""

    def __init__(self) -> None:
        self.routes = web.RouteTableDef()
        self.operations: dict[tuple[str, str], Operation] = {}

    @overload
    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        responses: Mapping[int, Schema | None],
        scope: str,
        security: Literal["integration"] = "integration",
        body: Schema | None = None,
        query: Mapping[str, Schema] | None = None,
        resource: str = "resource",
        description: str = "",
        extra_errors: tuple[int, ...] = (),
    ) -> Callable[[View], View]: ...

    @overload
    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        responses: Mapping[int, Schema | None],
        security: Literal["staff", "either", "operator"],
        scope: str | None = None,
        body: Schema | None = None,
        query: Mapping[str, Schema] | None = None,
        resource: str = "resource",
        description: str = "",
        body_type: str = "application/json",
        media: Mapping[int, tuple[str, ...]] | None = None,
        path_schemas: Mapping[str, Schema] | None = None,
    ) -> Callable[[H], H]: ...

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        responses: Mapping[int, Schema | None],
        scope: str | None = None,
        security: Security = "integration",
        body: Schema | None = None,
        query: Mapping[str, Schema] | None = None,
        resource: str = "resource",
        description: str = "",
        body_type: str = "application/json",
        media: Mapping[int, tuple[str, ...]] | None = None,
        path_schemas: Mapping[str, Schema] | None = None,
        extra_errors: tuple[int, ...] = (),
    ) -> Callable[[Any], Any]:
        """Register the decorated view at ``method path`` with this contract.

        Args:
            method: the HTTP method.
            path: the route; a parameter may carry an aiohttp pattern
                (``{id:[^{}/.]+}``), which the document leaves out.
            summary: one line for the document.
            tag: the document's group.
            responses: the success answers by status (``None``: no body).
            scope: the integration key's scope (required for ``integration``).
            security: ``integration``, ``staff`` or ``either`` (see the module).
            body: the request body's schema (JSON unless ``body_type``).
            query: each query parameter's schema.
            resource: what ``{id}`` names, for the 404 code.
            description: more words for the document.
            body_type: the request body's media type.
            media: other media types a success answer may come in.
            path_schemas: path parameters that are not our ids.
            extra_errors: error statuses the view itself may answer beyond the defaults
                (e.g. 422 ``unsupported_language`` on a PATCH).

        Returns:
            A decorator that registers the view and returns it unchanged.
        """
        if security in ("integration", "either") and scope is None:
            raise ValueError(f"{method} {path}: an integration key needs a scope")
        op = Operation(
            method=method,
            path=canonical(path),
            summary=summary,
            tag=tag,
            security=security,
            scope=scope,
            body=body,
            query=dict(query or {}),
            responses=dict(responses),
            errors=tuple(sorted({*_errors_of(method, path, body, security), *extra_errors})),
            resource=resource,
            description=description,
            body_type=body_type,
            media=dict(media or {}),
            path_schemas=dict(path_schemas or {}),
        )

        def register(view: Any) -> Any:
            async def handler(request: web.Request) -> web.StreamResponse:
                if op.security == "integration":
                    return await _run(op, view, request)
                if op.security == "operator":
                    return await _run_operator(op, view, request)
                return await _run_staff(op, view, request)

            handler.__name__ = view.__name__
            handler.__doc__ = view.__doc__
            self.operations[(op.method, op.path)] = op
            _CONTRACTS[handler] = op
            self.routes.route(method, path)(handler)
            return view

        return register


def declared(app: web.Application) -> dict[tuple[str, str], Operation]:
    """The contract of every route the app serves that declared one, by (method, path)."""
    ops: dict[tuple[str, str], Operation] = {}
    for route in app.router.routes():
        op = _CONTRACTS.get(route.handler)
        if op is not None and route.method == op.method:
            ops[(op.method, op.path)] = op
    return ops


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


async def _caller(op: Operation, request: web.Request) -> StaffUser | None:
    """The caseworker calling a staff route, or None for an integration key ("either")."""
    if op.security == "staff":
        return await staff_user(request)
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("A bearer token is required")
    if not token.startswith(PREFIX):
        return await staff_user(request)
    who = await authenticate(request.app[SERVICES], token)
    if op.scope is not None:
        require(who, op.scope)
    request[INTEGRATION] = who
    return None


async def _staff_body(op: Operation, request: web.Request) -> Any:
    """The validated JSON body (kept for the view), or a non-JSON body's digest."""
    assert op.body is not None
    if op.body_type == "application/json":
        body = request[BODY] = await read_body(request, op.body)
        return body
    if request.content_type != op.body_type:
        raise ApiError(f"Send {op.body_type}", code="unsupported_media_type", status=415)
    raw = await request.read()  # aiohttp enforces client_max_size: 413 body_too_large
    return hashlib.sha256(raw).hexdigest()


async def _run_staff(op: Operation, view: Handler, request: web.Request) -> web.StreamResponse:
    """Enforce a caseworker route's contract, then run its view (once per Idempotency-Key)."""
    user = await _caller(op, request)
    check_ids(op, request)
    read_query(request, op.query)
    body: Any = None
    if op.body is not None:
        body = await _staff_body(op, request)
    if user is None or not op.idempotency_optional:
        return await view(request)
    # Optional for caseworkers: the browser inbox and older clients post without it.
    key = idempotency.key_from(request.headers, required=False)
    if key is None:
        return await view(request)
    req_hash = idempotency.request_hash(request.method, request.path_qs, body)
    owner = idempotency.staff_owner(user.tenant_id, user.id)
    return await staff_gate.once(request, view, request.app[SERVICES], owner, key, req_hash)


async def _run_operator(op: Operation, view: Handler, request: web.Request) -> web.StreamResponse:
    """The operator token first, then the body against its schema, then the view.

    A POST with an Idempotency-Key runs once per key and operator token, as a
    caseworker's does (:mod:`bot.http.integration.staff_gate`).
    """
    require_operator(request)
    body: Any = None
    if op.body is not None:
        body = request[BODY] = await read_body(request, op.body)
    key = idempotency.key_from(request.headers, required=False)
    if key is None or not op.idempotency_optional:
        return await view(request)
    owner = idempotency.operator_owner(bearer_token(request) or "")
    req_hash = idempotency.request_hash(request.method, request.path_qs, body)
    return await staff_gate.once(request, view, request.app[SERVICES], owner, key, req_hash)


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
                    "and the same answer (kept 24 hours, per caseworker or operator token). "
                    "Same key, different request: 422 idempotency_key_reused. While the first "
                    "request runs: "
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
    elif op.security == "operator":
        doc["security"] = [{"operatorToken": []}]
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
                "operatorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The deployment's operator token (TOVHOLDER_OPERATOR_TOKEN), "
                    "for operations above every municipality; no municipality's key will do.",
                },
            },
        },
    }
