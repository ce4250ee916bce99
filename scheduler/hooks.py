"""Inbound hooks: the citizen texts STATUS, or answers an appointment reminder.

- ``STATUS``: the current step and the next expected date; nothing else, so
  nothing sensitive travels. Nobody needs to answer. (A case without a
  timeline falls through: a caseworker answers.)
- ``OK``: confirms the next appointment. Nobody needs to answer.
- ``FLYT`` / ``AFLYS``: asks to move or cancel the next appointment. That
  becomes a task for the caseworker and the message stays awaiting a reply.

The same wishes in the family's own words (bot.domain.intents reads them):
STATUS and FLYT act like the word; OK only once the appointment's reminder
has gone ("fint, vi ses"); AFLYS first asks "Vil du aflyse mødet …? Svar JA"
and acts on the yes (then ``FiledSms.intent`` says AFLYS).

A word that does not fit (no appointment coming up, say) falls through to the
ordinary flow: receipt and a caseworker's answer.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update

from bot.base.hooks import FiledSms, HookOutcome, acts_on
from bot.base.workdays import format_time
from bot.domain import intents, texts
from bot.store.schema.core import cases, messages
from bot.store.schema.scheduler import appointments, reminders
from scheduler.appointments import next_for
from scheduler.milestones import status_text
from scheduler.store import add_task, local_date, note
from scheduler.templates import clock_time, long_date, say

_WORD = re.compile(r"^\s*([A-Za-zÆØÅæøå]+)\s*[.!]*\s*$")
_APPOINTMENT_WORDS = ("OK", "FLYT", "AFLYS")
_WORDS = (*_APPOINTMENT_WORDS, "STATUS")
_CANONICAL = {"ok": "OK", "move": "FLYT", "cancel": "AFLYS", "status": "STATUS"}


def keyword(body: str) -> str | None:
    """The single word an SMS consists of, upper-cased (None for anything longer).

    The words our texts ask for in the family's language (Ukrainian "СТАТУС",
    "ТАК", Arabic "نعم", English "MOVE", …) come back as the Danish ones.
    """
    found = _CANONICAL.get(texts.command_of(body) or "")
    if found is not None:
        return found
    match = _WORD.match(body)
    return match.group(1).upper() if match else None


def said(body: str) -> str | None:
    """The intent of a reply: the word our texts ask for, else the reader's (own words)."""
    word = keyword(body)
    return word if word in _WORDS else intents.reading(body).intent


def _read(filed: FiledSms) -> tuple[str | None, bool]:
    """The reply's intent, and whether it is a keyword (an "OK" in own words, or a bare
    "ja", acts only after the reminder: it may answer something else)."""
    if filed.intent is not None:
        return filed.intent, True
    word = keyword(filed.body)
    if word in _WORDS:
        return word, True
    r = intents.reading(filed.body)
    return r.intent, r.exact and r.intent != "OK"


async def _reminded(filed: FiledSms, appointment_id: str) -> bool:
    """Has a reminder of this appointment gone to the family?"""
    found = await filed.conn.scalar(
        select(reminders.c.id)
        .where(
            reminders.c.ref_id == appointment_id,
            reminders.c.kind == "appointment",
            reminders.c.state == "sent",
        )
        .limit(1)
    )
    return found is not None


@acts_on(lambda body: said(body) == "STATUS")
async def status_hook(filed: FiledSms) -> HookOutcome | None:
    """ "STATUS" (or "hvordan går det med min sag?"): where the case is, what comes next."""
    if _read(filed)[0] != "STATUS":
        return None
    case = (
        await filed.conn.execute(
            select(cases.c.id, cases.c.case_type).where(cases.c.id == filed.case_id)
        )
    ).one()
    answer = await status_text(filed.conn, case, filed.language)
    if answer is None:
        return None  # no timeline yet: the ordinary receipt, and a caseworker answers
    return HookOutcome(reply=answer, awaiting_reply=False)


@acts_on(lambda body: said(body) in _APPOINTMENT_WORDS)
async def appointment_hook(filed: FiledSms) -> HookOutcome | None:
    """ "OK" confirms the next appointment; "FLYT" / "AFLYS" ask to move or cancel it."""
    word, exact = _read(filed)
    if word not in _APPOINTMENT_WORDS:
        return None
    conn = filed.conn
    appt = await next_for(conn, case_id=filed.case_id, person_id=filed.person_id, now=filed.now)
    if appt is None or (word == "OK" and not exact and not await _reminded(filed, appt.id)):
        return None
    lang = filed.language
    when_da = f"{long_date(local_date(appt.starts_at), 'da')} kl. {format_time(appt.starts_at)}"
    if word == "AFLYS" and not exact:  # own words: ask before anything is cancelled
        return await intents.ask_cancel(
            filed,
            appt.id,
            when_da,
            date=long_date(local_date(appt.starts_at), lang),
            time=clock_time(appt.starts_at, lang),
        )
    if word == "OK":
        await conn.execute(
            update(appointments)
            .where(appointments.c.id == appt.id)
            .values(confirmed_at=filed.now, updated_at=filed.now)
        )
        await note(
            conn,
            tenant_id=filed.tenant_id,
            case_id=filed.case_id,
            kind="appointment_confirmed",
            subject=f"Borgeren har bekræftet mødet {when_da}",
            at=filed.now,
            actor="citizen",
            channel="sms",
            message_id=filed.message_id,
        )
        return HookOutcome(
            reply=say(
                lang,
                "confirmed",
                date=long_date(local_date(appt.starts_at), lang),
                time=clock_time(appt.starts_at, lang),
            ),
            awaiting_reply=False,
        )
    move = word == "FLYT"
    await conn.execute(
        update(appointments)
        .where(appointments.c.id == appt.id)
        .values(citizen_request="move" if move else "cancel", updated_at=filed.now)
    )
    owner = (
        await conn.execute(select(cases.c.owner_id).where(cases.c.id == filed.case_id))
    ).scalar_one()
    what = "flytte" if move else "aflyse"
    await add_task(
        conn,
        tenant_id=filed.tenant_id,
        case_id=filed.case_id,
        staff_id=owner,
        kind="appointment_move" if move else "appointment_cancel",
        ref_id=appt.id,
        message_id=filed.message_id,
        title=f"Borgeren vil gerne {what} mødet {when_da}",
        at=filed.now,
    )
    await note(
        conn,
        tenant_id=filed.tenant_id,
        case_id=filed.case_id,
        kind="appointment_change_asked",
        subject=f"Borgeren beder om at {what} mødet {when_da}",
        at=filed.now,
        actor="citizen",
        channel="sms",
        message_id=filed.message_id,
    )
    reply_by = (
        await conn.execute(select(messages.c.reply_by).where(messages.c.id == filed.message_id))
    ).scalar_one_or_none()
    answer_by = local_date(reply_by) if reply_by else local_date(filed.now)
    return HookOutcome(
        reply=say(lang, "move_asked" if move else "cancel_asked", date=long_date(answer_by, lang)),
        awaiting_reply=True,
    )
