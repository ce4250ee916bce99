"""Every door is triaged (#16 point 4): unknown numbers, "which case?", and the answer to it.

An urgent message is never held and never waits for nobody: it is filed on the
case last written on or sits urgent in the unassigned queue, and someone who can
act now is paged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.base.clock import COPENHAGEN
from bot.domain.escalation import escalate_due
from bot.store.schema.core import journal_entries, messages, outbox, staff_notices
from tests.bot.test_routing import set_roster, work_phones
from tests.harness import Stack

STRANGER = "+4531234599"


async def _notices(stack: Stack) -> list[tuple[str | None, str]]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(select(staff_notices.c.staff_id, staff_notices.c.kind))
        return [(r.staff_id, r.kind) for r in rows]


async def test_urgent_sms_from_an_unknown_number_pages_the_colleague_on_duty(
    stack: Stack,
) -> None:
    """Open: the on-duty colleague is paged; the message sits urgent in the unassigned queue."""
    phones = await work_phones(stack)
    await set_roster(stack, "sofie")
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    resp = await stack.sms(STRANGER, "min nabo har lige truet med at slå sin søn ihjel hjælp")
    assert resp.status == 200
    await stack.drain()
    page = await stack.sent_to(phones["sofie"])
    assert len(page) == 1 and "akut" in page[0] and "ukendt afsender" in page[0]
    assert "søn" not in page[0]
    receipt = (await stack.sent_to(STRANGER))[-1]
    assert receipt.startswith("Tak for din besked. Vi har modtaget den")
    assert receipt.endswith("Er det akut, så ring 112.")
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.direction == "in"))).one()
        kinds = list(
            (
                await conn.execute(select(journal_entries.c.kind).order_by(journal_entries.c.seq))
            ).scalars()
        )
    assert row.urgent is True and row.case_id is None
    assert "urgent" in kinds
    items = (await (await stack.api("GET", "/api/v1/conversations", who="hanne")).json())["items"]
    assert any(i["urgent"] for i in items)


async def test_urgent_unknown_number_at_night_pages_the_after_hours_line(stack: Stack) -> None:
    phones = await work_phones(stack)
    stack.clock.set(datetime(2025, 2, 21, 23, 10, tzinfo=COPENHAGEN))
    await stack.sms(STRANGER, "Han slår mig")
    await stack.drain()
    assert len(await stack.sent_to(phones["after_hours"])) == 1
    assert (await stack.sent_to(STRANGER))[-1].endswith(
        "Du kan også ringe til kommunens døgnvagt på +45 33 17 33 33."
    )


async def test_a_plain_unknown_sms_pages_nobody(stack: Stack) -> None:
    await work_phones(stack)
    await stack.sms(STRANGER, "Hej, jeg vil gerne høre om min sag")
    await stack.drain()
    assert await _notices(stack) == []


async def test_a_second_urgent_sms_gets_the_112_line_though_a_receipt_stands(
    stack: Stack,
) -> None:
    """#16 point 6: what the citizen must know is sent even while an earlier receipt stands."""
    await stack.sms(STRANGER, "Hej, jeg har et spørgsmål")
    await stack.sms(STRANGER, "Det er akut nu, han har en kniv")
    await stack.drain()
    sent = await stack.sent_to(STRANGER)
    assert len(sent) == 2 and sent[1].endswith("ring 112.")


async def test_urgent_sms_with_several_cases_is_never_held(stack: Stack) -> None:
    """Bo has two open cases and no recent thread: urgent is filed at once, not asked about."""
    bo = stack.world.phones["bo"]
    phones = await work_phones(stack)
    await stack.sms(bo, "Hjælp min søn er forsvundet")
    await stack.drain()
    sent = await stack.sent_to(bo)
    assert not any("Hvilken sag" in s for s in sent)
    assert sent[-1].startswith("Tak for din besked.")
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.direction == "in"))).one()
    assert row.urgent is True and row.case_id is not None and row.status == "received"
    paged = [len(await stack.sent_to(p)) for p in phones.values()]
    assert sum(paged) >= 1  # someone was paged


async def test_urgent_on_a_shared_phone_goes_to_the_urgent_unassigned_queue(
    stack: Stack,
) -> None:
    """A shared phone is never filed by guesswork, not even when urgent: unassigned and paged."""
    await work_phones(stack)
    await set_roster(stack, "sofie")
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    shared = stack.world.phones["shared_split"]
    await stack.sms(shared, "AKUT ring til mig nu")
    await stack.drain()
    assert not any("Hvilken sag" in s for s in await stack.sent_to(shared))
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.direction == "in"))).one()
    assert row.urgent is True and row.case_id is None
    assert await _notices(stack) == [(stack.world.sofie, "urgent")]


async def test_the_answer_to_which_case_is_not_what_is_triaged(stack: Stack) -> None:
    """The held message is triaged when filed, not the answer "1" (and "1" is never urgent)."""
    bo = stack.world.phones["bo"]
    await stack.sms(bo, "Hvornår er mødet?")
    await stack.sms(bo, "1")
    await stack.drain()
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(select(messages.c.urgent).where(messages.c.direction == "in"))
        ).scalars()
        assert not any(rows)
    assert await _notices(stack) == []


async def test_an_unassigned_urgent_message_escalates_until_picked_up(stack: Stack) -> None:
    """No case, no owner: the front desk is paged, then its lead, then the after-hours line;
    "OK" from the line stops it. Each step is on the unassigned chain."""
    phones = await work_phones(stack)
    await set_roster(stack, "sofie")
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    await stack.sms(STRANGER, "Hjælp, min nabos barn er alene hjemme og græder, ring nu")
    await stack.drain()
    assert len(await stack.sent_to(phones["sofie"])) == 1
    assert await escalate_due(stack.svc) == 0  # not yet
    for who in ("hanne", "after_hours"):
        stack.clock.advance(minutes=15, seconds=1)
        assert await escalate_due(stack.svc) == 1, who
        await stack.drain()
        assert len(await stack.sent_to(phones[who])) == 1, who
    assert (await stack.sms(phones["after_hours"], "OK")).status == 200
    stack.clock.advance(minutes=30)
    assert await escalate_due(stack.svc) == 0
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(
                select(journal_entries.c.kind, journal_entries.c.chain)
                .where(journal_entries.c.kind.in_(["urgent", "escalation", "acknowledged"]))
                .order_by(journal_entries.c.seq)
            )
        ).all()
    assert [r.kind for r in rows] == ["urgent", "escalation", "escalation", "acknowledged"]
    assert all(r.chain.startswith("unassigned:") for r in rows)


async def test_an_urgent_sms_in_opening_hours_is_promised_today(stack: Stack) -> None:
    """Open: the receipt says someone acts today (and gives 112); the reply-by is today."""
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))  # Monday
    await stack.sms(stack.world.phones["anna"], "HASTER: min søn er forsvundet")
    await stack.drain()
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1] == (
        "Tak for din besked. Vi kan se, at det haster, og Mette eller en kollega kontakter dig"
        " i dag. Er nogen i fare, så ring 112."
    )
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.direction == "in"))).one()
    assert row.urgent and row.reply_by.astimezone(COPENHAGEN) == datetime(
        2025, 2, 24, 16, 0, tzinfo=COPENHAGEN
    )


async def test_a_cpr_number_gets_its_warning_though_a_receipt_stands(stack: Stack) -> None:
    """#16 point 6: one receipt per waiting thread, but the CPR warning always goes."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej, jeg har et spørgsmål om mødet")
    await stack.sms(anna, "Mit cpr er 010185-1111 hvis I skal bruge det")
    await stack.sms(anna, "Og en ting mere om mødet")
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) == 2  # the first receipt, then the warning; the third SMS joins quietly
    assert "CPR-nummer" in sent[1]


async def test_a_message_moved_to_a_substitute_is_announced(stack: Stack) -> None:
    """A receipt stands naming Mette; she goes away; the next SMS goes to Sofie and says so."""
    anna = stack.world.phones["anna"]
    stack.clock.set(datetime(2025, 2, 24, 9, 0, tzinfo=COPENHAGEN))  # Monday
    await stack.sms(anna, "Hej, hvornår er mødet?")
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="hanne",
        json={
            "staff_id": stack.world.mette,
            "starts_on": "2025-02-25",
            "ends_on": "2025-02-28",
            "substitute_id": stack.world.sofie,
            "reason": "Syg",
        },
    )
    assert resp.status == 201, await resp.text()
    stack.clock.set(datetime(2025, 2, 25, 9, 0, tzinfo=COPENHAGEN))
    await stack.sms(anna, "Er der nyt?")
    await stack.sms(anna, "Og en ting til")
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) == 2 and "Sofie" in sent[1]  # told once; the third joins quietly


async def test_a_page_with_no_phone_to_go_to_is_marked_failed_not_left_queued(
    stack: Stack,
) -> None:
    """The on-duty colleague has no work phone: the page fails visibly (notice and outbox), nothing is sent."""
    await set_roster(stack, "sofie")
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    resp = await stack.sms(STRANGER, "min nabo har lige truet med at slå sin søn ihjel hjælp")
    assert resp.status == 200
    await stack.drain()
    async with stack.svc.read() as conn:
        notices = (
            await conn.execute(select(staff_notices.c.staff_id, staff_notices.c.status))
        ).all()
        states = (
            await conn.execute(
                select(outbox.c.state, outbox.c.last_error).where(
                    outbox.c.staff_notice_id.is_not(None)
                )
            )
        ).all()
    assert [(n.staff_id, n.status) for n in notices] == [(stack.world.sofie, "failed")]
    assert [(s.state, s.last_error) for s in states] == [("failed", "no_recipient")]
    assert len(await stack.sent_to(STRANGER)) == 1  # the receipt, and no page anywhere
