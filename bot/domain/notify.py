"""Inbox changes across worker processes: PostgreSQL LISTEN/NOTIFY.

Database triggers (migration ``0017_notify``) send a NOTIFY on the
``tovholder_inbox`` channel whenever something a caseworker's inbox shows
changes: a message is filed, its delivery status, owner or acknowledgement
changes, a thread is routed to a case, a case changes hands. Because the
triggers fire for every writer, no service code has to remember to notify,
and a message filed by one worker wakes the streams held open by another.

Each worker process holds one dedicated connection (not from the engine's
pool: a pooled connection is handed back and would stop listening) that
LISTENs and fans each notification out to the open streams of that tenant.
When the connection drops it is re-opened with backoff, and every stream is
woken once, since notifications sent while nobody listened are lost.

The payload is ids only::

    {"tenant": "<tenant id>", "conversation": "<conversation id>|null", "kind": "message"}

A wake-up is only a hint to look again: the stream itself re-checks, under the
caseworker's own visibility rules, what has changed (``visible_among``).

On SQLite (one process, no NOTIFY) ``Listener.for_url`` gives a listener that
never starts and never wakes anyone; streams poll instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.conversations import visible_to
from bot.store.schema.core import cases, conversations

log = logging.getLogger(__name__)

CHANNEL = "tovholder_inbox"


@dataclass
class Wake:
    """What one stream learnt since it last looked.

    Attributes:
        conversations: conversation ids named by notifications.
        everything: something changed that names no one thread (a case changed
            hands), or notifications may have been missed (the listener reconnected).
    """

    conversations: set[str] = field(default_factory=set)
    everything: bool = False


class Subscription:
    """One open stream's mailbox for its tenant's changes."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._event = asyncio.Event()
        self._pending = Wake()

    def push(self, conversation_id: str | None) -> None:
        if conversation_id is None:
            self._pending.everything = True
        else:
            self._pending.conversations.add(conversation_id)
        self._event.set()

    def push_everything(self) -> None:
        self.push(None)

    async def wait(
        self, seconds: float, *, stop: asyncio.Event | None = None, settle: float = 0.05
    ) -> Wake | None:
        """Wait up to ``seconds`` for a change or ``stop``; None when nothing came.

        ``settle``: after the first notification, wait this long for more, so a
        burst (one SMS touches several rows) becomes one look.
        """
        if not self._event.is_set():
            waiters = [asyncio.ensure_future(self._event.wait())]
            if stop is not None:
                waiters.append(asyncio.ensure_future(stop.wait()))
            try:
                await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)
            if not self._event.is_set():
                return None
            if settle > 0 and (stop is None or not stop.is_set()):
                await asyncio.sleep(settle)
        wake, self._pending = self._pending, Wake()
        self._event.clear()
        return wake


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://…`` → the plain ``postgresql://…`` DSN asyncpg takes."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One LISTEN connection per worker, fanning out to this worker's open streams.

    ``state`` is ``disabled`` (SQLite: streams poll), ``connecting`` (not yet or
    no longer listening: streams poll), ``listening``, or ``stopped``.
    """

    def __init__(
        self,
        dsn: str | None,
        *,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        health_interval: float = 30.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._health_interval = health_interval
        self._connect_timeout = connect_timeout
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._conn: Any = None
        self.state = "disabled" if dsn is None else "connecting"
        # How many times a connection was established (1, then +1 per reconnect).
        self.connections = 0

    @classmethod
    def for_url(cls, database_url: str, **options: float) -> Listener:
        if not database_url.startswith("postgresql"):
            return cls(None)
        return cls(asyncpg_dsn(database_url), **options)

    @property
    def listening(self) -> bool:
        return self.state == "listening"

    @property
    def backend_pid(self) -> int | None:
        """The server process of the LISTEN connection (for tests and operators)."""
        conn = self._conn
        if conn is None or conn.is_closed():
            return None
        pid: int = conn.get_server_pid()
        return pid

    async def start(self) -> None:
        """Start listening in the background (a no-op on SQLite)."""
        if self._dsn is None or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="notify-listener")
        self._task.add_done_callback(_log_crash)

    async def aclose(self) -> None:
        self._closing.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._dsn is not None:
            self.state = "stopped"
        self._wake_all()

    @contextlib.contextmanager
    def subscribe(self, tenant_id: str) -> Iterator[Subscription]:
        """A mailbox for changes in this tenant, for as long as the ``with`` lasts."""
        sub = Subscription(tenant_id)
        self._subs.setdefault(tenant_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(tenant_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[tenant_id]

    def dispatch(self, payload: str) -> None:
        """Hand one notification's payload to the streams of its tenant."""
        try:
            data = json.loads(payload)
            tenant = data["tenant"]
            conversation = data.get("conversation")
        except (ValueError, TypeError, KeyError):
            log.warning("notify: ignoring a malformed notification (%d bytes)", len(payload))
            return
        if not isinstance(tenant, str) or not isinstance(conversation, str | None):
            log.warning("notify: ignoring a malformed notification (%d bytes)", len(payload))
            return
        for sub in self._subs.get(tenant, ()):
            sub.push(conversation)

    def _wake_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.push_everything()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.dispatch(payload)

    async def _run(self) -> None:
        import asyncpg

        backoff = self._min_backoff
        while not self._closing.is_set():
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.state = "connecting"
                delay = backoff * (0.5 + random.random())
                log.warning(
                    "notify: cannot connect to listen (%s); retrying in %.1fs",
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            self._conn = conn
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                self.state = "listening"
                self.connections += 1
                backoff = self._min_backoff
                log.info("notify: listening on %s (connection %d)", CHANNEL, self.connections)
                # Whatever was sent while nobody listened is lost: everyone looks again.
                self._wake_all()
                await self._watch(conn, lost)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("notify: listen connection failed (%s)", type(exc).__name__)
            finally:
                self._conn = None
                if not self._closing.is_set():
                    self.state = "connecting"
                    log.warning("notify: listen connection lost; reconnecting")
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2.0)
                if not conn.is_closed():
                    conn.terminate()
            # Reconnect at once after a drop that followed a working connection; the
            # backoff applies from the next failed attempt on.
            await self._sleep(self._min_backoff * random.random())

    async def _watch(self, conn: Any, lost: asyncio.Event) -> None:
        """Return when the connection is lost; probe it now and then for a dead peer."""
        while not self._closing.is_set() and not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), timeout=self._health_interval)
            except TimeoutError:
                await conn.execute("SELECT 1", timeout=5.0)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    def on_close(_conn: Any) -> None:
        event.set()

    return on_close


def _log_crash(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("notify: the listener stopped", exc_info=exc)


LISTENER = web.AppKey("notify_listener", Listener)


async def visible_among(svc: Services, user: StaffUser, ids: Iterable[str]) -> set[str]:
    """Which of these conversations this caseworker may see (``bot.domain.conversations`` rules)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    async with svc.read() as conn:
        rows = await conn.execute(
            select(conversations.c.id)
            .outerjoin(cases, cases.c.id == conversations.c.case_id)
            .where(conversations.c.id.in_(wanted), visible_to(user))
        )
        return {r.id for r in rows}
