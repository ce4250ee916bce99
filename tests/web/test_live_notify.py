"""Live updates across workers: PostgreSQL NOTIFY wakes inbox streams held by another instance."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.domain.accounts import set_credentials
from bot.domain.notify import CHANNEL, LISTENER, Listener, asyncpg_dsn
from bot.store.schema.core import messages
from bot.store.schema.pages import web_citizen_reads
from tests.conftest import PG_ADMIN_DSN
from tests.harness import Stack, start_stack
from tests.web.conftest import FRIDAY_MORNING, PASSWORD, Login, give_logins, staff_login

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Both polling paths as slow as they go: only a notification can deliver an event in time.
SLOW = {"extra": {"TOVHOLDER_WEB_LIVE_POLL": "60"}, "live_fallback_seconds": 3600.0}


@pytest.fixture
async def two(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[tuple[Stack, Stack]]:
    """Two app instances (two create_app, two ports) on one database, as two workers."""
    a = await start_stack(
        aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING, **SLOW
    )
    b = await start_stack(
        aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING, seed=False, **SLOW
    )
    b.world = a.world
    try:
        yield a, b
    finally:
        await a.session.close()
        await b.session.close()


def listener_of(stack: Stack) -> Listener:
    return stack.client.app[LISTENER]  # type: ignore[index]


async def until(check: Any, seconds: float = 10.0) -> None:
    """Wait for a condition the listener's own task makes true (it offers no event to wait on)."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def as_user(stack: Stack, aiohttp_client: Any, login: Login) -> Stack:
    """The same instance, seen through a fresh HTTP client (own cookies) logged in as ``login``."""
    client: TestClient[Any, Any] = await aiohttp_client(stack.client.server)
    mine = replace(stack, client=client)
    await staff_login(mine, login)
    return mine


async def open_stream(stack: Stack) -> ClientResponse:
    resp = await stack.client.get("/sagsbehandler/begivenheder")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    assert (await resp.content.readline()).startswith(b"retry:")
    return resp


async def next_event(resp: ClientResponse, seconds: float) -> tuple[str, dict[str, Any]] | None:
    """The next ``event:`` with its data, skipping comments; None if none comes in time."""
    try:
        async with asyncio.timeout(seconds):
            name = None
            while True:
                line = (await resp.content.readline()).decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: ") and name is not None:
                    return name, json.loads(line[len("data: ") :])
    except TimeoutError:
        return None


async def anna_conversation(stack: Stack) -> str:
    resp = await stack.api("GET", "/api/v1/conversations", who="mette")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    items = body["items"] if isinstance(body, dict) else body
    assert len(items) == 1
    return str(items[0]["id"])


@postgres_only
async def test_sms_through_one_instance_wakes_a_stream_on_the_other(
    two: tuple[Stack, Stack], aiohttp_client: Any
) -> None:
    """An SMS filed by instance A reaches Mette's stream on instance B within seconds, not the poll's minute; Lars (another team) hears nothing."""
    a, b = two
    logins = await give_logins(b)
    await until(lambda: listener_of(b).listening)
    mette = await as_user(b, aiohttp_client, logins["mette"])
    lars = await as_user(b, aiohttp_client, logins["lars"])
    mette_stream, lars_stream = await open_stream(mette), await open_stream(lars)
    await asyncio.sleep(0.2)  # both streams have taken their first look

    resp = await a.sms(a.world.phones["anna"], "Hej, vi kommer lidt senere")
    assert resp.status == 200, await resp.text()
    # Timed from the webhook's answer; the bound is loose for a loaded CI machine, but far
    # below the minute-long polling, so only NOTIFY can have delivered it.
    started = time.monotonic()
    event = await next_event(mette_stream, 5.0)
    elapsed = time.monotonic() - started
    assert event is not None, "no event within 5 s (polling is set to a minute)"
    name, data = event
    assert name == "inbox" and data["open"] == 1
    assert data["conversations"] == [await anna_conversation(a)]
    assert elapsed < 5.0
    assert await next_event(lars_stream, 1.5) is None
    mette_stream.close()
    lars_stream.close()


@postgres_only
async def test_a_colleague_who_may_not_see_the_thread_gets_nothing(
    two: tuple[Stack, Stack], aiohttp_client: Any
) -> None:
    """Sofie (same team, not her case, not a lead) is not told about Anna's thread; Hanne (lead) is."""
    a, b = two
    logins = await give_logins(b)
    sofie_secret = await set_credentials(
        b.svc, staff_id=b.world.sofie, username="sofie@kbh.example", password=PASSWORD
    )
    sofie_login = Login("sofie@kbh.example", PASSWORD, sofie_secret)
    await until(lambda: listener_of(b).listening)
    sofie = await open_stream(await as_user(b, aiohttp_client, sofie_login))
    hanne = await open_stream(await as_user(b, aiohttp_client, logins["hanne"]))
    await asyncio.sleep(0.2)
    assert (await a.sms(a.world.phones["anna"], "Tak for sidst")).status == 200
    event = await next_event(hanne, 2.0)
    assert event is not None and event[0] == "inbox"
    assert await next_event(sofie, 1.5) is None
    sofie.close()
    hanne.close()


@postgres_only
async def test_the_listener_reconnects_after_its_connection_is_terminated(
    two: tuple[Stack, Stack], aiohttp_client: Any
) -> None:
    """pg_terminate_backend on B's LISTEN connection: B listens again and its open stream still hears A."""
    a, b = two
    logins = await give_logins(b)
    listener = listener_of(b)
    await until(lambda: listener.listening)
    stream = await open_stream(await as_user(b, aiohttp_client, logins["mette"]))
    await asyncio.sleep(0.2)
    first_pid = listener.backend_pid
    assert first_pid is not None and listener.connections == 1

    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first_pid)
    finally:
        await admin.close()
    await until(lambda: listener.connections == 2 and listener.listening)
    assert listener.backend_pid not in (None, first_pid)

    # The reconnect itself makes every stream look again; nothing changed, so nothing is said.
    assert await next_event(stream, 0.5) is None
    assert (await a.sms(a.world.phones["anna"], "Er I der?")).status == 200
    event = await next_event(stream, 2.0)
    assert event is not None and event[0] == "inbox"
    stream.close()


@postgres_only
async def test_notifications_carry_ids_only(two: tuple[Stack, Stack]) -> None:
    """What the triggers send names tenant, conversation and kind of change: no body, name or number."""
    a, _ = two
    got: list[str] = []
    conn = await asyncpg.connect(asyncpg_dsn(a.config.database_url))
    try:
        await conn.add_listener(CHANNEL, lambda _c, _p, _ch, payload: got.append(payload))
        assert (await a.sms(a.world.phones["anna"], "Min søn er syg")).status == 200
        await a.drain()
        await until(lambda: len(got) >= 2, 5.0)
        await asyncio.sleep(0.2)
    finally:
        await conn.close()
    conv = await anna_conversation(a)
    kinds = set()
    for payload in got:
        data = json.loads(payload)
        assert set(data) == {"tenant", "conversation", "kind"}
        assert data["tenant"] == a.world.tenant_id and data["conversation"] == conv
        kinds.add(data["kind"])
        assert "syg" not in payload and a.world.phones["anna"][3:] not in payload
    assert "message" in kinds  # the SMS and the receipt
    assert "status" in kinds  # the receipt was sent


@postgres_only
async def test_a_citizen_reading_a_message_notifies_its_thread(two: tuple[Stack, Stack]) -> None:
    """The citizen's first read of a message (shown on the thread page) names the thread, kind "read"."""
    a, _ = two
    assert (await a.sms(a.world.phones["anna"], "Hej")).status == 200
    conv = await anna_conversation(a)
    async with a.svc.read() as c:
        receipt = (
            await c.execute(
                select(messages.c.id).where(
                    messages.c.conversation_id == conv, messages.c.direction == "out"
                )
            )
        ).scalar_one()
    got: list[str] = []
    conn = await asyncpg.connect(asyncpg_dsn(a.config.database_url))
    try:
        await conn.add_listener(CHANNEL, lambda _c, _p, _ch, payload: got.append(payload))
        async with a.svc.write() as c:
            await c.execute(
                web_citizen_reads.insert().values(
                    message_id=receipt, tenant_id=a.world.tenant_id, first_read_at=a.clock.now()
                )
            )
        await until(lambda: bool(got), 5.0)
    finally:
        await conn.close()
    assert [json.loads(p) for p in got] == [
        {"tenant": a.world.tenant_id, "conversation": conv, "kind": "read"}
    ]


@sqlite_only
async def test_on_sqlite_the_listener_is_off_and_streams_poll(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """On SQLite nobody listens, and an open stream still learns of a new SMS by polling."""
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_WEB_LIVE_POLL": "0.2"},
        live_fallback_seconds=3600.0,
    )
    try:
        assert listener_of(s).state == "disabled"
        logins = await give_logins(s)
        await staff_login(s, logins["mette"])
        stream = await open_stream(s)
        await asyncio.sleep(0.3)
        assert (await s.sms(s.world.phones["anna"], "Hej")).status == 200
        event = await next_event(stream, 5.0)
        assert event is not None and event[0] == "inbox" and event[1]["open"] == 1
        stream.close()
    finally:
        await s.session.close()


async def test_notifications_reach_only_their_tenant_and_junk_is_ignored() -> None:
    """dispatch: a payload wakes its own tenant's streams only; malformed payloads wake nobody."""
    listener = Listener(None)
    with listener.subscribe("t1") as mine, listener.subscribe("t2") as other:
        for junk in ("", "not json", "[]", '{"conversation": "c1"}', '{"tenant": 7}'):
            listener.dispatch(junk)
        listener.dispatch('{"tenant": "t1", "conversation": "c1", "kind": "message"}')
        listener.dispatch('{"tenant": "t1", "conversation": null, "kind": "case"}')
        wake = await mine.wait(0.5, settle=0)
        assert wake is not None and wake.conversations == {"c1"} and wake.everything
        assert await other.wait(0.1) is None
    assert listener.state == "disabled" and not listener.listening


async def test_an_unreachable_database_leaves_the_listener_retrying_not_crashing() -> None:
    """Nobody answers on the port: the listener stays "connecting" (streams poll) and closes cleanly."""
    listener = Listener("postgresql://nobody@127.0.0.1:9/none", min_backoff=0.05, max_backoff=0.1)
    await listener.start()
    await asyncio.sleep(0.5)
    assert listener.state == "connecting" and listener.connections == 0
    await listener.aclose()
    assert listener.state == "stopped"


@postgres_only
async def test_the_listener_can_use_its_own_database_url(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """With TOVHOLDER_LISTEN_DATABASE_URL set, the LISTEN connection is made there, not via the pool's URL."""
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        listen_database_url=f"{db_url}?application_name=tovholder-listen-test",
    )
    try:
        listener = listener_of(s)
        await until(lambda: listener.listening)
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            name = await admin.fetchval(
                "SELECT application_name FROM pg_stat_activity WHERE pid = $1",
                listener.backend_pid,
            )
        finally:
            await admin.close()
        assert name == "tovholder-listen-test"
    finally:
        await s.session.close()
