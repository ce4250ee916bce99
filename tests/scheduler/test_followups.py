"""Promises kept (or not), nudges to the caseworker, automatic updates, and send-later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.domain.directory import add_participant, create_case, create_person
from bot.store.schema.scheduler import reply_promises
from scheduler.runner import ensure_nudges
from tests.harness import Stack

from .conftest import at, cph, journal_subjects, tick


async def _thread(stack: Stack, who: str, phone: str) -> str:
    await stack.sms(phone, "Hej, hvornår hører jeg noget?")
    items = (await (await stack.api("GET", "/api/v1/conversations", who=who)).json())["items"]
    return str(items[0]["id"])


async def test_promises_kept_and_broken(stack: Stack) -> None:
    """Reminded the day before; unanswered, citizen and lead are told of the delay; answered, nothing."""
    anna, bo = stack.world.phones["anna"], stack.world.phones["bo"]
    conv = await _thread(stack, "mette", anna)
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/promise", json={"due": "2025-02-26"}
    )
    assert resp.status == 201, await resp.text()
    # Bo has two cases: answering "1" files his SMS on the children's case.
    await stack.sms(bo, "Hej")
    await stack.sms(bo, "1")
    threads = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    bo_conv = next(t["id"] for t in threads if t["case_number"] == "2025-002")
    await stack.api("POST", f"/api/v1/conversations/{bo_conv}/promise", json={"due": "2025-02-27"})
    stack.clock.set(cph(2025, 2, 24, 11, 0))
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{bo_conv}/replies", json={"body": "Svar"}
    )
    assert resp.status == 201

    await at(stack, cph(2025, 2, 25, 10, 0))
    tasks = (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]
    assert [(t["kind"], t["title"]) for t in tasks] == [
        ("promise_due", "Du har lovet borgeren svar senest onsdag den 26. februar")
    ]
    sent_before = len(await stack.sent_to(anna))
    await at(stack, cph(2025, 2, 26, 23, 0))
    assert len(await stack.sent_to(anna)) == sent_before  # not before the day is over, not at night
    await at(stack, cph(2025, 2, 27, 8, 0))
    assert (await stack.sent_to(anna))[-1] == (
        "Vi beklager: Svaret til dig er forsinket. Du hører fra os senest mandag den 3. marts."
    )
    lead = (await (await stack.api("GET", "/api/v1/tasks", who="hanne")).json())["items"]
    assert ("promise_broken", stack.world.hanne) in [(t["kind"], t["staff_id"]) for t in lead]
    assert any(
        s.startswith("Lovet svar ikke givet senest onsdag den 26. februar")
        for s in await journal_subjects(stack, stack.world.cases["anna"])
    )

    await at(stack, cph(2025, 2, 28, 9, 0))
    assert not any(b.startswith("Vi beklager") for b in await stack.sent_to(bo))
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(
                select(reply_promises.c.status).where(reply_promises.c.conversation_id == bo_conv)
            )
        ).scalar_one()
    assert status == "kept"
    mine = [t["kind"] for t in (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]]
    assert mine == ["promise_due"]  # Anna's only: none for Bo's kept promise


async def test_no_news_nudges_the_caseworker_once_and_one_click_sends_the_update(
    stack: Stack,
) -> None:
    """Ten quiet working days: one task; its one-click action sends "still working … uge N"."""
    cid = stack.world.cases["anna"]
    await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    await at(stack, cph(2025, 3, 6, 10, 0))
    assert (await (await stack.api("GET", "/api/v1/tasks")).json())["items"] == []
    await at(stack, cph(2025, 3, 7, 10, 0))
    await at(stack, cph(2025, 3, 7, 11, 0))
    tasks = (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]
    assert [(t["kind"], t["title"]) for t in tasks] == [
        ("nudge", "Ingen opdatering til borgeren i 10 arbejdsdage")
    ]
    assert "send_still_working" in tasks[0]["actions"]
    resp = await stack.api("POST", f"/api/v1/tasks/{tasks[0]['id']}/send-still-working")
    assert resp.status == 200, await resp.text()
    await stack.drain()
    assert await stack.sent_to(stack.world.phones["anna"]) == [
        "Vi arbejder stadig på din sag. Næste skridt er: Vi behandler din sag. "
        "Vi forventer at kunne svare dig i uge 12."
    ]
    # The update counts as news: no new nudge for another ten working days.
    await at(stack, cph(2025, 3, 20, 10, 0))
    assert (await (await stack.api("GET", "/api/v1/tasks")).json())["items"] == []
    await at(stack, cph(2025, 3, 21, 10, 0))
    assert len((await (await stack.api("GET", "/api/v1/tasks")).json())["items"]) == 1


async def test_a_case_type_with_automatic_updates_sends_them_itself(stack: Stack) -> None:
    """Kontanthjælp: after five quiet working days the update goes out by itself, not at night."""
    svc, w = stack.svc, stack.world
    async with svc.write() as c:
        person = await create_person(
            c,
            svc,
            tenant_id=w.tenant_id,
            name="Gitte Gram",
            first_name="Gitte",
            phone="+4520123409",
        )
        case = await create_case(
            c,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_jobs,
            team_id=w.team_jobs,
            owner_id=w.lars,
            number="2025-101",
            case_type="kontanthjaelp",
        )
        await add_participant(
            c, svc, tenant_id=w.tenant_id, case_id=case, person_id=person, role="party"
        )
    assert await ensure_nudges(svc) >= 1
    assert await ensure_nudges(svc) == 0
    await tick(stack)
    await at(stack, cph(2025, 2, 28, 9, 0))
    assert await stack.sent_to("+4520123409") == []
    await at(stack, cph(2025, 2, 28, 10, 0))
    assert await stack.sent_to("+4520123409") == [
        "Vi arbejder stadig på din sag. Vi forventer at kunne svare dig i uge 10."
    ]
    await at(stack, cph(2025, 3, 3, 10, 0))
    assert len(await stack.sent_to("+4520123409")) == 1


async def test_send_later_respects_quiet_hours_and_can_be_withdrawn(stack: Stack) -> None:
    """19:59 goes at 19:59, 20:00 waits for 08:00, Saturday night waits for Monday; DELETE stops one."""
    anna = stack.world.phones["anna"]
    conv = await _thread(stack, "mette", anna)
    url = f"/api/v1/conversations/{conv}/scheduled"
    expected = {
        cph(2025, 2, 25, 19, 59): cph(2025, 2, 25, 19, 59),
        cph(2025, 2, 25, 20, 0): cph(2025, 2, 26, 8, 0),
        cph(2025, 2, 22, 21, 0): cph(2025, 2, 24, 8, 0),
    }
    ids = {}
    for wanted, effective in expected.items():
        resp = await stack.api(
            "POST", url, json={"body": f"Besked {wanted:%d %H:%M}", "send_at": wanted.isoformat()}
        )
        assert resp.status == 201, await resp.text()
        body = await resp.json()
        assert datetime.fromisoformat(body["send_at"]) == effective
        ids[wanted] = body["id"]
    listed = (await (await stack.api("GET", url)).json())["items"]
    assert len(listed) == 3
    resp = await stack.api("DELETE", f"{url}/{ids[cph(2025, 2, 25, 20, 0)]}")
    assert resp.status == 204
    await at(stack, cph(2025, 2, 24, 7, 59))
    assert not [b for b in await stack.sent_to(anna) if b.startswith("Besked")]
    await at(stack, cph(2025, 2, 24, 8, 0))
    assert [b for b in await stack.sent_to(anna) if b.startswith("Besked")] == ["Besked 22 21:00"]
    await at(stack, cph(2025, 2, 25, 19, 59))
    await at(stack, cph(2025, 2, 26, 8, 0))
    bodies = [b for b in await stack.sent_to(anna) if b.startswith("Besked")]
    assert bodies == ["Besked 22 21:00", "Besked 25 19:59"]
    resp = await stack.api("DELETE", f"{url}/{ids[cph(2025, 2, 25, 19, 59)]}")
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "already_sent")
