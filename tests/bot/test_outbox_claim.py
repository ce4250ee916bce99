"""The relay's claim: queue order, a dead worker's lease, a live lease, the batch size."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update

from bot.base.crypto import SealingKey
from bot.domain.outbound import queue_sms
from bot.domain.outbox import LEASE, relay_once
from bot.store.schema.core import cases, messages, outbox
from tests.harness import Stack

# Set while the test itself relays: tasks the relay starts inherit it, webhooks do not.
_RELAYING: ContextVar[int] = ContextVar("relaying", default=0)


async def _queue(stack: Stack, bodies: list[str], *, minutes_apart: int = 1) -> list[str]:
    """Queue receipts to Anna, each ``minutes_apart`` after the one before; their outbox ids."""
    svc = stack.svc
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    start = svc.clock.now()
    ids = []
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
        for i, body in enumerate(bodies):
            at = start + timedelta(minutes=i * minutes_apart)
            mid = await queue_sms(
                conn,
                tenant_id=stack.world.tenant_id,
                conversation_id=row.conversation_id,
                case_id=row.case_id,
                person_id=row.person_id,
                kind="receipt",
                body=body,
                key=key,
                at=at,
            )
            ids.append(
                (
                    await conn.execute(select(outbox.c.id).where(outbox.c.message_id == mid))
                ).scalar_one()
            )
    stack.clock.advance(minutes=len(bodies) * minutes_apart)
    return ids


async def test_a_dead_workers_rows_go_again_first_and_in_queue_order(stack: Stack) -> None:
    """The first SMS was claimed by a worker that died (its lease ran out), the third by one
    still sending (lease alive): one pass sends the first again, then the second, in order,
    and leaves the third to its worker."""
    ids = await _queue(stack, ["Første", "Anden", "Tredje"])
    now = stack.svc.clock.now()
    async with stack.svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == ids[0])
            .values(state="sending", attempts=1, lease_until=now - timedelta(seconds=1))
        )
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == ids[2])
            .values(state="sending", attempts=1, lease_until=now + LEASE)
        )
    stats = await relay_once(stack.svc)
    assert stats.claimed == 2 and stats.sent == 2
    sent = await stack.sent_to(stack.world.phones["anna"])
    assert [b for b in sent if b in ("Første", "Anden", "Tredje")] == ["Første", "Anden"]
    async with stack.svc.read() as conn:
        states = dict(
            (
                await conn.execute(select(outbox.c.id, outbox.c.state).where(outbox.c.id.in_(ids)))
            ).all()
        )
    assert [states[i] for i in ids] == ["done", "done", "sending"]


async def test_a_pass_claims_at_most_a_batch_oldest_first(stack: Stack) -> None:
    """With a batch of 2 and five SMS waiting, passes send 2, 2 and 1, in the order queued."""
    bodies = [f"Besked {i}" for i in range(5)]
    await _queue(stack, bodies)
    svc = stack.svc
    svc.config = svc.config.with_(outbox_batch=2)
    assert [(await relay_once(svc)).sent for _ in range(4)] == [2, 2, 1, 0]
    sent = await stack.sent_to(stack.world.phones["anna"])
    assert [b for b in sent if b.startswith("Besked")] == bodies


async def _statements_to_relay(stack: Stack, n: int) -> int:
    """How many SQL statements one relay pass runs to send ``n`` plain SMS."""
    await _queue(stack, [f"Runde {n} nr {i}" for i in range(n)])
    count = 0

    def counted(*_args: Any) -> None:
        # Status callbacks reach the app meanwhile; only the relay's own tasks count.
        nonlocal count
        count += _RELAYING.get()

    engine = stack.svc.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counted)
    token = _RELAYING.set(1)
    try:
        stats = await relay_once(stack.svc)
    finally:
        _RELAYING.reset(token)
        event.remove(engine, "before_cursor_execute", counted)
    assert stats.claimed == n and stats.sent == n
    return count


async def test_a_pass_runs_as_many_statements_for_three_sms_as_for_twelve(stack: Stack) -> None:
    """Plain SMS are claimed, triaged and settled in batches: no statement is run per message."""
    few = await _statements_to_relay(stack, 3)
    many = await _statements_to_relay(stack, 12)
    assert 0 < few == many, (few, many)
