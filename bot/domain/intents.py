"""Natural intents: act on what a family means, and ask first when it changes something.

The triage reader (:mod:`bot.domain.triage`) tells an exact keyword ("STOP",
"afmeld", "ja tak") from a wish in the family's own words ("please stop
sending these", "kan ikke komme tirsdag", "hvordan går det med min sag?").
What the inbound path does with it:

- **An exact keyword** acts at once, as it always has: STOP/START here
  (:func:`steer`), OK/FLYT/AFLYS/STATUS in the inbound hooks (``scheduler.hooks``).
- **Own words without a side effect** act like the keyword: OK after an
  appointment reminder, STATUS, and FLYT (it only becomes a task for the
  caseworker, who finds the new time).
- **Own words with a side effect** (opting out or back in, cancelling a
  meeting) get one short question in the family's language ("Vil du aflyse
  mødet …? Svar JA"), kept durably (``intent_confirmations``); a yes (JA, YES,
  ТАК, نعم, or a plain "ja tak", "yes I do") acts; anything else, or a day's
  silence, lets it lapse. Question and answer are journalised on the case.
- **Urgency always wins**: an urgent message is never read as a wish (the
  reader gives no intent to an ``akut`` message, and the municipality's own
  urgent words are checked here and before the hooks), and it lets a waiting
  question lapse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.hooks import FiledSms, HookOutcome
from bot.base.ids import new_id
from bot.domain import consent
from bot.domain.inbound_consent import file_consent
from bot.domain.inbound_result import InboundResult
from bot.domain.inbound_steps import IntakeSteps
from bot.domain.outbound import OutboundSms, outbound_sms
from bot.domain.readings import default_triage
from bot.domain.texts import text
from bot.domain.triage import Triage
from bot.domain.triage.lexicon import lexicon
from bot.domain.triage.text import normal_pattern, read
from bot.store.schema.core import messages, persons
from bot.store.schema.intents import intent_confirmations
from journal.journal import NewEntry, append_many

if TYPE_CHECKING:
    from bot.store.inbound import Candidate, Person


log = logging.getLogger(__name__)

# How long a question waits for its yes.
LIFETIME = timedelta(hours=24)
OPEN, CONFIRMED, LAPSED = "open", "confirmed", "lapsed"
CONSENT = {"STOP": "stop", "START": "start"}
# Own words that need the family's yes before anything happens.
ASKED = frozenset({"STOP", "START", "AFLYS"})
_QUESTION = {"STOP": "confirm_stop", "START": "confirm_start", "AFLYS": "confirm_cancel"}
_WISH = {
    "STOP": "at framelde påmindelser og nyheder på SMS",
    "START": "at tilmelde sig påmindelser og nyheder på SMS igen",
}
# A yes starts with one of these words (in the reader's normal form) and says no "not".
_YES = frozenset(
    normal_pattern(w)
    for w in (
        *("ja", "jo", "jep", "jeps", "ok", "okay", "okey", "selvfølgelig"),
        *("yes", "yeah", "yep", "yup", "sure", "confirm", "confirmed"),
        *("так", "да", "ага", "звісно", "підтверджую", "добре", "ок"),
        *("نعم", "اي", "ايوه", "أيوه", "اكيد", "أكيد", "أجل", "بلى", "موافق", "تمام"),
    )
)
_YES_MAX_WORDS = 8
# "ja, men …" is not a yes to our question, nor is a question back.
_BUT = frozenset(normal_pattern(w) for w in ("men", "but", "але", "проте", "لكن", "بس"))


@dataclass(frozen=True, slots=True)
class Reading:
    """What a body says as a reply: an intent (or None), and whether as an exact keyword."""

    intent: str | None
    exact: bool


def reading(body: str) -> Reading:
    """The intent the reader finds in ``body`` (None when it is urgent or ordinary).

    The lexicon's intents are every municipality's; its own words only add urgency,
    which the inbound path checks with the municipality's triage. The reading is the
    default triage's, read once per body (bot.domain.readings): a municipality with
    no words of its own triages with the same reading.
    """
    found = default_triage(body)
    return Reading(found.intent, found.intent_exact)


def consent_word(body: str) -> str | None:
    """ "stop" / "start" for an exact opt-out or opt-in keyword in any of our languages."""
    said = consent.command(body)
    if said is not None:
        return said
    r = reading(body)
    return CONSENT.get(r.intent or "") if r.exact else None


def files_unassigned(body: str) -> bool:
    """Is this SMS about consent (a keyword, or own words to be confirmed)? It is filed
    on the number's unassigned thread, not on a case."""
    return consent_word(body) is not None or reading(body).intent in CONSENT


def goes_alone(body: str) -> bool:
    """Must this SMS be filed alone (not in a batch)? Consent (and, the batch learns from
    the identify statement, any SMS from a number a question waits on)."""
    return files_unassigned(body)


def is_yes(body: str, intent: str | None) -> bool:
    """A yes to our question: "JA", "yes please", "так", "نعم", "ja det vil jeg gerne" …

    Not when the reader finds another wish in it ("ja, men en anden dag"), nor
    with a negation ("ja, men ikke nu").
    """
    if intent not in (None, "OK") or "?" in body or "؟" in body:
        return False
    words = [w for c in read(body).clauses for w in c.text.split(" ") if w]
    if not words or len(words) > _YES_MAX_WORDS or words[0] not in _YES:
        return False
    return not (set(words) & (lexicon().negators | _BUT))


# -- the waiting question ----------------------------------------------------


async def _open_question(conn: AsyncConnection, tenant_id: str, phone_index: str) -> Any:
    return (
        await conn.execute(
            select(intent_confirmations)
            .where(
                intent_confirmations.c.tenant_id == tenant_id,
                intent_confirmations.c.phone_index == phone_index,
                intent_confirmations.c.state == OPEN,
            )
            .order_by(intent_confirmations.c.asked_at.desc())
        )
    ).all()


async def _settle(
    conn: AsyncConnection, rows: list[Any], state: str, at: datetime, answer_id: str | None
) -> None:
    await conn.execute(
        update(intent_confirmations)
        .where(intent_confirmations.c.id.in_([r.id for r in rows]))
        .values(state=state, settled_at=at, answer_id=answer_id)
    )


def _about(row: Any) -> str:
    return _WISH.get(row.intent, "at aflyse mødet")


def _case_ids(case_id: str | None, candidates: list[Candidate]) -> list[str | None]:
    """The cases a question is journalised on: its own, or (consent) every case of the number."""
    if case_id is not None:
        return [case_id]
    return list(dict.fromkeys(c.case_id for c in candidates)) or [None]


def _entries(
    intake: IntakeSteps, case_ids: list[str | None], kind: str, subject: str, mid: str | None
) -> list[NewEntry]:
    return [
        NewEntry(
            tenant_id=intake.tenant.id,
            case_id=case_id,
            kind=kind,
            direction="in" if kind != "intent_lapsed" else "internal",
            channel="sms" if kind != "intent_lapsed" else "system",
            subject=subject,
            actor="citizen" if kind != "intent_lapsed" else "system",
            at=intake.now,
            message_id=mid,
        )
        for case_id in case_ids
    ]


async def _lapse(
    intake: IntakeSteps, rows: list[Any], candidates: list[Candidate], why: str
) -> None:
    """The family wrote something else, or a day went: the wish lapses (journalised)."""
    await _settle(intake.conn, rows, LAPSED, intake.now, None)
    entries: list[NewEntry] = []
    for row in rows:
        subject = f"Ønsket {_about(row)} er ikke bekræftet og bortfalder ({why})"
        cases = _case_ids(row.case_id, candidates)
        entries += _entries(intake, cases, "intent_lapsed", subject, None)
    entries.sort(key=lambda e: e.chain)
    await append_many(intake.conn, entries)
    log.info("intent confirmation %s lapsed (%s)", ",".join(r.id for r in rows), why)


# -- the inbound path ----------------------------------------------------------


async def steer(
    intake: IntakeSteps, people: list[Person], candidates: list[Candidate], *, asked: bool
) -> InboundResult | None:
    """Before an SMS is filed: a yes to a waiting question, or consent, said here.

    Args:
        asked: a question waits for this number's yes (the identify statement knows:
            an SMS from any other number costs no extra round trip).

    Returns what was done, or None: file the SMS as usual (its hooks then read
    OK, STATUS, FLYT and AFLYS).
    """
    body = intake.sms.body
    index = intake.svc.blind_index(intake.sender)
    waiting = await _open_question(intake.conn, intake.tenant.id, index) if asked else []
    word = consent_word(body)
    if not waiting and word is None and reading(body).intent not in CONSENT:
        return None  # nothing to steer: not read twice (dispatch triages it)
    triage: Triage = await intake.triage()
    if waiting:
        done = await _answer(intake, waiting, triage, people, candidates)
        if done is not None:
            return done
    if triage.urgent:
        return None  # urgency always wins: filed, paged, never read as a wish
    if word is not None:
        return await file_consent(intake, word, people, candidates)
    if triage.intent in CONSENT:
        return await _ask_consent(intake, triage.intent, people, candidates, index)
    return None


async def _answer(
    intake: IntakeSteps,
    waiting: list[Any],
    triage: Triage,
    people: list[Person],
    candidates: list[Candidate],
) -> InboundResult | None:
    """The SMS after a question: a yes acts on it; anything else (or a day) lets it lapse."""
    live = [r for r in waiting if r.expires_at > intake.now]
    if len(live) < len(waiting):
        await _lapse(intake, [r for r in waiting if r not in live], candidates, "intet svar")
    if not live:
        return None
    yes = not triage.urgent and is_yes(intake.sms.body, triage.intent)
    if yes and await _written_since(intake, live[0], people):
        yes = False  # another message came first (filed in a batch): the wish lapsed
    done = await _confirmed(intake, live[0], people, candidates) if yes else None
    if done is None:
        why = "akut besked" if triage.urgent else "borgeren skrev noget andet"
        await _lapse(intake, live, candidates, why)
    return done


async def _written_since(intake: IntakeSteps, row: Any, people: list[Person]) -> bool:
    """Has the family written anything since the question (besides what was asked about)?"""
    found = await intake.conn.scalar(
        select(messages.c.id)
        .where(
            messages.c.person_id.in_([p.id for p in people]),
            messages.c.direction == "in",
            messages.c.created_at > row.asked_at,
            messages.c.id != row.message_id,
        )
        .limit(1)
    )
    return found is not None


async def _confirmed(
    intake: IntakeSteps, row: Any, people: list[Person], candidates: list[Candidate]
) -> InboundResult | None:
    """The family said yes: do what they asked, then journalise their answer."""
    by_id = {p.id: p for p in people}
    if row.intent in CONSENT:
        result = await file_consent(intake, CONSENT[row.intent], people, candidates)
    elif row.case_id in intake.cases and row.person_id in by_id:
        intake.intent = row.intent  # the hooks act on it as on the keyword
        result = await intake.file(intake.cases[row.case_id], by_id[row.person_id])
    else:
        return None  # the case closed meanwhile: an ordinary message (the wish lapses)
    await _settle(intake.conn, [row], CONFIRMED, intake.now, result.message_id)
    subject = f"Borgeren har svaret ja til spørgsmålet om {_about(row)}"
    entries = _entries(
        intake, _case_ids(row.case_id, candidates), "intent_confirmed", subject, result.message_id
    )
    entries.sort(key=lambda e: e.chain)
    await append_many(intake.conn, entries)
    return result


async def _ask_consent(
    intake: IntakeSteps,
    intent: str,
    people: list[Person],
    candidates: list[Candidate],
    index: str,
) -> InboundResult:
    """Opting out or back in, in own words: filed like STOP/START, and one question asked."""
    first = people[0]
    conv_id, _ = await intake.conversation(None, first.id, journal_next=False)
    key = intake.person_key(first)
    stored = intake.inbound_row(
        conv_id=conv_id, case_id=None, person_id=first.id, key=key, status="received"
    )
    mid = str(stored["id"])
    question = outbound_sms(
        tenant_id=intake.tenant.id,
        conversation_id=conv_id,
        case_id=None,
        person_id=first.id,
        kind="auto",
        body=text(first.language, _QUESTION[intent]),
        key=key,
        at=intake.now,
        subject="Spørgsmål: bekræft ønsket med JA",
        language=first.language,
    )
    row = _question_row(intake, intent, index, first.id, mid, question.message_id)
    subject = f"Borgerens besked læses som ønske {_WISH[intent]}; spurgt om bekræftelse (JA)"
    sms_in = intake.sms_in(None, key, mid, "SMS fra borger (ønske om til- eller framelding)")
    entries = _entries(intake, _case_ids(None, candidates), "intent_asked", subject, mid)
    entries.sort(key=lambda e: e.chain)
    await append_many(
        intake.conn,
        [*entries, sms_in, question.entry],
        rows_first=[
            (messages, [stored]),
            *OutboundSms.rows([question]),
            (intent_confirmations, [row]),
        ],
    )
    await intake.emit(mid, conv_id, None)
    return InboundResult(mid, False, f"confirm_{CONSENT[intent]}")


def _question_row(
    intake: IntakeSteps, intent: str, index: str, person_id: str, mid: str, question_id: str | None
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": intake.tenant.id,
        "phone_index": index,
        "person_id": person_id,
        "case_id": None,
        "appointment_id": None,
        "intent": intent,
        "message_id": mid,
        "question_id": question_id,
        "state": OPEN,
        "asked_at": intake.now,
        "expires_at": intake.now + LIFETIME,
        "settled_at": None,
        "answer_id": None,
    }


async def ask_cancel(
    filed: FiledSms, appointment_id: str, when_da: str, *, date: str, time: str
) -> HookOutcome:
    """ "Kan ikke komme tirsdag": ask once whether to cancel the meeting (hook's answer).

    The SMS stays awaiting a caseworker's reply either way; the question is the
    answer sent instead of the receipt.
    """
    conn = filed.conn
    index = (
        await conn.execute(select(persons.c.phone_index).where(persons.c.id == filed.person_id))
    ).scalar_one()
    await conn.execute(
        intent_confirmations.insert(),
        {
            "id": new_id(),
            "tenant_id": filed.tenant_id,
            "phone_index": index,
            "person_id": filed.person_id,
            "case_id": filed.case_id,
            "appointment_id": appointment_id,
            "intent": "AFLYS",
            "message_id": filed.message_id,
            "question_id": None,
            "state": OPEN,
            "asked_at": filed.now,
            "expires_at": filed.now + LIFETIME,
            "settled_at": None,
            "answer_id": None,
        },
    )
    await append_many(
        conn,
        [
            NewEntry(
                tenant_id=filed.tenant_id,
                case_id=filed.case_id,
                kind="intent_asked",
                direction="in",
                channel="sms",
                subject=(
                    f"Borgerens besked læses som ønske om at aflyse mødet {when_da};"
                    " spurgt om bekræftelse (JA)"
                ),
                actor="citizen",
                at=filed.now,
                message_id=filed.message_id,
            )
        ],
    )
    return HookOutcome(
        reply=text(filed.language, "confirm_cancel", date=date, time=time), awaiting_reply=True
    )
