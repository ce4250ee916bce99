"""The municipality's logo, on SQLite and PostgreSQL: set by the operator (API), checked by
its content, shown beside the name on the family's pages, served cacheable and sandboxed."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain import tenant_logo
from bot.store.schema.core import tenant_logos, tenants
from bot.wiring.demo import DEMO_LOGO
from tests.harness import Stack, start_stack
from tests.integration.conftest import FRIDAY_MORNING
from tests.web.conftest import citizen_login

OPERATOR = "op-" + "5e" * 20
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#004993"/></linearGradient></defs>'
    b'<rect width="10" height="10" fill="url(#g)" style="opacity:.9"/></svg>'
)


def png(width: int = 4, height: int = 2) -> bytes:
    """A real PNG (one colour), made here so the test needs no file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x00\x49\x93" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_OPERATOR_TOKEN": OPERATOR},
    )
    try:
        yield s
    finally:
        await s.session.close()


async def put_logo(
    stack: Stack, body: bytes, media_type: str = "image/svg+xml", slug: str = "kbh"
) -> tuple[int, Any]:
    resp = await stack.client.put(
        f"/api/v1/tenants/{slug}/logo",
        json={"media_type": media_type, "data": base64.b64encode(body).decode()},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    return resp.status, await resp.json()


async def _logos(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(tenant_logos))).scalar())


async def test_the_logo_stands_beside_the_name_and_is_served_cacheable(stack: Stack) -> None:
    """After the operator sets an SVG, the inbox and a thread show it (alt: the municipality's
    name) beside the name; its address answers image/svg+xml, cacheable, sandboxed, 304 when
    unchanged; a PNG put in its place gets a new address and image/png."""
    await stack.sms(stack.world.phones["anna"], "Hej Mette")
    status, made = await put_logo(stack, SVG)
    assert status == 200, made
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get("/borger/")).text()
    found = re.findall(
        r'<p class="header-authority"><img class="header-logo" src="([^"]+)" '
        r'alt="Københavns Kommune">Københavns Kommune</p>',
        html,
    )
    assert found == [made["url"]] and found[0].startswith("/borger/logo/kbh?v=")
    thread = re.search(r'href="(/borger/samtaler/[^"]+)"', html)
    assert thread is not None
    assert (
        f'src="{made["url"]}" alt="Københavns Kommune"'
        in await (await stack.client.get(thread.group(1))).text()
    )

    stack.client.session.cookie_jar.clear()  # a logo is public: no session needed
    resp = await stack.client.get(made["url"])
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    assert await resp.read() == SVG
    assert resp.headers["Cache-Control"] == "public, max-age=86400"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert "script-src" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    etag = resp.headers["ETag"]
    again = await stack.client.get("/borger/logo/kbh", headers={"If-None-Match": etag})
    assert again.status == 304 and not await again.read()

    status, second = await put_logo(stack, png(), "image/png")
    assert status == 200 and second["url"] != made["url"]
    resp = await stack.client.get(second["url"])
    assert resp.status == 200 and resp.content_type == "image/png" and resp.headers["ETag"] != etag
    assert await _logos(stack) == 1
    assert (await stack.client.get("/borger/logo/aarhus")).status == 404


async def test_a_municipality_without_a_logo_shows_its_name_alone(stack: Stack) -> None:
    """No logo on file: the header has the name and no image, and the address is not found."""
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get("/borger/")).text()
    assert '<p class="header-authority">Københavns Kommune</p>' in html
    assert "header-logo" not in html
    assert (await stack.client.get("/borger/logo/kbh")).status == 404


@pytest.mark.parametrize(
    ("body", "media_type", "status", "code"),
    [
        (b"GIF89a" + b"\x00" * 40, "image/png", 400, "logo_type"),
        (b"%PDF-1.7 not a logo", "image/png", 400, "logo_type"),
        (png(), "image/svg+xml", 400, "logo_type"),  # not what it says it is
        (b"<html><body>hi</body></html>", "image/svg+xml", 400, "logo_type"),
        (SVG[:60], "image/svg+xml", 400, "logo_type"),  # cut short
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png", 400, "logo_type"),  # no header
        (png(5000, 1), "image/png", 400, "logo_type"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            400,
            "logo_unsafe",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "image/svg+xml",
            400,
            "logo_unsafe",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<a x:href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>',
            "image/svg+xml",
            400,
            "logo_unsafe",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://x.example/a)"/>'
            b"</svg>",
            "image/svg+xml",
            400,
            "logo_unsafe",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "image/svg+xml",
            400,
            "logo_unsafe",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><!--'
            + b"x" * tenant_logo.MAX_BYTES
            + b"--></svg>",
            "image/svg+xml",
            413,
            "logo_too_large",
        ),
    ],
)
async def test_a_refused_logo_gets_a_clear_answer_and_nothing_is_stored(
    stack: Stack, body: bytes, media_type: str, status: int, code: str
) -> None:
    """Another type, a damaged file, an SVG that could run or load something, or one over
    32 KB: a code naming why, a message, and no logo on file (the pages show the name)."""
    got, answer = await put_logo(stack, body, media_type)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message"]
    assert await _logos(stack) == 0


async def test_the_operator_api_sets_a_logo_only_for_a_known_municipality_with_the_token(
    stack: Stack,
) -> None:
    """An unknown slug is 404 tenant_not_found, no token is 401, a body over the request
    limit is 413; nothing is stored."""
    assert (await put_logo(stack, SVG, slug="aarhus"))[0] == 404
    resp = await stack.client.put(
        "/api/v1/tenants/kbh/logo",
        json={"media_type": "image/svg+xml", "data": base64.b64encode(SVG).decode()},
    )
    assert resp.status == 401
    status, _ = await put_logo(stack, b"<" * (80 * 1024))
    assert status == 413
    assert await _logos(stack) == 0


async def test_a_new_municipality_may_bring_its_logo_and_a_bad_one_stops_it(
    stack: Stack,
) -> None:
    """POST /api/v1/tenants with a PNG logo: on file at once; with a refused logo the
    municipality is not created either."""
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    body = {"slug": "nordby", "name": "Nordby Kommune", "sms_number": "+4570201234"}
    bad = {"media_type": "image/png", "data": base64.b64encode(b"GIF89a....").decode()}
    resp = await stack.client.post("/api/v1/tenants", json={**body, "logo": bad}, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "logo_type"
    async with stack.svc.read() as conn:
        assert (
            await conn.execute(select(tenants.c.id).where(tenants.c.slug == "nordby"))
        ).first() is None
    good = {"media_type": "image/png", "data": base64.b64encode(png()).decode()}
    resp = await stack.client.post("/api/v1/tenants", json={**body, "logo": good}, headers=headers)
    assert resp.status == 201, await resp.text()
    served = await stack.client.get("/borger/logo/nordby")
    assert served.status == 200 and await served.read() == png()


def test_the_demo_logo_is_a_logo_we_take() -> None:
    """Demo Kommune's SVG passes the same check as an operator's."""
    assert tenant_logo.check(DEMO_LOGO).content_type == "image/svg+xml"
