"""Never unanswered: absences, substitutes, duty rosters, urgent triage and escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.clock import COPENHAGEN
from bot.domain.escalation import escalate_due
from bot.domain.guarantee import guarantee_tick
from bot.domain.staffing import absence_notices_tick
from bot.store.schema.core import absences, duty_overrides, journal_entries, messages
from tests.harness import Stack

MONDAY = "2025-02-24"


async def absent(
    stack: Stack,
    who: str,
    starts: str,
    ends: str,
    *,
    by: str = "hanne",
    substitute: str | None = None,
    reason: str | None = "Ferie",
) -> Any:
    body: dict[str, Any] = {
        "staff_id": getattr(stack.world, who),
        "starts_on": starts,
        "ends_on": ends,
        "reason": reason,
    }
    if substitute:
        body["substitute_id"] = getattr(stack.world, substitute)
    return await stack.api("POST", "/api/v1/absences", who=by, json=body)


async def receipt(stack: Stack, number: str) -> str:
    await stack.drain()
    return (await stack.sent_to(number))[-1]


async def set_roster(stack: Stack, who: str) -> None:
    resp = await stack.api(
        "PUT",
        f"/api/v1/teams/{stack.world.team_children}/rotation",
        who="hanne",
        json={"rotation": {str(d): getattr(stack.world, who) for d in range(5)}},
    )
    assert resp.status == 200, await resp.text()


async def work_phones(stack: Stack) -> dict[str, str]:
    phones = {"mette": "+4522334401", "sofie": "+4522334402", "hanne": "+4522334403"}
    for who, phone in phones.items():
        resp = await stack.api(
            "PUT",
            f"/api/v1/staff/{getattr(stack.world, who)}/work-phone",
            who="hanne",
            json={"phone": phone},
        )
        assert resp.status == 204, await resp.text()
    resp = await stack.api(
        "PUT",
        f"/api/v1/teams/{stack.world.team_children}/hours",
        who="hanne",
        json={"after_hours_phone": "+4533173333"},
    )
    assert resp.status == 200, await resp.text()
    return {**phones, "after_hours": "+4533173333"}


async def test_absent_caseworker_routes_to_substitute_and_receipt_tells_the_truth(
    stack: Stack,
) -> None:
    """Mette is away with Sofie as substitute: the message moves to Sofie, the receipt says so."""
    resp = await absent(stack, "mette", "2025-02-20", "2025-02-28", substitute="sofie")
    assert resp.status == 201, await resp.text()
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert await receipt(stack, stack.world.phones["anna"]) == (
        "Tak for din besked. Din sagsbehandler er fraværende til mandag den 3. marts. Din besked er "
        "sendt til Sofie, som svarer dig senest tirsdag den 25. februar."
    )
    items = (await (await stack.api("GET", "/api/v1/conversations", who="sofie")).json())["items"]
    assert [(i["case_number"], i["group"]) for i in items] == [("2025-001", "covering")]
    assert "Ferie" not in " ".join(await stack.sent_to(stack.world.phones["anna"]))


async def test_thread_with_open_messages_for_two_owners_is_in_both_lists(stack: Stack) -> None:
    """One open message still with Mette, a newer one routed to Sofie: each sees the thread as theirs."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    resp = await absent(stack, "mette", "2025-02-20", "2025-02-28", substitute="sofie")
    assert resp.status == 201, await resp.text()
    await stack.sms(stack.world.phones["anna"], "Hej igen")
    await stack.drain()
    async with stack.svc.read() as conn:
        owners = set(
            (
                await conn.execute(
                    select(messages.c.owner_id).where(messages.c.awaiting_reply.is_(True))
                )
            ).scalars()
        )
    assert owners == {stack.world.mette, stack.world.sofie}
    for who, group in (("mette", "mine"), ("sofie", "covering")):
        items = (await (await stack.api("GET", "/api/v1/conversations", who=who)).json())["items"]
        assert [(i["case_number"], i["group"]) for i in items] == [("2025-001", group)], who


async def test_absence_starting_tomorrow_does_not_move_todays_message(stack: Stack) -> None:
    """An absence from tomorrow leaves today's message with the caseworker."""
    await absent(stack, "mette", "2025-02-22", "2025-03-07", substitute="sofie")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await receipt(stack, stack.world.phones["anna"])).startswith(
        "Tak for din besked. Mette"
    )


async def test_substitute_also_away_goes_to_the_colleague_on_duty(stack: Stack) -> None:
    """When the substitute is away too, the roster's colleague on duty answers."""
    await set_roster(stack, "sofie")
    await absent(stack, "mette", "2025-02-20", "2025-02-24", substitute="hanne")
    await absent(stack, "hanne", "2025-02-21", "2025-02-21", by="hanne")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert "sendt til Sofie" in await receipt(stack, stack.world.phones["anna"])


async def test_roster_gap_lands_in_the_fallback_queue_and_is_reported(stack: Stack) -> None:
    """Nobody available: the message reaches the team's fallback queue, the gap is journalised."""
    await absent(stack, "mette", "2025-02-21", "2025-02-21")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert await receipt(stack, stack.world.phones["anna"]) == (
        "Tak for din besked. Din sagsbehandler er fraværende til mandag den 24. februar. En kollega "
        "svarer dig senest tirsdag den 25. februar."
    )
    items = (await (await stack.api("GET", "/api/v1/conversations", who="hanne")).json())["items"]
    assert [i["group"] for i in items] == ["team_unassigned"]
    async with stack.svc.read() as conn:
        subjects = list((await conn.execute(select(journal_entries.c.subject))).scalars())
    assert "Ingen tilgængelig: besked lagt i teamets fælles kø" in subjects
    report = await (
        await stack.api(
            "GET",
            f"/api/v1/teams/{stack.world.team_children}/roster?from=2025-02-24&days=7",
            who="hanne",
        )
    ).json()
    assert [g["day"] for g in report["gaps"]] == [
        "2025-02-24",
        "2025-02-25",
        "2025-02-26",
        "2025-02-27",
        "2025-02-28",
    ]


async def test_message_at_1559_and_1601(stack: Stack) -> None:
    """15:59 counts from that day, 16:01 from the next working day."""
    stack.clock.set(datetime(2025, 2, 20, 15, 59, tzinfo=COPENHAGEN))  # Thursday
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await receipt(stack, stack.world.phones["anna"])).endswith("mandag den 24. februar.")
    stack.clock.set(datetime(2025, 2, 20, 16, 1, tzinfo=COPENHAGEN))
    await stack.sms(stack.world.phones["shared_same"], "Hej")
    assert (await receipt(stack, stack.world.phones["shared_same"])).endswith(
        "tirsdag den 25. februar."
    )


async def test_full_escalation_chain_until_acknowledged(stack: Stack) -> None:
    """Unacknowledged urgent SMS: owner paged, then on duty, lead, after-hours line; OK stops it."""
    phones = await work_phones(stack)
    await set_roster(stack, "sofie")
    await stack.sms(stack.world.phones["anna"], "Det haster, min søn er forsvundet")
    await stack.drain()
    page = (await stack.sent_to(phones["mette"]))[-1]
    assert "akut" in page and "forsvundet" not in page
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert items[0]["urgent"] is True
    for step, who in ((1, "sofie"), (2, "hanne"), (3, "after_hours")):
        assert await escalate_due(stack.svc) == 0  # not yet
        stack.clock.advance(minutes=15, seconds=1)
        assert await escalate_due(stack.svc) == 1, step
        await stack.drain()
        assert len(await stack.sent_to(phones[who])) == 1, who
    # The after-hours line answers OK: escalation stops.
    resp = await stack.sms(phones["after_hours"], "OK")
    assert resp.status == 200
    stack.clock.advance(minutes=30)
    assert await escalate_due(stack.svc) == 0
    async with stack.svc.read() as conn:
        kinds = list(
            (
                await conn.execute(
                    select(journal_entries.c.kind)
                    .where(journal_entries.c.kind.in_(["urgent", "escalation", "acknowledged"]))
                    .order_by(journal_entries.c.seq)
                )
            ).scalars()
        )
    assert kinds == ["urgent", "escalation", "escalation", "escalation", "acknowledged"]


async def test_acknowledging_in_the_api_stops_escalation(stack: Stack) -> None:
    """One API call by the caseworker acknowledges; nothing escalates afterwards."""
    await stack.sms(stack.world.phones["anna"], "AKUT")
    async with stack.svc.read() as conn:
        mid = (
            await conn.execute(select(messages.c.id).where(messages.c.urgent.is_(True)))
        ).scalar_one()
    resp = await stack.api("POST", f"/api/v1/messages/{mid}/acknowledge")
    assert resp.status == 200 and (await resp.json())["changed"] is True
    other = await stack.api("POST", f"/api/v1/messages/{mid}/acknowledge", who="lars")
    assert other.status == 404
    stack.clock.advance(hours=2)
    assert await escalate_due(stack.svc) == 0


async def test_ok_from_work_phone_acknowledges(stack: Stack) -> None:
    """A caseworker answering "OK" from the registered work phone acknowledges their page."""
    phones = await work_phones(stack)
    await stack.sms(stack.world.phones["anna"], "selvmordstanker")
    await stack.sms(phones["mette"], "ok")
    async with stack.svc.read() as conn:
        row = (
            await conn.execute(
                select(messages.c.acknowledged_by).where(messages.c.urgent.is_(True))
            )
        ).one()
    assert row.acknowledged_by == stack.world.mette


async def test_escalation_resumes_after_restart(stack: Stack) -> None:
    """A restart mid-escalation resumes at the next level; it neither restarts nor vanishes."""
    phones = await work_phones(stack)
    await set_roster(stack, "sofie")
    await stack.sms(stack.world.phones["anna"], "AKUT hjælp")
    stack.clock.advance(minutes=16)
    assert await escalate_due(stack.svc) == 1  # → Sofie
    await stack.client.close()
    app = create_app(stack.config, clock=stack.clock)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        svc2 = app[SERVICES]
        stack.clock.advance(minutes=16)
        assert await escalate_due(svc2) == 1  # → Hanne, not Sofie again
        from bot.domain.outbox import drain

        await drain(svc2)
    finally:
        await runner.cleanup()
    assert len(await stack.sent_to(phones["hanne"])) == 1
    assert len(await stack.sent_to(phones["sofie"])) == 1


async def test_urgent_outside_opening_hours_gives_112_and_after_hours(stack: Stack) -> None:
    """At night an urgent receipt gives 112, the after-hours line, and when they hear back
    (the next working day: urgent is due the day it can first be acted on)."""
    await work_phones(stack)
    stack.clock.set(datetime(2025, 2, 21, 22, 30, tzinfo=COPENHAGEN))
    await stack.sms(stack.world.phones["anna"], "Han slår mig")
    assert await receipt(stack, stack.world.phones["anna"]) == (
        "Tak for din besked. Mette svarer dig senest mandag den 24. februar. Er det akut, så "
        "ring 112. Du kan også ringe til kommunens døgnvagt på +45 33 17 33 33."
    )


async def test_reply_guarantee_reminds_then_reports_breach_to_lead(stack: Stack) -> None:
    """Before the deadline the owner is reminded; after it, the lead is told and it is filed."""
    phones = await work_phones(stack)
    await stack.sms(stack.world.phones["anna"], "Hej")
    stack.clock.set(datetime(2025, 2, 25, 12, 30, tzinfo=COPENHAGEN))
    assert await guarantee_tick(stack.svc) == (1, 0)
    stack.clock.set(datetime(2025, 2, 25, 16, 1, tzinfo=COPENHAGEN))
    assert await guarantee_tick(stack.svc) == (0, 1)
    assert await guarantee_tick(stack.svc) == (0, 0)
    await stack.drain()
    assert "Svarfristen udløber" in (await stack.sent_to(phones["mette"]))[-1]
    assert "overskredet" in (await stack.sent_to(phones["hanne"]))[-1]


async def test_an_urgent_message_is_not_paged_twice_by_the_reply_guarantee(stack: Stack) -> None:
    """Urgent at 13:00 (due 16:00): one page, no "Svarfristen udløber snart" seconds later."""
    phones = await work_phones(stack)
    stack.clock.set(datetime(2025, 2, 24, 13, 0, tzinfo=COPENHAGEN))
    await stack.sms(stack.world.phones["anna"], "hjælp han slår mig")
    await stack.drain()
    stack.clock.advance(seconds=15)
    assert await guarantee_tick(stack.svc) == (1, 0)  # counted as reminded: never picked again
    await stack.drain()
    assert not any("Svarfristen" in b for b in await stack.sent_to(phones["mette"]))
    assert len(await stack.sent_to(phones["mette"])) == 1


async def test_reply_stats_per_week_as_json_and_csv(stack: Stack) -> None:
    """Share within the guarantee and time to first reply, per team and week."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    stack.clock.advance(hours=3)
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svar"})
    await stack.sms(stack.world.phones["shared_same"], "Hej")
    path = f"/api/v1/teams/{stack.world.team_children}/reply-stats?from=2025-02-17&to=2025-02-23"
    rows = (await (await stack.api("GET", path, who="hanne")).json())["items"]
    assert rows == [
        {
            "week": "2025-W08",
            "messages": 2,
            "answered": 1,
            "within_guarantee": 1,
            # Of the messages answered or past due: the second is still within its time.
            "share_within_guarantee": 1.0,
            "median_hours_to_reply": 3.0,
            "p90_hours_to_reply": 3.0,
            "not_yet_due": 1,
        }
    ]
    csv_text = await (await stack.api("GET", path + "&format=csv", who="hanne")).text()
    assert csv_text.splitlines()[1] == "2025-W08,2,1,1,1.0,3.0,3.0,1"
    # Once its reply-by has run out unanswered, it counts against the share.
    stack.clock.advance(days=7)
    rows = (await (await stack.api("GET", path, who="hanne")).json())["items"]
    assert (rows[0]["share_within_guarantee"], rows[0]["not_yet_due"]) == (0.5, 0)
    assert (await stack.api("GET", path, who="mette")).status == 404


async def test_close_with_note_ends_the_guarantee(stack: Stack) -> None:
    """Closing with a note (handled by phone) closes the thread and files the note."""
    await stack.sms(stack.world.phones["anna"], "Ring mig")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/close", json={"note": "Ringet op, aftalt møde"}
    )
    assert resp.status == 200
    assert (await (await stack.api("GET", "/api/v1/conversations")).json())["items"] == []


async def test_new_caseworker_and_long_absence_tell_the_citizen_once(stack: Stack) -> None:
    """A new owner is announced; an absence longer than the guarantee names the contact once."""
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/owner",
        who="hanne",
        json={"owner_id": stack.world.sofie},
    )
    assert resp.status == 200, await resp.text()
    assert await receipt(stack, stack.world.phones["anna"]) == (
        "Din sag har fået en ny kontaktperson: Sofie. Du kan skrive til Sofie her på samme nummer."
    )
    await absent(stack, "mette", "2025-02-21", "2025-03-14", substitute="sofie")
    assert await absence_notices_tick(stack.svc) == 4  # Bo, Carl, Eva and Frank
    assert await absence_notices_tick(stack.svc) == 0
    assert (await receipt(stack, stack.world.phones["bo"])) == (
        "Din sagsbehandler er fraværende til mandag den 17. marts. Imens er Sofie din kontaktperson. "
        "Du kan skrive her på samme nummer."
    )


async def test_ical_import_creates_and_updates_absences(stack: Stack) -> None:
    """Absences come from an iCalendar file; re-importing the same UID updates, not duplicates."""
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:ferie-1\r\n"
        "DTSTART;VALUE=DATE:20250303\r\nDTEND;VALUE=DATE:20250308\r\nSUMMARY:Ferie\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    path = f"/api/v1/staff/{stack.world.mette}/absences/ical"
    resp = await stack.api("POST", path, data=ics, headers={"Content-Type": "text/calendar"})
    assert (await resp.json()) == {"created": 1, "updated": 0}
    resp = await stack.api(
        "POST",
        path,
        data=ics.replace("20250308", "20250310"),
        headers={"Content-Type": "text/calendar"},
    )
    assert (await resp.json()) == {"created": 0, "updated": 1}
    items = (await (await stack.api("GET", f"/api/v1/staff/{stack.world.mette}/absences")).json())[
        "items"
    ]
    assert [(i["starts_on"], i["ends_on"], i["reason"]) for i in items] == [
        ("2025-03-03", "2025-03-09", "Ferie")
    ]
    bad = await stack.api(
        "POST", path, data="not a calendar", headers={"Content-Type": "text/calendar"}
    )
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_ical"


async def test_bad_staffing_input_is_refused_and_writes_nothing(stack: Stack) -> None:
    """Backwards ranges, overlapping overrides, foreign substitutes, unknown teams: 4xx codes."""
    resp = await absent(stack, "mette", "2025-03-05", "2025-03-01")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_date_range"
    resp = await absent(stack, "mette", "2025-03-01", "03/05/2025")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_date"
    from bot.domain.directory import create_administration, create_staff, create_team, create_tenant

    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(c, svc, slug="x", name="X Kommune", sms_number="+4533123456")
        a = await create_administration(c, svc, tenant_id=t, name="A")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="T")
        foreign = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="F", full_name="F"
        )
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="mette",
        json={"starts_on": "2025-03-01", "ends_on": "2025-03-02", "substitute_id": foreign},
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "substitute_not_found"
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="mette",
        json={"staff_id": stack.world.lars, "starts_on": "2025-03-01", "ends_on": "2025-03-02"},
    )
    assert resp.status == 404  # a caseworker cannot register someone else's absence
    path = f"/api/v1/teams/{stack.world.team_children}/overrides"
    ok = await stack.api(
        "POST", path, who="hanne", json={"day": MONDAY, "staff_id": stack.world.sofie}
    )
    assert ok.status == 201
    clash = await stack.api(
        "POST", path, who="hanne", json={"day": MONDAY, "staff_id": stack.world.mette}
    )
    assert clash.status == 409 and (await clash.json())["error"]["code"] == "duty_override_exists"
    resp = await stack.api(
        "POST",
        f"/api/v1/teams/{team}/overrides",
        who="hanne",
        json={"day": MONDAY, "staff_id": stack.world.sofie},
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "team_not_found"
    resp = await stack.api(
        "PUT",
        f"/api/v1/teams/{stack.world.team_children}/hours",
        who="mette",
        json={"opens_at": "09:00"},
    )
    assert resp.status == 403
    resp = await stack.api(
        "PUT",
        f"/api/v1/teams/{stack.world.team_children}/hours",
        who="hanne",
        json={"opens_at": "17:00"},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_time_range"
    async with svc.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(absences))).scalar_one() == 0
        assert (
            await conn.execute(select(func.count()).select_from(duty_overrides))
        ).scalar_one() == 1


async def test_urgent_at_night_pages_the_after_hours_line_at_once(stack: Stack) -> None:
    """Closed: the after-hours line is paged straight away, not the off-duty caseworker.

    Escalation goes on from the after-hours line; the caseworker hears of it at opening.
    """
    phones = await work_phones(stack)
    stack.clock.set(datetime(2025, 2, 21, 22, 30, tzinfo=COPENHAGEN))  # Friday night
    await stack.sms(stack.world.phones["anna"], "Han slår mig, hjælp")
    await stack.drain()
    night = await stack.sent_to(phones["after_hours"])
    assert len(night) == 1 and "akut" in night[0] and "slår" not in night[0]
    assert await stack.sent_to(phones["mette"]) == []
    # Nobody acknowledges: the line is paged again, never the caseworker at home.
    stack.clock.advance(minutes=15, seconds=1)
    assert await escalate_due(stack.svc) == 1
    await stack.drain()
    assert len(await stack.sent_to(phones["after_hours"])) == 2
    assert await stack.sent_to(phones["mette"]) == []
    # Monday at opening Mette is told (the weekend is not working days).
    stack.clock.set(datetime(2025, 2, 24, 8, 0, 1, tzinfo=COPENHAGEN))
    await stack.drain()
    told = await stack.sent_to(phones["mette"])
    assert len(told) == 1 and "mens du var væk" in told[0]
    async with stack.svc.read() as conn:
        subjects = list(
            (
                await conn.execute(
                    select(journal_entries.c.subject)
                    .where(journal_entries.c.kind == "routed")
                    .order_by(journal_entries.c.seq)
                )
            ).scalars()
        )
    assert subjects == ["Akut uden for åbningstid: døgnvagten kaldt straks"]


async def test_urgent_while_away_pages_the_substitute_and_tells_the_owner_when_back(
    stack: Stack,
) -> None:
    """Away: whoever stands in is paged at once; the caseworker is told on their first day back."""
    phones = await work_phones(stack)
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))  # Monday
    resp = await absent(stack, "mette", MONDAY, "2025-02-25", substitute="sofie")
    assert resp.status == 201, await resp.text()
    await stack.sms(stack.world.phones["anna"], "Min søn er forsvundet, ring nu")
    await stack.drain()
    assert len(await stack.sent_to(phones["sofie"])) == 1
    assert await stack.sent_to(phones["mette"]) == []
    stack.clock.set(datetime(2025, 2, 26, 8, 0, 1, tzinfo=COPENHAGEN))  # Wednesday, back
    await stack.drain()
    told = await stack.sent_to(phones["mette"])
    assert len(told) == 1 and "mens du var væk" in told[0]


async def test_a_reply_picks_an_urgent_message_up(stack: Stack) -> None:
    """Answering an urgent message acknowledges it (journalised): nothing escalates after."""
    await work_phones(stack)
    await stack.sms(stack.world.phones["anna"], "AKUT ring til mig")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{items[0]['id']}/replies", json={"body": "Jeg ringer nu."}
    )
    assert resp.status == 201, await resp.text()
    stack.clock.advance(minutes=16)
    assert await escalate_due(stack.svc) == 0
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.urgent.is_(True)))).one()
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
    assert row.acknowledged_by == stack.world.mette and "acknowledged" in kinds
