"""The send-time gate: may this SMS reach this person now? One rule, every outbound SMS.

Whatever made a message (a receipt, a caseworker's reply, a reminder, a
milestone, a nudge, a promise follow-up, a case-system update, a send-later),
the outbox relay asks :func:`withheld` for its batch just before the gateway,
so nothing reaches a phone around it. What the gate holds back is marked
``withheld`` with its reason and journalised; the reason words are stable:

- ``opted_out``: the citizen texted STOP (samtykke): no proactive SMS;
  answers to their own messages still go.
- ``restricted``: processing is restricted (GDPR art. 18, begrænsning): no
  proactive SMS.
- ``no_consent``: the case system recorded that this participant does not want
  SMS: nothing but the automatic answers to their own SMS.
- ``authority_not_in_force``: a representative (fuldmagt) outside the period
  the case system gave: nothing at all.

Quiet hours, sensitive content and the segment limit are checked by the relay
itself when it builds the SMS; this module decides who may be written to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.schema.core import consents, participants, restrictions
from bot.store.schema.integration import participant_consents, participant_details

# Answers to what the citizen just wrote: they go back even after STOP.
AUTOMATIC_ANSWERS = frozenset({"receipt", "clarify", "auto", "login_code"})
# A caseworker's answer is an answer too (STOP stops proactive SMS only).
ANSWERS = AUTOMATIC_ANSWERS | {"reply", "fallback"}

OPTED_OUT = "opted_out"
RESTRICTED = "restricted"
NO_CONSENT = "no_consent"
AUTHORITY_NOT_IN_FORCE = "authority_not_in_force"

REASON_WORDS = {
    OPTED_OUT: "borgeren har sagt STOP til påmindelser og opdateringer",
    RESTRICTED: "behandlingen af borgerens oplysninger er begrænset",
    NO_CONSENT: "sagssystemet har registreret, at deltageren ikke vil have SMS",
    AUTHORITY_NOT_IN_FORCE: "fuldmagten gælder ikke i dag",
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What the gate needs to know of one SMS: which message, to whom, on which case."""

    message_id: str
    kind: str
    person_id: str
    case_id: str | None


@dataclass(frozen=True, slots=True)
class _Standing:
    """What is on record about one person (and their part in one case) today."""

    opted_out: bool = False
    restricted: bool = False
    refused_sms: bool = False
    representative_out_of_period: bool = False


def verdict(kind: str, standing: _Standing) -> str | None:
    """Why an SMS of ``kind`` may not go to someone standing so (None: it may go).

    The order says which reason is told when several hold.
    """
    if standing.representative_out_of_period:
        return AUTHORITY_NOT_IN_FORCE
    if standing.refused_sms and kind not in AUTOMATIC_ANSWERS:
        return NO_CONSENT
    if kind in ANSWERS:
        return None
    if standing.restricted:
        return RESTRICTED
    if standing.opted_out:
        return OPTED_OUT
    return None


async def withheld(
    conn: AsyncConnection, outgoing: Sequence[Outgoing], today: date
) -> dict[str, str]:
    """The SMS of a batch that may not go now, by message id, with the reason.

    Three statements for the whole batch, whatever its size.
    """
    if not outgoing:
        return {}
    people = sorted({o.person_id for o in outgoing})
    opted_out = await _opted_out(conn, people)
    restricted = await _restricted(conn, people)
    on_cases = await _participation(conn, [o for o in outgoing if o.case_id], today)
    reasons: dict[str, str] = {}
    for o in outgoing:
        refused, out_of_period = on_cases.get((o.case_id or "", o.person_id), (False, False))
        standing = _Standing(
            opted_out=o.person_id in opted_out,
            restricted=o.person_id in restricted,
            refused_sms=refused,
            representative_out_of_period=out_of_period,
        )
        reason = verdict(o.kind, standing)
        if reason is not None:
            reasons[o.message_id] = reason
    return reasons


async def _opted_out(conn: AsyncConnection, people: list[str]) -> set[str]:
    """People whose latest SMS consent is STOP."""
    latest = (
        select(
            consents.c.person_id,
            consents.c.state,
            func.row_number()
            .over(
                partition_by=consents.c.person_id,
                order_by=(consents.c.at.desc(), consents.c.id.desc()),
            )
            .label("n"),
        )
        .where(consents.c.person_id.in_(people), consents.c.channel == "sms")
        .subquery()
    )
    rows = await conn.execute(
        select(latest.c.person_id).where(latest.c.n == 1, latest.c.state == "opted_out")
    )
    return {r.person_id for r in rows}


async def _restricted(conn: AsyncConnection, people: list[str]) -> set[str]:
    rows = await conn.execute(
        select(restrictions.c.person_id).where(restrictions.c.person_id.in_(people)).distinct()
    )
    return {r.person_id for r in rows}


async def _participation(
    conn: AsyncConnection, outgoing: Iterable[Outgoing], today: date
) -> dict[tuple[str, str], tuple[bool, bool]]:
    """(refused SMS, representative outside their period) per (case, person)."""
    pairs = {(o.case_id, o.person_id) for o in outgoing if o.case_id is not None}
    if not pairs:
        return {}
    rows = await conn.execute(
        select(
            participants.c.case_id,
            participants.c.person_id,
            participants.c.role,
            participant_details.c.authority_from,
            participant_details.c.authority_to,
            participant_consents.c.granted,
        )
        .outerjoin(participant_details, participant_details.c.participant_id == participants.c.id)
        .outerjoin(
            participant_consents,
            and_(
                participant_consents.c.participant_id == participants.c.id,
                participant_consents.c.channel == "sms",
            ),
        )
        .where(
            participants.c.case_id.in_(sorted({c for c, _ in pairs})),
            participants.c.person_id.in_(sorted({p for _, p in pairs})),
        )
    )
    found: dict[tuple[str, str], tuple[bool, bool]] = {}
    for r in rows:
        if (r.case_id, r.person_id) not in pairs:
            continue
        refused = r.granted is False
        out_of_period = r.role == "representative" and _outside(
            r.authority_from, r.authority_to, today
        )
        was = found.get((r.case_id, r.person_id), (False, False))
        found[(r.case_id, r.person_id)] = (was[0] or refused, was[1] or out_of_period)
    return found


def _outside(start: date | None, end: date | None, today: date) -> bool:
    """A representative's period: from ``start`` (required) to ``end`` (open when None)."""
    return start is None or today < start or (end is not None and today > end)
