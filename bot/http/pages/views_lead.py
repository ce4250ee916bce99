"""The team lead's page and the data-protection page (issue #19 point 6)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
