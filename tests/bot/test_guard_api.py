"""The decision guard on the caseworker's API and at the send-time gate (SQLite and PostgreSQL).

What reached a phone is read back from the gateway simulator, not from what was stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain import outbound, reply_templates
from bot.domain.guard import DecisionNotAllowed
from bot.store.schema.core import journal_entries, messages, outbox
from tests.harness import Stack

DECISION = "Afgørelse: Du får afslag på din ansøgning om boligstøtte."


async def _thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, har I fået mine papirer?")
    resp = await stack.api("GET", "/api/v1/conversations")
    return str((await resp.json())["items"][0]["id"])


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def _rows(stack: Stack) -> tuple[int, int, int]:
    return (
        await _count(stack, messages),
        await _count(stack, outbox),
        # Outbound SMS filed; delivery receipts may land at any time.
        await _count(stack, journal_entries, journal_entries.c.kind.like("sms_out_%")),
    )


async def test_a_decision_reply_is_refused_however_flagged_and_nothing_goes(stack: Stack) -> None:
    """Without ticking "decision", or flagged as guidance, the text is read: 400, nothing queued,
    nothing at the gateway; the plain reply after it still goes."""
    conv = await _thread(stack)
    await stack.drain()
    seen = len(await stack.sent())
    before = await _rows(stack)
    for nature in ("message", "guidance", "decision"):
        resp = await stack.api(
            "POST",
            f"/api/v1/conversations/{conv}/replies",
            json={"body": DECISION, "nature": nature},
        )
        body = await resp.json()
        assert resp.status == 400, (nature, body)
        assert body["error"]["code"] == "decision_not_allowed"
        assert "Digital Post" in body["error"]["message"]
    assert await _rows(stack) == before
    await stack.drain()
    assert len(await stack.sent()) == seen
    plain = "Ja, vi har fået dine papirer. Du hører fra os inden fredag."
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": plain})
    assert resp.status == 201, await resp.text()
    await stack.drain()
    assert [m["body"] for m in (await stack.sent())[seen:]] == [plain]


async def test_a_scheduled_decision_is_refused(stack: Stack) -> None:
    """Send-later takes the same rule: 400 decision_not_allowed, nothing queued."""
    conv = await _thread(stack)
    before = await _rows(stack)
    send_at = (stack.clock.now() + timedelta(days=1)).isoformat()
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/scheduled",
        json={"body": "Din kontanthjælp stopper pr. 1. marts.", "send_at": send_at},
    )
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "decision_not_allowed"
    assert await _rows(stack) == before


async def test_the_gate_withholds_a_decision_queued_before_the_rule(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send-later SMS queued by a release without the guard is withheld when due, its reason
    journalised on the case; the gateway never sees it."""
    from scheduler.scheduled import schedule_sms

    conv = await _thread(stack)
    await stack.drain()
    seen = len(await stack.sent())
    user = await _mette(stack)
    monkeypatch.setattr(outbound, "AUTHORED_KINDS", frozenset())  # the release before the rule
    queued = await schedule_sms(
        stack.svc,
        user,
        conv,
        body="Vi har besluttet at standse din kontanthjælp fra 1. marts.",
        send_at=stack.clock.now() + timedelta(hours=2),
    )
    monkeypatch.undo()
    stack.clock.advance(hours=3)
    stats = await stack.relay()
    assert stats.withheld == 1 and stats.sent == 0
    await stack.drain()
    assert len(await stack.sent()) == seen
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.id == queued["id"]))
        ).scalar_one()
        subjects = (
            await conn.execute(
                select(journal_entries.c.subject).where(
                    journal_entries.c.message_id == queued["id"],
                    journal_entries.c.kind == "sms_withheld",
                )
            )
        ).scalars()
        said = list(subjects)
    assert status == "withheld"
    assert said == [
        "SMS ikke sendt: teksten lyder som en afgørelse, og den sendes med Digital Post"
    ]


async def test_a_template_that_reads_as_a_decision_is_not_saved(stack: Stack) -> None:
    """A reply template is read when saved: refused, nothing written."""
    from bot.store.schema.pages import web_reply_templates

    lead = await _mette(stack, "hanne")
    before = await _count(stack, web_reply_templates)
    with pytest.raises(DecisionNotAllowed):
        await reply_templates.save_template(
            stack.svc,
            lead,
            None,
            title="Afslag",
            body="Hej {fornavn}. Du har desværre fået afslag på din ansøgning.",
        )
    assert await _count(stack, web_reply_templates) == before
    await reply_templates.save_template(
        stack.svc, lead, None, title="Papirer", body="Hej {fornavn}. Send din lønseddel."
    )
    assert await _count(stack, web_reply_templates) == before + 1


async def _mette(stack: Stack, who: str = "mette") -> Any:
    from bot.domain.conversations import authenticate

    return await authenticate(stack.svc, stack.world.tokens[who])
