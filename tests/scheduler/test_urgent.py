"""Urgent messages: a caseworker's reason lets a reply or a scheduled SMS through quiet hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bot.base.crypto import unseal
from bot.store.schema.core import cases, journal_entries
from bot.store.schema.scheduler import urgent_sends
from scheduler.store import case_key
from tests.harness import Stack

from .conftest import at, cph, journal_subjects

REASON = "Anbringelsesmødet i morgen er flyttet til kl. 8"


async def _thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _reply(stack: Stack, conv: str, body: str, reason: str) -> str:
    payload = {"body": body, "urgent_reason": reason}
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json=payload)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["id"])


async def _bodies(stack: Stack, prefix: str) -> list[str]:
    return [b for b in await stack.sent_to(stack.world.phones["anna"]) if b.startswith(prefix)]


async def test_scheduled_sms_in_quiet_hours_waits_unless_urgent_at_both_edges(
    stack: Stack,
) -> None:
    """Send-later at 20:00 and at 07:59: plain ones wait for 08:00, urgent ones go on time."""
    conv = await _thread(stack)
    url = f"/api/v1/conversations/{conv}/scheduled"
    plan = [
        (cph(2025, 2, 24, 19, 59), None, cph(2025, 2, 24, 19, 59)),
        (cph(2025, 2, 24, 20, 0), None, cph(2025, 2, 25, 8, 0)),
        (cph(2025, 2, 24, 20, 0), REASON, cph(2025, 2, 24, 20, 0)),
        (cph(2025, 2, 25, 7, 59), None, cph(2025, 2, 25, 8, 0)),
        (cph(2025, 2, 25, 7, 59), REASON, cph(2025, 2, 25, 7, 59)),
    ]
    for wanted, reason, effective in plan:
        body: dict[str, str] = {
            "body": f"Planlagt {wanted:%H:%M}{' haster' if reason else ''}",
            "send_at": wanted.isoformat(),
        }
        if reason:
            body["urgent_reason"] = reason
        resp = await stack.api("POST", url, json=body)
        assert resp.status == 201, await resp.text()
        assert datetime.fromisoformat((await resp.json())["send_at"]) == effective
    await at(stack, cph(2025, 2, 24, 19, 59))
    assert await _bodies(stack, "Planlagt") == ["Planlagt 19:59"]
    await at(stack, cph(2025, 2, 24, 20, 0))
    assert await _bodies(stack, "Planlagt") == ["Planlagt 19:59", "Planlagt 20:00 haster"]
    await at(stack, cph(2025, 2, 25, 7, 59))
    assert await _bodies(stack, "Planlagt") == [
        "Planlagt 19:59",
        "Planlagt 20:00 haster",
        "Planlagt 07:59 haster",
    ]
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert sorted(await _bodies(stack, "Planlagt")) == sorted(
        [
            "Planlagt 19:59",
            "Planlagt 20:00 haster",
            "Planlagt 07:59 haster",
            "Planlagt 20:00",
            "Planlagt 07:59",
        ]
    )


async def test_an_urgent_update_queued_in_quiet_hours_goes_a_plain_one_waits(
    stack: Stack,
) -> None:
    """The relay's own check at 20:00 and 07:59: an urgent update goes, a plain one waits."""
    from bot.domain.outbound import queue_sms
    from scheduler.urgent import mark_urgent

    conv = await _thread(stack)
    cid = stack.world.cases["anna"]
    for when in (cph(2025, 2, 24, 20, 0), cph(2025, 2, 25, 7, 59)):
        stack.clock.set(when)
        async with stack.svc.write() as conn:
            dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == cid))).scalar_one()
            key = case_key(stack.svc, cid, dek)
            for urgent in (False, True):
                mid = await queue_sms(
                    conn,
                    tenant_id=stack.world.tenant_id,
                    conversation_id=conv,
                    case_id=cid,
                    person_id=stack.world.persons["anna"],
                    kind="update",
                    key=key,
                    at=when,
                    body=f"Opdatering {when:%H:%M}{' haster' if urgent else ''}",
                )
                if urgent:
                    await mark_urgent(
                        conn,
                        tenant_id=stack.world.tenant_id,
                        case_id=cid,
                        message_id=mid,
                        staff_id=stack.world.mette,
                        reason=REASON,
                        key=key,
                        at=when,
                    )
        await stack.drain()
    assert await _bodies(stack, "Opdatering") == [
        "Opdatering 20:00 haster",
        "Opdatering 07:59 haster",
    ]
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert sorted(await _bodies(stack, "Opdatering")) == [
        "Opdatering 07:59",
        "Opdatering 07:59 haster",
        "Opdatering 20:00",
        "Opdatering 20:00 haster",
    ]


async def test_a_reply_written_in_quiet_hours_waits_unless_urgent_and_says_when(
    stack: Stack,
) -> None:
    """A caseworker answering at 21:00 on a Monday: the plain reply waits for 08:00 (and the
    answer says so); the urgent one goes at once. At 19:59 a reply goes at once."""
    conv = await _thread(stack)
    url = f"/api/v1/conversations/{conv}/replies"
    stack.clock.set(cph(2025, 2, 24, 19, 59))
    resp = await stack.api("POST", url, json={"body": "Svar kl 19:59"})
    assert resp.status == 201 and (await resp.json())["sends_at"] is None
    await stack.drain()
    await at(stack, cph(2025, 2, 24, 21, 0))
    resp = await stack.api("POST", url, json={"body": "Svar om aftenen"})
    assert resp.status == 201, await resp.text()
    assert datetime.fromisoformat((await resp.json())["sends_at"]) == cph(2025, 2, 25, 8, 0)
    resp = await stack.api("POST", url, json={"body": "Svar haster", "urgent_reason": REASON})
    assert (await resp.json())["sends_at"] is None
    await stack.drain()
    assert await _bodies(stack, "Svar") == ["Svar kl 19:59", "Svar haster"]
    await at(stack, cph(2025, 2, 25, 7, 59))
    assert await _bodies(stack, "Svar") == ["Svar kl 19:59", "Svar haster"]
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert await _bodies(stack, "Svar") == ["Svar kl 19:59", "Svar haster", "Svar om aftenen"]


async def test_urgent_reason_is_journalised_sealed_and_required(stack: Stack) -> None:
    """The reason is filed on the case under its key, with who; a blank reason is 400 and nothing."""
    conv = await _thread(stack)
    cid = stack.world.cases["anna"]
    mid = await _reply(stack, conv, "Ring til os i aften", REASON)
    assert "Besked markeret som hastende: sendes også i stilletiden" in await journal_subjects(
        stack, cid
    )
    async with stack.svc.read() as conn:
        entry = (
            await conn.execute(
                select(journal_entries).where(
                    journal_entries.c.kind == "urgent_send", journal_entries.c.message_id == mid
                )
            )
        ).one()
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == cid))).scalar_one()
        marked = (
            await conn.execute(select(urgent_sends).where(urgent_sends.c.message_id == mid))
        ).one()
    assert REASON.encode() not in entry.content_enc
    key = case_key(stack.svc, cid, dek)
    assert unseal(key.dek, entry.content_enc, f"journal_entries:{entry.id}:content") == REASON
    assert entry.actor == f"staff:{stack.world.mette}"
    assert marked.staff_id == stack.world.mette

    async def count() -> int:
        async with stack.svc.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(urgent_sends))).scalar_one()
            )

    for bad in ("   ", "", 42, "x" * 501):
        resp = await stack.api(
            "POST",
            f"/api/v1/conversations/{conv}/replies",
            json={"body": "Hej", "urgent_reason": bad},
        )
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "urgent_reason_required"
    assert await count() == 1


async def test_urgent_scheduled_sms_says_so_and_goes_at_its_time(stack: Stack) -> None:
    """Send-later at 21:00, urgent: stored for 21:00 and sent then; without reason it waits."""
    conv = await _thread(stack)
    url = f"/api/v1/conversations/{conv}/scheduled"
    wanted = cph(2025, 2, 24, 21, 0)
    resp = await stack.api(
        "POST",
        url,
        json={"body": "Planlagt haster", "send_at": wanted.isoformat(), "urgent_reason": REASON},
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert datetime.fromisoformat(body["send_at"]) == wanted and body["urgent"] is True
    resp = await stack.api("POST", url, json={"body": "Planlagt", "send_at": wanted.isoformat()})
    assert datetime.fromisoformat((await resp.json())["send_at"]) == cph(2025, 2, 25, 8, 0)
    await at(stack, cph(2025, 2, 24, 20, 59))
    assert await _bodies(stack, "Planlagt") == []
    await at(stack, wanted)
    assert await _bodies(stack, "Planlagt") == ["Planlagt haster"]
    await at(stack, cph(2025, 2, 25, 8, 0))
    assert await _bodies(stack, "Planlagt") == ["Planlagt haster", "Planlagt"]


async def test_reminders_are_never_urgent(stack: Stack) -> None:
    """A reminder that the relay finds in quiet hours waits, whatever else is urgent."""
    cid = stack.world.cases["anna"]
    await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/deadlines",
        json={"kind": "andet", "due_on": "2025-03-07", "remind_working_days_before": 1},
    )
    # The reminder is queued at 10:00 Thursday, but the relay is down until 20:30.
    from scheduler.runner import run_due

    stack.clock.set(cph(2025, 3, 6, 10, 0))
    assert (await run_due(stack.svc)).sent == 1
    await at(stack, cph(2025, 3, 6, 20, 30))
    assert await _bodies(stack, "Husk") == []
    async with stack.svc.read() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(urgent_sends))
        ).scalar_one() == 0
    await at(stack, cph(2025, 3, 7, 8, 0))
    assert len(await _bodies(stack, "Husk")) == 1
