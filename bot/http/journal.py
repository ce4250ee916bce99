"""The journal's JSON API: notes, the case journal with export status, the citizen's copy.

There is deliberately no endpoint that changes or removes a journal entry:
PUT, PATCH and DELETE on these paths answer 405.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, Forbidden, NotFound
from bot.base.services import Services
from bot.http.auth import body_of, integration_of, staff_user
from bot.http.integration.api import ID, TS, obj
from bot.http.integration.fields import INT, NULL_STR, STR, loose, text
from bot.http.integration.openapi import Api, named
from journal import casefile, retention
from journal.access_copy import access_copy, access_copy_as_pdf, set_exemption
from journal.config import JournalConfig, journal_config

api = Api()
routes = api.routes

# The journal's settings, read once when the app is built (bot.wiring.journal).
JOURNAL_CONFIG = web.AppKey("journal_config", JournalConfig)

ENTRY = named(
    "JournalEntry",
    loose(
        {
            "id": ID,
            "case_id": ID,
            "seq": INT,
            "kind": STR,
            "subject": NULL_STR,
            "created_at": TS,
            "hash": STR,
            "export": {},
        },
        ("id", "case_id"),
    ),
)


@api.operation(
    "POST",
    "/api/v1/cases/{case_id}/notes",
    summary="File a caseworker's note on the case (owner or team lead)",
    tag="journal",
    security="staff",
    resource="case",
    body=named("NoteIn", obj({"subject": text(), "text": text()}, ("subject", "text"))),
    responses={201: ENTRY},
)
async def post_note(request: web.Request) -> web.Response:
    """File a caseworker's note on the case (owner or team lead only)."""
    user = await staff_user(request)
    data = body_of(request)
    entry = await casefile.add_note(
        request.app[SERVICES],
        user,
        request.match_info["case_id"],
        data.get("subject"),
        data.get("text"),
    )
    return web.json_response(entry, status=201)


@api.operation(
    "GET",
    "/api/v1/cases/{case_id}/journal",
    summary="The case's journal, in order, with each entry's export status",
    tag="journal",
    security="staff",
    resource="case",
    responses={
        200: loose(
            {"case_id": ID, "case_number": NULL_STR, "items": {"type": "array", "items": ENTRY}},
            ("case_id", "items"),
        )
    },
)
async def list_journal(request: web.Request) -> web.Response:
    """The case's journal, in order, with each entry's export status."""
    user = await staff_user(request)
    body = await casefile.list_entries(request.app[SERVICES], user, request.match_info["case_id"])
    return web.json_response(body)


@api.operation(
    "GET",
    "/api/v1/cases/{case_id}/journal/{entry_id}",
    summary="One journal entry with its export status",
    tag="journal",
    security="staff",
    resource="case",
    responses={200: ENTRY},
)
async def get_entry(request: web.Request) -> web.Response:
    """One journal entry with its export status."""
    user = await staff_user(request)
    body = await casefile.entry_detail(
        request.app[SERVICES], user, request.match_info["case_id"], request.match_info["entry_id"]
    )
    return web.json_response(body)


@api.operation(
    "GET",
    "/api/v1/persons/{person_id}/access-copy",
    summary="Aktindsigt: the person's messages and staff look-ups, as JSON or PDF (leads/admins)",
    tag="journal",
    security="staff",
    resource="person",
    query={"format": {"type": "string", "enum": ["json", "pdf"], "x-code": "bad_format"}},
    responses={200: {"type": "object"}},
    media={200: ("application/pdf",)},
)
async def get_access_copy(request: web.Request) -> web.StreamResponse:
    """Aktindsigt: the person's messages and staff look-ups, as JSON or PDF (leads/admins)."""
    user = await staff_user(request)
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "pdf"):
        raise BadInput("format must be json or pdf", code="bad_format")
    svc = request.app[SERVICES]
    person_id = request.match_info["person_id"]
    if user.role not in ("lead", "admin"):
        # The same answer as for a person who does not exist.
        raise NotFound("No such person", code="person_not_found")
    copy = await access_copy(svc, person_id, staff_id=user.id, tenant_id=user.tenant_id)
    if fmt == "json":
        return web.json_response(copy, headers={"Cache-Control": "no-store"})
    jcfg = request.app.get(JOURNAL_CONFIG) or journal_config(svc.config)
    pdf = await asyncio.to_thread(access_copy_as_pdf, copy, jcfg.pdf_font)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="aktindsigt-{person_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@api.operation(
    "POST",
    "/api/v1/persons/{id}/restriction",
    summary="An erasure request, recorded as a restriction of processing (never a deletion)",
    tag="journal",
    security="staff",
    resource="person",
    body=named("RestrictionIn", obj({"reason": text("bad_reason")}, ("reason",))),
    responses={201: {"type": "object"}},
)
async def request_erasure(request: web.Request) -> web.Response:
    """An erasure request: recorded as a restriction of processing, never a deletion."""
    from journal.retention import restrict

    user = await staff_user(request)
    data = body_of(request)
    result = await restrict(
        request.app[SERVICES], user, request.match_info["id"], data.get("reason")
    )
    return web.json_response(result, status=201)


# -- retention rules (bevaringsperioder) ------------------------------------------------

RETENTION_RULE = named(
    "RetentionRule",
    obj(
        {
            "case_type": STR,
            "days": INT,
            "action": {"type": "string", "enum": ["remove", "archive"]},
            "set_at": TS,
        },
        ("case_type", "days", "action", "set_at"),
    ),
)
_RULE_ROUTE = "/api/v1/retention-rules/{case_type:[^{}/.]+}"


async def _rule_caller(request: web.Request, *, write: bool) -> str:
    """The municipality of whoever may read or set retention rules.

    An integration key has had its scope checked by the contract (``cases:write``
    to set); staff may read, and only a team lead or an admin may set.
    """
    integration = integration_of(request)
    if integration is not None:
        return integration.tenant_id
    user = await staff_user(request)
    if write and user.role not in ("lead", "admin"):
        raise Forbidden("Only a team lead or an admin may set retention rules", code="forbidden")
    return user.tenant_id


@api.operation(
    "GET",
    "/api/v1/retention-rules",
    summary="The municipality's own retention rules by case type (defaults apply to the rest)",
    tag="journal",
    security="either",
    scope="cases:read",
    responses={200: obj({"items": {"type": "array", "items": RETENTION_RULE}}, ("items",))},
)
async def list_retention_rules(request: web.Request) -> web.Response:
    """The municipality's own retention rules by case type."""
    tenant_id = await _rule_caller(request, write=False)
    return web.json_response({"items": await retention.list_rules(_svc(request), tenant_id)})


@api.operation(
    "PUT",
    _RULE_ROUTE,
    summary="Set how long a closed case of this type is kept, and what happens then",
    description="days: kept this long after the case's last journal entry once closed. "
    "action: remove (the whole case goes: messages, files, journal, its data key) or "
    "archive (archive law requires keeping it: the case is restricted instead). "
    "case_type * is the rule for every type without its own. A municipality that exports "
    "nowhere must set a rule of its own before anything is removed.",
    tag="journal",
    security="either",
    scope="cases:write",
    path_schemas={
        "case_type": {"type": "string", "pattern": r"^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$"}
    },
    body=named(
        "RetentionRuleIn",
        obj(
            {
                "days": {"type": "integer", "x-code": "bad_days"},
                "action": {"type": "string", "x-code": "bad_action"},
            },
        ),
    ),
    responses={200: RETENTION_RULE},
)
async def put_retention_rule(request: web.Request) -> web.Response:
    """Set the municipality's retention rule for one case type."""
    tenant_id = await _rule_caller(request, write=True)
    data = body_of(request)
    rule = await retention.set_rule(
        _svc(request),
        tenant_id,
        request.match_info["case_type"],
        data.get("days"),
        data.get("action", "remove"),
    )
    return web.json_response(rule)


def _svc(request: web.Request) -> Services:
    return request.app[SERVICES]


@api.operation(
    "PUT",
    "/api/v1/access-copy-exemptions",
    summary="Choose whether a rule exempts material from the citizen's copy (leads/admins)",
    description="rule internal_notes: caseworkers' internal notes are left out of the "
    "citizen's copy (offentlighedsloven § 23); the copy then lists the rule, its ground and "
    "how many items it withheld. Other people's data is always left out.",
    tag="journal",
    security="staff",
    body=named(
        "AccessCopyExemptionIn",
        obj(
            {
                "rule": {"type": "string", "enum": ["internal_notes"], "x-code": "bad_rule"},
                "on": {"type": "boolean", "x-code": "bad_field"},
            },
            ("rule", "on"),
        ),
    ),
    responses={200: obj({"chosen": {"type": "array", "items": STR}}, ("chosen",))},
)
async def put_access_copy_exemption(request: web.Request) -> web.Response:
    """Choose (or stop choosing) an exemption rule for the citizen's copy."""
    user = await staff_user(request)
    if user.role not in ("lead", "admin"):
        raise Forbidden("Only a team lead or an admin may choose this", code="forbidden")
    data = body_of(request)
    chosen = await set_exemption(_svc(request), user.tenant_id, data.get("rule"), data.get("on"))
    return web.json_response({"chosen": chosen})
