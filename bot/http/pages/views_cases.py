"""My cases and the team's cases, filters, history and search (issue #19 point 2)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
