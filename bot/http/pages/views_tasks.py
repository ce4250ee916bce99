"""The caseworker's task list: nudges, promises due, FLYT/AFLYS, call tasks (issue #19 point 3)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
