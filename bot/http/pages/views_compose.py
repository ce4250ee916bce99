"""New message / quick update from a case or a person; files to the family (#19 points 1, 5)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
