"""One gate for everything that leaves: every origin against every rule, judged at the gateway.

Hypothesis draws a person's standing (STOP, restriction of processing, a
representative whose period ended, the case system's "no SMS"), the hour
(stilletid or day) and a few messages of any origin with any content (plain,
sensitive, over the segment limit, an afgørelse). They are queued the way their
origin queues them (``queue_sms`` with the origin's kind and channel), and the
relay runs. What is asserted is what reached the gateway simulator and the
SMTP server (not what was stored), and that every message held back, delayed
or changed has its reason in its case's journal, once.

A decision text is queued around the queue-time guard (as a send-later SMS
written before the rule, or a row an older release put in the outbox): the
send-time gate must catch it on its own.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey
from bot.base.staff import StaffUser
from bot.domain import consent
from bot.domain.directory import add_participant, create_case, create_person
from bot.domain.outbound import OutboundSms, ensure_conversation, outbound_sms, queue_sms
from bot.store.schema.core import cases, journal_entries, messages, persons
from bot.store.schema.integration import participant_details
from bot.store.schema.scheduler import reminders
from channels.email import SmtpConfig
from journal.journal import append_many
from journal.retention import restrict
from scheduler.quiet import DEFAULT, allowed_send_time
from scheduler.runner import ensure_nudges, run_due
from tests.harness import Stack, start_stack

from .conftest import cph

# Every origin of an outbound message, as its code queues it: (kind, via, on the case?).
# An origin that is not about one case (the which-case question, STOP/START confirmations,
# login codes) is queued on the person's unassigned thread, as its code does.
ORIGINS: dict[str, tuple[str, str | None, bool]] = {
    "receipt": ("receipt", None, True),  # bot.domain.inbound_filing
    "reply": ("reply", None, True),  # bot.domain.conversations.reply
    "reminder": ("reminder", None, True),  # scheduler.runner, appointment
    "milestone": ("update", None, True),  # scheduler.milestones
    "nudge": ("update", None, True),  # scheduler.tasks, "vi arbejder stadig"
    "promise_followup": ("reminder", None, True),  # scheduler.runner, delay notice
    "case_system_update": ("update", None, True),  # /api/v1/cases/{id}/updates
    "send_later": ("scheduled", None, True),  # scheduler.scheduled
    "email_notice": ("reply", "email", True),  # a reply to a citizen who chose e-mail
    "fallback": ("fallback", "email", True),  # queued by an older release: an answer
    "reminder_fallback": ("reminder", "email", True),  # bot.domain.delivery: keeps the kind
    "quick_update": ("update", None, True),  # bot.domain.compose, the compose page
    "appointment_notice": ("update", None, True),  # scheduler.appointments, moved/cancelled
    "status_answer": ("auto", None, True),  # scheduler.hooks, the STATUS answer on a case
    "clarify": ("clarify", None, False),  # bot.domain.inbound_choice, "which case?"
    "stop_confirmation": ("auto", None, False),  # bot.domain.inbound_consent, STOP
    "start_confirmation": ("auto", None, False),  # bot.domain.inbound_consent, START
    "login_code": ("login_code", None, False),  # bot.domain.codes, the secure inbox
}
CONTENTS = ("plain", "sensitive", "long", "decision")
# Our own answers, questions and codes are never marked sensitive nor written by a
# person: they come plain, or too long (a long list of cases to choose from, say).
OWN_TEXTS = {"status_answer", "clarify", "stop_confirmation", "start_confirmation"}
CONTENTS_OF = {
    origin: ("plain", "long") if origin in OWN_TEXTS | {"login_code"} else CONTENTS
    for origin in ORIGINS
}
DECISION_TEXT = (
    "Afgørelse: Du får afslag på din ansøgning om hjælp til tandpleje. Du kan klage inden 4 uger."
)
LONG_TEXT = "Vi har set på din sag og skriver igen, når vi ved mere om den. " * 9  # 4 SMS

# What the rules say, by kind (the expectation, written from the issue, not from the code):
#
# | kind                          | STOP | restriction | "no SMS" | rep. ended | stilletid | limit |
# | receipt, clarify, auto,       |  go  |     go      |    go    | held (1)   |    go     | notice|
# |   login_code                  |      |             |          |            |           | (2)   |
# | reply, fallback               |  go  |     go      |   held   |   held     | waits (3) | notice|
# | reminder, update, scheduled   | held |    held     |   held   |   held     |   waits   | notice|
#
# (1) only an SMS about the case the representative's period is for; a login code, the
#     which-case question and the STOP/START confirmations are about no case, and go to
#     whoever asked (a login code must work after STOP, and STOP must be confirmed).
# (2) a login code is never turned into a link: it is short, and a link to log in with
#     would need the code it replaces.
# (3) a fallback e-mail goes at any hour (it stands for an SMS already sent or tried).
AUTOMATIC = {"receipt", "clarify", "auto", "login_code"}
ANSWERS = AUTOMATIC | {"reply", "fallback"}
AUTHORED = {"reply", "update", "scheduled"}
QUIET_EXEMPT = {"receipt", "clarify", "auto", "login_code", "fallback"}
SEGMENT_EXEMPT = {"login_code"}
REASONS = {
    "opted_out": "SMS ikke sendt: borgeren har sagt STOP til påmindelser og opdateringer",
    "restricted": "SMS ikke sendt: behandlingen af borgerens oplysninger er begrænset",
    "no_consent": "SMS ikke sendt: sagssystemet har registreret, at deltageren ikke vil have SMS",
    "authority_not_in_force": "SMS ikke sendt: fuldmagten gælder ikke i dag",
    "decision": "SMS ikke sendt: teksten lyder som en afgørelse, og den sendes med Digital Post",
}
DELAYED = "SMS venter på, at stilletiden slutter; sendes tidligst"
AS_NOTICE = "SMS erstattet af en besked med link: "


@dataclass(frozen=True)
class Standing:
    """What is on record about the person the messages go to."""

    stop: bool
    restricted: bool
    representative_ended: bool
    refused_sms: bool
    quiet: bool


@dataclass(frozen=True)
class Planned:
    origin: str
    content: str


def expected_reason(origin: str, content: str, s: Standing) -> str | None:
    """Why the message must be held back, written from the issue's rules (None: it goes).

    An e-mail goes on the person's e-mail consent (given here), not on the SMS one.
    """
    kind, via, on_case = ORIGINS[origin]
    if s.representative_ended and on_case:
        return "authority_not_in_force"
    if s.refused_sms and kind not in AUTOMATIC and via != "email":
        return "no_consent"
    if kind not in ANSWERS and s.restricted:
        return "restricted"
    if kind not in ANSWERS and s.stop:
        return "opted_out"
    if content == "decision" and kind in AUTHORED:
        return "decision"
    return None


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.mails.append(envelope)
        return "250 OK"


@pytest.fixture
async def gate_stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[tuple[Stack, Mailbox]]:
    """One stack (with an SMTP server) for all examples of a run; each example has its own family."""
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
        start=cph(2025, 2, 21, 10, 0),
        smtp=SmtpConfig(host="127.0.0.1", port=port, sender="noreply@kk.dk", tls="none", timeout=3),
    )
    try:
        yield stack, box
    finally:
        await stack.session.close()
        server.close()
        await server.wait_closed()


_families = itertools.count(1)


async def _family(
    stack: Stack, s: Standing, case_type: str = "general"
) -> tuple[str, str, str, str]:
    """A new person (phone and e-mail) on a new case, standing as drawn: (person, case, phone, mail)."""
    svc, w, n = stack.svc, stack.world, next(_families)
    phone, mail = f"+452015{n:04d}", f"borger{n}@example.dk"
    now = svc.clock.now()
    async with svc.write() as conn:
        person = await create_person(
            conn, svc, tenant_id=w.tenant_id, name=f"Borger {n}", first_name="Borger", phone=phone
        )
        row = (await conn.execute(select(persons.c.dek).where(persons.c.id == person))).one()
        dek = svc.dek("persons", person, row.dek)
        await conn.execute(
            update(persons)
            .where(persons.c.id == person)
            .values(email_enc=svc.seal(dek, "persons", person, "email", mail))
        )
        case = await create_case(
            conn,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_children,
            team_id=w.team_children,
            owner_id=w.mette,
            number=f"2025-7{n:04d}",
            case_type=case_type,
        )
        role = "representative" if s.representative_ended else "party"
        part = await add_participant(
            conn, svc, tenant_id=w.tenant_id, case_id=case, person_id=person, role=role
        )
        if s.representative_ended:
            await conn.execute(
                insert(participant_details).values(
                    participant_id=part,
                    tenant_id=w.tenant_id,
                    authority_from=(now - timedelta(days=400)).date(),
                    authority_to=(now - timedelta(days=2)).date(),
                    updated_at=now,
                )
            )
        if s.refused_sms:
            await consent.set_by_case_system(
                conn,
                tenant_id=w.tenant_id,
                participant_id=part,
                person_id=person,
                channel="sms",
                granted=False,
                at=now,
            )
        if s.stop:
            for said in consent.stop_rows(w.tenant_id, [person], "stop", now):
                await consent.record(conn, **{k: v for k, v in said.items() if k != "id"})
        # E-mail needs a yes of its own (the gate reads the channel a message goes by).
        await consent.record(
            conn,
            tenant_id=w.tenant_id,
            person_id=person,
            channel="email",
            state=consent.GIVEN,
            scope=consent.ANSWERS,
            source=consent.PAGE,
            at=now,
            actor="staff:test",
        )
    if s.restricted:
        lead = StaffUser(w.hanne, w.tenant_id, w.team_children, "lead")
        await restrict(svc, lead, person, "Borgeren gør indsigelse")
    return person, case, phone, mail


def _body(p: Planned, i: int) -> str:
    return {
        "plain": f"Besked nummer {i} ({p.origin}): vi har modtaget dine papirer.",
        "sensitive": f"Besked nummer {i} ({p.origin}) om din søns behandling.",
        "long": f"Besked nummer {i}. {LONG_TEXT}",
        "decision": f"{DECISION_TEXT} Sag {i}.",
    }[p.content]


async def _queue(stack: Stack, person: str, case: str, p: Planned, body: str) -> str:
    """Queue one message as its origin does; a decision text around the queue-time guard."""
    svc, (kind, via, on_case) = stack.svc, ORIGINS[p.origin]
    now = svc.clock.now()
    async with svc.write() as conn:
        if on_case:
            dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
            key = SealingKey("case", case, svc.dek("cases", case, dek))
        else:
            dek = (
                await conn.execute(select(persons.c.dek).where(persons.c.id == person))
            ).scalar_one()
            key = SealingKey("person", person, svc.dek("persons", person, dek))
        conv = await ensure_conversation(
            conn,
            tenant_id=svc_tenant(stack),
            case_id=case if on_case else None,
            person_id=person,
            at=now,
        )
        fields: dict[str, Any] = {
            "tenant_id": svc_tenant(stack),
            "conversation_id": conv,
            "case_id": case if on_case else None,
            "person_id": person,
            "body": body,
            "key": key,
            "at": now,
            "via": via,
            "sensitive": p.content == "sensitive",
        }
        if p.content != "decision":
            return await queue_sms(conn, kind=kind, **fields)
        # Queued before the rule (or by an older release): only the gate can catch it.
        sms = outbound_sms(kind="auto", **fields)
        sms.message["kind"] = kind
        await append_many(conn, [sms.entry], rows_first=OutboundSms.rows([sms]))
        return sms.message_id


def svc_tenant(stack: Stack) -> str:
    return stack.world.tenant_id


async def _journal(stack: Stack, message_id: str) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.subject)
            .where(journal_entries.c.message_id == message_id)
            .order_by(journal_entries.c.seq)
        )
        return [str(s) for s in rows.scalars()]


async def _status(stack: Stack, message_id: str) -> str:
    async with stack.svc.read() as conn:
        return str(
            (
                await conn.execute(select(messages.c.status).where(messages.c.id == message_id))
            ).scalar_one()
        )


async def _run(stack: Stack) -> None:
    await stack.drain()
    await stack.settle()


def _next_day(stack: Stack, quiet: bool) -> datetime:
    """A working day after every earlier example: 10:00, or 22:00 for stilletid."""
    local = (stack.clock.now() + timedelta(days=1)).astimezone(COPENHAGEN).date()
    while local.weekday() >= 5 or stack.svc.calendar.is_public_holiday(local):
        local += timedelta(days=1)
    return cph(local.year, local.month, local.day, 22 if quiet else 10)


standings = st.builds(
    Standing,
    stop=st.booleans(),
    restricted=st.booleans(),
    representative_ended=st.booleans(),
    refused_sms=st.booleans(),
    quiet=st.booleans(),
)
plans = st.lists(
    st.sampled_from(sorted(ORIGINS)).flatmap(
        lambda origin: st.builds(
            Planned, origin=st.just(origin), content=st.sampled_from(CONTENTS_OF[origin])
        )
    ),
    min_size=1,
    max_size=4,
)


def _every_origin(shift: int = 0) -> list[Planned]:
    """Every origin once, with contents turning through what that origin may carry."""
    return [
        Planned(origin, CONTENTS_OF[origin][(i + shift) % len(CONTENTS_OF[origin])])
        for i, origin in enumerate(sorted(ORIGINS))
    ]


EVERY_ORIGIN = _every_origin()
NOTHING_ON_RECORD = Standing(False, False, False, False, quiet=False)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(standing=standings, planned=plans)
# Every origin with every content at least once per run, by day and in stilletid, and
# every origin against STOP, against the case system's "no SMS" and for a representative.
@example(standing=NOTHING_ON_RECORD, planned=EVERY_ORIGIN)
@example(
    standing=Standing(False, False, False, False, quiet=True),
    planned=_every_origin(shift=1),
)
@example(standing=Standing(True, False, False, False, quiet=False), planned=EVERY_ORIGIN)
@example(standing=Standing(False, True, False, True, quiet=True), planned=EVERY_ORIGIN)
@example(standing=Standing(False, False, True, False, quiet=False), planned=EVERY_ORIGIN)
async def test_every_origin_meets_every_rule_at_the_gate(
    gate_stack: tuple[Stack, Mailbox], standing: Standing, planned: list[Planned]
) -> None:
    """Whatever made a message, what reaches the gateway is what the rules allow; every message held back, delayed or changed says why in the journal."""
    stack, box = gate_stack
    stack.clock.set(_next_day(stack, standing.quiet))
    person, case, phone, mail = await _family(stack, standing)
    queued = []
    for i, p in enumerate(planned):
        body = _body(p, i)
        queued.append((p, body, await _queue(stack, person, case, p, body)))
    mails_before = len(box.mails)
    await _run(stack)
    first_round = await stack.sent_to(phone)

    waiting = []
    for p, body, mid in queued:
        kind, via, _ = ORIGINS[p.origin]
        reason = expected_reason(p.origin, p.content, standing)
        journal = await _journal(stack, mid)
        if reason is not None:
            assert body not in first_round, (p, reason)
            assert await _status(stack, mid) == "withheld", (p, reason)
            withheld = [s for s in journal if " ikke sendt: " in s]
            held = "E-mail" if via == "email" else "SMS"  # the journal names what was held
            assert withheld == [REASONS[reason].replace("SMS", held, 1)], (p, journal)
            # Nothing in the record claims it was sent.
            assert [s for s in journal if "sendt" in s] == withheld, (p, journal)
            continue
        assert not any(" ikke sendt: " in s for s in journal), (p, journal)
        if standing.quiet and kind not in QUIET_EXEMPT:
            assert await _status(stack, mid) == "queued", (p, journal)
            assert [s for s in journal if s.startswith(DELAYED)], (p, journal)
            waiting.append((p, body, mid))
    sent_mails = len(box.mails) - mails_before
    if standing.quiet:
        stack.clock.set(allowed_send_time(stack.clock.now(), DEFAULT, stack.svc.calendar))
        stack.clock.advance(minutes=1)
        await _run(stack)
    on_phone = await stack.sent_to(phone)
    mailed = [m for m in box.mails[mails_before:] if mail in m.rcpt_tos]
    assert len(mailed) == len(box.mails) - mails_before
    expect_sms = expect_mail = 0
    for p, body, mid in queued:
        kind, via, _ = ORIGINS[p.origin]
        if expected_reason(p.origin, p.content, standing) is not None:
            continue
        journal = await _journal(stack, mid)
        assert await _status(stack, mid) in ("sent", "delivered"), (p, journal)
        if via == "email":
            expect_mail += 1
            assert body not in on_phone
            continue
        expect_sms += 1
        if p.content == "sensitive" or (p.content == "long" and kind not in SEGMENT_EXEMPT):
            # The content stays in the secure inbox; the SMS says where to read it.
            assert body not in on_phone, p
            assert [s for s in journal if s.startswith(AS_NOTICE)], (p, journal)
        else:
            assert body in on_phone, (p, journal)
            assert not [s for s in journal if s.startswith(AS_NOTICE)], (p, journal)
    assert len(on_phone) == expect_sms, (planned, standing)
    assert len(mailed) == expect_mail, (planned, standing, sent_mails)
    # A message held for stilletid goes once, and is journalised as held once.
    for _p, _body_text, mid in waiting:
        assert len([s for s in await _journal(stack, mid) if s.startswith(DELAYED)]) == 1


async def test_a_reminder_withheld_at_the_gate_is_journalised_as_withheld_not_as_sent(
    stack: Stack,
) -> None:
    """STOP, then the runner's appointment reminder: its journal says it was queued and withheld, never that it was sent."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": cph(2025, 2, 25, 9, 0).isoformat(), "place": "Rådhuset"},
    )
    assert resp.status == 201, await resp.text()
    await stack.sms(anna, "STOP")
    await stack.drain()
    before = await stack.sent_to(anna)
    stack.clock.set(cph(2025, 2, 24, 10, 0))
    await run_due(stack.svc)
    await _run(stack)
    assert await stack.sent_to(anna) == before
    async with stack.svc.read() as conn:
        mid = (
            await conn.execute(select(messages.c.id).where(messages.c.kind == "reminder"))
        ).scalar_one()
    assert await _journal(stack, mid) == ["Påmindelse om møde til borger", REASONS["opted_out"]]


async def test_a_milestone_moved_in_stilletid_waits_at_the_gate_and_says_so(stack: Stack) -> None:
    """A milestone moved at 22:00 by its own code: nothing reaches the phone that night, the
    journal says it waits and until when, and it goes at 08:00."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    resp = await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})
    assert resp.status == 201, await resp.text()
    await _run(stack)
    before = await stack.sent_to(anna)
    stack.clock.set(cph(2025, 2, 24, 22, 0))
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await _run(stack)
    assert await stack.sent_to(anna) == before
    async with stack.svc.read() as conn:
        mid = (
            await conn.execute(
                select(messages.c.id).where(
                    messages.c.kind == "update", messages.c.status == "queued"
                )
            )
        ).scalar_one()
    assert [s for s in await _journal(stack, mid) if s.startswith(DELAYED)] == [
        f"{DELAYED} 25.02.2025 kl. 08:00"
    ]
    stack.clock.set(cph(2025, 2, 25, 8, 0))
    await _run(stack)
    assert len(await stack.sent_to(anna)) == len(before) + 1


# The proactive origins the scheduler makes by itself, driven through their own code (not a
# queued row of their kind): what each one's SMS starts with on a kontanthjælp case.
REAL_ORIGINS = {
    "reminder": "Påmindelse",  # an appointment booked by API, reminded by the runner
    "milestone": "Vi har nu de oplysninger",  # a timeline moved by API
    "nudge": "Vi arbejder stadig",  # the case type's "still working" update, by the runner
}
OWN_KIND = {"reminder": "reminder", "milestone": "update", "nudge": "update"}


async def _drive(stack: Stack, origin: str, case: str, person: str) -> None:
    """Make the origin's SMS the way it is made in service, and run the relay."""
    if origin == "milestone":
        resp = await stack.api("POST", f"/api/v1/cases/{case}/timeline", json={})
        assert resp.status == 201, await resp.text()
        await _run(stack)
        resp = await stack.api(
            "POST", f"/api/v1/cases/{case}/timeline/moves", json={"step": "information"}
        )
        assert resp.status == 200, await resp.text()
        await _run(stack)
        return
    if origin == "reminder":
        day = _next_day(stack, quiet=False) + timedelta(hours=-1)  # 09:00, a working day on
        resp = await stack.api(
            "POST",
            f"/api/v1/cases/{case}/appointments",
            json={"starts_at": day.isoformat(), "place": "Rådhuset, lokale 3"},
        )
        assert resp.status == 201, await resp.text()
        kind = "appointment"
    else:
        await ensure_nudges(stack.svc)
        await run_due(stack.svc)  # the first round only finds when the case goes quiet
        kind = "nudge"
    async with stack.svc.read() as conn:
        due = (
            await conn.execute(
                select(reminders.c.due_at)
                .where(reminders.c.case_id == case, reminders.c.kind == kind)
                .order_by(reminders.c.due_at)
                .limit(1)
            )
        ).scalar_one_or_none()
    if due is None:
        return  # nobody on the case to remind (a representative out of period)
    stack.clock.set(max(due, stack.clock.now()))
    await run_due(stack.svc)
    await _run(stack)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    standing=st.builds(
        Standing,
        stop=st.booleans(),
        restricted=st.booleans(),
        representative_ended=st.booleans(),
        refused_sms=st.booleans(),
        quiet=st.just(False),
    ),
    origin=st.sampled_from(sorted(REAL_ORIGINS)),
)
# Each through its own code at least once: with nothing on record (it must arrive, or the
# test proves nothing), and after STOP.
@example(standing=NOTHING_ON_RECORD, origin="reminder")
@example(standing=NOTHING_ON_RECORD, origin="milestone")
@example(standing=NOTHING_ON_RECORD, origin="nudge")
@example(standing=Standing(True, False, False, False, quiet=False), origin="reminder")
@example(standing=Standing(True, False, False, False, quiet=False), origin="milestone")
@example(standing=Standing(True, False, False, False, quiet=False), origin="nudge")
async def test_reminders_milestones_and_nudges_made_by_their_own_code_meet_the_gate(
    gate_stack: tuple[Stack, Mailbox], standing: Standing, origin: str
) -> None:
    """A reminder, a milestone update and a nudge made by the scheduler's own code: on the phone exactly when the rules allow, else withheld with the reason journalised."""
    stack, _box = gate_stack
    stack.clock.set(_next_day(stack, quiet=False))
    person, case, phone, _mail = await _family(stack, standing, case_type="kontanthjaelp")
    await _drive(stack, origin, case, person)
    ours = [b for b in await stack.sent_to(phone) if b.startswith(REAL_ORIGINS[origin])]
    reason = expected_reason(origin, "plain", standing)
    async with stack.svc.read() as conn:
        made = list(
            (
                await conn.execute(
                    select(messages.c.id, messages.c.status).where(
                        messages.c.person_id == person,
                        messages.c.kind == OWN_KIND[origin],
                        messages.c.direction == "out",
                    )
                )
            ).all()
        )
    if reason is None:
        assert len(ours) == 1, (origin, standing, await stack.sent_to(phone))
        assert made and all(m.status in ("sent", "delivered") for m in made), made
        return
    assert ours == [], (origin, standing)
    if standing.representative_ended:
        # Not asked for at all (no attendee, not entitled) or held at the gate: nothing went.
        assert all(m.status == "withheld" for m in made), made
    else:
        assert made, (origin, standing)
    for m in made:
        assert m.status == "withheld", (origin, standing)
        journal = await _journal(stack, m.id)
        assert [s for s in journal if s.startswith("SMS ikke sendt")] == [REASONS[reason]]
