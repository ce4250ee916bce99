"""Case types (sagstyper) per municipality: the timeline template and follow-up policy.

The routes are registered on the track-and-trace API (``bot.http.scheduler``), so
they are served and documented with the rest of it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import Forbidden
from bot.http.auth import body_of, integration_of, staff_user
from bot.http.integration.api import TS, obj
from bot.http.integration.fields import INT, STR, loose
from bot.http.integration.openapi import named
from bot.http.scheduler import api
from scheduler import casetypes

CASE_TYPE_CODE: dict[str, Any] = {
    "type": "string",
    "pattern": "^[a-z][a-z0-9_]{1,31}$",
    "description": "The case type's code, e.g. paragraf_50",
}
TEMPLATE = named(
    "CaseTypeTemplate",
    loose(
        {"code": STR, "version": INT, "steps": {"type": "array"}, "updated_at": TS},
        ("code", "version"),
    ),
)


async def _template_caller(request: web.Request, *, write: bool) -> tuple[str, str | None]:
    """(tenant_id, staff_id or None) of whoever may read or change case-type templates.

    An integration key (``Bearer tvk_…``) has had its scope checked by the
    route's contract (``cases:write`` to change, ``cases:read`` to read); a
    caseworker may read, and only a team lead or an admin may change.
    """
    integration = integration_of(request)
    if integration is not None:
        return integration.tenant_id, None
    user = await staff_user(request)
    if write and user.role not in ("lead", "admin"):
        raise Forbidden("Only a team lead or an admin may change this", code="forbidden")
    return user.tenant_id, user.id


_CODE_ROUTE = "/api/v1/case-types/{code:[^{}/.]+}/template"


@api.operation(
    "GET",
    _CODE_ROUTE,
    summary="The municipality's timeline template and follow-up policy for a case type",
    tag="track-and-trace",
    security="either",
    scope="cases:read",
    resource="case_type",
    path_schemas={"code": CASE_TYPE_CODE},
    responses={200: TEMPLATE},
)
async def get_case_type_template(request: web.Request) -> web.Response:
    """The municipality's timeline template and follow-up policy for a case type."""
    tenant_id, _ = await _template_caller(request, write=False)
    svc = request.app[SERVICES]
    async with svc.write() as conn:
        row = await casetypes.read_template(
            conn, tenant_id, request.match_info["code"], svc.clock.now()
        )
    return web.json_response(casetypes.as_response(row))


@api.operation(
    "PUT",
    _CODE_ROUTE,
    summary="Replace a case type's template (a new version); running timelines keep theirs",
    tag="track-and-trace",
    security="either",
    scope="cases:write",
    resource="case_type",
    path_schemas={"code": CASE_TYPE_CODE},
    body=named(
        "CaseTypeTemplateIn",
        obj(
            {
                "steps": {"type": "array", "items": {"type": "object"}, "x-code": "bad_field"},
                "nudge_days": {"type": "integer", "x-code": "bad_offset"},
                "auto_update": {"type": "boolean", "x-code": "bad_field"},
            },
            ("steps", "nudge_days", "auto_update"),
        ),
    ),
    responses={200: TEMPLATE},
)
async def put_case_type_template(request: web.Request) -> web.Response:
    """Replace the template (a new version); running timelines keep theirs."""
    tenant_id, staff_id = await _template_caller(request, write=True)
    data = body_of(request)
    svc = request.app[SERVICES]
    async with svc.write() as conn:
        result = await casetypes.write_template(
            conn,
            tenant_id=tenant_id,
            code=request.match_info["code"],
            data=data,
            at=svc.clock.now(),
            staff_id=staff_id,
        )
    return web.json_response(result)
