"""One inbound dispatch: an SMS and a citizen's web reply on a case are routed, triaged,
paged and journalised alike (bot.domain.dispatch)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain import citizen
from bot.store.schema.core import journal_entries, messages, staff_notices
from journal.verify import verify
from tests.harness import Stack

URGENT = "Det haster!"


async def _mette_away(stack: Stack) -> None:
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="hanne",
        json={
            "staff_id": stack.world.mette,
            "starts_on": "2025-02-20",
            "ends_on": "2025-02-28",
            "substitute_id": stack.world.sofie,
            "reason": "Ferie",
        },
    )
    assert resp.status == 201, await resp.text()


def _anna(stack: Stack) -> citizen.Citizen:
    phone = stack.world.phones["anna"]
    return citizen.Citizen(stack.world.tenant_id, stack.svc.blind_index(phone), "sms-code")


async def _inbound(stack: Stack, provider: str) -> Any:
    async with stack.svc.read() as conn:
        return (
            await conn.execute(
                select(messages).where(
                    messages.c.direction == "in", messages.c.provider == provider
                )
            )
        ).one()


async def _entries_of(stack: Stack, message_id: str) -> list[tuple[str, str]]:
    """The (kind, subject) of the journal entries about one message, in chain order."""
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.kind, journal_entries.c.subject)
            .where(journal_entries.c.message_id == message_id)
            .order_by(journal_entries.c.seq)
        )
        return [(r.kind, r.subject) for r in rows]


async def _pages_for(stack: Stack, message_id: str) -> list[tuple[str | None, str]]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(staff_notices.c.staff_id, staff_notices.c.kind).where(
                staff_notices.c.message_id == message_id
            )
        )
        return [(r.staff_id, r.kind) for r in rows]


async def test_a_web_reply_is_routed_triaged_paged_and_journalised_like_an_sms(
    stack: Stack,
) -> None:
    """Caseworker away, an urgent text: the web reply gets the SMS's 'routed' and 'urgent' entries and page."""
    await _mette_away(stack)
    assert (await stack.sms(stack.world.phones["anna"], URGENT)).status == 200
    sms = await _inbound(stack, "twilio")
    receipt = await citizen.reply(stack.svc, _anna(stack), sms.conversation_id, URGENT)
    web = await _inbound(stack, "web")
    assert receipt.reply_by == web.reply_by == sms.reply_by  # the thread's answer is still due
    for row in (sms, web):
        assert (row.owner_id, row.original_owner_id) == (stack.world.sofie, stack.world.mette)
        assert row.urgent and row.next_escalation_at is not None
    sms_entries = await _entries_of(stack, sms.id)
    web_entries = await _entries_of(stack, web.id)
    assert [k for k, _ in sms_entries] == ["sms_in", "routed", "urgent"]
    assert [k for k, _ in web_entries] == ["web_in", "routed", "urgent"]
    assert sms_entries[1:] == web_entries[1:]  # the same subjects: one rule wrote both
    # The substitute is paged now; Mette is told when she is back (#16 point 3).
    paged = [(stack.world.sofie, "urgent"), (stack.world.mette, "while_away")]
    assert sorted(await _pages_for(stack, sms.id)) == sorted(paged)
    assert sorted(await _pages_for(stack, web.id)) == sorted(paged)
    assert (await verify(stack.config.database_url)).ok


async def test_a_plain_web_reply_to_a_caseworker_at_work_is_neither_routed_nor_paged(
    stack: Stack,
) -> None:
    """Caseworker at work, a plain text: the web reply is hers, with only its own journal entry."""
    assert (await stack.sms(stack.world.phones["anna"], "Hej")).status == 200
    sms = await _inbound(stack, "twilio")
    await citizen.reply(stack.svc, _anna(stack), sms.conversation_id, "Hej igen")
    web = await _inbound(stack, "web")
    assert (web.owner_id, web.original_owner_id, web.urgent) == (stack.world.mette, None, False)
    assert web.next_escalation_at is None
    assert [k for k, _ in await _entries_of(stack, web.id)] == ["web_in"]
    assert await _pages_for(stack, web.id) == []
