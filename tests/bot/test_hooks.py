"""Extension points: inbound hooks, send-later and withdrawing a queued SMS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text, update

from bot.base.crypto import SealingKey
from bot.base.hooks import FiledSms, HookOutcome
from bot.domain.outbound import queue_sms, withdraw_sms
from bot.store.schema.core import messages
from tests.harness import Stack


async def test_a_hook_can_answer_instead_of_the_receipt(stack: Stack) -> None:
    """A hook that answers "STATUS" replaces the receipt and leaves nothing awaiting a reply."""

    async def status(filed: FiledSms) -> HookOutcome | None:
        if filed.body.strip().upper() != "STATUS":
            return None
        return HookOutcome(reply=f"Status for din sag ({filed.language})", awaiting_reply=False)

    stack.svc.inbound_hooks.append(status)
    await stack.sms(stack.world.phones["anna"], "status")
    await stack.relay()
    assert await stack.sent_to(stack.world.phones["anna"]) == ["Status for din sag (da)"]
    async with stack.svc.read() as conn:
        awaiting = (
            (
                await conn.execute(
                    select(messages.c.awaiting_reply).where(messages.c.direction == "in")
                )
            )
            .scalars()
            .all()
        )
    assert awaiting == [False]
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.relay()
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1].startswith("Tak for din besked.")


async def _queue_later(stack: Stack, hours: float) -> str:
    svc = stack.svc
    now = svc.clock.now()
    await stack.sms(stack.world.phones["anna"], "Hej")
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(messages.c.conversation_id, messages.c.case_id, messages.c.person_id).limit(
                    1
                )
            )
        ).one()
        from bot.store.schema.core import cases

        wrapped = (
            await conn.execute(select(cases.c.dek).where(cases.c.id == row.case_id))
        ).scalar_one()
        key = SealingKey("case", row.case_id, svc.dek("cases", row.case_id, wrapped))
        return await queue_sms(
            conn,
            tenant_id=stack.world.tenant_id,
            conversation_id=row.conversation_id,
            case_id=row.case_id,
            person_id=row.person_id,
            kind="reply",
            body="Senere besked",
            key=key,
            at=now,
            not_before=now + timedelta(hours=hours),
        )


async def test_send_later_waits_for_its_time(stack: Stack) -> None:
    """An SMS queued with not_before is not sent before then, and is sent after."""
    await _queue_later(stack, 2)
    await stack.drain()
    assert "Senere besked" not in await stack.sent_to(stack.world.phones["anna"])
    stack.clock.advance(hours=2, seconds=1)
    await stack.drain()
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1] == "Senere besked"


async def test_withdrawn_sms_is_never_sent(stack: Stack) -> None:
    """A queued SMS withdrawn before its time never goes out, and the withdrawal is journalised."""
    mid = await _queue_later(stack, 1)
    async with stack.svc.write() as conn:
        assert await withdraw_sms(
            conn, message_id=mid, at=stack.clock.now(), reason="aftale flyttet"
        )
        assert not await withdraw_sms(conn, message_id=mid, at=stack.clock.now(), reason="igen")
    stack.clock.advance(hours=2)
    await stack.drain()
    assert "Senere besked" not in await stack.sent_to(stack.world.phones["anna"])


async def test_sms_due_at_night_waits_for_morning_unless_it_answers_the_citizen(
    stack: Stack,
) -> None:
    """An update and a caseworker's reply queued at 21:00 wait until 08:00; the automatic
    answer to a citizen's own SMS at 21:00 goes at once."""
    from datetime import datetime

    from bot.base.clock import COPENHAGEN

    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    stack.clock.set(datetime(2025, 2, 24, 21, 0, tzinfo=COPENHAGEN))  # Monday evening
    svc = stack.svc
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(messages.c.conversation_id, messages.c.case_id, messages.c.person_id).limit(
                    1
                )
            )
        ).one()
        from bot.store.schema.core import cases

        wrapped = (
            await conn.execute(select(cases.c.dek).where(cases.c.id == row.case_id))
        ).scalar_one()
        key = SealingKey("case", row.case_id, svc.dek("cases", row.case_id, wrapped))
        for kind, body in (("update", "Din sag er gået videre"), ("reply", "Svar om aftenen")):
            await queue_sms(
                conn,
                tenant_id=stack.world.tenant_id,
                conversation_id=row.conversation_id,
                case_id=row.case_id,
                person_id=row.person_id,
                kind=kind,
                body=body,
                key=key,
                at=svc.clock.now(),
            )
    await stack.sms(stack.world.phones["bo"], "Hej")  # the automatic answer goes now
    await stack.drain()
    assert len(await stack.sent_to(stack.world.phones["bo"])) == 1
    sent = await stack.sent_to(stack.world.phones["anna"])
    assert "Svar om aftenen" not in sent and "Din sag er gået videre" not in sent
    stack.clock.set(datetime(2025, 2, 25, 8, 1, tzinfo=COPENHAGEN))
    await stack.drain()
    sent = await stack.sent_to(stack.world.phones["anna"])
    assert "Din sag er gået videre" in sent and "Svar om aftenen" in sent


async def test_a_failing_hook_costs_nothing_the_sms_is_filed_and_answered(stack: Stack) -> None:
    """A hook that writes, then fails in the database and in Python: undone, the SMS kept, the receipt sent."""

    async def writes_then_fails(filed: FiledSms) -> HookOutcome | None:
        await filed.conn.execute(
            update(messages).where(messages.c.id == filed.message_id).values(status="hooked")
        )
        if filed.body == "db":
            await filed.conn.execute(text("SELECT * FROM no_such_table"))
        raise RuntimeError("a bug in a hook")

    stack.svc.inbound_hooks.insert(0, writes_then_fails)
    anna = stack.world.phones["anna"]
    for body in ("db", "python"):
        assert (await stack.sms(anna, body)).status == 200
    await stack.relay()
    # One receipt: the second SMS joins the thread the first opened, as without the hook.
    assert [b.startswith("Tak for din besked.") for b in await stack.sent_to(anna)] == [True]
    async with stack.svc.read() as conn:
        statuses = list(
            (
                await conn.execute(select(messages.c.status).where(messages.c.direction == "in"))
            ).scalars()
        )
    assert len(statuses) == 2 and "hooked" not in statuses
