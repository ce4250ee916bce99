"""The site's root and icon: ``/`` leads a person to the right door, ``/favicon.ico`` answers.

Someone already logged in goes back to their own pages: a caseworker's session
to the desk, a family's to their secure inbox. Anyone else is far more likely
to be a family typing the bare address (from a notice or a letter) than a
caseworker, so ``/`` opens the family's secure inbox (its login); caseworkers
have their own bookmark, and the family's page links nowhere near staff pages.
"""

from __future__ import annotations

from aiohttp import web

from bot.http.pages import STATIC
from bot.http.pages.page import state

routes = web.RouteTableDef()

_ICON = (STATIC / "favicon.svg").read_bytes()


@routes.get("/", name="pages.root")
async def root(request: web.Request) -> web.Response:
    """Send a caseworker's session to the desk, anyone else to the family's secure inbox."""
    session = state(request).session
    if session is not None and session.kind == "staff":
        # Also half way through the login (TOTP due): the desk sends it on to the code.
        raise web.HTTPFound("/sagsbehandler/")
    raise web.HTTPFound("/borger/")


@routes.get("/favicon.ico", name="pages.favicon")
async def favicon(request: web.Request) -> web.Response:
    """The site's icon (SVG: every browser we support reads it), cached for a day."""
    return web.Response(
        body=_ICON,
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
