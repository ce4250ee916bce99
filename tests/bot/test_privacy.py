"""Sensitive content never travels by SMS; STOP and START; SMS that fits."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.domain.consent import proactive_allowed
from bot.domain.privacy import LinkError, needs_notice, notice_body, use_link
from bot.store.schema.core import journal_entries, messages, persons, tenant_settings
from channels.sensitivity import find_cpr
from tests.harness import Stack

LINK = re.compile(r"http://127\.0\.0\.1:\d+/b/([A-Za-z0-9_-]+)$")


async def _thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _reply(stack: Stack, body: str, **extra: object) -> str:
    conv = await _thread(stack)
    await stack.drain()  # the receipt first, so the reply is the last SMS
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": body, **extra}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    return (await stack.sent_to(stack.world.phones["anna"]))[-1]


async def test_sensitive_reply_goes_as_notice_with_single_use_link(stack: Stack) -> None:
    """A reply marked sensitive is sent as a notice; the link works once, then says it is used."""
    sms = await _reply(
        stack, "Vi har modtaget lægens udtalelse om din søns diagnose.", sensitive=True
    )
    assert sms.startswith(
        "Du har en ny besked fra Københavns Kommune. Linket virker i 14 dage. Læs den her: http"
    )
    assert "diagnose" not in sms
    token = LINK.search(sms).group(1)  # type: ignore[union-attr]
    async with stack.svc.write() as conn:
        row = await use_link(conn, token, stack.clock.now())
        assert row.person_id == stack.world.persons["anna"]
    async with stack.svc.write() as conn:
        try:
            await use_link(conn, token, stack.clock.now())
            raise AssertionError("a used link opened again")
        except LinkError as exc:
            assert exc.reason == "used"


async def test_link_expires(stack: Stack) -> None:
    """An unused link stops working after its lifetime."""
    sms = await _reply(stack, "Følsomt", sensitive=True)
    token = LINK.search(sms).group(1)  # type: ignore[union-attr]
    async with stack.svc.write() as conn:
        try:
            await use_link(conn, token, stack.clock.now() + timedelta(days=15))
            raise AssertionError("an expired link opened")
        except LinkError as exc:
            assert exc.reason == "expired"


async def test_cpr_or_sensitive_word_turns_a_reply_into_a_notice(stack: Stack) -> None:
    """A CPR number, or a word on the municipality's list, is never sent by SMS."""
    sms = await _reply(stack, "Dit CPR er 010203-1234, ikke?")
    assert "010203" not in sms and sms.startswith("Du har en ny besked")
    async with stack.svc.write() as conn:
        await conn.execute(
            tenant_settings.insert().values(
                tenant_id=stack.world.tenant_id,
                max_segments=3,
                sensitive_terms=json.dumps(["anbringelse"]),
            )
        )
    conv = (await (await stack.api("GET", "/api/v1/conversations", who="lars")).json())["items"]
    assert conv == []
    await stack.sms(stack.world.phones["anna"], "Et spørgsmål mere")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    await stack.api(
        "POST",
        f"/api/v1/conversations/{items[0]['id']}/replies",
        json={"body": "Om Anbringelsen af din datter"},
    )
    await stack.drain()
    assert "datter" not in (await stack.sent_to(stack.world.phones["anna"]))[-1]


async def test_sms_only_citizen_gets_a_call_instead_of_sensitive_sms(stack: Stack) -> None:
    """SMS-only preference: sensitive content is not sent; the caseworker is told to call."""
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(channel_pref="sms_only")
        )
    conv = await _thread(stack)
    await stack.drain()
    before = len(await stack.sent_to(stack.world.phones["anna"]))
    await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Om din sag", "sensitive": True},
    )
    await stack.drain()
    assert len(await stack.sent_to(stack.world.phones["anna"])) == before
    async with stack.svc.read() as conn:
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
    assert "call_task" in kinds


async def test_citizen_who_texts_a_cpr_is_warned_and_the_message_flagged(stack: Stack) -> None:
    """A CPR in an inbound SMS: friendly note in the receipt; the message is flagged sensitive."""
    await stack.sms(stack.world.phones["anna"], "Mit cpr er 0102031234")
    await stack.drain()
    receipt = (await stack.sent_to(stack.world.phones["anna"]))[-1]
    assert receipt.endswith(
        "Send venligst ikke dit CPR-nummer på SMS. Vi har gemt din besked sikkert."
    )
    assert "0102031234" not in receipt
    async with stack.svc.read() as conn:
        flagged = (
            await conn.execute(select(messages.c.sensitive).where(messages.c.direction == "in"))
        ).scalar_one()
    assert flagged is True


async def test_text_over_the_segment_limit_is_refused_with_the_count(stack: Stack) -> None:
    """A reply that would take 4 SMS (limit 3) is a 400 that says how many it would take."""
    conv = await _thread(stack)
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "x" * 470}
    )
    body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == "too_many_segments"
    assert "4" in body["error"]["message"]


async def test_a_scheduled_sms_over_the_segment_limit_is_refused_and_nothing_queued(
    stack: Stack,
) -> None:
    """Send-later is held to the same limit as a reply sent now: 400, nothing written."""
    from sqlalchemy import func

    conv = await _thread(stack)
    async with stack.svc.read() as conn:
        before = (await conn.execute(select(func.count()).select_from(messages))).scalar_one()
    send_at = (stack.clock.now() + timedelta(days=1)).isoformat()
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/scheduled",
        json={"body": "x" * 470, "send_at": send_at},
    )
    body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == "too_many_segments"
    async with stack.svc.read() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(messages))
        ).scalar_one() == before
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/scheduled",
        json={"body": "x" * 300, "send_at": send_at},
    )
    assert resp.status == 201, await resp.text()


async def test_stop_and_start(stack: Stack) -> None:
    """STOP opts out of proactive SMS (confirmed, journalised); answers still go; START opts in."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Stop påmindelser")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1].startswith("Du får ikke længere påmindelser")
    async with stack.svc.read() as conn:
        assert not await proactive_allowed(conn, stack.world.persons["anna"])
        chains = list(
            (
                await conn.execute(
                    select(journal_entries.c.case_id).where(
                        journal_entries.c.kind == "consent_opted_out"
                    )
                )
            ).scalars()
        )
    assert chains == [stack.world.cases["anna"]]
    sms = await _reply(stack, "Svar på dit spørgsmål")
    assert sms == "Svar på dit spørgsmål"
    stack.clock.advance(minutes=5)
    await stack.sms(anna, "START")
    async with stack.svc.read() as conn:
        assert await proactive_allowed(conn, stack.world.persons["anna"])


CPR_DATES = st.dates(min_value=date(1940, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def cpr(draw: st.DrawFn) -> str:
    """A valid CPR: the 7th digit puts the date in its century (0–3: 1900s, 4–9: 2000s here)."""
    d = draw(CPR_DATES)
    first = draw(st.integers(0, 3) if d.year < 2000 else st.integers(4, 9))
    tail = first * 1000 + draw(st.integers(min_value=0, max_value=999))
    sep = draw(st.sampled_from(["-", "", " "]))
    return f"{d:%d%m%y}{sep}{tail:04d}"


@settings(max_examples=300, deadline=None)
@given(before=st.text(max_size=80), after=st.text(max_size=80), number=cpr())
def test_no_sms_ever_carries_a_cpr(before: str, after: str, number: str) -> None:
    """Whatever surrounds a real-date CPR number, the SMS that goes out does not contain it."""
    body = f"{before} {number} {after}"
    assert needs_notice(body, sensitive=False, terms=())
    sms = notice_body("Københavns Kommune", "https://sms.example.dk/b/AbC123", "da")
    assert not find_cpr(sms)
    assert number.replace(" ", "").replace("-", "") not in sms.replace("-", "")


@settings(max_examples=300, deadline=None)
@given(body=st.text(min_size=12, max_size=300), lang=st.sampled_from(["da", "en", "uk"]))
def test_no_sms_carries_12_characters_of_a_sensitive_message(body: str, lang: str) -> None:
    """A sensitive message's SMS is the notice: it shares no 12-character run with the content."""
    assert needs_notice(body, sensitive=True, terms=())
    sms = notice_body("Københavns Kommune", "https://sms.example.dk/b/AbC123", lang)
    template = notice_body("Københavns Kommune", "", lang)
    for i in range(len(body) - 11):
        piece = body[i : i + 12]
        assert piece not in sms or piece in template + "https://sms.example.dk/b/AbC123"


async def test_inbox_first_notifies_only_when_unread(stack: Stack) -> None:
    """ "Secure inbox first": nothing goes out at once; after the wait, a notice only if unread."""
    from bot.store.schema import metadata

    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(channel_pref="inbox_first")
        )
    conv = await _thread(stack)
    await stack.drain()
    before = await stack.sent_to(stack.world.phones["anna"])  # the receipt still goes by SMS
    for body in ("Første svar", "Andet svar"):
        await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": body})
    await stack.drain()
    assert await stack.sent_to(stack.world.phones["anna"]) == before
    async with stack.svc.write() as conn:
        first = (
            (
                await conn.execute(
                    select(messages.c.id)
                    .where(messages.c.kind == "reply")
                    .order_by(messages.c.created_at, messages.c.id)
                )
            )
            .scalars()
            .all()
        )
        reads = metadata.tables["web_citizen_reads"]
        read_id = first[0]
        await conn.execute(
            reads.insert().values(
                message_id=read_id, tenant_id=stack.world.tenant_id, first_read_at=stack.clock.now()
            )
        )
    stack.clock.advance(minutes=121)
    await stack.drain()
    after = (await stack.sent_to(stack.world.phones["anna"]))[len(before) :]
    assert len(after) == 1 and after[0].startswith("Du har en ny besked fra Københavns Kommune")
