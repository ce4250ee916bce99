"""Gateway rate limits and circuit breakers shared by several workers through PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.crypto import SealingKey
from bot.base.services import Services
from bot.domain.outbound import queue_sms
from bot.domain.outbox import relay_once
from bot.store.limits import PgLimitBook
from bot.store.schema.core import cases, messages
from channels.failover import CircuitBreaker, FailoverGateway, RateLimiter
from channels.limits import SharedBreaker, SharedRateLimiter
from tests.bot.conftest import FRIDAY_MORNING
from tests.harness import Stack, start_stack

RATE = 10.0  # messages per second, for both workers together


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        gateway_rates={"twilio": RATE},
        outbox_batch=15,
    )
    try:
        yield s
    finally:
        await s.session.close()


async def second_worker(stack: Stack, aiohttp_server: Any) -> Services:
    """Another process's services: same database, same gateway, same configuration."""
    app = create_app(stack.config, clock=stack.clock, engine_options={"pool_size": 4})
    await aiohttp_server(app)
    return app[SERVICES]


def pg_only(stack: Stack) -> None:
    if stack.svc.sqlite:
        pytest.skip("SQLite is one process: its limits stay in memory (see the SQLite test)")


async def queue(stack: Stack, n: int) -> None:
    """Queue ``n`` receipts to Anna (they may go at any hour), due now."""
    svc = stack.svc
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(messages.c.conversation_id, messages.c.case_id, messages.c.person_id).limit(
                    1
                )
            )
        ).one()
        wrapped = (
            await conn.execute(select(cases.c.dek).where(cases.c.id == row.case_id))
        ).scalar_one()
        key = SealingKey("case", row.case_id, svc.dek("cases", row.case_id, wrapped))
        for i in range(n):
            await queue_sms(
                conn,
                tenant_id=stack.world.tenant_id,
                conversation_id=row.conversation_id,
                case_id=row.case_id,
                person_id=row.person_id,
                kind="receipt",
                body=f"Kvittering {i}",
                key=key,
                at=svc.clock.now(),
            )


async def start_thread(stack: Stack) -> None:
    """Anna writes once (her receipt goes out), then the simulator forgets what it was sent."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    await relay_once(stack.svc)
    await stack.settle()
    async with stack.session.delete(str(stack.sim.make_url("/_sim/messages"))) as resp:
        assert resp.status in (200, 204)


async def test_sqlite_keeps_its_limits_in_the_process(stack: Stack) -> None:
    """On SQLite (one process) the breakers and buckets stay in memory; on PostgreSQL, shared."""
    gateway = stack.svc.gateway
    assert isinstance(gateway, FailoverGateway)
    if stack.svc.sqlite:
        assert isinstance(gateway.breakers["twilio"], CircuitBreaker)
        assert isinstance(gateway.limits["twilio"], RateLimiter)
    else:
        assert isinstance(gateway.breakers["twilio"], SharedBreaker)
        assert isinstance(gateway.limits["twilio"], SharedRateLimiter)


async def test_two_workers_together_stay_within_the_gateway_rate(
    stack: Stack, aiohttp_server: Any
) -> None:
    """Two workers sending 30 SMS at a 10/s limit: the gateway sees them over two seconds.

    A full bucket lets 10 through at once, then 10 a second: 30 take at least two
    seconds, and no second holds much more than 20 (the burst and a second's refill).
    Each worker with its own bucket would send its 15 in half a second.
    """
    pg_only(stack)
    other = await second_worker(stack, aiohttp_server)
    await start_thread(stack)
    await queue(stack, 30)
    await asyncio.sleep(1.1)  # the bucket refills from the thread's first receipt
    a, b = await asyncio.gather(relay_once(stack.svc), relay_once(other))
    assert a.claimed == 15 and b.claimed == 15 and a.sent + b.sent == 30
    arrived = sorted(datetime.fromisoformat(m["created_at"]) for m in await stack.sent())
    assert len(arrived) == 30
    assert arrived[-1] - arrived[0] >= timedelta(seconds=1.5)
    busiest = max(
        sum(1 for t in arrived if start <= t < start + timedelta(seconds=1)) for start in arrived
    )
    # Reservations maturing in any second are at most 20; a send delayed by a busy
    # machine may arrive beside later ones, hence the slack (separate buckets: 30).
    assert busiest <= 2 * RATE + 5


async def test_a_breaker_one_worker_opened_holds_the_other_back(
    stack: Stack, aiohttp_server: Any
) -> None:
    """Worker A meets three 5xx and opens the breaker; worker B, which sent fine before,
    sends nothing to the gateway after its next look at the shared state."""
    pg_only(stack)
    other = await second_worker(stack, aiohttp_server)
    await start_thread(stack)
    await queue(stack, 1)
    assert (await relay_once(other)).sent == 1  # B has seen the breaker closed
    await stack.settle()
    await stack.faults(mode="fail_5xx", count=3)
    await queue(stack, 3)
    stats = await relay_once(stack.svc)
    assert stats.retried == 3 and stats.sent == 0
    gateway = stack.svc.gateway
    assert isinstance(gateway, FailoverGateway) and gateway.breakers["twilio"].state == "open"
    before = len(await stack.sent())
    await asyncio.sleep(1.1)  # longer than B's cache of the shared state
    await queue(stack, 1)
    stats = await relay_once(other)
    assert stats.sent == 0 and stats.retried >= 1
    # The simulator's faults are used up: a send B made would have been accepted.
    assert len(await stack.sent()) == before


async def test_exactly_one_worker_gets_the_half_open_trial(stack: Stack) -> None:
    """After the cooldown, of two workers asking at once, one sends the trial; a success
    it reports closes the breaker for both."""
    pg_only(stack)
    book = PgLimitBook(stack.svc.engine)
    a, b = (
        SharedBreaker(book, "gateway:test", threshold=2, cooldown=0.3, refresh=0.0)
        for _ in range(2)
    )
    await a.failure()
    assert a.state == "closed" and await b.allow()
    await b.failure()
    assert b.state == "open" and not await a.allow()
    await asyncio.sleep(0.4)
    assert sorted(await asyncio.gather(a.allow(), b.allow())) == [False, True]
    await a.success()
    assert await b.allow() and b.state == "closed"


async def test_a_reservation_past_the_bucket_waits_its_turn(stack: Stack) -> None:
    """Workers reserving more than the bucket holds queue up behind one another."""
    pg_only(stack)
    book = PgLimitBook(stack.svc.engine)
    assert await book.take("gateway:queue", 5.0, 5.0, 5) == 5.0
    before = await book.take("gateway:queue", 5.0, 5.0, 5)
    assert -0.5 < before < 0.5  # empty, and a little refilled
    assert await book.take("gateway:queue", 5.0, 5.0, 1) < -4


async def test_without_the_shared_state_nothing_is_sent_and_all_is_retried() -> None:
    """The database behind the limits is unreachable: every SMS of the batch gets a
    transient error (the relay retries it); none reaches the gateway unlimited."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from channels.base import GatewayError, OutboundSms

    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    sent: list[OutboundSms] = []

    class Gateway:
        name = "twilio"

        async def send(self, sms: OutboundSms) -> Any:
            sent.append(sms)
            raise AssertionError("sent without the shared limits")

        def verify_inbound(self, request: Any) -> Any: ...

        def verify_status(self, request: Any) -> Any: ...

    try:
        router = FailoverGateway(
            [Gateway()],
            callback_for=lambda g, r: None,
            rates={"twilio": 5.0},
            book=PgLimitBook(engine),
        )
        batch = [
            OutboundSms(reference=f"m{i}", sender="+4533663366", recipient="+4520123401", body="x")
            for i in range(3)
        ]
        answers = await router.send_many(batch)
        assert all(isinstance(a, GatewayError) and a.transient for a in answers)
        with pytest.raises(GatewayError) as err:
            await router.send(batch[0])
        assert err.value.transient and sent == []
    finally:
        await engine.dispose()
