"""Kommunens logo: one SVG or PNG per municipality, shown on the family's pages.

The operations team sets it (``tovholder tenant create --logo``, ``tovholder
tenant logo``, or the operator API); the family's pages show it beside the
municipality's name, and ``/borger/logo/{slug}`` serves it to anyone (a logo is
public, not personal data). A municipality without one shows its name alone.

What is taken is checked by its content, never by a name or a declared type:
a PNG by its signature and header, an SVG by parsing it. An SVG is a document
that could carry script, so one with a ``<script>``, an event handler, a
``<foreignObject>``, a DTD, or a reference to anything outside itself is
refused (it is also served under a sandboxing CSP, in case).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - no DTD is ever parsed: refused first
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, NotFound
from bot.base.services import Services
from bot.store.schema.core import tenant_logos, tenants

PNG = "image/png"
SVG = "image/svg+xml"
TYPES = (SVG, PNG)
# Small enough to travel base64-encoded in the operator API's JSON (64 KiB a request).
MAX_BYTES = 32 * 1024

_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_REFUSED_ELEMENTS = frozenset(
    {"script", "foreignObject", "iframe", "embed", "object", "audio", "video", "image", "use"}
)
# url(...) to anything but a fragment in this document, and CSS imports.
_OUTSIDE_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import|javascript:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Logo:
    """A checked logo: its media type, its bytes, and their SHA-256 (hex)."""

    content_type: str
    body: bytes
    sha256: str


def _refused(message: str, code: str = "logo_type") -> BadInput:
    return BadInput(message, code=code, status=413 if code == "logo_too_large" else 400)


def _check_png(body: bytes) -> None:
    # Signature, then the first chunk: 13 bytes of IHDR with a width and height.
    if len(body) < 33 or body[12:16] != b"IHDR":
        raise _refused("The PNG file is damaged (no image header)")
    width, height = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
    if not (0 < width <= 4000 and 0 < height <= 4000):
        raise _refused("The PNG's width and height must be 1-4000 pixels")


def _check_svg(body: bytes) -> None:
    lowered = body.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise _refused("The SVG may not have a DOCTYPE or entities", "logo_unsafe")
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD (refused above), so no entities
    except ET.ParseError as exc:
        raise _refused(f"The SVG is not well-formed XML ({exc})") from None
    if root.tag != f"{_SVG_NS}svg":
        raise _refused("The file is not an SVG image (its root must be <svg> in the SVG namespace)")
    for element in root.iter():
        name = str(element.tag).removeprefix(_SVG_NS)
        if name in _REFUSED_ELEMENTS:
            raise _refused(f"The SVG may not contain <{name}>", "logo_unsafe")
        if name == "style" and _OUTSIDE_URL.search(element.text or ""):
            raise _refused("The SVG's style may not load anything from outside", "logo_unsafe")
        for attr, value in element.attrib.items():
            local = attr.rsplit("}", 1)[-1]
            if local.lower().startswith("on"):
                raise _refused(f"The SVG may not have event handlers ({local})", "logo_unsafe")
            if attr in ("href", _XLINK_HREF) and not value.startswith("#"):
                raise _refused("The SVG may only link within itself (href=#…)", "logo_unsafe")
            if _OUTSIDE_URL.search(value):
                raise _refused("The SVG may not load anything from outside", "logo_unsafe")


def check(body: bytes, declared: str | None = None) -> Logo:
    """The logo if ``body`` is an SVG or PNG we take, else a clear refusal.

    Args:
        body: the file's bytes.
        declared: the media type the sender named, if any; it must match the content.

    Raises:
        BadInput: ``logo_too_large`` (413), ``logo_type`` (not an SVG or PNG, damaged,
            or not what was declared) or ``logo_unsafe`` (an SVG that could run or load
            something).
    """
    if not body:
        raise _refused("The logo file is empty")
    if len(body) > MAX_BYTES:
        raise _refused(
            f"The logo is {len(body) // 1024} KB; at most {MAX_BYTES // 1024} KB",
            "logo_too_large",
        )
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
        _check_png(body)
    elif body.lstrip()[:1] == b"<":
        kind = SVG
        _check_svg(body)
    else:
        raise _refused("The logo must be an SVG or PNG image")
    if declared is not None and declared != kind:
        raise _refused(f"The file is {kind}, not {declared}")
    return Logo(kind, body, hashlib.sha256(body).hexdigest())


async def tenant_by_slug(conn: AsyncConnection, slug: str) -> str:
    """The municipality's id (NotFound ``tenant_not_found`` when no such slug)."""
    found = (await conn.execute(select(tenants.c.id).where(tenants.c.slug == slug))).scalar()
    if found is None:
        raise NotFound("No municipality with that slug", code="tenant_not_found")
    return str(found)


async def set_logo(conn: AsyncConnection, svc: Services, tenant_id: str, logo: Logo) -> None:
    """Put ``logo`` on file for the municipality, in place of any it had."""
    await conn.execute(delete(tenant_logos).where(tenant_logos.c.tenant_id == tenant_id))
    await conn.execute(
        tenant_logos.insert().values(
            tenant_id=tenant_id,
            content_type=logo.content_type,
            body=logo.body,
            sha256=logo.sha256,
            updated_at=svc.clock.now(),
        )
    )


async def remove_logo(conn: AsyncConnection, tenant_id: str) -> bool:
    """Take the municipality's logo off file (its pages show the name alone). Was there one?"""
    gone = await conn.execute(delete(tenant_logos).where(tenant_logos.c.tenant_id == tenant_id))
    return bool(gone.rowcount)


async def logo_of(svc: Services, slug: str) -> Logo | None:
    """The logo on file for the municipality ``slug`` (None: no such municipality or no logo)."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(tenant_logos.c.content_type, tenant_logos.c.body, tenant_logos.c.sha256)
                .join(tenants, tenants.c.id == tenant_logos.c.tenant_id)
                .where(tenants.c.slug == slug)
            )
        ).first()
    return None if row is None else Logo(row.content_type, bytes(row.body), row.sha256)


@dataclass(frozen=True, slots=True)
class Masthead:
    """What a family page's header shows: the municipality's name, and its logo's address."""

    name: str
    logo_url: str | None


async def masthead(conn: AsyncConnection, tenant_id: str) -> Masthead:
    """The municipality's name and, when it has a logo, the logo's versioned address."""
    row = (
        await conn.execute(
            select(tenants.c.name, tenants.c.slug, tenant_logos.c.sha256)
            .outerjoin(tenant_logos, tenant_logos.c.tenant_id == tenants.c.id)
            .where(tenants.c.id == tenant_id)
        )
    ).one()
    url = None if row.sha256 is None else logo_path(row.slug, row.sha256)
    return Masthead(str(row.name), url)


def logo_path(slug: str, sha256: str) -> str:
    """The logo's address; the version changes with the file, so it may be cached long."""
    return f"/borger/logo/{slug}?v={sha256[:16]}"
