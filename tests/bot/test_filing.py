"""Filing an unassigned thread on a person and case, and moving a misfiled message.

Through the real app's inbound webhook and the domain (bot.domain.filing), on
SQLite and PostgreSQL: both chains journalised, nothing rewritten, the number
follows the person, and every refusal changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.crypto import unseal
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.staff import StaffUser
from bot.domain import caselist, filing, staffing
from bot.domain.conversations import read_thread
from bot.domain.directory import (
    create_person,
    create_staff,
)
from bot.domain.filing import NewPerson, Recipient
from bot.domain.handover import hand_over_tick
from bot.domain.routing import local_day
from bot.store.schema.core import (
    cases,
    conversations,
    journal_entries,
    messages,
    participants,
    persons,
    staff_notices,
)
from journal.journal import case_chain, unassigned_chain
from journal.verify import verify
from tests.harness import Stack, annas_second_case, foreign_case

UNKNOWN = "+4520999001"


def _user(stack: Stack, who: str) -> StaffUser:
    w = stack.world
    team = w.team_jobs if who == "lars" else w.team_children
    role = "lead" if who == "hanne" else "caseworker"
    return StaffUser(getattr(w, who), w.tenant_id, team, role)


async def _rows(stack: Stack, table: Any, *where: Any) -> list[Any]:
    async with stack.svc.read() as conn:
        return list((await conn.execute(select(table).where(*where))).all())


async def _chain(stack: Stack, chain: str) -> list[Any]:
    """A journal chain's entries in order."""
    async with stack.svc.read() as conn:
        q = select(journal_entries).where(journal_entries.c.chain == chain)
        return list((await conn.execute(q.order_by(journal_entries.c.seq))).all())


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def _unknown_thread(stack: Stack, body: str = "Hej, det er Anna fra en ny telefon") -> str:
    resp = await stack.sms(UNKNOWN, body)
    assert resp.status == 200, await resp.text()
    rows = await _rows(stack, conversations, conversations.c.case_id.is_(None))
    assert len(rows) == 1
    return str(rows[0].id)


async def _thread_of(stack: Stack, case_key: str, person_key: str) -> str:
    rows = await _rows(
        stack,
        conversations,
        conversations.c.case_id == stack.world.cases[case_key],
        conversations.c.person_id == stack.world.persons[person_key],
    )
    assert len(rows) == 1
    return str(rows[0].id)


async def _entry_text(stack: Stack, entry: Any) -> str:
    async with stack.svc.read() as conn:
        if entry.key_scope == "case":
            wrapped = (
                await conn.execute(select(cases.c.dek).where(cases.c.id == entry.key_owner_id))
            ).scalar_one()
            dek = stack.svc.dek("cases", entry.key_owner_id, wrapped)
        else:
            wrapped = (
                await conn.execute(select(persons.c.dek).where(persons.c.id == entry.key_owner_id))
            ).scalar_one()
            dek = stack.svc.dek("persons", entry.key_owner_id, wrapped)
    return unseal(dek, entry.content_enc, f"journal_entries:{entry.id}:content")


async def _snapshot(stack: Stack) -> tuple[int, ...]:
    """Counts that any filing or move would change."""
    return (
        await _count(stack, journal_entries),
        await _count(stack, participants),
        await _count(stack, conversations),
        await _count(stack, persons, persons.c.phone_index.is_not(None)),
        await _count(stack, messages, messages.c.case_id.is_(None)),
        await _count(stack, persons, persons.c.origin == "known"),
    )


async def test_unknown_number_filed_on_a_participant_and_their_later_sms_find_them(
    stack: Stack,
) -> None:
    """Filed on Anna's case for Anna: re-sealed, journalised in both chains, routed with a reply-by; her next SMS from the number lands on the case."""
    w = stack.world
    conv = await _unknown_thread(stack)
    hanne = _user(stack, "hanne")
    filed = await filing.file_thread(
        stack.svc,
        hanne,
        conv,
        case_id=w.cases["anna"],
        to=Recipient(person_id=w.persons["anna"], replace_number=True),
    )
    assert filed.case_number == "2025-001"
    assert filed.moved == 2  # the SMS and its neutral receipt
    target = await _thread_of(stack, "anna", "anna")
    assert filed.conversation_id == target
    assert await _count(stack, messages, messages.c.conversation_id == conv) == 0
    moved = await _rows(stack, messages, messages.c.conversation_id == target)
    assert {m.key_scope for m in moved} == {"case"}
    inbound = next(m for m in moved if m.direction == "in")
    assert inbound.awaiting_reply and inbound.owner_id == w.mette
    assert inbound.reply_by is not None  # Tuesday 16:00, from its arrival
    # Mette (the case's owner) now reads it on her case.
    thread = await read_thread(stack.svc, _user(stack, "mette"), target)
    assert "Hej, det er Anna fra en ny telefon" in [m["body"] for m in thread["messages"]]
    # Both chains: the content under the case's key, the move in the unassigned chain.
    filed_in = await _chain(stack, case_chain(w.cases["anna"]))
    assert [e.kind for e in filed_in] == ["filed_in", "filed_in"]
    text = await _entry_text(stack, filed_in[0])
    assert text.startswith("Arkiveret fra ikke fordelt på sag 2025-001 af Hanne Lund")
    assert "Hej, det er Anna fra en ny telefon" in text
    out = await _chain(stack, unassigned_chain(w.tenant_id))
    assert [e.kind for e in out] == ["sms_in", "sms_out_receipt", "filed_out", "filed_out"]
    assert await _entry_text(stack, out[-1]) == (
        "Arkiveret fra ikke fordelt på sag 2025-001 af Hanne Lund"
    )
    assert (await verify(stack.config.database_url)).ok
    # The number now finds Anna: her next SMS is filed on her case.
    assert (await stack.sms(UNKNOWN, "Og en ting mere")).status == 200
    inbound = messages.c.direction == "in"
    assert await _count(stack, messages, messages.c.conversation_id == target, inbound) == 2
    assert await _count(stack, conversations, conversations.c.case_id.is_(None)) == 1


async def test_a_new_person_is_created_with_the_number_and_added_to_a_case(stack: Stack) -> None:
    """The sender becomes a registered person (a parent on Carl's case); the next SMS is filed there."""
    w = stack.world
    conv = await _unknown_thread(stack, "Jeg er Carls mor")
    hanne = _user(stack, "hanne")
    filed = await filing.file_thread(
        stack.svc,
        hanne,
        conv,
        case_id=w.cases["carl"],
        to=Recipient(new_person=NewPerson.parse("Ida  Ibsen", ""), role="parent"),
    )
    person = (await _rows(stack, conversations, conversations.c.id == filed.conversation_id))[0]
    row = (await _rows(stack, persons, persons.c.id == person.person_id))[0]
    assert row.origin == "known" and row.phone_index is not None
    part = await _rows(
        stack,
        participants,
        participants.c.case_id == w.cases["carl"],
        participants.c.person_id == row.id,
    )
    assert [p.role for p in part] == ["parent"]
    thread = await read_thread(stack.svc, hanne, filed.conversation_id)
    assert thread["participant_name"] == "Ida Ibsen"
    # Her name is searchable now (blind-index tokens written when she was registered).
    found = await caselist.search_cases(stack.svc, hanne, "ida ibsen", caselist.CaseFilters())
    assert [c.id for c in found.items] == [w.cases["carl"]]
    assert (await stack.sms(UNKNOWN, "Tak")).status == 200
    assert await _count(stack, messages, messages.c.conversation_id == filed.conversation_id) == 3


async def test_register_the_sender_without_a_case(stack: Stack) -> None:
    """Only the person is created (journalised in the unassigned chain); a second time is refused."""
    w = stack.world
    conv = await _unknown_thread(stack)
    hanne = _user(stack, "hanne")
    got = await filing.register_sender(stack.svc, hanne, conv, NewPerson.parse("Ib Holm", "Ib"))
    assert got.known and got.name == "Ib Holm"
    assert (await filing.unassigned_thread(stack.svc, hanne, conv)).name == "Ib Holm"
    out = await _chain(stack, unassigned_chain(w.tenant_id))
    assert out[-1].kind == "person_registered"
    before = await _snapshot(stack)
    with pytest.raises(BadInput) as err:
        await filing.register_sender(stack.svc, hanne, conv, NewPerson.parse("X", ""))
    assert err.value.code == "sender_known"
    with pytest.raises(BadInput) as err:
        NewPerson.parse("   ", "")
    assert err.value.code == "bad_name"
    assert await _snapshot(stack) == before


async def test_refusals_change_nothing(stack: Stack) -> None:
    """Caseworkers, another team's case, another municipality's case, a closed case, a
    participant with another number, a stranger: refused, and nothing is written."""
    w = stack.world
    conv = await _unknown_thread(stack)
    hanne, mette = _user(stack, "hanne"), _user(stack, "mette")
    async with stack.svc.write() as c:
        foreign = await foreign_case(c, stack.svc, number="2025-001")
        await c.execute(
            cases.update().where(cases.c.id == w.cases["eriksen"]).values(status="closed")
        )
    before = await _snapshot(stack)
    anna = Recipient(person_id=w.persons["anna"])
    refusals: list[tuple[StaffUser, str, Recipient, type[Exception], str]] = [
        (mette, w.cases["anna"], anna, NotFound, "conversation_not_found"),
        (hanne, w.cases["bo_jobs"], Recipient(w.persons["bo"]), NotFound, "case_not_found"),
        (hanne, foreign, anna, NotFound, "case_not_found"),
        (hanne, w.cases["eriksen"], Recipient(w.persons["eva"]), BadInput, "case_closed"),
        (hanne, w.cases["anna"], anna, BadInput, "other_number"),
        (hanne, w.cases["anna"], Recipient(w.persons["bo"]), BadInput, "bad_person"),
        (hanne, w.cases["anna"], Recipient(), BadInput, "bad_name"),
        (
            hanne,
            w.cases["anna"],
            Recipient(new_person=NewPerson("A", "A"), role="chef"),
            BadInput,
            "bad_role",
        ),
    ]
    for user, case_id, to, kind, code in refusals:
        with pytest.raises(kind) as err:
            await filing.file_thread(stack.svc, user, conv, case_id=case_id, to=to)
        assert getattr(err.value, "code", None) == code, (case_id, code)
        assert await _snapshot(stack) == before, code
    with pytest.raises(NotFound):
        await filing.find_case(stack.svc, hanne, "2025-003")  # Lars's team
    with pytest.raises(BadInput):
        await filing.find_case(stack.svc, hanne, "x" * 65)
    found = await filing.find_case(stack.svc, hanne, " 2025-001 ")
    assert found.id == w.cases["anna"]  # the own municipality's, never Aarhus's
    assert [p.name for p in found.participants] == ["Anna Andersen"]


async def _second_case_for_anna(stack: Stack) -> str:
    w = stack.world
    async with stack.svc.write() as c:
        case_id = await annas_second_case(c, stack.svc, w)
    return case_id


async def _annas_message(stack: Stack, body: str = "Spørgsmål om skolen") -> tuple[str, str]:
    assert (await stack.sms(stack.world.phones["anna"], body)).status == 200
    conv = await _thread_of(stack, "anna", "anna")
    rows = await _rows(
        stack, messages, messages.c.conversation_id == conv, messages.c.direction == "in"
    )
    return conv, str(rows[-1].id)


async def test_a_misfiled_message_moves_to_the_right_case(stack: Stack) -> None:
    """Both case chains record the move (flyttet fra sag X til sag Y af …); the old entries stay; the reply-by moves along."""
    w = stack.world
    conv, mid = await _annas_message(stack)
    second = await _second_case_for_anna(stack)
    old = (await _rows(stack, messages, messages.c.id == mid))[0]
    old_entries = await _chain(stack, case_chain(w.cases["anna"]))
    mette = _user(stack, "mette")
    moved = await filing.move_message(stack.svc, mette, conv, mid, case_id=second)
    assert moved.case_number == "2025-101"
    row = (await _rows(stack, messages, messages.c.id == mid))[0]
    assert row.conversation_id == moved.conversation_id and row.case_id == second
    assert row.reply_by == old.reply_by and row.awaiting_reply and row.owner_id == w.mette
    thread = await read_thread(stack.svc, mette, moved.conversation_id)
    assert [m["body"] for m in thread["messages"]] == ["Spørgsmål om skolen"]
    after = await _chain(stack, case_chain(w.cases["anna"]))
    assert [e.hash for e in after[: len(old_entries)]] == [e.hash for e in old_entries]
    assert after[-1].kind == "moved_out" and after[-1].message_id == mid
    note = "Flyttet fra sag 2025-001 til sag 2025-101 af Mette Holm"
    assert await _entry_text(stack, after[-1]) == note
    came = await _chain(stack, case_chain(second))
    assert [e.kind for e in came] == ["moved_in"]
    assert await _entry_text(stack, came[0]) == f"{note}\n\nSpørgsmål om skolen"
    assert (await verify(stack.config.database_url)).ok
    # The same message again from the old thread: it has gone (409), nothing changes.
    before = await _snapshot(stack)
    with pytest.raises(Conflict) as err:
        await filing.move_message(stack.svc, mette, conv, mid, case_id=second)
    assert err.value.code == "already_moved"
    assert await _snapshot(stack) == before


async def test_a_message_moves_to_the_right_participant_and_an_urgent_one_pages_again(
    stack: Stack,
) -> None:
    """On a case with two parents, an urgent SMS moves to the other parent's thread; the caseworker is paged again."""
    w = stack.world
    assert (await stack.sms(w.phones["shared_same"], "AKUT hjælp")).status == 200
    conv = str(
        (await _rows(stack, conversations, conversations.c.case_id == w.cases["eriksen"]))[0].id
    )
    sms = (
        await _rows(
            stack, messages, messages.c.conversation_id == conv, messages.c.direction == "in"
        )
    )[0]
    mid = sms.id
    other = "frank" if sms.person_id == w.persons["eva"] else "eva"
    pages = await _count(stack, staff_notices, staff_notices.c.message_id == mid)
    mette = _user(stack, "mette")
    with pytest.raises(BadInput) as err:
        await filing.move_message(stack.svc, mette, conv, mid, case_id=w.cases["eriksen"])
    assert err.value.code == "same_case"
    moved = await filing.move_message(
        stack.svc, mette, conv, mid, case_id=w.cases["eriksen"], person_id=w.persons[other]
    )
    assert moved.conversation_id == await _thread_of(stack, "eriksen", other)
    row = (await _rows(stack, messages, messages.c.id == mid))[0]
    assert row.urgent and row.escalation_level == 0 and row.next_escalation_at is not None
    assert await _count(stack, staff_notices, staff_notices.c.message_id == mid) == pages + 1
    assert (await verify(stack.config.database_url)).ok


async def test_moves_refused_change_nothing(stack: Stack) -> None:
    """A case the caseworker may not see is a 404; a reply is not movable; Lars cannot see the thread."""
    w = stack.world
    conv, mid = await _annas_message(stack)
    mette, lars = _user(stack, "mette"), _user(stack, "lars")
    reply = (
        await _rows(
            stack, messages, messages.c.conversation_id == conv, messages.c.direction == "out"
        )
    )[0].id
    before = await _snapshot(stack)
    for user, message, case_id, kind, code in (
        (mette, mid, w.cases["bo_jobs"], NotFound, "case_not_found"),
        (lars, mid, w.cases["bo_jobs"], NotFound, "conversation_not_found"),
        (mette, reply, w.cases["carl"], BadInput, "not_movable"),
        (mette, "0" * 36, w.cases["carl"], NotFound, "message_not_found"),
        (mette, mid, w.cases["carl"], BadInput, "bad_person"),
    ):
        with pytest.raises(kind) as err:
            await filing.move_message(stack.svc, user, conv, message, case_id=case_id)
        assert err.value.code == code  # type: ignore[attr-defined]
        assert await _snapshot(stack) == before


async def test_a_colleague_covering_the_owner_may_move_into_the_case(stack: Stack) -> None:
    """Sofie covers Mette's absence today: she may file into Mette's cases; not otherwise."""
    w = stack.world
    conv, mid = await _annas_message(stack)
    second = await _second_case_for_anna(stack)
    sofie = _user(stack, "sofie")
    with pytest.raises(NotFound):
        await filing.move_message(stack.svc, sofie, conv, mid, case_id=second)
    today = local_day(stack.clock.now()).isoformat()
    await staffing.add_absence(
        stack.svc,
        _user(stack, "hanne"),
        {"staff_id": w.mette, "starts_on": today, "ends_on": today, "substitute_id": w.sofie},
    )
    await hand_over_tick(stack.svc)  # Anna's open message is Sofie's to answer now
    moved = await filing.move_message(stack.svc, sofie, conv, mid, case_id=second)
    assert moved.case_number == "2025-101"
    found = await filing.find_case(stack.svc, sofie, "2025-101")
    assert found.id == second


async def test_two_moves_at_once_one_wins(stack: Stack) -> None:
    """Two moves of one message at once: one moves it, the other is told it moved; one record."""
    conv, mid = await _annas_message(stack)
    second = await _second_case_for_anna(stack)
    mette, hanne = _user(stack, "mette"), _user(stack, "hanne")
    results = await asyncio.gather(
        filing.move_message(stack.svc, mette, conv, mid, case_id=second),
        filing.move_message(stack.svc, hanne, conv, mid, case_id=second),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Filed"]
    assert await _count(stack, journal_entries, journal_entries.c.kind == "moved_out") == 1
    assert await _count(stack, journal_entries, journal_entries.c.kind == "moved_in") == 1
    assert (await verify(stack.config.database_url)).ok


async def test_two_filings_at_once_one_wins(stack: Stack) -> None:
    """Two leads file the same unassigned thread at once: one files it, the other gets 409."""
    w = stack.world
    conv = await _unknown_thread(stack)
    async with stack.svc.write() as c:
        other_lead = await create_staff(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Pia",
            full_name="Pia Lund",
            role="lead",
        )
        await create_person(
            c, stack.svc, tenant_id=w.tenant_id, name="Zoe", first_name="Zoe", phone=None
        )
    pia = StaffUser(other_lead, w.tenant_id, w.team_children, "lead")
    to = Recipient(new_person=NewPerson("Ida Ibsen", "Ida"), role="parent")
    results = await asyncio.gather(
        filing.file_thread(stack.svc, _user(stack, "hanne"), conv, case_id=w.cases["carl"], to=to),
        filing.file_thread(stack.svc, pia, conv, case_id=w.cases["anna"], to=to),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Filed"]
    assert await _count(stack, participants, participants.c.role == "parent") == 4  # 3 seeded + 1
    assert (await verify(stack.config.database_url)).ok


async def test_a_message_moves_to_the_senders_own_case_on_another_team(stack: Stack) -> None:
    """Bo's answer landed on his Børn og Familie case: Mette moves it to his Jobcenter case,
    which she cannot otherwise see (the message is his); the author never changes."""
    w = stack.world
    bo = w.phones["bo"]
    await stack.sms(bo, "Her er min lønseddel")
    await stack.sms(bo, "1")  # Børn og Familie: the wrong one
    conv = await _thread_of(stack, "bo_children", "bo")
    rows = await _rows(
        stack, messages, messages.c.conversation_id == conv, messages.c.direction == "in"
    )
    mid = str(rows[0].id)
    mette = _user(stack, "mette")
    choice = await filing.find_case(stack.svc, mette, "2025-003", sender_id=w.persons["bo"])
    assert [p.is_sender for p in choice.participants] == [True]
    moved = await filing.move_message(stack.svc, mette, conv, mid, case_id=w.cases["bo_jobs"])
    assert moved.case_number == "2025-003"
    row = (await _rows(stack, messages, messages.c.id == mid))[0]
    assert (row.case_id, row.person_id) == (w.cases["bo_jobs"], w.persons["bo"])
    # Another person's case stays out of reach, and nobody else becomes the author.
    conv2, anna_mid = await _annas_message(stack)
    before = await _snapshot(stack)
    with pytest.raises(NotFound):
        await filing.move_message(stack.svc, mette, conv2, anna_mid, case_id=w.cases["dorte"])
    with pytest.raises(BadInput) as err:
        await filing.move_message(
            stack.svc, mette, conv2, anna_mid, case_id=w.cases["carl"], person_id=w.persons["carl"]
        )
    assert err.value.code == "other_author"
    assert await _snapshot(stack) == before
