"""The send-time gate: may this message reach this person now? One rule, every outbound one.

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
- ``no_email_consent``: the message goes by e-mail (an e-mail notice standing
  in for an SMS that did not arrive), and the person's latest word on e-mail
  is not an explicit yes.
- ``decision``: a text a person wrote reads as an afgørelse, which goes by
  Digital Post (the decision guard, :mod:`bot.domain.guard.sendtime`; the
  relay asks it for the same batch).

Consent is read for the channel the message actually goes by
(:func:`goes_by`, which the relay's one-by-one way asks too): an e-mail needs
the person's e-mail consent, and the case system's "no SMS" does not stop it;
STOP and a restriction stop proactive messages whatever the channel. A
message keeps its kind when it changes channel (the e-mail of a reminder that
could not be delivered is a reminder), so STOP holds it back as well. Rows of
the kind ``fallback`` were queued by releases that did not keep the kind: they
count as answers, as they did then.

Quiet hours (stilletid: delayed, journalised with when it may go), sensitive
content and the segment limit (a notice with a link instead, journalised) are
checked by the relay itself when it builds the SMS (:mod:`bot.domain.outbox.triage`,
:mod:`bot.domain.outbox.single`, :mod:`bot.domain.outbox.notes`); callers do not
pre-date their rows for quiet hours. This module decides who may be written to,
and (:func:`quiet_hours`, for the relay and the reminder runner alike) when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import consent
from bot.store.schema.core import messages, participants, persons, restrictions
from bot.store.schema.integration import participant_details
from scheduler.quiet import HolidayCalendar, QuietSettings, allowed_send_time, is_quiet

# Answers to what the citizen just wrote: they go back even after STOP.
AUTOMATIC_ANSWERS = frozenset({"receipt", "clarify", "auto", "login_code"})
# A caseworker's answer is an answer too (STOP stops proactive SMS only). "fallback":
# an e-mail queued by an older release, which did not keep the original's kind.
ANSWERS = AUTOMATIC_ANSWERS | {"reply", "fallback"}
# Answers to what the citizen just wrote go back the way they came: by SMS, whatever
# the person prefers otherwise.
CONVERSATIONAL = ("receipt", "clarify", "auto")

OPTED_OUT = "opted_out"
RESTRICTED = "restricted"
NO_CONSENT = "no_consent"
AUTHORITY_NOT_IN_FORCE = "authority_not_in_force"
DECISION = "decision"
NO_EMAIL_CONSENT = "no_email_consent"

REASON_WORDS = {
    OPTED_OUT: "borgeren har sagt STOP til påmindelser og opdateringer",
    RESTRICTED: "behandlingen af borgerens oplysninger er begrænset",
    NO_CONSENT: "sagssystemet har registreret, at deltageren ikke vil have SMS",
    AUTHORITY_NOT_IN_FORCE: "fuldmagten gælder ikke i dag",
    DECISION: "teksten lyder som en afgørelse, og den sendes med Digital Post",
    NO_EMAIL_CONSENT: "borgeren har ikke sagt ja til e-mail",
}


def goes_by(
    *,
    preset_via: str | None,
    channel_pref: str | None,
    kind: str,
    has_email: bool,
    email_relay: bool,
    email_consented: bool,
) -> str:
    """The channel a citizen's message goes by: "email" or "sms" (a notice with a link
    is an SMS).

    An e-mail notice queued as one (``via`` "email": the fallback of an SMS that
    did not arrive) goes by e-mail. A person who prefers e-mail gets everything
    but the automatic answers to their own SMS as an e-mail notice, when they
    have an address, a mail relay is configured and they have said yes to
    e-mail; without that yes it goes by SMS, on their SMS consent.
    """
    if preset_via == "email":
        return "email"
    if (
        channel_pref == "email"
        and kind not in CONVERSATIONAL
        and has_email
        and email_relay
        and email_consented
    ):
        return "email"
    return "sms"


@dataclass(frozen=True, slots=True)
class _Standing:
    """What is on record about one person (and their part in one case) today."""

    opted_out: bool = False
    restricted: bool = False
    refused_sms: bool = False
    representative_out_of_period: bool = False
    # None: the message goes by SMS; else whether the person said yes to e-mail.
    email_consented: bool | None = None


def verdict(kind: str, standing: _Standing) -> str | None:
    """Why an SMS of ``kind`` may not go to someone standing so (None: it may go).

    The order says which reason is told when several hold.
    """
    if standing.representative_out_of_period:
        return AUTHORITY_NOT_IN_FORCE
    if standing.email_consented is False:
        return NO_EMAIL_CONSENT
    if standing.email_consented is None and standing.refused_sms and kind not in AUTOMATIC_ANSWERS:
        return NO_CONSENT
    if kind in ANSWERS:
        return None
    if standing.restricted:
        return RESTRICTED
    if standing.opted_out:
        return OPTED_OUT
    return None


async def withheld(
    conn: AsyncConnection, message_ids: Sequence[str], today: date, *, email_relay: bool = False
) -> dict[str, str]:
    """The citizen messages among ``message_ids`` that may not go now, with the reason.

    A few statements for the whole batch, whatever its size: each message with
    its kind, channel, the person's restriction and their part in the
    message's case; their consent on that channel as :mod:`bot.domain.consent`
    reads it (and their SMS consent for STOP, which holds on every channel).

    Args:
        email_relay: whether a mail relay is configured (else nothing goes by e-mail
            but what was queued as an e-mail, see :func:`goes_by`).
    """
    if not message_ids:
        return {}
    said = await consent.for_messages(conn, message_ids)
    restricted = (
        select(restrictions.c.id).where(restrictions.c.person_id == messages.c.person_id).exists()
    )
    rows = (
        await conn.execute(
            select(
                messages.c.id,
                messages.c.kind,
                messages.c.via,
                persons.c.channel_pref,
                persons.c.email_enc.is_not(None).label("has_email"),
                restricted.label("restricted"),
                participants.c.role,
                participant_details.c.authority_from,
                participant_details.c.authority_to,
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .outerjoin(
                participants,
                and_(
                    participants.c.case_id == messages.c.case_id,
                    participants.c.person_id == messages.c.person_id,
                ),
            )
            .outerjoin(
                participant_details, participant_details.c.participant_id == participants.c.id
            )
            .where(messages.c.id.in_(list(message_ids)))
        )
    ).all()
    # E-mail consent only for what could go by e-mail: one more statement, if any.
    maybe_email = sorted(
        {r.id for r in rows if r.via == "email" or (r.channel_pref == "email" and r.has_email)}
    )
    by_email = await consent.for_messages(conn, maybe_email, channel="email") if maybe_email else {}
    standing: dict[str, tuple[str, _Standing]] = {}
    for r in rows:
        out_of_period = r.role == "representative" and _outside(
            r.authority_from, r.authority_to, today
        )
        was = standing.get(r.id)
        if was is None:
            email_yes = r.id in by_email and by_email[r.id].latest == consent.GIVEN
            channel = goes_by(
                preset_via=r.via,
                channel_pref=r.channel_pref,
                kind=r.kind,
                has_email=bool(r.has_email),
                email_relay=email_relay,
                email_consented=email_yes,
            )
            sms = said[r.id]
            now = _Standing(
                # By e-mail, STOP (a withdrawal) holds; the case system's "no SMS" does not.
                opted_out=sms.latest == consent.WITHDRAWN
                if channel == "email"
                else not sms.proactive,
                restricted=bool(r.restricted),
                refused_sms=sms.answers_refused,
                representative_out_of_period=out_of_period,
                email_consented=email_yes if channel == "email" else None,
            )
        else:
            # Several parts in one case: refused if any says so; a representative
            # out of period only if no other part of theirs lets them hear.
            now = replace(
                was[1],
                representative_out_of_period=(
                    was[1].representative_out_of_period and out_of_period
                ),
            )
        standing[r.id] = (r.kind, now)
    reasons: dict[str, str] = {}
    for message_id, (kind, now) in standing.items():
        reason = verdict(kind, now)
        if reason is not None:
            reasons[message_id] = reason
    return reasons


def _outside(start: date | None, end: date | None, today: date) -> bool:
    """A representative's period: from ``start`` (required) to ``end`` (open when None)."""
    return start is None or today < start or (end is not None and today > end)


@dataclass(frozen=True, slots=True)
class QuietHold:
    """Stilletid holds an SMS back: until ``until``, or (None) for good, as it would be late."""

    until: dt.datetime | None


def quiet_hours(
    now: dt.datetime,
    settings: QuietSettings,
    calendar: HolidayCalendar,
    *,
    event_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> QuietHold | None:
    """Whether quiet hours (stilletid) let a proactive, non-urgent SMS go now.

    The one decision, asked by the outbox relay for every proactive SMS it is
    about to send (:mod:`bot.domain.outbox.triage`, :mod:`bot.domain.outbox.single`)
    and by the reminder runner before it queues a reminder (``scheduler.runner``).
    The runner asks too because it knows what the outbox does not: when what a
    reminder is about happens (``event_at``) and after when it is pointless
    (``expires_at``). A reminder for a 07:30 meeting that falls due at 22:00
    would reach the phone after the meeting if the outbox delayed it to 08:00;
    it is skipped instead, and the runner journalises why. Without those two,
    as at the relay, quiet hours only ever delay.

    Which kinds and which urgent sends are exempt is the caller's (the relay's
    ``QUIET_HOURS_EXEMPT`` and ``scheduler.urgent``); this decides the time.

    Returns:
        None when the SMS may go now; ``QuietHold(until)`` to wait until then;
        ``QuietHold(None)`` when waiting would make it late: not to be sent.
    """
    if not is_quiet(now, settings, calendar):
        return None
    later = allowed_send_time(now, settings, calendar, event_at)
    if later > now and (expires_at is None or later < expires_at):
        return QuietHold(later)
    return QuietHold(None)
