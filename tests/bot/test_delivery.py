"""One delivery state machine: forward only, final states stay final, replays change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.domain.delivery import apply_report
from bot.store.schema.core import journal_entries, messages
from channels.base import DeliveryReport, DeliveryState
from tests.harness import Stack


async def _receipt(stack: Stack) -> tuple[str, str]:
    """A receipt sent, with the simulator's own reports (sent, delivered) all in."""
    import asyncio

    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    for _ in range(200):
        async with stack.svc.read() as conn:
            row = (
                await conn.execute(
                    select(messages.c.id, messages.c.provider_id, messages.c.status).where(
                        messages.c.direction == "out"
                    )
                )
            ).one()
        if row.status == "delivered":
            break
        await asyncio.sleep(0.02)
    assert row.status == "delivered"
    return row.id, row.provider_id


def report(sid: str, state: DeliveryState) -> DeliveryReport:
    return DeliveryReport(provider_id=sid, state=state, provider_status=state.value)


async def test_late_transient_report_after_final_is_ignored_and_replays_change_nothing(
    stack: Stack,
) -> None:
    """delivered, then a late "sent", then "delivered" again: stays delivered, filed once."""
    mid, sid = await _receipt(stack)
    async with stack.svc.write() as conn:  # rewind to "sent" to replay the sequence ourselves
        from sqlalchemy import update

        await conn.execute(update(messages).where(messages.c.id == mid).values(status="sent"))
    assert await apply_report(stack.svc, mid, report(sid, DeliveryState.DELIVERED))
    assert not await apply_report(stack.svc, mid, report(sid, DeliveryState.SENT))
    assert not await apply_report(stack.svc, mid, report(sid, DeliveryState.DELIVERED))
    assert not await apply_report(stack.svc, mid, report(sid, DeliveryState.FAILED))
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.id == mid))
        ).scalar_one()
    assert status == "delivered"


async def test_report_for_another_provider_id_is_ignored(stack: Stack) -> None:
    """A report whose provider id does not match the message's changes nothing."""
    mid, _ = await _receipt(stack)
    async with stack.svc.read() as conn:
        before = (
            await conn.execute(select(func.count()).select_from(journal_entries))
        ).scalar_one()
    assert not await apply_report(stack.svc, mid, report("SMother", DeliveryState.FAILED))
    async with stack.svc.read() as conn:
        after = (await conn.execute(select(func.count()).select_from(journal_entries))).scalar_one()
    assert after == before
