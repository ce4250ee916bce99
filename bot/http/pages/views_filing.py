"""File an unassigned message to a person and case; move a misfiled one (issue #19 point 4)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
