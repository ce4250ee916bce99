"""Tasks that exist: call tasks as rows (once per message, due next morning), closed with a
journalised outcome; the covering colleague works on the absent owner's case and tasks.

On SQLite and PostgreSQL, through the real app, the gateway simulator and its delivery reports.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.base.crypto import SealingKey
from bot.base.ids import new_id
from bot.domain.delivery import apply_report
from bot.domain.directory import add_participant, create_case, create_person
from bot.domain.outbound import ensure_conversation, queue_sms
from bot.domain.outbox import MAX_ATTEMPTS
from bot.store.schema.core import cases, journal_entries, messages, persons, tenant_settings
from bot.store.schema.scheduler import followup_tasks
from channels.base import DeliveryReport, DeliveryState
from scheduler.calltasks import (
    GIVEN_UP,
    HELD_TOO_LONG,
    NO_PHONE,
    REFUSED,
    SAME_CALL,
    TITLES,
    UNDELIVERED,
    dedupe_key,
    open_call_task,
)
from tests.harness import Stack

from .conftest import count, cph

MONDAY_OPENING = cph(2025, 2, 24, 8, 0).astimezone(UTC).isoformat()


async def _tasks(stack: Stack, who: str = "mette") -> list[dict[str, Any]]:
    resp = await stack.api("GET", "/api/v1/tasks", who=who)
    assert resp.status == 200, await resp.text()
    return list((await resp.json())["items"])


async def _call_rows(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        return list(
            await conn.execute(select(followup_tasks).where(followup_tasks.c.kind == "call"))
        )


async def _wait_for_call_task(stack: Stack) -> Any:
    for _ in range(200):
        rows = await _call_rows(stack)
        if rows:
            return rows[0]
        await asyncio.sleep(0.03)
    raise AssertionError("no call task was made")


async def _undelivered(stack: Stack) -> Any:
    """Anna's receipt cannot be delivered, and she has no e-mail: a call task."""
    await stack.faults(undeliverable=[stack.world.phones["anna"]])
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    return await _wait_for_call_task(stack)


async def test_an_undelivered_sms_with_no_other_channel_is_one_call_task(stack: Stack) -> None:
    """Owner's list, due Monday 08:00 (Friday now); a repeated report or pass adds nothing."""
    task = await _undelivered(stack)
    assert (task.staff_id, task.state, task.title) == (stack.world.mette, "open", UNDELIVERED)
    assert task.due_at.astimezone(UTC).isoformat() == MONDAY_OPENING
    calls = journal_entries.c.kind == "call_task"
    assert await count(stack, journal_entries, calls) == 1
    # The gateway repeats its report; the relay meets the message again: still one task.
    async with stack.svc.read() as conn:
        sent_as = (
            await conn.execute(
                select(messages.c.provider_id).where(messages.c.id == task.message_id)
            )
        ).scalar_one()
    report = DeliveryReport(
        provider_id=sent_as, state=DeliveryState.FAILED, provider_status="failed"
    )
    assert await apply_report(stack.svc, task.message_id, report) is False
    async with stack.svc.write() as conn:
        again = await open_call_task(
            conn,
            stack.svc,
            tenant_id=task.tenant_id,
            case_id=task.case_id,
            message_id=task.message_id,
            subject=UNDELIVERED,
            at=stack.clock.now(),
        )
    assert again == task.id
    assert len(await _call_rows(stack)) == 1
    assert await count(stack, journal_entries, calls) == 1
    # The database refuses a second task for the same message even if code forgot to look.
    with pytest.raises(IntegrityError):
        async with stack.svc.write() as conn:
            await conn.execute(
                followup_tasks.insert().values(
                    id=new_id(),
                    tenant_id=task.tenant_id,
                    case_id=task.case_id,
                    staff_id=task.staff_id,
                    kind="call",
                    title="x",
                    state="open",
                    created_at=stack.clock.now(),
                    dedupe_key=dedupe_key(task.message_id),
                )
            )
    listed = await _tasks(stack)
    assert [(t["kind"], t["due_at"], t["actions"]) for t in listed] == [
        ("call", MONDAY_OPENING, ["outcome"])
    ]
    assert listed[0]["conversation_id"] is not None and listed[0]["covering"] is False


async def test_a_call_task_closes_only_with_a_journalised_outcome(stack: Stack) -> None:
    """/done refuses (400 outcome_required, nothing changes); /outcome closes it once, sealed."""
    task = await _undelivered(stack)
    resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/done")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "outcome_required"
    for bad, code in (({"outcome": "  "}, "outcome_required"), ({"outcome": 5}, None)):
        resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/outcome", json=bad)
        assert resp.status == 400, bad
        if code:
            assert (await resp.json())["error"]["code"] == code
    resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/outcome", json={"outcome": "x" * 501})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "outcome_too_long"
    assert [t["id"] for t in await _tasks(stack)] == [task.id]
    # Lars (another team) cannot see it, let alone close it.
    resp = await stack.api(
        "POST", f"/api/v1/tasks/{task.id}/outcome", who="lars", json={"outcome": "x"}
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "task_not_found"
    done = journal_entries.c.kind == "call_done"
    assert await count(stack, journal_entries, done) == 0
    resp = await stack.api(
        "POST", f"/api/v1/tasks/{task.id}/outcome", json={"outcome": "ringede, talte med mor"}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["state"] == "done"
    assert await _tasks(stack) == []
    async with stack.svc.read() as conn:
        entry = (await conn.execute(select(journal_entries).where(done))).one()
    assert entry.actor == f"staff:{stack.world.mette}" and entry.message_id == task.message_id
    assert "mor" not in entry.subject and entry.content_enc is not None
    assert b"mor" not in entry.content_enc
    resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/outcome", json={"outcome": "igen"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "task_done"


async def test_a_sensitive_message_to_an_sms_only_citizen_is_a_call_task(stack: Stack) -> None:
    """Nothing reaches the phone; one call task about that reply, however often the relay runs."""
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(channel_pref="sms_only")
        )
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej")
    await stack.drain()
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    before = len(await stack.sent_to(anna))
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Om din sag", "sensitive": True},
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    await stack.drain()
    assert len(await stack.sent_to(anna)) == before
    [task] = await _tasks(stack)
    assert (task["kind"], task["conversation_id"], task["due_at"]) == ("call", conv, MONDAY_OPENING)
    assert task["title"] == "Følsom besked ikke sendt på SMS: ring til borgeren"
    assert len(await _call_rows(stack)) == 1


async def test_flyt_task_names_the_appointment(stack: Stack) -> None:
    """A FLYT task in the list carries the appointment it concerns (when and where)."""
    cid = stack.world.cases["anna"]
    starts = cph(2025, 2, 25, 9, 0)
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": starts.isoformat(), "place": "Rådhuset, lokale 3"},
    )
    assert resp.status == 201, await resp.text()
    await stack.sms(stack.world.phones["anna"], "FLYT")
    [task] = await _tasks(stack)
    assert task["kind"] == "appointment_move"
    assert task["appointment"]["place"] == "Rådhuset, lokale 3"
    assert task["appointment"]["starts_at"] == starts.astimezone(UTC).isoformat()
    assert task["actions"] == ["done", "outcome"]
    resp = await stack.api("POST", f"/api/v1/tasks/{task['id']}/done")
    assert resp.status == 200
    assert await count(stack, journal_entries, journal_entries.c.kind == "task_done") == 1


async def test_the_covering_colleague_works_on_the_case_and_its_tasks_while_the_owner_is_away(
    stack: Stack,
) -> None:
    """Sofie, Mette's substitute, sees Mette's case (appointments, tasks) from the first to the
    last day of the absence, not before or after; Lars never."""
    w = stack.world
    cid = w.cases["anna"]
    task = await _undelivered(stack)
    resp = await stack.api("GET", f"/api/v1/cases/{cid}/appointments", who="sofie")
    assert resp.status == 404  # not covering yet
    assert await _tasks(stack, "sofie") == []
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        json={"starts_on": "2025-02-24", "ends_on": "2025-02-26", "substitute_id": w.sofie},
    )
    assert resp.status == 201, await resp.text()
    resp = await stack.api("GET", f"/api/v1/cases/{cid}/appointments", who="sofie")
    assert resp.status == 404  # the absence begins on Monday
    stack.clock.set(cph(2025, 2, 24, 9, 0))
    resp = await stack.api("GET", f"/api/v1/cases/{cid}/appointments", who="sofie")
    assert resp.status == 200, await resp.text()
    [seen] = await _tasks(stack, "sofie")
    assert (seen["id"], seen["covering"]) == (task.id, True)
    assert await _tasks(stack, "lars") == []
    resp = await stack.api("GET", f"/api/v1/cases/{cid}/appointments", who="lars")
    assert resp.status == 404
    resp = await stack.api(
        "POST", f"/api/v1/tasks/{task.id}/outcome", who="sofie", json={"outcome": "ringede"}
    )
    assert resp.status == 200, await resp.text()
    stack.clock.set(cph(2025, 2, 27, 9, 0))  # Mette is back
    resp = await stack.api("GET", f"/api/v1/cases/{cid}/appointments", who="sofie")
    assert resp.status == 404


async def _journal_kinds(stack: Stack, message_id: str) -> list[tuple[str, str]]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.kind, journal_entries.c.subject)
            .where(journal_entries.c.message_id == message_id)
            .order_by(journal_entries.c.seq)
        )
        return [(str(k), str(s)) for k, s in rows]


async def test_an_sms_the_gateway_refuses_for_good_is_a_call_task(stack: Stack) -> None:
    """A receipt the gateway refuses (4xx): nothing sent, failed, journalised, and a call task
    with its own title on the owner's list, due Monday."""
    anna = stack.world.phones["anna"]
    await stack.faults(mode="fail_4xx")
    await stack.sms(anna, "Hej")
    await stack.drain()
    assert await stack.sent_to(anna) == []
    [task] = await _tasks(stack)
    assert (task["title"], task["due_at"]) == (REFUSED, MONDAY_OPENING)
    [row] = await _call_rows(stack)
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.id == row.message_id))
        ).scalar_one()
    assert status == "failed"
    assert await _journal_kinds(stack, row.message_id) == [
        ("sms_out_receipt", "Automatisk kvittering til borger"),
        ("delivery_failed", "SMS kunne ikke afleveres til gatewayen"),
        ("call_task", REFUSED),
    ]


async def test_an_sms_given_up_after_its_retries_is_a_call_task(stack: Stack) -> None:
    """The gateway fails (5xx) on every try: after the last retry, a call task titled so."""
    anna = stack.world.phones["anna"]
    await stack.faults(mode="fail_5xx")
    await stack.sms(anna, "Hej")
    for _ in range(MAX_ATTEMPTS + 1):
        await stack.drain()
        stack.clock.advance(minutes=11)
    assert await _call_rows(stack), "no call task after the retries ran out"
    [task] = await _tasks(stack)
    assert task["title"] == GIVEN_UP
    await stack.faults(mode="ok")
    await stack.drain()
    assert await stack.sent_to(anna) == []  # given up is given up: no late second try


async def _without_phone(stack: Stack) -> tuple[str, str, str]:
    """Gitte has no mobile number; a caseworker's update to her is queued: (person, case, msg)."""
    svc, w = stack.svc, stack.world
    now = svc.clock.now()
    async with svc.write() as conn:
        person = await create_person(
            conn, svc, tenant_id=w.tenant_id, name="Gitte Gram", first_name="Gitte", phone=None
        )
        case = await create_case(
            conn,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_children,
            team_id=w.team_children,
            owner_id=w.mette,
            number="2025-201",
        )
        await add_participant(
            conn, svc, tenant_id=w.tenant_id, case_id=case, person_id=person, role="party"
        )
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
        conv = await ensure_conversation(
            conn, tenant_id=w.tenant_id, case_id=case, person_id=person, at=now
        )
        mid = await queue_sms(
            conn,
            tenant_id=w.tenant_id,
            conversation_id=conv,
            case_id=case,
            person_id=person,
            kind="update",
            body="Vi har modtaget dine papirer.",
            key=SealingKey("case", case, svc.dek("cases", case, dek)),
            at=now,
        )
    return person, case, mid


async def test_a_citizen_with_no_mobile_number_is_not_silent(stack: Stack) -> None:
    """No phone, no e-mail: the message fails as 'intet mobilnummer' and the owner gets a
    task to reach the family another way (before: 'no_recipient', silently)."""
    _, _, mid = await _without_phone(stack)
    await stack.drain()
    assert await stack.sent() == []
    [task] = await _tasks(stack)
    assert (task["title"], task["due_at"]) == (NO_PHONE, MONDAY_OPENING)
    assert await _journal_kinds(stack, mid) == [
        ("sms_out_update", "SMS til borger"),
        ("delivery_failed", "SMS ikke sendt: borgeren har intet mobilnummer"),
        ("call_task", NO_PHONE),
    ]


async def _update(stack: Stack, person: str, case: str, body: str) -> str:
    """A caseworker's update to ``person`` on ``case``, queued: the message's id."""
    svc, now = stack.svc, stack.clock.now()
    async with svc.write() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
        conv = await ensure_conversation(
            conn, tenant_id=stack.world.tenant_id, case_id=case, person_id=person, at=now
        )
        return await queue_sms(
            conn,
            tenant_id=stack.world.tenant_id,
            conversation_id=conv,
            case_id=case,
            person_id=person,
            kind="update",
            body=body,
            key=SealingKey("case", case, svc.dek("cases", case, dek)),
            at=now,
        )


async def test_one_open_call_task_per_person_however_many_messages_miss_them(
    stack: Stack,
) -> None:
    """No phone, three updates: one call task (each later message journalised as joining
    it), not three; once the caseworker closes it, the next update opens a new one."""
    person, case, first = await _without_phone(stack)
    await stack.drain()
    later = [
        await _update(stack, person, case, "Mødet er flyttet til tirsdag."),
        await _update(stack, person, case, "Husk lønsedlerne."),
    ]
    await stack.drain()
    rows = await _call_rows(stack)
    assert [(r.message_id, r.title, r.state) for r in rows] == [(first, NO_PHONE, "open")]
    for mid in later:
        assert (await _journal_kinds(stack, mid))[-1] == ("call_task", f"{NO_PHONE} ({SAME_CALL})")
    async with stack.svc.write() as conn:
        await conn.execute(
            update(followup_tasks).where(followup_tasks.c.id == rows[0].id).values(state="done")
        )
    again = await _update(stack, person, case, "Vi har fået svar fra lægen.")
    await stack.drain()
    rows = await _call_rows(stack)
    assert [(r.message_id, r.state) for r in rows] == [(first, "done"), (again, "open")]


async def test_a_too_long_text_to_an_sms_only_citizen_has_its_own_title(stack: Stack) -> None:
    """Over the segment limit at send time (the municipality lowered it meanwhile), SMS
    only: nothing reaches the phone; a call task says the text is too long (not 'følsom')."""
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(channel_pref="sms_only")
        )
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej")
    await stack.drain()
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    long = "Vi har set på din sag og skriver igen, når vi ved mere om den. " * 3  # 2 SMS
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": long})
    assert resp.status == 201, await resp.text()
    async with stack.svc.write() as conn:
        await conn.execute(
            insert(tenant_settings).values(tenant_id=stack.world.tenant_id, max_segments=1)
        )
    await stack.drain()
    assert [b for b in await stack.sent_to(anna) if b.startswith("Vi har set")] == []
    [task] = await _tasks(stack)
    assert task["title"] == HELD_TOO_LONG


async def test_a_refused_sms_on_a_closed_case_is_a_task_for_its_owner(stack: Stack) -> None:
    """The case closed after the receipt was queued: the owner still gets the call task."""
    await stack.faults(mode="fail_4xx")
    await stack.sms(stack.world.phones["anna"], "Hej")
    async with stack.svc.write() as conn:
        await conn.execute(
            update(cases).where(cases.c.id == stack.world.cases["anna"]).values(status="closed")
        )
    await stack.drain()
    [row] = await _call_rows(stack)
    assert (row.staff_id, row.case_id, row.title) == (
        stack.world.mette,
        stack.world.cases["anna"],
        REFUSED,
    )


async def test_a_refused_sms_on_no_case_is_journalised_on_the_unassigned_chain(
    stack: Stack,
) -> None:
    """An unknown number's answer refused: no case, so no task (a task belongs to a case);
    the call_task entry stands on the unassigned chain and the message stays in its queue."""
    await stack.faults(mode="fail_4xx")
    await stack.sms("+4520999999", "Hej, jeg er ny")
    await stack.drain()
    assert await _call_rows(stack) == []
    async with stack.svc.read() as conn:
        entries = list(
            await conn.execute(
                select(journal_entries.c.case_id, journal_entries.c.subject).where(
                    journal_entries.c.kind == "call_task"
                )
            )
        )
    assert [(e.case_id, e.subject) for e in entries] == [(None, REFUSED)]


def test_each_reason_for_a_call_has_its_own_title() -> None:
    """Seven reasons, seven plain Danish titles that say to call (or reach) the citizen."""
    assert len(set(TITLES)) == len(TITLES) == 7
    assert all(t.endswith("borgeren") or t.endswith("anden måde") for t in TITLES)
