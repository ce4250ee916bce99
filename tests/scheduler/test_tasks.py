"""Tasks that exist: call tasks as rows (once per message, due next morning), closed with a
journalised outcome; the covering colleague works on the absent owner's case and tasks.

On SQLite and PostgreSQL, through the real app, the gateway simulator and its delivery reports.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.base.ids import new_id
from bot.domain.delivery import apply_report
from bot.store.schema.core import journal_entries, messages, persons
from bot.store.schema.scheduler import followup_tasks
from channels.base import DeliveryReport, DeliveryState
from scheduler.calltasks import UNDELIVERED, dedupe_key, open_call_task
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
