"""New messages without reloading: a server-sent event stream per open inbox page.

On PostgreSQL each worker LISTENs for the NOTIFY that database triggers send
when a caseworker's inbox changes (``bot.domain.notify``), whichever worker wrote it;
a stream wakes on its municipality's notifications, re-checks what this
caseworker may see, and sends ``event: inbox`` only if it concerns them. It
still asks the database on a long interval (``Config.live_fallback_seconds``)
as a safety net. On SQLite (one process), or while the listener is
reconnecting, it polls every ``live_poll_seconds`` instead, as before.

The event's data is ``{"open": <open threads>, "conversations": [<ids>]}``:
the number of threads awaiting an answer, and which visible threads changed
(empty when only the list changed). The page then fetches its own fresh
fragment. The stream ends when the session does (logout, idle or absolute
timeout) or the server stops.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from bot.base.appkeys import CONFIG, SERVICES
from bot.base.errors import StorageUnavailable
from bot.domain import conversations as conv
from bot.domain import inbox, sessions
from bot.domain.notify import LISTENER, Listener, Wake, visible_among
from bot.http.pages.page import SETTINGS, apply_headers, state
from bot.http.pages.views_staff import current_staff

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

STOPPING = web.AppKey("pages_live_stopping", asyncio.Event)
HEARTBEAT_SECONDS = 15.0
# A waiting stream looks at least this often whether the listener is still up.
_RECHECK_SECONDS = 5.0

_NO_LISTENER = Listener(None)


async def on_shutdown(app: web.Application) -> None:
    app[STOPPING].set()


@routes.get("/sagsbehandler/begivenheder", name="pages.staff.events")
async def events(request: web.Request) -> web.StreamResponse:
    who = await current_staff(request)
    st = state(request)
    if who is None or st.session is None:
        raise web.HTTPUnauthorized()
    svc, settings = request.app[SERVICES], request.app[SETTINGS]
    fallback = request.app[CONFIG].live_fallback_seconds
    listener = request.app.get(LISTENER, _NO_LISTENER)
    stopping = request.app[STOPPING]
    user = who.user
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    apply_headers(response, st)
    await response.prepare(request)
    await response.write(b"retry: 5000\n\n")
    session_id = st.session.id
    loop = asyncio.get_running_loop()
    last = None
    wake: Wake | None = None
    next_beat = loop.time() + HEARTBEAT_SECONDS
    try:
        with listener.subscribe(user.tenant_id) as sub:
            while not stopping.is_set():
                if not await sessions.still_live(svc, settings, session_id):
                    await response.write(b"event: ended\ndata: {}\n\n")
                    break
                try:
                    items = await conv.list_open(svc, user)
                    touched = (
                        sorted(await visible_among(svc, user, wake.conversations))
                        if wake is not None
                        else []
                    )
                except StorageUnavailable:
                    items, touched = None, []
                if items is not None:
                    now = inbox.fingerprint(items)
                    if (last is not None and now != last) or touched:
                        data = json.dumps({"open": len(items), "conversations": touched})
                        await response.write(f"event: inbox\ndata: {data}\n\n".encode())
                        next_beat = loop.time() + HEARTBEAT_SECONDS
                    last = now
                # Notifications wake us; without them (SQLite, listener down) we poll.
                started = loop.time()
                wake = None
                while wake is None and not stopping.is_set():
                    t = loop.time()
                    interval = fallback if listener.listening else settings.live_poll_seconds
                    deadline = min(started + interval, t + _RECHECK_SECONDS)
                    if t >= started + interval:
                        break
                    if t >= next_beat:
                        # Also catches a session that ended while nothing happened.
                        await response.write(b": still here\n\n")
                        next_beat = t + HEARTBEAT_SECONDS
                        if not await sessions.still_live(svc, settings, session_id):
                            break
                    wake = await sub.wait(min(deadline, next_beat) - t, stop=stopping)
    except ConnectionResetError:
        pass  # the browser went away
    return response
