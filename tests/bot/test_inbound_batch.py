"""SMS that arrive together are filed together (PostgreSQL), exactly as one at a time would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from bot.domain.inbound import InboundResult, receive_sms
from bot.domain.inbound_batch import BatchedSms, file_batch, inbound_batcher
from bot.store.schema.core import journal_entries, messages, outbox
from channels.base import InboundSms
from journal.verify import verify
from tests.harness import MUNICIPALITY, Stack, message_sid, seed_families

URGENT = "Det haster!"
RECEIPT = "Tak for din besked. Mette svarer dig senest tirsdag den 25. februar."


async def families(stack: Stack, n: int, *, one_case: bool = False) -> list[str]:
    return await seed_families(stack.svc, stack.world, n, one_case=one_case)


def inbound(sender: str, body: str = "Hej", sid: str | None = None) -> InboundSms:
    return InboundSms(
        provider_id=sid or message_sid(), sender=sender, recipient=MUNICIPALITY, body=body
    )


def batched(stack: Stack, sender: str, body: str = "Hej", sid: str | None = None) -> BatchedSms:
    return BatchedSms(
        inbound(sender, body, sid), "twilio", MUNICIPALITY, sender, stack.svc.blind_index(sender)
    )


def is_pg(stack: Stack) -> bool:
    return stack.config.database_url.startswith("postgresql")


class Statements:
    """Counts the SQL statements the app sends, and the batch statements among them."""

    def __init__(self, stack: Stack) -> None:
        self.engine = stack.svc.engine.sync_engine
        self.sent: list[str] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.sent.append(str(args[2]))

    @property
    def batches(self) -> int:
        return sum("CROSS JOIN LATERAL" in s for s in self.sent)


async def inbound_rows(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        return list(
            await conn.execute(
                select(messages).where(messages.c.direction == "in").order_by(messages.c.created_at)
            )
        )


async def test_sms_arriving_together_are_filed_together(stack: Stack) -> None:
    """Twelve families at once: each SMS filed and receipted as alone, in few statements."""
    phones = await families(stack, 12)
    with Statements(stack) as sql:
        results = await asyncio.gather(
            *(receive_sms(stack.svc, inbound(p), provider="twilio") for p in phones)
        )
    assert [r.outcome for r in results] == ["filed"] * 12
    rows = await inbound_rows(stack)
    assert len(rows) == 12 and all(r.case_id and r.awaiting_reply for r in rows)
    assert {r.owner_id for r in rows} == {stack.world.mette}
    assert len({r.reply_by for r in rows}) == 1
    await stack.drain()
    for p in phones:
        assert await stack.sent_to(p) == [RECEIPT]
    async with stack.svc.read() as conn:
        kinds = list(
            await conn.execute(
                select(journal_entries.c.kind, func.count()).group_by(journal_entries.c.kind)
            )
        )
    assert dict(kinds)["sms_in"] == 12 and dict(kinds)["sms_out_receipt"] == 12
    assert (await verify(stack.config.database_url)).ok
    if is_pg(stack):
        # The first three go one at a time while the lanes fill; the rest share batches.
        assert sql.batches >= 1
        assert len(sql.sent) < 12 * 4
    else:
        assert sql.batches == 0 and inbound_batcher(stack.svc) is None


async def test_webhooks_arriving_together_are_all_answered_and_filed(stack: Stack) -> None:
    """Through HTTP: every webhook of a burst answers 200 and its SMS is stored."""
    phones = await families(stack, 10)
    replies = await asyncio.gather(*(stack.sms(p, f"Hej {i}") for i, p in enumerate(phones)))
    assert [r.status for r in replies] == [200] * 10
    assert len(await inbound_rows(stack)) == 10
    await stack.drain()
    for p in phones:
        assert await stack.sent_to(p) == [RECEIPT]


async def test_a_batch_leaves_what_it_cannot_file_and_answers_duplicates(stack: Stack) -> None:
    """Two cases, a shared phone, an unknown sender, a STOP: left for one at a time; a replay answered."""
    phones = await families(stack, 1)
    w = stack.world
    first = await receive_sms(stack.svc, inbound(phones[0], sid="SMdone"), provider="twilio")
    items = [
        batched(stack, w.phones["anna"]),
        batched(stack, w.phones["bo"]),  # two open cases: which one?
        batched(stack, "+4529999999"),  # nobody we know
        batched(stack, w.phones["shared_split"]),  # two people, each their own case
        batched(stack, "+4520123405", "STOP"),
        batched(stack, phones[0], sid="SMdone"),  # a replay
    ]
    results = await file_batch(stack.svc, items)
    if not is_pg(stack):
        assert results == [None] * len(items)
        return
    assert results[0] is not None and results[0].outcome == "filed"
    assert results[1:5] == [None] * 4
    assert results[5] == InboundResult(first.message_id, True, "duplicate", queued=False)
    assert len(await inbound_rows(stack)) == 2  # the first SMS and Anna's
    await stack.drain()
    assert await stack.sent_to(w.phones["anna"]) == [RECEIPT]


async def test_a_batch_files_urgent_and_hook_words_as_one_at_a_time_would(stack: Stack) -> None:
    """An urgent SMS is paged and a hook sees an "Ok", inside the batch; a plain one beside them."""
    phones = await families(stack, 3)
    results = await file_batch(
        stack.svc,
        [
            batched(stack, phones[0], "Det haster!"),
            batched(stack, phones[1], "Ok"),
            batched(stack, phones[2]),
        ],
    )
    if not is_pg(stack):
        return
    assert [r.outcome for r in results if r] == ["filed"] * 3
    assert sorted(r.urgent for r in await inbound_rows(stack)) == [False, False, True]
    async with stack.svc.read() as conn:
        kinds = [k for (k,) in await conn.execute(select(journal_entries.c.kind))]
    assert kinds.count("urgent") == 1 and kinds.count("sms_in") == 3
    assert (await verify(stack.config.database_url)).ok
    await stack.drain()
    # The urgent one is promised today; no appointment for the "Ok" to confirm: the
    # ordinary receipt.
    assert (await stack.sent_to(phones[0]))[0].startswith(
        "Tak for din besked. Vi kan se, at det haster, og Mette"
    )
    for p in phones[1:]:
        assert (await stack.sent_to(p))[0].startswith("Tak for din besked. Mette svarer dig")


async def test_a_caseworker_away_is_routed_inside_the_batch(stack: Stack) -> None:
    """An SMS whose caseworker is away is routed to the substitute, and the receipt says so."""
    phones = await families(stack, 2)
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="hanne",
        json={
            "staff_id": stack.world.mette,
            "starts_on": "2025-02-20",
            "ends_on": "2025-02-28",
            "substitute_id": stack.world.sofie,
            "reason": "Ferie",
        },
    )
    assert resp.status == 201, await resp.text()
    results = await file_batch(stack.svc, [batched(stack, p) for p in phones])
    if is_pg(stack):
        assert [r.outcome for r in results if r] == ["filed", "filed"]
    else:
        await asyncio.gather(
            *(receive_sms(stack.svc, inbound(p), provider="twilio") for p in phones)
        )
    assert {r.owner_id for r in await inbound_rows(stack)} == {stack.world.sofie}
    await stack.drain()
    for p in phones:
        assert "sendt til Sofie" in (await stack.sent_to(p))[0]


async def test_two_parents_of_one_case_in_one_batch_chain_in_order(stack: Stack) -> None:
    """Both SMS on one case's journal, linked in order, each parent receipted on their thread."""
    phones = await families(stack, 2, one_case=True)
    results = await file_batch(stack.svc, [batched(stack, p) for p in phones])
    if not is_pg(stack):
        return
    assert [r.outcome for r in results if r] == ["filed", "filed"]
    rows = await inbound_rows(stack)
    assert len({r.case_id for r in rows}) == 1 and len({r.conversation_id for r in rows}) == 2
    async with stack.svc.read() as conn:
        entries = list(
            await conn.execute(
                select(journal_entries.c.seq, journal_entries.c.kind)
                .where(journal_entries.c.case_id == rows[0].case_id)
                .order_by(journal_entries.c.seq)
            )
        )
    assert [e.kind for e in entries][-4:] == ["sms_in", "sms_out_receipt"] * 2
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert (await verify(stack.config.database_url)).ok
    await stack.drain()
    for p in phones:
        assert await stack.sent_to(p) == [RECEIPT]


async def test_a_batch_sends_no_second_receipt_while_a_message_is_open(stack: Stack) -> None:
    """An SMS on a thread with an unanswered one: due when that one is, and no new receipt."""
    phones = await families(stack, 2)
    await receive_sms(stack.svc, inbound(phones[0]), provider="twilio")
    stack.clock.advance(hours=30)
    results = await file_batch(stack.svc, [batched(stack, p) for p in phones])
    if not is_pg(stack):
        return
    assert [r.queued for r in results if r] == [False, True]
    rows = {r.person_id: r for r in await inbound_rows(stack)}
    by_thread: dict[str, set[Any]] = {}
    for r in rows.values():
        by_thread.setdefault(r.conversation_id, set()).add(r.reply_by)
    assert all(len(v) == 1 for v in by_thread.values())
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(outbox))).scalar_one() == 2


async def test_a_failed_batch_keeps_nothing_and_its_sms_go_one_at_a_time(stack: Stack) -> None:
    """One replayed id twice in a batch: the batch writes nothing; alone, one is filed, one answered."""
    if not is_pg(stack):
        pytest.skip("batches are PostgreSQL's")
    phones = await families(stack, 2)
    with pytest.raises(IntegrityError):
        await file_batch(stack.svc, [batched(stack, p, sid="SMtwice") for p in phones])
    assert await inbound_rows(stack) == []
    async with stack.svc.read() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(journal_entries))
        ).scalar_one() == 0
    results = await asyncio.gather(
        *(receive_sms(stack.svc, inbound(p, sid="SMtwice"), provider="twilio") for p in phones)
    )
    assert sorted(r.duplicate for r in results) == [False, True]
    assert len(await inbound_rows(stack)) == 1


async def test_batching_can_be_switched_off(stack: Stack) -> None:
    """TOVHOLDER_INBOUND_BATCH=1: no batcher, every SMS in its own transaction."""
    from dataclasses import replace

    off = replace(stack.svc, config=stack.svc.config.with_(inbound_batch=1))
    assert inbound_batcher(off) is None
    assert (inbound_batcher(stack.svc) is None) == (not is_pg(stack))


async def test_an_sms_answered_after_the_batch_keeps_its_case_to_itself(stack: Stack) -> None:
    """Two parents of one case, one urgent: the urgent one is filed in the batch, the other
    left to go alone; the case's journal has each SMS's entries together."""
    phones = await families(stack, 2, one_case=True)
    results = await file_batch(
        stack.svc, [batched(stack, phones[0], "Det haster!"), batched(stack, phones[1])]
    )
    if not is_pg(stack):
        return
    assert results[0] is not None and results[0].outcome == "filed" and results[1] is None
    await receive_sms(stack.svc, inbound(phones[1]), provider="twilio")
    async with stack.svc.read() as conn:
        kinds = [
            k
            for (k,) in await conn.execute(
                select(journal_entries.c.kind)
                .where(journal_entries.c.kind != "case_created")
                .order_by(journal_entries.c.seq)
            )
        ]
    assert kinds[-5:] == ["sms_in", "urgent", "sms_out_receipt", "sms_in", "sms_out_receipt"]
    assert (await verify(stack.config.database_url)).ok


async def test_a_batch_is_three_statements(stack: Stack) -> None:
    """Caches warm, a batch of plain SMS: identify all, touch threads and hold heads, write all."""
    if not is_pg(stack):
        pytest.skip("batches are PostgreSQL's")
    phones = await families(stack, 6)
    # A first batch: the municipality, its words and the team's calendar are cached.
    await file_batch(stack.svc, [batched(stack, p) for p in phones[:2]])
    with Statements(stack) as sql:
        results = await file_batch(stack.svc, [batched(stack, p) for p in phones[2:]])
    assert [r.outcome for r in results if r] == ["filed"] * 4
    assert len(sql.sent) == 3 and sql.batches == 1, sql.sent
    assert "lock_timeout', '500ms'" in sql.sent[0]


async def test_hook_words_that_no_hook_answers_cost_one_read_per_hook(stack: Stack) -> None:
    """Caches warm, FLYT and STATUS (also in own words) with no meeting and no timeline: one read
    of appointments, one of timelines, and the receipts go with the batch's one write."""
    if not is_pg(stack):
        pytest.skip("batches are PostgreSQL's")
    phones = await families(stack, 7)
    await file_batch(stack.svc, [batched(stack, p) for p in phones[:2]])
    bodies = ["FLYT", "STATUS", "Kan vi flytte mødet?", "hvordan går det med min sag?", "Hej"]
    with Statements(stack) as sql:
        results = await file_batch(
            stack.svc, [batched(stack, p, b) for p, b in zip(phones[2:], bodies, strict=True)]
        )
    assert [r.outcome for r in results if r] == ["filed"] * 5
    assert len(sql.sent) == 5 and sql.batches == 1, sql.sent
    assert sum("FROM appointments" in q for q in sql.sent) == 1, sql.sent
    assert sum("FROM milestones" in q for q in sql.sent) == 1, sql.sent
    await stack.drain()
    for p in phones[2:]:
        assert await stack.sent_to(p) == [RECEIPT]
    assert (await verify(stack.config.database_url)).ok


async def test_an_urgent_sms_in_a_batch_costs_its_page_and_one_more_write(stack: Stack) -> None:
    """Caches warm, one urgent SMS among plain ones: its page and answer, after the batch's write."""
    if not is_pg(stack):
        pytest.skip("batches are PostgreSQL's")
    phones = await families(stack, 5)
    await file_batch(stack.svc, [batched(stack, p, URGENT) for p in phones[:2]])
    with Statements(stack) as sql:
        results = await file_batch(
            stack.svc, [batched(stack, phones[2], URGENT), *(batched(stack, p) for p in phones[3:])]
        )
    assert [r.outcome for r in results if r] == ["filed"] * 3
    # Identify, touch, write; the urgent message's level and sealed why (#16 point 2);
    # the page (a notice and its outbox row); the answers after it, on the urgent
    # SMS's case (its head locked again, then the write).
    assert len(sql.sent) == 8, sql.sent
    assert sum("UPDATE messages SET triage_level" in q for q in sql.sent) == 1, sql.sent
