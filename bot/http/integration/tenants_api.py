"""Operator routes above every municipality: creating one (``POST /api/v1/tenants``) and
setting its logo (``PUT /api/v1/tenants/{slug}/logo``).

The same domain function as ``tovholder tenant create``
(:func:`bot.domain.directory.set_up_tenant`), for operators who automate. Only
the deployment's operator token may call it (``security="operator"``): a
municipality's integration key is scoped to that municipality and may not
make another.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.config import KNOWN_GATEWAYS
from bot.base.errors import BadInput
from bot.base.i18n import LANGUAGES
from bot.domain import tenant_logo
from bot.domain.directory import TenantSetup, set_up_tenant
from bot.http.auth import body_of
from bot.http.integration.api import ID, api, out, text

log = logging.getLogger(__name__)

_NULLABLE_ID: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
_CLOCK: dict[str, Any] = {"type": "string", "maxLength": 5, "description": "HH:MM"}
LOGO_IN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["media_type", "data"],
    "description": f"The municipality's logo for the family's pages: an SVG or PNG of at "
    f"most {tenant_logo.MAX_BYTES // 1024} KB, checked by its content (an SVG with script, "
    "event handlers or outside references is refused).",
    "properties": {
        "media_type": {"type": "string", "enum": list(tenant_logo.TYPES)},
        "data": {
            "type": "string",
            # The request's own limit binds first; a file over the logo limit that fits
            # in it is refused by the check, with logo_too_large.
            "maxLength": 64 * 1024,
            "description": "The file, base64-encoded.",
        },
    },
}

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
        "logo": LOGO_IN,
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
        "bad_number; a refused logo: logo_type, logo_unsafe, or 413 logo_too_large); a "
        "slug or SMS number already taken is 409 tenant_exists. Nothing "
        "is created when anything is refused. Send an Idempotency-Key to retry safely: "
        "the same key and body replay the first answer (24 hours, per operator token)."
    ),
)
async def create_tenant(request: web.Request) -> web.Response:
    """Create a municipality from the operator's JSON (201 with its ids)."""
    body = body_of(request)
    logo, logo_type = _logo(body.get("logo"))
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
        logo=logo,
        logo_type=logo_type,
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


def _logo(given: dict[str, Any] | None) -> tuple[bytes | None, str | None]:
    """The logo's bytes and declared type from the JSON (base64), or ``(None, None)``."""
    if given is None:
        return None, None
    try:
        data = base64.b64decode(given["data"], validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("logo.data: not base64", code="logo_type") from None
    return data, str(given["media_type"])


@api.operation(
    "PUT",
    "/api/v1/tenants/{slug}/logo",
    summary="Set a municipality's logo (operator only)",
    tag="operations",
    security="operator",
    body=LOGO_IN,
    responses={200: out({"slug": {"type": "string"}, "url": {"type": "string"}})},
    path_schemas={"slug": {"type": "string", "maxLength": 64}},
    description=(
        "Puts the logo on file in place of any the municipality had; the family's pages "
        "show it beside the municipality's name, served at /borger/logo/{slug}. The same "
        "as `tovholder tenant logo`. A refused file is 400 logo_type (not an SVG or PNG, "
        "damaged, or not the media_type named) or logo_unsafe (an SVG with script, event "
        "handlers, a DTD or outside references), or 413 logo_too_large; an unknown slug "
        "is 404 tenant_not_found."
    ),
)
async def put_logo(request: web.Request) -> web.Response:
    """Set the municipality's logo from the operator's JSON (200 with its address)."""
    data, declared = _logo(body_of(request))
    assert data is not None  # the schema requires it
    logo = tenant_logo.check(data, declared)
    slug = request.match_info["slug"]
    svc = request.app[SERVICES]
    async with svc.write_or_conflict() as conn:
        tenant_id = await tenant_logo.tenant_by_slug(conn, slug)
        await tenant_logo.set_logo(conn, svc, tenant_id, logo)
    log.info("operator API set the logo of municipality %s", tenant_id)
    return web.json_response({"slug": slug, "url": tenant_logo.logo_path(slug, logo.sha256)})
