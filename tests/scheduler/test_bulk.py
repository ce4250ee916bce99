"""Batched journal entries and SMS: the same rows and chain as one at a time, and they verify."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.store.schema.core import cases, journal_entries, journal_heads, messages, outbox
from bot.store.schema.journal import journal_export_intake
from journal.journal import NewEntry, append, append_many, case_chain
from journal.verify import verify
from scheduler.bulk import Sms, queue_many
from scheduler.store import case_key, conversation_for
from tests.harness import Stack


@pytest.mark.parametrize("lock_first", [True, False], ids=["heads-first", "head-by-head"])
async def test_append_many_interleaves_with_single_appends_and_the_journal_verifies(
    stack: Stack, lock_first: bool
) -> None:
    """Several entries per case in one batch, between single appends: seq runs on, chain verifies."""
    svc, w = stack.svc, stack.world
    anna, bo = w.cases["anna"], w.cases["bo_children"]
    now = svc.clock.now()
    async with svc.write() as conn:
        await append(
            conn,
            tenant_id=w.tenant_id,
            case_id=anna,
            kind="note",
            direction="internal",
            channel="system",
            subject="før",
            actor="system",
            at=now,
        )
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == anna))).scalar_one()
        key = case_key(svc, anna, dek)
        ids = await append_many(
            conn,
            [
                NewEntry(
                    tenant_id=w.tenant_id,
                    case_id=case,
                    kind="note",
                    direction="internal",
                    channel="system",
                    subject=f"batch {i}",
                    actor="system",
                    at=now,
                    content="hemmeligt" if case == anna else None,
                    key=key if case == anna else None,
                )
                for i, case in enumerate([anna, bo, anna, anna, bo])
            ]
            + [
                NewEntry(
                    tenant_id=w.tenant_id,
                    case_id=None,
                    kind="note",
                    direction="internal",
                    channel="system",
                    subject="uden sag",
                    actor="system",
                    at=now,
                )
            ],
            lock_first=lock_first,
        )
        await append(
            conn,
            tenant_id=w.tenant_id,
            case_id=anna,
            kind="note",
            direction="internal",
            channel="system",
            subject="efter",
            actor="system",
            at=now,
        )
    assert len(set(ids)) == 6
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(journal_entries.c.seq, journal_entries.c.subject)
                .where(journal_entries.c.chain == case_chain(anna))
                .order_by(journal_entries.c.seq)
            )
        ).all()
        head = (
            await conn.execute(
                select(journal_heads.c.seq).where(journal_heads.c.chain == case_chain(anna))
            )
        ).scalar_one()
        intake = (
            await conn.execute(
                select(func.count())
                .select_from(journal_export_intake)
                .where(journal_export_intake.c.entry_id.in_(ids))
            )
        ).scalar_one()
    subjects = [r.subject for r in rows]
    assert subjects[subjects.index("før") :] == ["før", "batch 0", "batch 2", "batch 3", "efter"]
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and head == len(rows)
    assert intake == 5  # the entry without a case is not exported to a case system
    report = await verify(stack.config.database_url)
    assert report.ok, report.problems


async def test_queue_many_writes_what_queue_sms_writes(stack: Stack) -> None:
    """Message, outbox row and sealed journal entry for each SMS, in one go."""
    svc, w = stack.svc, stack.world
    anna, now = w.cases["anna"], svc.clock.now()
    async with svc.write() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == anna))).scalar_one()
        conv = await conversation_for(
            conn, tenant_id=w.tenant_id, case_id=anna, person_id=w.persons["anna"], at=now
        )
        ids = await queue_many(
            conn,
            [
                Sms(
                    tenant_id=w.tenant_id,
                    conversation_id=conv,
                    case_id=anna,
                    person_id=w.persons["anna"],
                    kind="reminder",
                    body=f"Husk {i}",
                    key=case_key(svc, anna, dek),
                    at=now,
                    subject="Påmindelse om frist til borger",
                )
                for i in range(3)
            ],
        )
    async with svc.read() as conn:
        msgs = (await conn.execute(select(messages).where(messages.c.id.in_(ids)))).all()
        boxes = (await conn.execute(select(outbox).where(outbox.c.message_id.in_(ids)))).all()
        entries = (
            await conn.execute(select(journal_entries).where(journal_entries.c.message_id.in_(ids)))
        ).all()
    assert {(m.status, m.direction, m.kind, m.key_scope) for m in msgs} == {
        ("queued", "out", "reminder", "case")
    }
    assert all(b"Husk" not in m.body_enc for m in msgs)
    assert {(b.state, b.attempts) for b in boxes} == {("pending", 0)} and len(boxes) == 3
    assert {(e.kind, e.direction, e.channel, e.key_scope) for e in entries} == {
        ("sms_out_reminder", "out", "sms", "case")
    }
    await stack.drain()
    assert sorted(await stack.sent_to(w.phones["anna"])) == ["Husk 0", "Husk 1", "Husk 2"]
    assert (await verify(stack.config.database_url)).ok


def test_relay_waves_keep_each_citizens_order_and_fill_requests() -> None:
    """One citizen's SMS never race each other: piece j goes in wave j; requests stay ≤ limit."""
    from bot.domain.outbox.batch import Plain, waves
    from channels.base import OutboundSms

    def p(to: str, n: int) -> Plain:
        return Plain(
            f"o{n}",
            f"m{n}",
            "reminder",
            1,
            OutboundSms(reference=f"m{n}", sender="+4533", recipient=to, body="x"),
        )

    plain = [p("+451", 0), p("+452", 1), p("+451", 2), p("+453", 3), p("+451", 4)]
    assert waves(plain, 1) == [[[0], [1], [3]], [[2]], [[4]]]
    assert waves(plain, 2) == [[[0, 2], [1, 3]], [[4]]]
    assert waves(plain, 100) == [[[0, 2, 4, 1, 3]]]
    many = [p(f"+45{i}", i) for i in range(250)]
    assert [len(r) for r in waves(many, 100)[0]] == [100, 100, 50]


async def test_queue_many_locks_every_head_first_in_case_order(stack: Stack) -> None:
    """The batch reads (on PostgreSQL locks) all its heads in one statement, sorted, before any write."""
    svc, w = stack.svc, stack.world
    now = svc.clock.now()
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        statements.append((statement, params))

    # Given against chain order, so that locking in the order given would show.
    people = sorted(
        [("anna", w.cases["anna"]), ("bo", w.cases["bo_children"])],
        key=lambda p: case_chain(p[1]),
        reverse=True,
    )
    async with svc.write() as conn:
        sms = []
        for who, case in people:
            dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
            conv = await conversation_for(
                conn, tenant_id=w.tenant_id, case_id=case, person_id=w.persons[who], at=now
            )
            sms.append(
                Sms(
                    tenant_id=w.tenant_id,
                    conversation_id=conv,
                    case_id=case,
                    person_id=w.persons[who],
                    kind="reminder",
                    body="Husk",
                    key=case_key(svc, case, dek),
                    at=now,
                    subject="Påmindelse om frist til borger",
                )
            )
        event.listen(svc.engine.sync_engine, "before_cursor_execute", seen)
        try:
            await queue_many(conn, sms)
        finally:
            event.remove(svc.engine.sync_engine, "before_cursor_execute", seen)
    chains = sorted(case_chain(c) for c in (w.cases["anna"], w.cases["bo_children"]))
    reads = [
        i for i, (sql, _) in enumerate(statements) if "FROM journal_heads" in sql and " IN " in sql
    ]
    writes = [i for i, (sql, _) in enumerate(statements) if "journal_entries" in sql]
    assert len(reads) == 1 and writes and reads[0] < min(writes)
    sql, params = statements[reads[0]]
    assert ("FOR UPDATE" in sql) == (not svc.sqlite)
    assert [p for p in params if isinstance(p, str) and p.startswith("case:")] == chains
    assert (await verify(stack.config.database_url)).ok
