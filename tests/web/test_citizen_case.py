"""The family's case page: upcoming meetings as .ics, and the case's timeline in plain words."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar

from bot.domain import citizen, sessions
from scheduler.runner import run_due
from scheduler.store import conversation_for
from scheduler.templates import CASE_TYPES
from tests.harness import Stack
from tests.web.conftest import citizen_login


async def _anna_thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår ses vi?")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _meeting(stack: Stack, case: str = "anna", **extra: object) -> dict[str, object]:
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases[case]}/appointments",
        json={
            "starts_at": "2025-03-04T10:00:00+01:00",
            "ends_at": "2025-03-04T11:00:00+01:00",
            "place": "Rådhuset, lokale 12",
            **extra,
        },
    )
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def test_meeting_downloads_as_a_valid_ics(stack: Stack) -> None:
    """'Føj til kalender' gives an RFC 5545 file with the meeting's time and, at the SMS-code
    level too, its place: the reminder SMS names it."""
    conv = await _anna_thread(stack)
    appt = await _meeting(stack)
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Dine møder" in html and "Føj til kalender" in html
    assert "Møde tirsdag den 4. marts kl. 10:00–11:00" in html
    # The SMS-code login sees what the reminders say, no more: the place, no MitID hint.
    assert (
        "Sted: <bdi>Rådhuset, lokale 12</bdi>" in html and "Log ind med MitID for at se" not in html
    )
    link = f"/borger/samtaler/{conv}/moeder/{appt['id']}.ics"
    assert f'href="{link}"' in html
    resp = await stack.client.get(link)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in resp.headers["Content-Disposition"]
    cal = Calendar.from_ical(await resp.read())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1 and str(cal["METHOD"]) == "PUBLISH"
    event = events[0]
    assert str(event["UID"]) == f"{appt['id']}@tovholder"
    assert event.decoded("DTSTART") == datetime.fromisoformat("2025-03-04T10:00:00+01:00")
    assert event.decoded("DTEND") == datetime.fromisoformat("2025-03-04T11:00:00+01:00")
    assert str(event["SUMMARY"]) == "Møde med Københavns Kommune"
    assert str(event["DESCRIPTION"]) == "Sag 2025-001"
    assert str(event["LOCATION"]) == "Rådhuset, lokale 12"

    await stack.client.get(f"/borger/samtaler/{conv}?lang=en")
    cal = Calendar.from_ical(await (await stack.client.get(link)).read())
    assert str(next(iter(cal.walk("VEVENT")))["SUMMARY"]) == "Meeting with Københavns Kommune"


async def test_someone_elses_meeting_is_not_found(stack: Stack) -> None:
    """Another family's appointment, through their own or the other's thread, is a 404."""
    conv = await _anna_thread(stack)
    appt = await _meeting(stack)
    async with stack.svc.write() as c:
        bo_conv = await conversation_for(
            c,
            tenant_id=stack.world.tenant_id,
            case_id=stack.world.cases["bo_children"],
            person_id=stack.world.persons["bo"],
            at=stack.clock.now(),
        )
    await citizen_login(stack, stack.world.phones["bo"])
    for path in (
        f"/borger/samtaler/{conv}/moeder/{appt['id']}.ics",
        f"/borger/samtaler/{bo_conv}/moeder/{appt['id']}.ics",
        f"/borger/samtaler/{bo_conv}/moeder/nope.ics",
    ):
        resp = await stack.client.get(path)
        assert resp.status == 404 and "Siden findes ikke" in await resp.text(), path
    html = await (await stack.client.get(f"/borger/samtaler/{bo_conv}")).text()
    assert "Føj til kalender" not in html


async def test_meeting_not_for_this_person_is_not_shown(stack: Stack) -> None:
    """On a shared case, a meeting only for Eva is not on Frank's page and not his to download."""
    async with stack.svc.write() as c:
        frank_conv = await conversation_for(
            c,
            tenant_id=stack.world.tenant_id,
            case_id=stack.world.cases["eriksen"],
            person_id=stack.world.persons["frank"],
            at=stack.clock.now(),
        )
    appt = await _meeting(stack, "eriksen", attendees=[stack.world.persons["eva"]])
    # Eva and Frank share one phone: the SMS-code login sees both their threads.
    await citizen_login(stack, stack.world.phones["shared_same"])
    html = await (await stack.client.get(f"/borger/samtaler/{frank_conv}")).text()
    assert "Føj til kalender" not in html
    resp = await stack.client.get(f"/borger/samtaler/{frank_conv}/moeder/{appt['id']}.ics")
    assert resp.status == 404


async def test_timeline_shows_done_now_and_next_in_the_family_language(stack: Stack) -> None:
    """'Din sag trin for trin': the steps in plain words, the next one with its expected date."""
    conv = await _anna_thread(stack)
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    assert resp.status == 201, await resp.text()
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Din sag trin for trin" in html
    steps = html[html.index('id="timeline-heading"') :]
    steps = steps[: steps.index("</ol>")]
    assert steps.index("Vi har modtaget din sag") < steps.index("Vi behandler din sag")
    assert steps.index("Vi behandler din sag") < steps.index("Afgørelse")
    assert "Færdig" in steps and 'aria-current="step"' in steps and "Nu" in steps
    assert "Forventet fredag den 21. marts" in steps
    html = await (await stack.client.get(f"/borger/samtaler/{conv}?lang=uk")).text()
    assert "Ваша справа крок за кроком" in html and "Ми працюємо над вашою справою" in html
    html = await (await stack.client.get(f"/borger/samtaler/{conv}?lang=ar")).text()
    assert 'dir="rtl"' in html and "قضيتك خطوة بخطوة" in html and "القرار" in html


def test_every_step_title_is_in_the_catalogues() -> None:
    """A new case type's step must be added to citizen.STEP_TITLES (and so translated)."""
    titles = {s.title["da"] for p in CASE_TYPES.values() for s in p.steps}
    assert titles <= citizen.STEP_TITLES


async def test_stronger_login_sees_the_place_too(stack: Stack) -> None:
    """Above the SMS-code level (e.g. MitID), the page and the .ics carry the meeting's place."""
    conv = await _anna_thread(stack)
    appt = await _meeting(stack)
    token, _session = await sessions.create(
        stack.svc,
        tenant_id=stack.world.tenant_id,
        kind="citizen",
        stage="full",
        assurance="substantial",
        phone_index=stack.svc.blind_index(stack.world.phones["anna"]),
    )
    stack.client.session.cookie_jar.update_cookies({"tvh_session": token})
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Sted: <bdi>Rådhuset, lokale 12</bdi>" in html
    ics = await (await stack.client.get(f"/borger/samtaler/{conv}/moeder/{appt['id']}.ics")).read()
    event = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
    assert str(event["LOCATION"]) == "Rådhuset, lokale 12"


async def test_the_place_a_code_login_sees_is_the_one_the_reminder_sends(stack: Stack) -> None:
    """The reminder SMS to Anna's phone says "Sted: …"; a login with a code sent to that phone
    sees the same place under "Dine møder", and nothing more (no video link)."""
    conv = await _anna_thread(stack)
    await _meeting(stack, video_url="https://video.example/hemmelig")
    stack.clock.set(datetime.fromisoformat("2025-03-03T10:00:00+01:00"))  # a working day before
    await run_due(stack.svc)
    await stack.drain()
    reminders = [b for b in await stack.sent_to(stack.world.phones["anna"]) if "Påmindelse" in b]
    assert len(reminders) == 1 and "Sted: Rådhuset, lokale 12." in reminders[0]
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Sted: <bdi>Rådhuset, lokale 12</bdi>" in html
    assert "video.example" not in html
