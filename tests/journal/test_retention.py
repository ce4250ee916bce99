"""Retention: transient data is purged; an erasure request becomes a restriction, not a deletion."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.consent import proactive_allowed
from bot.db.schema import inbox_links, journal_entries, messages, outbox, restrictions
from journal.retention import purge_transient
from tests.harness import Stack


async def _count(stack: Stack, table) -> int:  # type: ignore[no-untyped-def]
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_transient_data_is_purged_after_the_period_and_the_journal_stays(stack: Stack) -> None:
    """Spent links and sent-message bookkeeping go after 30 days; messages and journal stay."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies",
                    json={"body": "Følsomt svar", "sensitive": True})
    await stack.drain()
    assert await _count(stack, inbox_links) == 1
    sent = await _count(stack, outbox)
    journal_before = await _count(stack, journal_entries)
    messages_before = await _count(stack, messages)
    assert await purge_transient(stack.svc) == {"inbox_links": 0, "outbox": 0, "staff_notices": 0,
                                                "login_codes": 0}
    stack.clock.advance(days=45)
    counts = await purge_transient(stack.svc)
    assert counts["inbox_links"] == 1 and counts["outbox"] == sent
    assert await _count(stack, messages) == messages_before
    assert await _count(stack, journal_entries) >= journal_before  # nothing filed is removed


async def test_erasure_request_becomes_a_journalised_restriction(stack: Stack) -> None:
    """A lead records the request with a reason: no deletion, journalised, no proactive SMS after."""
    anna = stack.world.persons["anna"]
    path = f"/api/v1/persons/{anna}/restriction"
    assert (await stack.api("POST", path, who="mette", json={"reason": "Borgeren beder om sletning"})).status == 404
    bad = await stack.api("POST", path, who="hanne", json={"reason": ""})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_reason"
    resp = await stack.api("POST", path, who="hanne", json={"reason": "Borgeren beder om sletning"})
    assert resp.status == 201 and (await resp.json())["cases"] == 1
    async with stack.svc.read() as conn:
        assert not await proactive_allowed(conn, anna)
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
    assert kinds == ["restriction"]
    assert await _count(stack, restrictions) == 1
    other = await stack.api("POST", "/api/v1/persons/not-a-person/restriction", who="hanne",
                            json={"reason": "x y z"})
    assert other.status == 404
