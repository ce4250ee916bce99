"""Inbound hooks: the citizen texts STATUS, or answers an appointment reminder.

- ``STATUS``: the current step and the next expected date; nothing else, so
  nothing sensitive travels. Nobody needs to answer the word; a question in the
  family's own words also stays with a caseworker. (A case without a timeline
  falls through: a caseworker answers.)
- ``OK``: confirms the next appointment. Nobody needs to answer.
- ``FLYT`` / ``AFLYS``: asks to move or cancel the next appointment. That
  becomes a task for the caseworker and the message stays awaiting a reply.

The same wishes in the family's own words (bot.domain.intents reads them):
STATUS (still awaiting a caseworker) and FLYT act like the word; OK only once
the appointment's reminder has gone ("fint, vi ses"); AFLYS first asks "Vil du
aflyse mødet …? Svar JA" and acts on the yes (then ``FiledSms.intent`` says AFLYS).

A word that does not fit (no appointment coming up, say) falls through to the
ordinary flow: receipt and a caseworker's answer.

In a batch, each hook first fetches for all the batch's SMS it acts on, in one
statement, what it reads for each (``prefetches``): the next appointments, the
timelines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.base.hooks import FiledSms, HookOutcome, acts_on, prefetches
from bot.base.workdays import format_time
from bot.domain import intents, texts
from bot.store.schema.core import cases, messages
from bot.store.schema.scheduler import appointments, reminders
from scheduler.appointments import next_for, next_for_many
from scheduler.milestones import status_text, steps_of_many
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


# Keys of what a batch fetched (FiledSms.batch): a case's steps; a person's next appointment.
_STEPS = "scheduler.hooks:steps"
_NEXT = "scheduler.hooks:next_appointment"


def _asking(filed: Sequence[FiledSms], words: tuple[str, ...]) -> dict[datetime, list[int]]:
    """The positions of the batch's SMS that read as one of ``words``, by their time."""
    by_now: dict[datetime, list[int]] = {}
    for i, f in enumerate(filed):
        if f.batch is not None and _read(f)[0] in words:
            by_now.setdefault(f.now, []).append(i)
    return by_now


async def _fetch_steps(filed: Sequence[FiledSms]) -> list[int]:
    """The timelines of the batch's cases asked about with STATUS, in one statement; the
    SMS whose case has one (without, the hook passes them over)."""
    asking = [i for group in _asking(filed, ("STATUS",)).values() for i in group]
    if not asking:
        return []
    found = await steps_of_many(filed[0].conn, [filed[i].case_id for i in asking])
    for i in asking:
        f = filed[i]
        assert f.batch is not None
        f.batch[_STEPS, f.case_id] = found[f.case_id]
    return [i for i in asking if found[filed[i].case_id]]


async def _fetch_next(filed: Sequence[FiledSms]) -> list[int]:
    """The next appointments of the batch's SMS that answer about one, in one statement
    (for each time they were filed at); the SMS that have one coming up."""
    acts: list[int] = []
    for now, asking in _asking(filed, _APPOINTMENT_WORDS).items():
        pairs = [(filed[i].case_id, filed[i].person_id) for i in asking]
        found = await next_for_many(filed[0].conn, pairs, now=now)
        for i in asking:
            f = filed[i]
            assert f.batch is not None
            f.batch[_NEXT, f.case_id, f.person_id, now] = found[f.case_id, f.person_id]
        acts += [i for i in asking if found[filed[i].case_id, filed[i].person_id] is not None]
    return acts


def _fetched_steps(filed: FiledSms) -> list[Any] | None:
    """The case's steps as the batch fetched them (None: not fetched, ask)."""
    return None if filed.batch is None else filed.batch.get((_STEPS, filed.case_id))


async def _next(filed: FiledSms) -> Any:
    """The next appointment this person attends on the case (fetched by the batch, or asked)."""
    key = (_NEXT, filed.case_id, filed.person_id, filed.now)
    if filed.batch is not None and key in filed.batch:
        return filed.batch[key]
    return await next_for(
        filed.conn, case_id=filed.case_id, person_id=filed.person_id, now=filed.now
    )


@prefetches(_fetch_steps)
@acts_on(lambda body: said(body) == "STATUS")
async def status_hook(filed: FiledSms) -> HookOutcome | None:
    """ "STATUS" (or "hvordan går det med min sag?"): where the case is, what comes next.

    The word alone needs no one to answer; a question in the family's own words gets the
    status at once and stays with a caseworker: it may ask more than the timeline says
    ("hvornår hører jeg om min ansøgning?"), and the reader may have read it wrong."""
    word, exact = _read(filed)
    if word != "STATUS":
        return None
    steps = _fetched_steps(filed)
    if steps == []:
        return None  # no timeline (as status_text finds): nothing more to ask
    case = (
        await filed.conn.execute(
            select(cases.c.id, cases.c.tenant_id, cases.c.case_type).where(
                cases.c.id == filed.case_id
            )
        )
    ).one()
    answer = await status_text(filed.conn, case, filed.language, steps)
    if answer is None:
        return None  # no timeline yet: the ordinary receipt, and a caseworker answers
    return HookOutcome(reply=answer, awaiting_reply=not exact)


@prefetches(_fetch_next)
@acts_on(lambda body: said(body) in _APPOINTMENT_WORDS)
async def appointment_hook(filed: FiledSms) -> HookOutcome | None:
    """ "OK" confirms the next appointment; "FLYT" / "AFLYS" ask to move or cancel it."""
    word, exact = _read(filed)
    if word not in _APPOINTMENT_WORDS:
        return None
    conn = filed.conn
    appt = await _next(filed)
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
