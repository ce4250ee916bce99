"""Operator routes above every municipality: creating one (``POST /api/v1/tenants``).

The same domain function as ``tovholder tenant create``
(:func:`bot.domain.directory.set_up_tenant`), for operators who automate. Only
the deployment's operator token may call it (``security="operator"``): a
municipality's integration key is scoped to that municipality and may not
make another.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.config import KNOWN_GATEWAYS
from bot.base.i18n import LANGUAGES
from bot.domain.directory import TenantSetup, set_up_tenant
from bot.http.auth import body_of
from bot.http.integration.api import ID, api, out, text

log = logging.getLogger(__name__)

_NULLABLE_ID: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
_CLOCK: dict[str, Any] = {"type": "string", "maxLength": 5, "description": "HH:MM"}

TENANT_IN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug", "name", "sms_number"],
    "properties": {
        "slug": {
            "type": "string",
            "maxLength": 64,
            "description": "Short name in URLs and commands: lower-case letters, digits, "
            "hyphens (e.g. nordby).",
        },
        "name": text(200),
        "sms_number": {
            "type": "string",
            "maxLength": 20,
            "description": "The number families text (E.164 or Danish).",
        },
        "language": {"type": "string", "enum": sorted(LANGUAGES)},
        "gateways": {
            "type": "array",
            "items": {"type": "string", "enum": list(KNOWN_GATEWAYS)},
            "maxItems": len(KNOWN_GATEWAYS),
            "description": "Its SMS gateways in sending order (empty: the deployment's).",
        },
        "administration": text(200),
        "team": text(200),
        "opens_at": _CLOCK,
        "closes_at": _CLOCK,
        "reply_days": {"type": "integer", "minimum": 0, "maximum": 60},
    },
}
TENANT = out(
    {
        "id": ID,
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "administration_id": _NULLABLE_ID,
        "team_id": _NULLABLE_ID,
    }
)


@api.operation(
    "POST",
    "/api/v1/tenants",
    summary="Create a municipality (operator only)",
    tag="operations",
    security="operator",
    body=TENANT_IN,
    responses={201: TENANT},
    description=(
        "Starts a municipality with its settings, and a first administration and team "
        "if named; the same as `tovholder tenant create`. Only the deployment's operator "
        "token (TOVHOLDER_OPERATOR_TOKEN) may call it. Bad input is 400 with a code "
        "naming the field (bad_slug, bad_field, bad_language, bad_gateway, bad_time, "
        "bad_number); a slug or SMS number already taken is 409 tenant_exists. Nothing "
        "is created when anything is refused. Send an Idempotency-Key to retry safely: "
        "the same key and body replay the first answer (24 hours, per operator token)."
    ),
)
async def create_tenant(request: web.Request) -> web.Response:
    """Create a municipality from the operator's JSON (201 with its ids)."""
    body = body_of(request)
    setup = TenantSetup(
        slug=body["slug"],
        name=body["name"],
        sms_number=body["sms_number"],
        language=body.get("language", "da"),
        gateways=tuple(body.get("gateways", ())),
        administration=body.get("administration"),
        team=body.get("team"),
        opens_at=body.get("opens_at", "08:00"),
        closes_at=body.get("closes_at", "16:00"),
        reply_days=body.get("reply_days", 2),
    )
    svc = request.app[SERVICES]
    async with svc.write_or_conflict() as conn:
        made = await set_up_tenant(conn, svc, setup)
    log.info("operator API created municipality %s (id %s)", setup.slug, made.tenant_id)
    return web.json_response(
        {
            "id": made.tenant_id,
            "slug": setup.slug,
            "name": setup.name.strip(),
            "administration_id": made.administration_id,
            "team_id": made.team_id,
        },
        status=201,
    )
