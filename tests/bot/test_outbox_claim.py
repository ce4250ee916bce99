"""The relay's claim: queue order, a dead worker's lease, a live lease, the batch size."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.base.crypto import SealingKey
from bot.domain.outbound import queue_sms
from bot.domain.outbox import LEASE, relay_once
from bot.store.schema.core import cases, messages, outbox
from tests.harness import Stack


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
