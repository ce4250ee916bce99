"""The site's root and icon: ``/`` leads a person to the right door, ``/favicon.ico`` answers.

A family is far more likely than a caseworker to type the bare address (from a
notice or a letter), so ``/`` opens the family's secure inbox; caseworkers have
their own bookmark, and the family's page links nowhere near staff pages.
"""

from __future__ import annotations

from aiohttp import web

from bot.http.pages import STATIC

routes = web.RouteTableDef()

_ICON = (STATIC / "favicon.svg").read_bytes()


@routes.get("/", name="pages.root")
async def root(request: web.Request) -> web.Response:
    """Send the visitor to the family's secure inbox (its login when not logged in)."""
    raise web.HTTPFound("/borger/")


@routes.get("/favicon.ico", name="pages.favicon")
async def favicon(request: web.Request) -> web.Response:
    """The site's icon (SVG: every browser we support reads it), cached for a day."""
    return web.Response(
        body=_ICON,
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
