"""The case system's REST API under /api/v1, each view beside its contract.

A view gets a validated :class:`~bot.http.integration.openapi.Call` (key checked,
scope checked, body and query validated, POSTs made idempotent) and calls
one function in :mod:`bot.domain.integration.service` or
:mod:`bot.domain.integration.webhooks`.
"""

from __future__ import annotations

from typing import Any

from bot.base.i18n import LANGUAGES
from bot.domain.directory import ROLES, STAFF_ROLES
from bot.domain.integration import participants, service, webhooks
from bot.http.integration.openapi import Api, Call, Reply, named
from bot.store import events

api = Api()

# -- shared schema pieces ---------------------------------------------------------

ID: dict[str, Any] = {"type": "string", "format": "uuid"}
TS: dict[str, Any] = {"type": "string", "format": "date-time"}
DATE_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "format": "date"}


def text(max_length: int) -> dict[str, Any]:
    """Free text that is not blank."""
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}


REF: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
    "description": "The case system's own reference (never a CPR number).",
}
LIST_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    "cursor": {"type": "string", "minLength": 1, "maxLength": 200},
}


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": properties,
        **extra,
    }


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return obj(
        {"items": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}},
        ("items", "next_cursor"),
    )


def out(properties: dict[str, Any]) -> dict[str, Any]:
    """A response object: every property is always present."""
    return obj(properties, tuple(properties))


def _list_args(call: Call) -> dict[str, Any]:
    return {"limit": call.query["limit"], "cursor": call.query.get("cursor")}


def _actor(call: Call) -> str:
    return f"integration:{call.who.key_id}"


# -- administrations -----------------------------------------------------------------

ADMINISTRATION = named(
    "Administration", out({"id": ID, "name": {"type": "string"}, "created_at": TS})
)
ADMINISTRATION_IN = named("AdministrationIn", obj({"name": text(200)}, ("name",)))


@api.operation(
    "GET",
    "/api/v1/administrations",
    summary="List administrations (forvaltninger)",
    tag="directory",
    scope="directory:read",
    query=LIST_QUERY,
    responses={200: page_of(ADMINISTRATION)},
)
async def list_administrations(call: Call) -> Reply:
    return 200, await service.list_administrations(
        call.conn, call.who.tenant_id, **_list_args(call)
    )


@api.operation(
    "POST",
    "/api/v1/administrations",
    summary="Create an administration",
    tag="directory",
    scope="directory:write",
    body=ADMINISTRATION_IN,
    responses={201: ADMINISTRATION},
)
async def create_administration(call: Call) -> Reply:
    return 201, await service.create_administration(
        call.conn, call.svc, call.who.tenant_id, name=call.body["name"]
    )


@api.operation(
    "GET",
    "/api/v1/administrations/{id}",
    summary="One administration",
    tag="directory",
    scope="directory:read",
    resource="administration",
    responses={200: ADMINISTRATION},
)
async def get_administration(call: Call) -> Reply:
    return 200, await service.get_administration(call.conn, call.who.tenant_id, call.param("id"))


# -- teams ----------------------------------------------------------------------------

TEAM = named(
    "Team",
    out(
        {
            "id": ID,
            "administration_id": ID,
            "name": {"type": "string"},
            "reply_days": {"type": "integer"},
            "created_at": TS,
        }
    ),
)
TEAM_IN = named(
    "TeamIn",
    obj(
        {
            "administration_id": ID,
            "name": text(200),
            "reply_days": {
                "type": "integer",
                "minimum": 0,
                "maximum": 60,
                "description": "Tilbagemeldingsgaranti in working days (default 2).",
            },
        },
        ("administration_id", "name"),
    ),
)


@api.operation(
    "GET",
    "/api/v1/teams",
    summary="List teams",
    tag="directory",
    scope="directory:read",
    query={**LIST_QUERY, "administration_id": ID},
    responses={200: page_of(TEAM)},
)
async def list_teams(call: Call) -> Reply:
    return 200, await service.list_teams(
        call.conn,
        call.who.tenant_id,
        administration_id=call.query.get("administration_id"),
        **_list_args(call),
    )


@api.operation(
    "POST",
    "/api/v1/teams",
    summary="Create a team",
    tag="directory",
    scope="directory:write",
    body=TEAM_IN,
    responses={201: TEAM},
)
async def create_team(call: Call) -> Reply:
    return 201, await service.create_team(
        call.conn,
        call.svc,
        call.who.tenant_id,
        administration_id=call.body["administration_id"],
        name=call.body["name"],
        reply_days=call.body.get("reply_days", 2),
    )


@api.operation(
    "GET",
    "/api/v1/teams/{id}",
    summary="One team",
    tag="directory",
    scope="directory:read",
    resource="team",
    responses={200: TEAM},
)
async def get_team(call: Call) -> Reply:
    return 200, await service.get_team(call.conn, call.who.tenant_id, call.param("id"))


# -- staff ----------------------------------------------------------------------------

STAFF = named(
    "Staff",
    out(
        {
            "id": ID,
            "team_id": ID,
            "role": {"type": "string", "enum": list(STAFF_ROLES)},
            "active": {"type": "boolean"},
            "ref": {"type": ["string", "null"]},
            "created_at": TS,
        }
    ),
)
STAFF_IN = named(
    "StaffIn",
    obj(
        {
            "team_id": ID,
            "first_name": text(100),
            "full_name": text(200),
            "role": {"type": "string", "enum": list(STAFF_ROLES)},
            "ref": REF,
            "login": {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": 200,
                "pattern": r"^[^\s\x00]+$",
                "description": "The caseworker's login at the municipality's OpenID Connect "
                "provider (by default the e-mail claim); stored only as a keyed hash.",
            },
        },
        ("team_id", "first_name", "full_name"),
    ),
)


@api.operation(
    "GET",
    "/api/v1/staff",
    summary="List staff (names are never returned)",
    tag="directory",
    scope="directory:read",
    query={**LIST_QUERY, "team_id": ID, "ref": REF},
    responses={200: page_of(STAFF)},
)
async def list_staff(call: Call) -> Reply:
    return 200, await service.list_staff(
        call.conn,
        call.who.tenant_id,
        team_id=call.query.get("team_id"),
        ref=call.query.get("ref"),
        **_list_args(call),
    )


@api.operation(
    "POST",
    "/api/v1/staff",
    summary="Create a staff member (names are sealed at rest)",
    tag="directory",
    scope="directory:write",
    body=STAFF_IN,
    responses={201: STAFF},
)
async def create_staff(call: Call) -> Reply:
    b = call.body
    return 201, await service.create_staff(
        call.conn,
        call.svc,
        call.who.tenant_id,
        team_id=b["team_id"],
        first_name=b["first_name"],
        full_name=b["full_name"],
        role=b.get("role", "caseworker"),
        ref=b.get("ref"),
        login=b.get("login"),
    )


@api.operation(
    "GET",
    "/api/v1/staff/{id}",
    summary="One staff member",
    tag="directory",
    scope="directory:read",
    resource="staff",
    responses={200: STAFF},
)
async def get_staff(call: Call) -> Reply:
    return 200, await service.get_staff(call.conn, call.who.tenant_id, call.param("id"))


# -- persons --------------------------------------------------------------------------

PERSON = named(
    "Person",
    out(
        {
            "id": ID,
            "language": {"type": "string"},
            "has_phone": {"type": "boolean"},
            "ref": {"type": ["string", "null"]},
            "created_at": TS,
        }
    ),
)
PERSON_IN = named(
    "PersonIn",
    obj(
        {
            "name": text(200),
            "first_name": text(100),
            "phone": {
                "type": ["string", "null"],
                "pattern": r"^\+?[0-9][0-9 ]{3,19}$",
                "description": "Mobile number; Danish unless it starts with +.",
            },
            "language": {"type": "string", "pattern": "^[a-z]{2,3}$", "default": "da"},
            "ref": REF,
            "cpr": {
                "type": ["string", "null"],
                "pattern": "^[0-9]{6}-?[0-9]{4}$",
                "description": "CPR number, so a MitID login finds this person; sealed at "
                "rest, blind-indexed, never returned.",
            },
        },
        ("name",),
    ),
)


@api.operation(
    "GET",
    "/api/v1/persons",
    summary="List known persons (names and numbers are never returned)",
    tag="directory",
    scope="directory:read",
    query={**LIST_QUERY, "ref": REF},
    responses={200: page_of(PERSON)},
)
async def list_persons(call: Call) -> Reply:
    return 200, await service.list_persons(
        call.conn, call.who.tenant_id, ref=call.query.get("ref"), **_list_args(call)
    )


@api.operation(
    "POST",
    "/api/v1/persons",
    summary="Register a citizen (name and number are sealed at rest)",
    tag="directory",
    scope="directory:write",
    body=PERSON_IN,
    responses={201: PERSON},
)
async def create_person(call: Call) -> Reply:
    b = call.body
    return 201, await service.create_person(
        call.conn,
        call.svc,
        call.who.tenant_id,
        name=b["name"],
        first_name=b.get("first_name"),
        phone=b.get("phone"),
        language=b.get("language", "da"),
        ref=b.get("ref"),
        cpr=b.get("cpr"),
    )


@api.operation(
    "GET",
    "/api/v1/persons/{id}",
    summary="One person",
    tag="directory",
    scope="directory:read",
    resource="person",
    responses={200: PERSON},
)
async def get_person(call: Call) -> Reply:
    return 200, await service.get_person(call.conn, call.who.tenant_id, call.param("id"))


PERSON_PATCH = named(
    "PersonPatch",
    obj(
        {
            "language": {
                "type": "string",
                "minLength": 1,
                "maxLength": 16,
                "description": "The language of the person's SMS: one of "
                + ", ".join(LANGUAGES)
                + ". Any other: 422 unsupported_language, nothing changed.",
                "examples": ["uk"],
            },
        },
        ("language",),
    ),
)


@api.operation(
    "PATCH",
    "/api/v1/persons/{id}",
    summary="Change the language of a person's SMS",
    description="The next SMS to the person (receipt, reminder, update) is written in "
    "this language. A change is journalised on each of the person's cases.",
    tag="directory",
    scope="directory:write",
    resource="person",
    body=PERSON_PATCH,
    responses={200: PERSON},
    extra_errors=(422,),
)
async def update_person(call: Call) -> Reply:
    return 200, await service.update_person(
        call.conn, call.svc, call.who.tenant_id, call.param("id"), call.body, actor=_actor(call)
    )


# -- participants ---------------------------------------------------------------------

CONSENT = named(
    "Consent",
    obj(
        {"sms": {"type": ["boolean", "null"]}, "web": {"type": ["boolean", "null"]}},
        description="Consent per channel; null: not recorded. Only an explicit false "
        "stops SMS updates.",
    ),
)
PARTICIPANT = named(
    "Participant",
    out(
        {
            "id": ID,
            "case_id": ID,
            "person_id": ID,
            "role": {"type": "string", "enum": list(ROLES)},
            "entitled": {"type": "boolean"},
            "authority_from": DATE_OR_NULL,
            "authority_to": DATE_OR_NULL,
            "consent": out(
                {"sms": {"type": ["boolean", "null"]}, "web": {"type": ["boolean", "null"]}}
            ),
            "created_at": TS,
        }
    ),
)
PARTICIPANT_IN = named(
    "ParticipantIn",
    obj(
        {
            "person_id": ID,
            "role": {"type": "string", "enum": list(ROLES)},
            "entitled": {"type": "boolean", "default": True},
            "authority_from": DATE_OR_NULL,
            "authority_to": DATE_OR_NULL,
            "consent": CONSENT,
        },
        ("person_id", "role"),
        description="A representative (partsrepræsentant, fuldmagt) needs authority_from; "
        "authority_to is inclusive. Other roles have no period.",
    ),
)
PARTICIPANT_PATCH = named(
    "ParticipantPatch",
    obj(
        {
            "entitled": {"type": "boolean"},
            "authority_from": DATE_OR_NULL,
            "authority_to": DATE_OR_NULL,
            "consent": CONSENT,
        }
    ),
)


@api.operation(
    "GET",
    "/api/v1/cases/{id}/participants",
    summary="A case's participants",
    tag="cases",
    scope="cases:read",
    resource="case",
    query=LIST_QUERY,
    responses={200: page_of(PARTICIPANT)},
)
async def list_participants(call: Call) -> Reply:
    return 200, await participants.list_participants(
        call.conn, call.who.tenant_id, call.param("id"), **_list_args(call)
    )


@api.operation(
    "POST",
    "/api/v1/cases/{id}/participants",
    summary="Add a participant: party, parent, bisidder or representative",
    tag="cases",
    scope="cases:write",
    resource="case",
    body=PARTICIPANT_IN,
    responses={201: PARTICIPANT},
)
async def create_participant(call: Call) -> Reply:
    return 201, await participants.create_participant(
        call.conn, call.svc, call.who.tenant_id, call.param("id"), call.body, actor=_actor(call)
    )


@api.operation(
    "GET",
    "/api/v1/participants/{id}",
    summary="One participant",
    tag="cases",
    scope="cases:read",
    resource="participant",
    responses={200: PARTICIPANT},
)
async def get_participant(call: Call) -> Reply:
    return 200, await participants.get_participant(call.conn, call.who.tenant_id, call.param("id"))


@api.operation(
    "PATCH",
    "/api/v1/participants/{id}",
    summary="Change entitlement, period of authority or consent",
    tag="cases",
    scope="cases:write",
    resource="participant",
    body=PARTICIPANT_PATCH,
    responses={200: PARTICIPANT},
)
async def update_participant(call: Call) -> Reply:
    return 200, await participants.update_participant(
        call.conn, call.svc, call.who.tenant_id, call.param("id"), call.body, actor=_actor(call)
    )


# -- cases ----------------------------------------------------------------------------

KLE = {
    "type": ["string", "null"],
    "pattern": r"^\d{2}\.\d{2}\.\d{2}( [A-Z]\d{2})?$",
    "description": "KLE emnenummer, optionally with a handlingsfacet: '27.24.00 G01'.",
}
CASE_TYPE = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
CASE = named(
    "Case",
    out(
        {
            "id": ID,
            "number": {"type": "string"},
            "kle_code": {"type": ["string", "null"]},
            "case_type": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "administration_id": ID,
            "team_id": ID,
            "owner_id": ID,
            "participants": {"type": "array", "items": PARTICIPANT},
            "created_at": TS,
        }
    ),
)
CASE_IN = named(
    "CaseIn",
    obj(
        {
            "number": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9][A-Za-z0-9./_-]*$",
                "maxLength": 64,
            },
            "team_id": ID,
            "owner_id": ID,
            "case_type": CASE_TYPE,
            "kle_code": KLE,
            "participants": {"type": "array", "items": PARTICIPANT_IN, "maxItems": 20},
        },
        ("number", "team_id", "owner_id"),
        description="The case's administration is its team's.",
    ),
)
CASE_PATCH = named(
    "CasePatch",
    obj(
        {
            "owner_id": ID,
            "team_id": ID,
            "case_type": CASE_TYPE,
            "kle_code": KLE,
            "status": {"type": "string", "enum": ["open", "closed"]},
        },
        description="A new owner or status is filed in the case's journal.",
    ),
)


@api.operation(
    "GET",
    "/api/v1/cases",
    summary="List cases (filter by number, team, owner, status)",
    tag="cases",
    scope="cases:read",
    query={
        **LIST_QUERY,
        "number": {"type": "string", "minLength": 1, "maxLength": 64},
        "team_id": ID,
        "owner_id": ID,
        "status": {"type": "string", "enum": ["open", "closed"]},
    },
    responses={200: page_of(CASE)},
)
async def list_cases(call: Call) -> Reply:
    q = call.query
    return 200, await service.list_cases(
        call.conn,
        call.who.tenant_id,
        number=q.get("number"),
        team_id=q.get("team_id"),
        owner_id=q.get("owner_id"),
        status=q.get("status"),
        **_list_args(call),
    )


@api.operation(
    "POST",
    "/api/v1/cases",
    summary="Create a case with its KLE code, owner and participants",
    tag="cases",
    scope="cases:write",
    body=CASE_IN,
    responses={201: CASE},
)
async def create_case(call: Call) -> Reply:
    return 201, await service.create_case(
        call.conn, call.svc, call.who.tenant_id, call.body, actor=_actor(call)
    )


@api.operation(
    "GET",
    "/api/v1/cases/{id}",
    summary="One case with its participants",
    tag="cases",
    scope="cases:read",
    resource="case",
    responses={200: CASE},
)
async def get_case(call: Call) -> Reply:
    return 200, await service.get_case(call.conn, call.who.tenant_id, call.param("id"))


@api.operation(
    "PATCH",
    "/api/v1/cases/{id}",
    summary="Change owner, team, type, KLE code or status",
    tag="cases",
    scope="cases:write",
    resource="case",
    body=CASE_PATCH,
    responses={200: CASE},
)
async def update_case(call: Call) -> Reply:
    return 200, await service.update_case(
        call.conn, call.svc, call.who.tenant_id, call.param("id"), call.body, actor=_actor(call)
    )


# -- updates to the family -------------------------------------------------------------

UPDATE_IN = named(
    "UpdateIn",
    obj(
        {
            "body": text(1600),
            "nature": {
                "type": "string",
                "enum": ["message", "guidance", "decision"],
                "x-code": "bad_field",
                "description": "guidance adds the line that no decision was made; a decision "
                "(or a text that reads as one, however flagged) is refused: 400 "
                "decision_not_allowed, it goes by Digital Post",
            },
        },
        ("body",),
    ),
)
UPDATE_OUT = named(
    "UpdateSent",
    out(
        {
            "case_id": ID,
            "messages": {
                "type": "array",
                "items": out({"participant_id": ID, "conversation_id": ID, "message_id": ID}),
            },
            "skipped": {
                "type": "array",
                "items": out(
                    {
                        "participant_id": ID,
                        "reason": {
                            "type": "string",
                            "enum": [
                                "not_entitled",
                                "no_consent",
                                "authority_not_in_force",
                                "no_phone",
                                "opted_out",
                            ],
                        },
                    }
                ),
            },
        }
    ),
)


@api.operation(
    "POST",
    "/api/v1/cases/{id}/updates",
    summary="Send an update to the case's entitled participants by SMS",
    description="One SMS per participant who is entitled, has not refused SMS (here or "
    "by texting STOP), has a phone, and (for a representative) whose authority is in "
    "force today. Each SMS is "
    "journalised on the case, and so is each participant held back (STOP, restriction, "
    "no consent, authority not in force, no phone). 409 no_recipients when nobody qualifies.",
    tag="messages",
    scope="messages:send",
    resource="case",
    body=UPDATE_IN,
    responses={201: UPDATE_OUT},
)
async def send_update(call: Call) -> Reply:
    result = await service.send_update(
        call.conn,
        call.svc,
        call.who.tenant_id,
        call.param("id"),
        call.body["body"],
        nature=call.body.get("nature", "message"),
    )
    refused = service.nobody_got(result)
    if refused is not None:
        # Answered, not raised: what was held back is journalised and must be committed.
        return refused.status, {"error": {"code": refused.code, "message": refused.message}}
    call.after_commit.append(call.svc.wake_relay)
    return 201, result


# -- webhook subscriptions --------------------------------------------------------------

EVENTS = {"type": "string", "enum": list(events.EVENTS)}
WEBHOOK_PROPS: dict[str, Any] = {
    "id": ID,
    "url": {"type": "string"},
    "events": {"type": "array", "items": EVENTS},
    "active": {"type": "boolean"},
    "created_at": TS,
}
WEBHOOK = named("Webhook", out(WEBHOOK_PROPS))
WEBHOOK_CREATED = named(
    "WebhookCreated",
    out(
        {
            **WEBHOOK_PROPS,
            "secret": {
                "type": "string",
                "description": "The signing secret, shown only in this answer.",
            },
        }
    ),
)
WEBHOOK_IN = named(
    "WebhookIn",
    obj(
        {
            "url": {"type": "string", "format": "uri", "maxLength": 2000},
            "events": {"type": "array", "items": EVENTS, "minItems": 1, "uniqueItems": True},
        },
        ("url", "events"),
    ),
)


@api.operation(
    "GET",
    "/api/v1/webhooks",
    summary="List event subscriptions",
    tag="events",
    scope="events:subscribe",
    query=LIST_QUERY,
    responses={200: page_of(WEBHOOK)},
)
async def list_webhooks(call: Call) -> Reply:
    return 200, await webhooks.list_subscriptions(call.conn, call.who.tenant_id, **_list_args(call))


@api.operation(
    "POST",
    "/api/v1/webhooks",
    summary="Subscribe a URL to events (the signing secret is shown once)",
    description="Deliveries are POSTs signed with HMAC-SHA256 over '<timestamp>.<body>' "
    "under the secret: headers X-Tovholder-Timestamp (Unix seconds) and "
    "X-Tovholder-Signature (sha256=<hex>). Failed deliveries are retried with "
    "exponential backoff. Payloads carry ids only.",
    tag="events",
    scope="events:subscribe",
    body=WEBHOOK_IN,
    responses={201: WEBHOOK_CREATED},
)
async def create_webhook(call: Call) -> Reply:
    return 201, await webhooks.subscribe(
        call.conn,
        call.svc,
        call.who.tenant_id,
        url=call.body["url"],
        events=call.body["events"],
        key_id=call.who.key_id,
    )


@api.operation(
    "GET",
    "/api/v1/webhooks/{id}",
    summary="One event subscription",
    tag="events",
    scope="events:subscribe",
    resource="webhook",
    responses={200: WEBHOOK},
)
async def get_webhook(call: Call) -> Reply:
    return 200, await webhooks.get_subscription(call.conn, call.who.tenant_id, call.param("id"))


@api.operation(
    "DELETE",
    "/api/v1/webhooks/{id}",
    summary="Stop an event subscription",
    tag="events",
    scope="events:subscribe",
    resource="webhook",
    responses={204: None},
)
async def delete_webhook(call: Call) -> Reply:
    await webhooks.unsubscribe(call.conn, call.svc, call.who.tenant_id, call.param("id"))
    return 204, None
