"""E-mail notices (never content) through a real local SMTP server, and fallback from failed SMS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey
from bot.domain import consent
from bot.domain.outbound import ensure_conversation, queue_sms
from bot.store.schema.core import cases, journal_entries, messages, persons
from bot.store.schema.scheduler import followup_tasks
from channels.email import SmtpConfig
from scheduler.calltasks import EMAIL_FAILED
from scheduler.runner import run_due
from tests.harness import Stack, start_stack


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
async def mail_stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[tuple[Stack, Mailbox]]:
    box = Mailbox()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(box, hostname="relay.kbh.dk"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN),
        smtp=SmtpConfig(host="127.0.0.1", port=port, sender="noreply@kk.dk", tls="none", timeout=3),
    )
    async with stack.svc.write() as conn:
        anna = stack.world.persons["anna"]
        row = (await conn.execute(select(persons.c.dek).where(persons.c.id == anna))).one()
        dek = stack.svc.dek("persons", anna, row.dek)
        await conn.execute(
            update(persons)
            .where(persons.c.id == anna)
            .values(email_enc=stack.svc.seal(dek, "persons", anna, "email", "anna@example.dk"))
        )
    try:
        yield stack, box
    finally:
        await stack.session.close()
        server.close()
        await server.wait_closed()


async def _consent(stack: Stack) -> None:
    async with stack.svc.write() as conn:
        await consent.record(
            conn,
            tenant_id=stack.world.tenant_id,
            person_id=stack.world.persons["anna"],
            channel="email",
            state=consent.GIVEN,
            scope=consent.PROACTIVE,
            source=consent.PAGE,
            at=stack.clock.now(),
            actor="staff:test",
        )


async def _wait_for(box: Mailbox, n: int) -> None:
    for _ in range(100):
        if len(box.mails) >= n:
            return
        await asyncio.sleep(0.03)
    raise AssertionError(f"expected {n} mails, got {len(box.mails)}")


async def test_undelivered_sms_becomes_an_email_notice_when_consented(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """An undeliverable SMS with e-mail consent: an e-mail notice, journalised; no call task
    (that is for an SMS with no other channel, tests/scheduler/test_tasks.py)."""
    stack, box = mail_stack
    await _consent(stack)
    await stack.faults(undeliverable=[stack.world.phones["anna"]])
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    for _ in range(100):
        async with stack.svc.read() as conn:
            kinds = set((await conn.execute(select(journal_entries.c.kind))).scalars())
        if "delivery_fallback" in kinds:
            break
        await asyncio.sleep(0.03)
    assert "delivery_fallback" in kinds and "call_task" not in kinds
    await stack.drain()
    await _wait_for(box, 1)
    mail = box.mails[0]
    assert mail["To"] == "anna@example.dk" and mail["Subject"] == "Ny besked fra Københavns Kommune"
    content = mail.get_content()
    assert "Læs den her: http" in content and "Mette svarer" not in content


async def test_no_email_without_consent(mail_stack: tuple[Stack, Mailbox]) -> None:
    """Without an explicit e-mail consent the fallback is only the call task."""
    stack, box = mail_stack
    await stack.faults(undeliverable=[stack.world.phones["anna"]])
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    await asyncio.sleep(0.3)
    await stack.drain()
    assert box.mails == []


async def _prefers_email(stack: Stack) -> str:
    """Anna prefers e-mail; she has written, so there is a thread to answer (its id)."""
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(channel_pref="email")
        )
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    return str((await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"])


async def test_email_preference_sends_replies_as_email_notices(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """A citizen who prefers e-mail and said yes to it gets a caseworker's reply as an e-mail
    notice, not an SMS."""
    stack, box = mail_stack
    await _consent(stack)
    conv = await _prefers_email(stack)
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svaret er ja"})
    await stack.drain()
    await _wait_for(box, 1)
    assert "Svaret er ja" not in box.mails[0].get_content()
    sms = await stack.sent_to(stack.world.phones["anna"])
    assert len(sms) == 1 and sms[0].startswith("Tak for din besked")  # only the receipt by SMS


async def test_email_preference_without_email_consent_goes_by_sms(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """Preferring e-mail is not a yes to e-mail: without it the reply goes by SMS (on her SMS
    consent), and no mail leaves; once she withdraws a given yes, the next goes by SMS too."""
    stack, box = mail_stack
    conv = await _prefers_email(stack)
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svaret er ja"}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    await asyncio.sleep(0.2)
    assert box.mails == []
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1] == "Svaret er ja"
    await _consent(stack)
    async with stack.svc.write() as conn:
        await consent.record(
            conn,
            tenant_id=stack.world.tenant_id,
            person_id=stack.world.persons["anna"],
            channel="email",
            state=consent.WITHDRAWN,
            scope=consent.PROACTIVE,
            source=consent.PAGE,
            at=stack.clock.now(),
            actor="staff:test",
        )
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Og igen ja"})
    await stack.drain()
    await asyncio.sleep(0.2)
    assert box.mails == []
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1] == "Og igen ja"


async def _rows(stack: Stack, **where: Any) -> list[Any]:
    async with stack.svc.read() as conn:
        query = (
            select(messages)
            .where(*(getattr(messages.c, k) == v for k, v in where.items()))
            .order_by(messages.c.created_at)
        )
        return list(await conn.execute(query))


async def test_after_stop_the_email_fallback_of_a_reminder_is_withheld(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """A reminder SMS that could not be delivered falls back to e-mail as a reminder; STOP
    before it goes holds it back (journalised), while the e-mail of an answer still goes."""
    stack, box = mail_stack
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    await _consent(stack)
    await stack.faults(undeliverable=[anna])
    starts = datetime(2025, 2, 25, 9, 0, tzinfo=COPENHAGEN)
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": starts.isoformat(), "place": "Rådhuset, lokale 3"},
    )
    assert resp.status == 201, await resp.text()
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    await run_due(stack.svc)
    await stack.drain()
    await stack.settle()  # the reminder's report: failed, so an e-mail of the reminder is queued
    [email] = await _rows(stack, kind="reminder", via="email")
    assert email.status == "queued"
    await stack.sms(anna, "STOP")
    await stack.drain()
    await stack.settle()
    await stack.drain()
    [email] = await _rows(stack, kind="reminder", via="email")
    assert email.status == "withheld"
    async with stack.svc.read() as conn:
        subjects = list(
            (
                await conn.execute(
                    select(journal_entries.c.subject).where(
                        journal_entries.c.message_id == email.id
                    )
                )
            ).scalars()
        )
    assert "E-mail ikke sendt: borgeren har sagt STOP til påmindelser og opdateringer" in subjects
    # The STOP confirmation (an answer) could not be delivered either: its e-mail goes.
    answers = [r for r in await _rows(stack, via="email") if r.kind != "reminder"]
    assert [r.status for r in answers] == ["sent"]
    await _wait_for(box, 1)
    await asyncio.sleep(0.1)
    assert len(box.mails) == 1


async def test_an_email_fallback_without_email_consent_at_send_time_is_a_call_task(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """E-mail allowed when the SMS failed, withdrawn before the e-mail went: no mail leaves,
    the reason is journalised, and the owner gets a call task instead."""
    stack, box = mail_stack
    anna = stack.world.phones["anna"]
    await _consent(stack)
    await stack.faults(undeliverable=[anna])
    await stack.sms(anna, "Hej")
    await stack.drain()
    await stack.settle()
    [email] = await _rows(stack, via="email")
    assert (email.kind, email.status) == ("receipt", "queued")
    stack.clock.advance(minutes=1)
    async with stack.svc.write() as conn:
        await consent.record(
            conn,
            tenant_id=stack.world.tenant_id,
            person_id=stack.world.persons["anna"],
            channel="email",
            state=consent.WITHDRAWN,
            scope=consent.PROACTIVE,
            source=consent.PAGE,
            at=stack.clock.now(),
            actor="staff:test",
        )
    await stack.drain()
    await asyncio.sleep(0.2)
    assert box.mails == []
    [email] = await _rows(stack, via="email")
    assert email.status == "withheld"
    async with stack.svc.read() as conn:
        tasks = list(await conn.execute(select(followup_tasks)))
    assert [(t.kind, t.message_id, t.title) for t in tasks] == [("call", email.id, EMAIL_FAILED)]
    async with stack.svc.read() as conn:
        said = list(
            await conn.execute(
                select(journal_entries.c.subject, journal_entries.c.channel).where(
                    journal_entries.c.message_id == email.id,
                    journal_entries.c.kind == "sms_withheld",
                )
            )
        )
    assert [tuple(r) for r in said] == [
        ("E-mail ikke sendt: borgeren har ikke sagt ja til e-mail", "email")
    ]


async def test_a_citizen_with_no_mobile_number_gets_the_email_notice(
    mail_stack: tuple[Stack, Mailbox],
) -> None:
    """No mobile number, but an address and a yes to e-mail: the message falls back to an
    e-mail notice (journalised), and nobody needs to call."""
    stack, box = mail_stack
    await _consent(stack)
    person = stack.world.persons["anna"]
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons).where(persons.c.id == person).values(phone_enc=None, phone_index=None)
        )
    cid, now = stack.world.cases["anna"], stack.clock.now()
    async with stack.svc.write() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == cid))).scalar_one()
        conv = await ensure_conversation(
            conn, tenant_id=stack.world.tenant_id, case_id=cid, person_id=person, at=now
        )
        await queue_sms(
            conn,
            tenant_id=stack.world.tenant_id,
            conversation_id=conv,
            case_id=cid,
            person_id=person,
            kind="update",
            body="Vi har modtaget dine papirer.",
            key=SealingKey("case", cid, stack.svc.dek("cases", cid, dek)),
            at=now,
        )
    await stack.drain()
    await stack.drain()
    await _wait_for(box, 1)
    assert box.mails[0]["To"] == "anna@example.dk"
    assert await stack.sent() == []
    async with stack.svc.read() as conn:
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
        tasks = list(await conn.execute(select(followup_tasks)))
    assert "delivery_fallback" in kinds and "call_task" not in kinds and tasks == []
