"""New messages without reloading: a server-sent event stream per open inbox page.

Each stream asks ``bot.conversations.list_open`` every few seconds (the same
rules as the page itself) and sends ``event: inbox`` when anything changed;
the page then fetches its own fresh fragment. The stream ends when the
session does (logout, idle or absolute timeout) or the server stops.

TODO(LISTEN/NOTIFY): on PostgreSQL, wake streams on a NOTIFY sent when a
message is filed, across workers, instead of polling.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from bot import conversations as conv
from bot.errors import StorageUnavailable
from bot.web.keys import SERVICES
from bot.web.pages import inbox, sessions
from bot.web.pages.page import SETTINGS, apply_headers, state
from bot.web.pages.views_staff import current_staff

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

STOPPING = web.AppKey("pages_live_stopping", asyncio.Event)
HEARTBEAT_SECONDS = 15.0


async def on_shutdown(app: web.Application) -> None:
    app[STOPPING].set()


@routes.get("/sagsbehandler/begivenheder", name="pages.staff.events")
async def events(request: web.Request) -> web.StreamResponse:
    who = await current_staff(request)
    st = state(request)
    if who is None or st.session is None:
        raise web.HTTPUnauthorized()
    svc, settings = request.app[SERVICES], request.app[SETTINGS]
    stopping = request.app[STOPPING]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    apply_headers(response, st)
    await response.prepare(request)
    await response.write(b"retry: 5000\n\n")
    session_id = st.session.id
    last = None
    idle = 0.0
    try:
        while not stopping.is_set():
            if not await sessions.still_live(svc, settings, session_id):
                await response.write(b"event: ended\ndata: {}\n\n")
                break
            try:
                items = await conv.list_open(svc, who.user)
            except StorageUnavailable:
                items = None
            if items is not None:
                now = inbox.fingerprint(items)
                if last is not None and now != last:
                    data = json.dumps({"open": len(items)})
                    await response.write(f"event: inbox\ndata: {data}\n\n".encode())
                    idle = 0.0
                last = now
            if idle >= HEARTBEAT_SECONDS:
                await response.write(b": still here\n\n")
                idle = 0.0
            try:
                await asyncio.wait_for(stopping.wait(), timeout=settings.live_poll_seconds)
            except TimeoutError:
                idle += settings.live_poll_seconds
    except ConnectionResetError:
        pass  # the browser went away
    return response
