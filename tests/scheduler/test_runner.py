"""The runner: deadlines, a closed case, quiet hours at fire time, DST nights and downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.store.schema.core import cases
from bot.store.schema.scheduler import reminders
from scheduler.worker import FixedClock, run, services_from_env
from tests.harness import Stack

from .conftest import at, cph, journal_subjects, tick


async def test_deadline_reminder_goes_n_working_days_before(stack: Stack) -> None:
    """Partshøring due Friday 7 March, 3 working days: reminded Tuesday 4 March 10:00, once."""
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/deadlines",
        json={"kind": "partshoering", "due_on": "2025-03-07", "remind_working_days_before": 3},
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["reminders"][0]["due_at"] == cph(2025, 3, 4, 10, 0).astimezone(UTC).isoformat()
    anna = stack.world.phones["anna"]
    await at(stack, cph(2025, 3, 4, 9, 59))
    assert await stack.sent_to(anna) == []
    await at(stack, cph(2025, 3, 4, 10, 0))
    await at(stack, cph(2025, 3, 5, 10, 0))
    assert await stack.sent_to(anna) == [
        "Husk: Fristen for at sende dine bemærkninger til os er fredag den 7. marts. "
        "Skriv til os, hvis du har brug for mere tid."
    ]


async def test_a_closed_case_gets_no_reminders_and_the_skip_is_journalised(stack: Stack) -> None:
    """Once the case is closed, its reminders are skipped with the reason in the journal."""
    cid = stack.world.cases["anna"]
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": cph(2025, 2, 25, 9, 0).isoformat()},
    )
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/deadlines",
        json={"kind": "dokumentation", "due_on": "2025-02-28"},
    )
    async with stack.svc.write() as conn:
        await conn.execute(update(cases).where(cases.c.id == cid).values(status="closed"))
    await at(stack, cph(2025, 2, 24, 10, 0))
    await at(stack, cph(2025, 2, 26, 10, 0))
    assert await stack.sent_to(stack.world.phones["anna"]) == []
    subjects = await journal_subjects(stack, cid)
    assert subjects.count("Påmindelse (møde) ikke sendt: sagen er lukket") == 2
    assert subjects.count("Påmindelse (frist) ikke sendt: sagen er lukket") == 1


async def test_a_reminder_due_in_quiet_hours_waits_and_is_sent_once(stack: Stack) -> None:
    """A reminder whose time comes while quiet (the tenant widened quiet hours) waits for morning."""
    cid = stack.world.cases["anna"]
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={
            "starts_at": cph(2025, 2, 26, 14, 0).isoformat(),
            "reminders": [{"working_days_before": 1, "at": "21:30"}],
        },
    )
    # 21:30 is quiet and the meeting is after the quiet hours: stored as 08:00 the next morning.
    async with stack.svc.read() as conn:
        due = (await conn.execute(select(reminders.c.due_at))).scalar_one()
    assert due == cph(2025, 2, 26, 8, 0)
    resp = await stack.api(
        "PUT", "/api/v1/settings/quiet-hours", who="hanne", json={"quiet_until": "09:00"}
    )
    assert resp.status == 200
    anna = stack.world.phones["anna"]
    stats = await at(stack, cph(2025, 2, 26, 8, 0))
    assert stats.postponed == 1 and await stack.sent_to(anna) == []
    await at(stack, cph(2025, 2, 26, 8, 59))
    assert await stack.sent_to(anna) == []
    await at(stack, cph(2025, 2, 26, 9, 0))
    await at(stack, cph(2025, 2, 26, 9, 30))
    assert len(await stack.sent_to(anna)) == 1


async def test_a_reminder_that_quiet_hours_would_make_late_is_skipped_not_delayed(
    stack: Stack,
) -> None:
    """Quiet hours widened to 15:00 after a 14:00 meeting's reminder was planned for 08:00: the runner skips it (journalised why) rather than queue it for the relay to deliver after the meeting; nothing ever reaches the phone."""
    cid = stack.world.cases["anna"]
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={
            "starts_at": cph(2025, 2, 26, 14, 0).isoformat(),
            "reminders": [{"working_days_before": 1, "at": "21:30"}],
        },
    )
    async with stack.svc.read() as conn:
        due = (await conn.execute(select(reminders.c.due_at))).scalar_one()
    assert due == cph(2025, 2, 26, 8, 0)
    resp = await stack.api(
        "PUT", "/api/v1/settings/quiet-hours", who="hanne", json={"quiet_until": "15:00"}
    )
    assert resp.status == 200
    anna = stack.world.phones["anna"]
    stats = await at(stack, cph(2025, 2, 26, 8, 0))
    assert stats.skipped == 1 and stats.sent == 0
    for hour in (14, 15, 16):
        await at(stack, cph(2025, 2, 26, hour, 0))
    assert await stack.sent_to(anna) == []
    assert "Påmindelse (møde) ikke sendt: stilletid indtil efter det, påmindelsen handler om" in (
        await journal_subjects(stack, cid)
    )


async def _night(stack: Stack, start: datetime, hours: int) -> list[datetime]:
    """Step the clock through a night in 30-minute steps; return when SMS went out."""
    anna = stack.world.phones["anna"]
    seen, sent_at = len(await stack.sent_to(anna)), []
    t = start
    while t <= start + timedelta(hours=hours):
        await at(stack, t)
        now = len(await stack.sent_to(anna))
        sent_at += [t] * (now - seen)
        seen = now
        t += timedelta(minutes=30)
    return sent_at


async def test_dst_night_reminders_fire_once(stack: Stack) -> None:
    """Spring forward (02:30 does not exist, 01:30 UTC) and fall back (02:30 twice): each fires once."""
    cid, pid = stack.world.cases["anna"], stack.world.persons["anna"]
    resp = await stack.api("PUT", f"/api/v1/persons/{pid}/quiet-hours", json={"enabled": False})
    assert resp.status == 200
    stack.clock.set(cph(2025, 3, 28, 10, 0))
    # 06:30 summer time is 04:30 UTC; three hours before is 01:30 UTC.
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": "2025-03-30T06:30:00+02:00", "reminders": [{"hours_before": 3}]},
    )
    sent = await _night(stack, datetime(2025, 3, 29, 23, 0, tzinfo=UTC), 5)
    assert sent == [datetime(2025, 3, 30, 1, 30, tzinfo=UTC)]

    stack.clock.set(cph(2025, 10, 24, 10, 0))
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": "2025-10-26T04:30:00+01:00", "reminders": [{"hours_before": 2}]},
    )
    sent = await _night(stack, datetime(2025, 10, 25, 23, 0, tzinfo=UTC), 4)
    assert sent == [datetime(2025, 10, 26, 1, 30, tzinfo=UTC)]  # the second 02:30, once


async def test_restart_after_downtime_sends_what_still_matters(
    stack: Stack, keys: dict[str, bytes]
) -> None:
    """Down from Friday to Tuesday 08:30: a fresh worker sends the meaningful reminder, skips the rest."""
    cid = stack.world.cases["anna"]
    # Monday 13:00 (reminders Friday 10:00 and Monday 11:00): over before the restart.
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": cph(2025, 2, 24, 13, 0).isoformat()},
    )
    # Tuesday 09:00 (Monday 10:00 and Tuesday 08:00): only the later one still makes sense.
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": cph(2025, 2, 25, 9, 0).isoformat()},
    )
    env = {
        "TOVHOLDER_DATABASE_URL": stack.config.database_url,
        "TOVHOLDER_KEKS": keys["kek"].hex(),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": keys["kek"].hex(),
        "TOVHOLDER_INDEX_KEY": keys["index"].hex(),
    }
    worker = services_from_env(env, FixedClock(cph(2025, 2, 25, 8, 30)))
    try:
        stats = await run(worker, until_idle=True)
    finally:
        await worker.engine.dispose()
    assert (stats.claimed, stats.sent, stats.skipped) == (4, 1, 3)
    stack.clock.set(cph(2025, 2, 25, 8, 30))
    await stack.drain()
    assert await stack.sent_to(stack.world.phones["anna"]) == [
        "Påmindelse: Du har et møde med Københavns Kommune tirsdag den 25. februar kl. 09:00. "
        "Svar OK for at bekræfte, FLYT hvis du vil flytte det, eller AFLYS."
    ]
    subjects = await journal_subjects(stack, cid)
    assert subjects.count("Påmindelse (møde) ikke sendt: for sent, tidspunktet er passeret") == 2
    assert (
        subjects.count(
            "Påmindelse (møde) ikke sendt: en senere påmindelse om det samme sendes i stedet"
        )
        == 1
    )
    stack.clock.set(cph(2025, 2, 25, 8, 31))
    assert (await tick(stack)).claimed == 0
