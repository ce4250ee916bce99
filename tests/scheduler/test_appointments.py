"""Appointments: reminders on time and once, OK/FLYT/AFLYS by SMS, .ics, moves and cancellations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from bot.store.schema.core import messages
from bot.store.schema.scheduler import reminders
from scheduler.runner import fire_due
from tests.harness import Stack

from .conftest import at, cph, journal_subjects, tick

REMINDER = (
    "Påmindelse: Du har et møde med Københavns Kommune {when}. Sted: Rådhuset, lokale 3. "
    "Svar OK for at bekræfte, FLYT hvis du vil flytte det, eller AFLYS."
)


async def _book(stack: Stack, starts_at: datetime, **extra: Any) -> dict[str, Any]:
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": starts_at.isoformat(), "place": "Rådhuset, lokale 3", **extra},
    )
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def test_reminders_go_on_time_once_ok_confirms_and_ics_describes(stack: Stack) -> None:
    """Tuesday 09:00: reminded Monday 10:00 and (07:00 is quiet) 08:00, once each; OK confirms; .ics."""
    anna = stack.world.phones["anna"]
    appt = await _book(stack, cph(2025, 2, 25, 9, 0), video_url="https://video.example/abc")
    assert [r["due_at"] for r in appt["reminders"]] == [
        cph(2025, 2, 24, 10, 0).astimezone(UTC).isoformat(),
        cph(2025, 2, 25, 8, 0).astimezone(UTC).isoformat(),
    ]
    await at(stack, cph(2025, 2, 24, 9, 59))
    assert await stack.sent_to(anna) == []
    stats = await at(stack, cph(2025, 2, 24, 10, 0))
    assert stats.sent == 1
    text = REMINDER.format(when="tirsdag den 25. februar kl. 09:00")
    assert await stack.sent_to(anna) == [text]
    assert (await tick(stack)).claimed == 0
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert await stack.sent_to(anna) == [text, text]
    await at(stack, cph(2025, 2, 25, 8, 30))
    assert len(await stack.sent_to(anna)) == 2
    subjects = await journal_subjects(stack, stack.world.cases["anna"])
    assert subjects.count("Påmindelse om møde til borger") == 2

    await stack.sms(anna, "ok")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Tak. Vi har noteret, at du kommer tirsdag den 25. februar kl. 09:00."
    )
    got = await (await stack.api("GET", f"/api/v1/appointments/{appt['id']}")).json()
    assert got["confirmed_at"] is not None
    async with stack.svc.read() as conn:
        inbound = (
            (
                await conn.execute(
                    select(messages.c.awaiting_reply).where(messages.c.direction == "in")
                )
            )
            .scalars()
            .all()
        )
    assert inbound == [False]  # OK needs no answer from a caseworker
    resp = await stack.api("GET", f"/api/v1/appointments/{appt['id']}.ics")
    assert resp.status == 200
    assert resp.content_type == "text/calendar"
    event = Calendar.from_ical(await resp.read()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == cph(2025, 2, 25, 9, 0)
    assert str(event["location"]) == "Rådhuset, lokale 3"
    assert str(event["url"]) == "https://video.example/abc"
    assert str(event["uid"]) == f"{appt['id']}@tovholder"
    assert int(event["sequence"]) == 0


async def test_moving_an_appointment_never_sends_a_stale_reminder(stack: Stack) -> None:
    """Moved from Tuesday to Thursday: told at once, reminded for Thursday only; a queued one is withdrawn."""
    anna = stack.world.phones["anna"]
    appt = await _book(stack, cph(2025, 2, 25, 9, 0))
    # Monday 10:00: the reminder is queued but the relay has not run yet when it is moved.
    stack.clock.set(cph(2025, 2, 24, 10, 0))
    assert (await fire_due(stack.svc)).sent == 1
    resp = await stack.api(
        "PATCH",
        f"/api/v1/appointments/{appt['id']}",
        json={"starts_at": cph(2025, 2, 27, 14, 0).isoformat()},
    )
    assert resp.status == 200, await resp.text()
    moved = await resp.json()
    assert moved["sequence"] == 1
    await stack.drain()
    assert await stack.sent_to(anna) == [
        "Dit møde med Københavns Kommune er flyttet til torsdag den 27. februar kl. 14:00."
    ]
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert len(await stack.sent_to(anna)) == 1
    await at(stack, cph(2025, 2, 26, 10, 0))
    await at(stack, cph(2025, 2, 27, 12, 0))
    assert (await stack.sent_to(anna))[1:] == [
        REMINDER.format(when="torsdag den 27. februar kl. 14:00")
    ] * 2
    async with stack.svc.read() as conn:
        states = sorted(
            (
                await conn.execute(
                    select(reminders.c.state).where(reminders.c.ref_id == appt["id"])
                )
            ).scalars()
        )
    assert states == ["sent", "sent", "sent", "withdrawn"]
    ics = Calendar.from_ical(
        await (await stack.api("GET", f"/api/v1/appointments/{appt['id']}.ics")).read()
    ).walk("VEVENT")[0]
    assert int(ics["sequence"]) == 1
    assert "Planlagt SMS trukket tilbage: mødet er flyttet" in await journal_subjects(
        stack, stack.world.cases["anna"]
    )


async def test_flyt_becomes_a_task_and_cancelling_withdraws_everything(stack: Stack) -> None:
    """FLYT leaves the SMS awaiting a reply and gives the caseworker a task; cancelling stops all reminders."""
    anna = stack.world.phones["anna"]
    appt = await _book(stack, cph(2025, 2, 25, 9, 0))
    await stack.sms(anna, "FLYT")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Tak. Vi har bedt din sagsbehandler om at finde en ny tid. "
        "Du hører fra os senest tirsdag den 25. februar."
    )
    tasks = (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]
    assert [t["kind"] for t in tasks] == ["appointment_move"]
    assert tasks[0]["title"] == "Borgeren vil gerne flytte mødet tirsdag den 25. februar kl. 09:00"
    open_threads = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert open_threads[0]["open_count"] == 1
    resp = await stack.api("DELETE", f"/api/v1/appointments/{appt['id']}")
    assert resp.status == 200
    assert (await resp.json())["status"] == "cancelled"
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Dit møde med Københavns Kommune tirsdag den 25. februar kl. 09:00 er aflyst."
    )
    assert (await (await stack.api("GET", "/api/v1/tasks")).json())["items"] == []
    count = len(await stack.sent_to(anna))
    await at(stack, cph(2025, 2, 24, 10, 0))
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert len(await stack.sent_to(anna)) == count
    again = await stack.api("DELETE", f"/api/v1/appointments/{appt['id']}")
    assert (again.status, (await again.json())["error"]["code"]) == (409, "appointment_cancelled")


async def test_flyt_and_aflys_on_one_appointment_both_name_it(stack: Stack) -> None:
    """Two parents ask about the same meeting (one FLYT, one AFLYS): each task names the meeting
    and where it is, not only the last one read."""
    from bot.domain.directory import add_participant, create_person

    w = stack.world
    partner = "+4520123499"
    async with stack.svc.write() as c:
        person = await create_person(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            name="Asger Andersen",
            first_name="Asger",
            phone=partner,
        )
        await add_participant(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            case_id=w.cases["anna"],
            person_id=person,
            role="parent",
        )
    appt = await _book(stack, cph(2025, 2, 25, 9, 0))
    await stack.sms(w.phones["anna"], "FLYT")
    await stack.sms(partner, "AFLYS")
    await stack.drain()
    tasks = (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]
    assert sorted(t["kind"] for t in tasks) == ["appointment_cancel", "appointment_move"]
    for t in tasks:
        assert t["appointment"] is not None, t["kind"]
        assert (t["appointment"]["id"], t["appointment"]["place"]) == (
            appt["id"],
            "Rådhuset, lokale 3",
        )
