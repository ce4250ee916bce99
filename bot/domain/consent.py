"""Samtykke: one consent record per person (or one part in one case) and channel.

STOP opts a number out of reminders and proactive updates, START back in;
never out of answers to the citizen's own messages. The case system (the
integration API) records for one participant whether they want SMS at all; a
page records what a caseworker was told. All of them write one table
(:data:`bot.store.schema.consent.consent_records`), every change a new row,
and every reader asks :func:`standings` here: the send-time gate, the
recipients of an update, the e-mail notice and the API's view.

The latest word wins, with one care: a withdrawal of proactive messages
(STOP) does not lift the case system's "no SMS" for answers; only a later
"given" does (START, the API, a page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.domain import texts
from bot.store.schema.consent import consent_records
from bot.store.schema.core import messages, participants, restrictions

_STOP = re.compile(r"^\s*stop(\s*(påmindelser|paamindelser|pamindelser|sms))?\W*$", re.IGNORECASE)
_START = re.compile(r"^\s*start(\s*(påmindelser|paamindelser|pamindelser|sms))?\W*$", re.IGNORECASE)

GIVEN, WITHDRAWN, REFUSED = "given", "withdrawn", "refused"
STATES = (GIVEN, WITHDRAWN, REFUSED)
# proactive: what STOP stops. answers: everything but the automatic answers.
PROACTIVE, ANSWERS = "proactive", "answers"
SCOPES = (PROACTIVE, ANSWERS)
SMS_STOP, API, PAGE, MIGRATION = "sms_stop", "api", "page", "migration"
CHANNELS = ("sms", "email", "digital_post", "web")


def command(body: str) -> str | None:
    """ "stop", "start" or None for an ordinary message.

    The words are accepted in every language our texts speak (Ukrainian "СТОП",
    "СТАРТ", Arabic "توقف", "ابدأ", …: ``bot.domain.texts.COMMANDS``), whatever
    language the sender is recorded with.
    """
    if _STOP.match(body):
        return "stop"
    if _START.match(body):
        return "start"
    found = texts.command_of(body)
    return found if found in ("stop", "start") else None


@dataclass(frozen=True, slots=True)
class Said:
    """One consent record: what was said, for which part, when."""

    participant_id: str | None
    state: str
    scope: str
    at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one person (in their parts of one case) stands on one channel.

    ``latest`` is the newest state on record (None: nothing recorded);
    ``answers_refused``: even answers are refused (the case system's "no SMS").
    """

    latest: str | None = None
    answers_refused: bool = False

    @property
    def recorded(self) -> bool | None:
        """The API's view: True given, False withdrawn or refused, None nothing on record."""
        return None if self.latest is None else self.latest == GIVEN

    @property
    def proactive(self) -> bool:
        """May reminders and proactive updates go (nothing on record: yes)?"""
        return self.latest in (None, GIVEN)


def standing(records: Iterable[Said]) -> Standing:
    """Where the records leave someone: the latest word, and whether answers are refused."""
    ordered = sorted(records, key=lambda r: (r.at, r.id))
    if not ordered:
        return Standing()
    # A STOP (proactive only) neither refuses nor restores answers.
    covering = [r for r in ordered if r.scope == ANSWERS or r.state == GIVEN]
    return Standing(
        latest=ordered[-1].state,
        answers_refused=bool(covering) and covering[-1].state != GIVEN,
    )


def _combine(parts: Sequence[Standing]) -> Standing:
    """Several parts in one case: held back if any part holds back."""
    if len(parts) == 1:
        return parts[0]
    blocked = [p for p in parts if not p.proactive]
    return Standing(
        latest=blocked[0].latest if blocked else parts[0].latest,
        answers_refused=any(p.answers_refused for p in parts),
    )


async def standings(
    conn: AsyncConnection, who: Sequence[tuple[str, Sequence[str]]], channel: str = "sms"
) -> list[Standing]:
    """The one reader: for each (person id, their participant ids in one case), their standing.

    A person's own records (STOP/START, a page) count on every case; a
    participant's (the case system's) only for that part. One statement for
    all of them.
    """
    persons = {person_id for person_id, _ in who}
    said: dict[str, list[Said]] = {p: [] for p in persons}
    if persons:
        rows = await conn.execute(
            select(
                consent_records.c.person_id,
                consent_records.c.participant_id,
                consent_records.c.state,
                consent_records.c.scope,
                consent_records.c.at,
                consent_records.c.id,
            ).where(
                consent_records.c.person_id.in_(sorted(persons)),
                consent_records.c.channel == channel,
            )
        )
        for r in rows:
            said[r.person_id].append(Said(r.participant_id, r.state, r.scope, r.at, r.id))
    out = []
    for person_id, parts in who:
        own = [s for s in said[person_id] if s.participant_id is None]
        if not parts:
            out.append(standing(own))
            continue
        per_part = [
            standing(own + [s for s in said[person_id] if s.participant_id == part])
            for part in parts
        ]
        out.append(_combine(per_part))
    return out


async def for_messages(
    conn: AsyncConnection, message_ids: Sequence[str], channel: str = "sms"
) -> dict[str, Standing]:
    """Each message's person's standing on ``channel``, in their parts of the message's case."""
    rows = await conn.execute(
        select(messages.c.id, messages.c.person_id, participants.c.id.label("part"))
        .outerjoin(
            participants,
            and_(
                participants.c.case_id == messages.c.case_id,
                participants.c.person_id == messages.c.person_id,
            ),
        )
        .where(messages.c.id.in_(list(message_ids)))
    )
    who: dict[str, tuple[str, list[str]]] = {}
    for r in rows:
        person_parts = who.setdefault(r.id, (r.person_id, []))
        if r.part is not None:
            person_parts[1].append(r.part)
    found = await standings(conn, list(who.values()), channel)
    return dict(zip(who, found, strict=True))


async def for_participants(
    conn: AsyncConnection, parts: Sequence[tuple[str, str]], channel: str = "sms"
) -> dict[str, Standing]:
    """Each (participant id, person id)'s standing on ``channel``, by participant id."""
    found = await standings(conn, [(person, [part]) for part, person in parts], channel)
    return {part: s for (part, _), s in zip(parts, found, strict=True)}


async def for_person_on_case(
    conn: AsyncConnection, person_id: str, case_id: str, channel: str = "sms"
) -> Standing:
    """A person's standing on ``channel`` in their parts of one case."""
    parts = await conn.execute(
        select(participants.c.id).where(
            participants.c.case_id == case_id, participants.c.person_id == person_id
        )
    )
    return (await standings(conn, [(person_id, list(parts.scalars()))], channel))[0]


async def proactive_allowed(conn: AsyncConnection, person_id: str, channel: str = "sms") -> bool:
    """May we send this person reminders and proactive updates on this channel?

    Not after STOP, and not while their processing is restricted.
    """
    restricted = (
        await conn.execute(select(restrictions.c.id).where(restrictions.c.person_id == person_id))
    ).first()
    if restricted is not None:
        return False
    return (await standings(conn, [(person_id, ())], channel))[0].proactive


async def email_consented(conn: AsyncConnection, person_id: str) -> bool:
    """E-mail needs an explicit yes: the latest e-mail consent must be given."""
    return (await standings(conn, [(person_id, ())], "email"))[0].latest == GIVEN


@dataclass(frozen=True, slots=True)
class Record:
    """One consent record as a page shows it."""

    at: datetime
    channel: str
    state: str
    scope: str
    source: str
    actor: str
    participant_id: str | None


async def history(conn: AsyncConnection, person_id: str, case_id: str) -> list[Record]:
    """A person's consent records that count on one case (theirs, their parts'), newest first."""
    parts = select(participants.c.id).where(
        participants.c.case_id == case_id, participants.c.person_id == person_id
    )
    rows = await conn.execute(
        select(consent_records)
        .where(
            consent_records.c.person_id == person_id,
            consent_records.c.participant_id.is_(None)
            | consent_records.c.participant_id.in_(parts),
        )
        .order_by(consent_records.c.at.desc(), consent_records.c.id.desc())
    )
    return [
        Record(r.at, r.channel, r.state, r.scope, r.source, r.actor, r.participant_id) for r in rows
    ]


def record_row(
    *,
    tenant_id: str,
    person_id: str,
    channel: str,
    state: str,
    scope: str,
    source: str,
    at: datetime,
    actor: str,
    participant_id: str | None = None,
) -> dict[str, Any]:
    """One consent record as a row (for a writer that inserts it with other rows)."""
    if channel not in CHANNELS or state not in STATES or scope not in SCOPES:
        raise ValueError(f"not a consent record: {channel}/{state}/{scope}")
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "person_id": person_id,
        "participant_id": participant_id,
        "channel": channel,
        "state": state,
        "scope": scope,
        "source": source,
        "at": at,
        "actor": actor,
    }


def stop_rows(
    tenant_id: str, person_ids: Iterable[str], command_word: str, at: datetime
) -> list[dict[str, Any]]:
    """The records of a citizen's STOP or START, one per person on the number."""
    state = WITHDRAWN if command_word == "stop" else GIVEN
    return [
        record_row(
            tenant_id=tenant_id,
            person_id=person_id,
            channel="sms",
            state=state,
            scope=PROACTIVE,
            source=SMS_STOP,
            at=at,
            actor="citizen",
        )
        for person_id in person_ids
    ]


async def record(conn: AsyncConnection, **fields: Any) -> dict[str, Any]:
    """Write one consent record (see :func:`record_row` for the fields); returns the row."""
    row = record_row(**fields)
    # The latest word wins: a word said in the same instant as the last one (a clock
    # that did not move, two calls in one request) is still ordered after it.
    last = await conn.scalar(
        select(func.max(consent_records.c.at)).where(
            consent_records.c.person_id == row["person_id"],
            consent_records.c.channel == row["channel"],
        )
    )
    if last is not None and last >= row["at"]:
        row["at"] = last + timedelta(microseconds=1)
    await conn.execute(consent_records.insert().values(**row))
    return row


async def set_by_case_system(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    participant_id: str,
    person_id: str,
    channel: str,
    granted: bool | None,
    at: datetime,
    actor: str = "integration",
) -> bool:
    """The case system's word for one participant: yes, no (nothing but the automatic
    answers), or None: it no longer says (its records for that part go, as before).

    The case system saying again what it said last adds nothing: a sync that
    sends its whole record does not bury the citizen's later START under a
    copy of an old "no". (To say "no" anew after a START it says something
    else first, e.g. None.)
    """
    mine = and_(
        consent_records.c.participant_id == participant_id,
        consent_records.c.channel == channel,
    )
    if granted is None:
        return bool((await conn.execute(delete(consent_records).where(mine))).rowcount)
    state = GIVEN if granted else REFUSED
    last = (
        await conn.execute(
            select(consent_records.c.state)
            .where(mine)
            .order_by(consent_records.c.at.desc(), consent_records.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if last == state:
        return False
    await record(
        conn,
        tenant_id=tenant_id,
        person_id=person_id,
        participant_id=participant_id,
        channel=channel,
        state=state,
        scope=ANSWERS,
        source=API,
        at=at,
        actor=actor,
    )
    return True


def part_allows(participant_id: Any, channel: str) -> Any:
    """SQL: the case system's latest word for a part on ``channel`` is not a no.

    For a query that already has the participant row (``participant_id`` is its
    id column); nothing on record allows, as every reader here reads it.
    """
    latest = (
        select(consent_records.c.state)
        .where(
            consent_records.c.participant_id == participant_id,
            consent_records.c.channel == channel,
        )
        .order_by(consent_records.c.at.desc(), consent_records.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return or_(latest.is_(None), latest == GIVEN)


async def records_of(conn: AsyncConnection, person_id: str) -> list[Record]:
    """Every consent record of a person, on every case and none, oldest first (aktindsigt)."""
    rows = await conn.execute(
        select(consent_records)
        .where(consent_records.c.person_id == person_id)
        .order_by(consent_records.c.at, consent_records.c.id)
    )
    return [
        Record(r.at, r.channel, r.state, r.scope, r.source, r.actor, r.participant_id) for r in rows
    ]
