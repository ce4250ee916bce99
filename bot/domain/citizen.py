"""The family's side: their threads with the municipality, reading and answering.

A citizen logged in by SMS code is "whoever holds the phone": they see the
threads of every person registered with that number in the municipality, and
at this assurance level only messages that also travelled by SMS (so nothing
they could not already read on the phone). Content meant for the secure inbox
alone needs a stronger login.

TODO(MitID): a login through an OIDC broker (MitID, assurance "substantial")
identifies the person by CPR; then threads are the person's own, and
``SECURE_ONLY_KINDS`` are shown too.
"""

from __future__ import annotations

import gettext
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey, seal, unseal
from bot.base.errors import BadInput, NotFound
from bot.base.i18n import translate
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain import attachments as files
from bot.domain import consent, person_language, tenant_logo
from bot.domain.attachments import Attachment, Download, ThreadKeys, Upload
from bot.domain.dispatch import CaseOnTeam, Decision, decide, dispatch, routing_columns
from bot.domain.routing import team_calendar, team_row
from bot.domain.tenant_logo import Masthead
from bot.store.schema.core import (
    access_log,
    administrations,
    cases,
    conversations,
    messages,
    participants,
    persons,
    staff,
    tenants,
)
from bot.store.schema.integration import participant_details
from bot.store.schema.pages import web_citizen_reads
from bot.store.schema.scheduler import appointments, milestones
from journal.journal import append, append_many
from scheduler.templates import policy_for

SMS_CODE = "sms-code"
# Never shown to the citizen in the inbox (they got it on the phone; it is spent).
HIDDEN_KINDS = frozenset({"login_code"})
# A send-later SMS in these states has not reached the family (queued: waiting for its time).
UNSENT_SCHEDULED = ("queued", "withdrawn")
# TODO(secure messages): kinds that are only ever delivered to the secure inbox
# (sensitive content: the SMS carries a notice and a link). Shown only above
# the sms-code assurance level; none exist yet.
SECURE_ONLY_KINDS: frozenset[str] = frozenset({"secure"})
# Session levels that may see sensitive content (a MitID login at NSIS "substantial").
STRONG_LEVELS = frozenset({"substantial"})
# Someone who takes part for the citizen (bisidder, partsrepræsentant): they see a
# case's thread only as far as the case system's record of them allows.
THIRD_PARTIES = ("bisidder", "representative")


def _secret(m: Any) -> bool:
    """Content that never travelled by SMS (sensitive, or sent as a notice with a link)."""
    return bool(m.kind in SECURE_ONLY_KINDS or m.sensitive or m.via == "notice")


def _(message: str) -> str:
    """Marks a text for the catalogues; the page translates it when it shows it."""
    return message


# The steps of every case type's timeline (scheduler.templates), as the citizen
# reads them: the catalogues translate them (a test keeps this list complete).
STEP_TITLES = frozenset(
    {
        _("Vi har modtaget din sag"),
        _("Vi behandler din sag"),
        _("Afgørelse"),
        _("Vi indhenter oplysninger"),
        _("Sagen er sendt til visitation"),
        _("Børnefaglig undersøgelse"),
        _("Møde med familien"),
    }
)


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who is logged in to the secure inbox."""

    tenant_id: str
    phone_index: str
    assurance: str
    # Set by a MitID login: this person's threads only (not everyone on the phone).
    person_id: str | None = None


@dataclass
class ThreadSummary:
    id: str
    case_number: str | None
    administration: str | None
    caseworker: str | None
    case_open: bool
    last_at: datetime
    count: int
    unread: int  # messages a caseworker wrote that the inbox has not shown yet
    reply_by: datetime | None = None  # the municipality answers by then (if waiting)


@dataclass
class CitizenMessage:
    id: str
    direction: str  # in: from the citizen; out: from the municipality
    kind: str
    body: str
    created_at: datetime
    author: str | None = None  # the caseworker's first name, for replies
    read_by: str | None = None  # in: the first caseworker who read it ...
    read_at: datetime | None = None  # ... and when
    new: bool = False  # out: not seen in the inbox before this view
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class TimelineStep:
    """One step of the case, in plain words: done, now, or next (with the expected date)."""

    title: str  # Danish; the page translates it (STEP_TITLES)
    status: str  # done | current | pending
    expected_on: date | None
    completed_on: datetime | None


@dataclass
class Meeting:
    """An upcoming appointment the citizen attends."""

    id: str
    starts_at: datetime
    ends_at: datetime
    # At every login: the reminder SMS names the place (see :func:`_place`).
    place: str | None


@dataclass
class CitizenThread:
    summary: ThreadSummary
    tenant_name: str
    messages: list[CitizenMessage] = field(default_factory=list)
    hidden: int = 0  # messages that need a stronger login
    reply_by: datetime | None = None  # the municipality answers by then (if waiting)
    timeline: list[TimelineStep] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WebReceipt:
    """What the page tells the citizen after they wrote: who answers, and by when."""

    caseworker: str | None
    reply_by: datetime | None


def _sent_or_not_scheduled() -> ColumnElement[bool]:
    """A send-later SMS is the family's only once it has gone: not while it waits for its time
    (the caseworker may still withdraw it), and never once withdrawn."""
    return or_(messages.c.kind != "scheduled", messages.c.status.not_in(UNSENT_SCHEDULED))


def _visible_kinds(who: Citizen) -> ColumnElement[bool]:
    hidden = set(HIDDEN_KINDS)
    if who.assurance not in STRONG_LEVELS:
        hidden |= SECURE_ONLY_KINDS
        # Below MitID "substantial": only what could also travel by SMS.
        return and_(
            messages.c.kind.not_in(sorted(hidden)),
            _sent_or_not_scheduled(),
            messages.c.sensitive.is_(False),
            or_(messages.c.via.is_(None), messages.c.via != "notice"),
        )
    return and_(messages.c.kind.not_in(sorted(hidden)), _sent_or_not_scheduled())


def _covered(today: date) -> ColumnElement[bool]:
    """A thread the person may read on the web, by their part in its case.

    The family's own threads (party, parent, no case yet, no part recorded)
    always; a bisidder's or representative's only while the case system says so:
    entitled, web not refused, and a representative's authority (fuldmagt) in
    force today. Nothing else of the case is ever theirs: only their own thread.
    """
    authority = and_(
        participant_details.c.authority_from.is_not(None),
        participant_details.c.authority_from <= today,
        or_(
            participant_details.c.authority_to.is_(None),
            participant_details.c.authority_to >= today,
        ),
    )
    return or_(
        participants.c.role.is_(None),
        participants.c.role.not_in(THIRD_PARTIES),
        and_(
            participants.c.entitled.is_(True),
            consent.part_allows(participants.c.id, "web"),
            or_(participants.c.role != "representative", authority),
        ),
    )


def _mine(who: Citizen, today: date) -> ColumnElement[bool]:
    if who.person_id is not None:
        own = conversations.c.person_id == who.person_id
    else:
        own = persons.c.phone_index == who.phone_index
    return and_(conversations.c.tenant_id == who.tenant_id, own, _covered(today))


def _today(svc: Services) -> date:
    return svc.clock.now().astimezone(COPENHAGEN).date()


def _staff_name(svc: Services, row: Any, cache: dict[str, str]) -> str | None:
    sid = row.staff_id
    if sid is None:
        return None
    if sid not in cache:
        dek = svc.dek("staff", sid, row.staff_dek)
        cache[sid] = unseal(dek, row.staff_first_name_enc, f"staff:{sid}:first_name")
    return cache[sid]


def _threads_query() -> Any:
    return (
        select(
            conversations.c.id,
            conversations.c.case_id,
            conversations.c.person_id,
            conversations.c.last_activity_at,
            cases.c.number,
            cases.c.status,
            cases.c.team_id,
            cases.c.case_type,
            cases.c.dek.label("case_dek"),
            administrations.c.name.label("administration"),
            staff.c.id.label("staff_id"),
            staff.c.dek.label("staff_dek"),
            staff.c.first_name_enc.label("staff_first_name_enc"),
            persons.c.dek.label("person_dek"),
        )
        .join(persons, persons.c.id == conversations.c.person_id)
        .outerjoin(cases, cases.c.id == conversations.c.case_id)
        .outerjoin(administrations, administrations.c.id == cases.c.administration_id)
        .outerjoin(staff, staff.c.id == cases.c.owner_id)
        .outerjoin(
            participants,
            and_(
                participants.c.case_id == conversations.c.case_id,
                participants.c.person_id == conversations.c.person_id,
            ),
        )
        .outerjoin(participant_details, participant_details.c.participant_id == participants.c.id)
    )


def _summary(svc: Services, r: Any, stats: Any, cache: dict[str, str]) -> ThreadSummary:
    return ThreadSummary(
        id=r.id,
        case_number=r.number,
        administration=r.administration,
        caseworker=_staff_name(svc, r, cache),
        case_open=r.case_id is None or r.status == "open",
        last_at=stats.last_at if stats is not None else r.last_activity_at,
        count=stats.count if stats is not None else 0,
        unread=int(stats.unread or 0) if stats is not None else 0,
        reply_by=stats.reply_by if stats is not None else None,
    )


async def _stats(conn: AsyncConnection, who: Citizen, conv_ids: list[str]) -> dict[str, Any]:
    if not conv_ids:
        return {}
    # An outbound message a caseworker wrote that the inbox has not shown yet
    # (automatic receipts, reminders and login codes are not "new messages").
    unread = func.sum(
        case(
            (
                and_(
                    messages.c.direction == "out",
                    messages.c.author_id.is_not(None),
                    web_citizen_reads.c.message_id.is_(None),
                ),
                1,
            ),
            else_=0,
        )
    )
    reply_by = func.min(
        case((messages.c.awaiting_reply.is_(True), messages.c.reply_by), else_=None)
    )
    rows = (
        await conn.execute(
            select(
                messages.c.conversation_id,
                func.count().label("count"),
                func.max(messages.c.created_at).label("last_at"),
                unread.label("unread"),
                reply_by.label("reply_by"),
            )
            .outerjoin(web_citizen_reads, web_citizen_reads.c.message_id == messages.c.id)
            .where(messages.c.conversation_id.in_(conv_ids), _visible_kinds(who))
            .group_by(messages.c.conversation_id)
        )
    ).all()
    return {r.conversation_id: r for r in rows}


async def threads(svc: Services, who: Citizen) -> list[ThreadSummary]:
    """Every thread with something to show, most recent first."""
    async with svc.read() as conn:
        rows = (await conn.execute(_threads_query().where(_mine(who, _today(svc))))).all()
        stats = await _stats(conn, who, [r.id for r in rows])
    cache: dict[str, str] = {}
    result = [_summary(svc, r, stats.get(r.id), cache) for r in rows if r.id in stats]
    result.sort(key=lambda t: (t.last_at, t.id), reverse=True)
    return result


async def _reads(
    conn: AsyncConnection, svc: Services, tenant_id: str, ids: list[str]
) -> dict[str, tuple[str, datetime]]:
    """For each message, the first staff member who read it, and when (from the access log)."""
    if not ids:
        return {}
    rows = (
        await conn.execute(
            select(
                access_log.c.message_id,
                access_log.c.at,
                staff.c.id.label("staff_id"),
                staff.c.dek.label("staff_dek"),
                staff.c.first_name_enc.label("staff_first_name_enc"),
            )
            .join(staff, staff.c.id == access_log.c.staff_id)
            .where(
                access_log.c.tenant_id == tenant_id,
                access_log.c.message_id.in_(ids),
                access_log.c.action == "read",
            )
            .order_by(access_log.c.at, access_log.c.id)
        )
    ).all()
    cache: dict[str, str] = {}
    first: dict[str, tuple[str, datetime]] = {}
    for r in rows:
        if r.message_id not in first:
            first[r.message_id] = (_staff_name(svc, r, cache) or "", r.at)
    return first


async def _mark_read(conn: AsyncConnection, tenant_id: str, ids: list[str], at: datetime) -> None:
    if not ids:
        return
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        web_citizen_reads
    )
    await conn.execute(
        insert.on_conflict_do_nothing(index_elements=["message_id"]),
        [{"message_id": i, "tenant_id": tenant_id, "first_read_at": at} for i in ids],
    )


async def _thread_row(conn: AsyncConnection, svc: Services, who: Citizen, conv_id: str) -> Any:
    mine = _mine(who, _today(svc))
    row = (await conn.execute(_threads_query().where(mine, conversations.c.id == conv_id))).first()
    if row is None:
        raise NotFound("No such conversation", code="conversation_not_found")
    return row


async def _tenant_name(conn: AsyncConnection, tenant_id: str) -> str:
    return str(
        (await conn.execute(select(tenants.c.name).where(tenants.c.id == tenant_id))).scalar_one()
    )


async def _thread_messages(conn: AsyncConnection, conv_id: str) -> list[Any]:
    """Every message on the thread the inbox may ever show, oldest first, with its author."""
    rows = await conn.execute(
        select(
            messages,
            web_citizen_reads.c.first_read_at,
            staff.c.id.label("staff_id"),
            staff.c.dek.label("staff_dek"),
            staff.c.first_name_enc.label("staff_first_name_enc"),
        )
        .outerjoin(web_citizen_reads, web_citizen_reads.c.message_id == messages.c.id)
        .outerjoin(staff, staff.c.id == messages.c.author_id)
        .where(
            messages.c.conversation_id == conv_id,
            messages.c.kind.not_in(HIDDEN_KINDS),
            _sent_or_not_scheduled(),
        )
        .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
    )
    return list(rows.all())


def _citizen_message(
    svc: Services, m: Any, keys: ThreadKeys, cache: dict[str, str]
) -> CitizenMessage:
    """One message as the citizen reads it, decrypted."""
    dek = keys.case_dek if m.key_scope == "case" and keys.case_dek else keys.person_dek
    out = m.direction == "out"
    return CitizenMessage(
        id=m.id,
        direction=m.direction,
        kind=m.kind,
        body=unseal(dek, m.body_enc, f"messages:{m.id}:body"),
        created_at=m.created_at,
        author=_staff_name(svc, m, cache) if out else None,
        new=out and m.first_read_at is None,
    )


async def _shown(
    conn: AsyncConnection,
    svc: Services,
    who: Citizen,
    visible: Sequence[Any],
    keys: ThreadKeys,
    cache: dict[str, str],
) -> list[CitizenMessage]:
    """The visible messages, decrypted, with who first read the citizen's own and when."""
    reads = await _reads(conn, svc, who.tenant_id, [m.id for m in visible if m.direction == "in"])
    items = []
    for m in visible:
        item = _citizen_message(svc, m, keys, cache)
        if m.id in reads:
            item.read_by, item.read_at = reads[m.id]
        items.append(item)
    return items


def _open_reply_by(rows: Sequence[Any]) -> datetime | None:
    """When the municipality answers by: the earliest reply-by of a message still waiting."""
    return min((m.reply_by for m in rows if m.awaiting_reply and m.reply_by), default=None)


async def thread(svc: Services, who: Citizen, conv_id: str) -> CitizenThread:
    """One thread, decrypted. Messages from the municipality are marked as seen."""
    now = svc.clock.now()
    cache: dict[str, str] = {}
    async with svc.write() as conn:
        conv = await _thread_row(conn, svc, who, conv_id)
        tenant_name = await _tenant_name(conn, who.tenant_id)
        rows = await _thread_messages(conn, conv_id)
        keys = ThreadKeys(
            case_dek=svc.dek("cases", conv.case_id, conv.case_dek) if conv.case_id else None,
            person_dek=svc.dek("persons", conv.person_id, conv.person_dek),
        )
        visible = [m for m in rows if who.assurance in STRONG_LEVELS or not _secret(m)]
        items = await _shown(conn, svc, who, visible, keys, cache)
        await _mark_read(conn, who.tenant_id, [i.id for i in items if i.new], now)
        found = await files.on_thread(
            conn, tenant_id=who.tenant_id, conversation_id=conv_id, keys=keys
        )
        for item in items:
            item.attachments = found.get(item.id, [])
        timeline = await _timeline(conn, conv) if conv.case_id else []
        meetings = await _meetings(conn, who, conv, now, keys.case_dek) if conv.case_id else []
    summary = _summary(svc, conv, None, cache)
    summary.count = len(items)
    if items:
        summary.last_at = items[-1].created_at
    return CitizenThread(
        summary=summary,
        tenant_name=tenant_name,
        messages=items,
        hidden=len(rows) - len(visible),
        reply_by=_open_reply_by(rows),
        timeline=timeline,
        meetings=meetings,
    )


async def _timeline(conn: AsyncConnection, conv: Any) -> list[TimelineStep]:
    """The case's milestones in order; only steps of a known template (plain words)."""
    policy = policy_for(conv.case_type)
    if policy is None:
        return []
    rows = await conn.execute(
        select(milestones)
        .where(milestones.c.case_id == conv.case_id)
        .order_by(milestones.c.position)
    )
    steps = []
    for r in rows:
        tpl = policy.step(r.step)
        if tpl is None:
            continue
        steps.append(
            TimelineStep(
                title=tpl.title["da"],
                status=r.status,
                expected_on=r.expected_on,
                completed_on=r.completed_at,
            )
        )
    return steps


def _attends(row: Any, person_id: str) -> bool:
    return person_id in json.loads(row.attendees).get("persons", [])


async def _meetings(
    conn: AsyncConnection, who: Citizen, conv: Any, now: datetime, case_dek: bytes | None
) -> list[Meeting]:
    """Scheduled appointments on the thread's case, not yet over, that this person attends."""
    rows = await conn.execute(
        select(appointments)
        .where(
            appointments.c.case_id == conv.case_id,
            appointments.c.tenant_id == who.tenant_id,
            appointments.c.status == "scheduled",
            appointments.c.ends_at > now,
        )
        .order_by(appointments.c.starts_at, appointments.c.id)
    )
    result = []
    for r in rows:
        if not _attends(r, conv.person_id):
            continue
        place = _place(r, case_dek)
        result.append(
            Meeting(
                id=r.id,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                place=place,
            )
        )
    return result


def _place(appt: Any, case_dek: bytes | None) -> str | None:
    """Where the meeting is, whatever the login: an SMS code too.

    Every meeting has at least one reminder, and the reminder SMS names the place when
    there is one ("Sted: …", ``appointment_place`` in bot.domain.texts, sent by
    scheduler.runner): the phone has it or will, and a code login proves that phone, so
    showing it reveals nothing new. A meeting's video link and who else attends are not on
    the family's page at any level; what only MitID may see are messages for the secure
    inbox alone (``SECURE_ONLY_KINDS``).
    """
    if case_dek is None or appt.place_enc is None:
        return None
    return unseal(case_dek, appt.place_enc, f"appointments:{appt.id}:place")


async def appointment_ics(
    svc: Services,
    who: Citizen,
    conv_id: str,
    appt_id: str,
    translations: gettext.NullTranslations,
) -> bytes:
    """One of the citizen's appointments as an iCalendar file (RFC 5545).

    Raises:
        NotFound: not an appointment on this thread's case that this person attends.
    """
    async with svc.read() as conn:
        conv = await _thread_row(conn, svc, who, conv_id)
        row = None
        if conv.case_id is not None:
            row = (
                await conn.execute(
                    select(appointments).where(
                        appointments.c.id == appt_id,
                        appointments.c.case_id == conv.case_id,
                        appointments.c.tenant_id == who.tenant_id,
                    )
                )
            ).first()
        if row is None or not _attends(row, conv.person_id):
            raise NotFound("No such appointment", code="appointment_not_found")
        tenant_name = (
            await conn.execute(select(tenants.c.name).where(tenants.c.id == who.tenant_id))
        ).scalar_one()
    case_dek = svc.dek("cases", conv.case_id, conv.case_dek)
    cancelled = row.status == "cancelled"
    cal = Calendar()
    cal.add("prodid", "-//Tovholder//Tovholder//DA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    # The same UID and SEQUENCE as the caseworker's file: a moved meeting updates the entry.
    event.add("uid", f"{row.id}@tovholder")
    event.add("dtstamp", svc.clock.now())
    event.add("dtstart", row.starts_at)
    event.add("dtend", row.ends_at)
    event.add("summary", translate(translations, "Møde med %(name)s", name=tenant_name))
    event.add("sequence", row.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    place = _place(row, case_dek)
    if place:
        event.add("location", place)
    event.add("description", translate(translations, "Sag %(number)s", number=conv.number))
    cal.add_component(event)
    return bytes(cal.to_ical())


async def download(svc: Services, who: Citizen, conv_id: str, attachment_id: str) -> Download:
    """A file the citizen attached on one of their threads (404 for anything else)."""
    async with svc.read() as conn:
        conv = await _thread_row(conn, svc, who, conv_id)
        keys = ThreadKeys(
            case_dek=svc.dek("cases", conv.case_id, conv.case_dek) if conv.case_id else None,
            person_dek=svc.dek("persons", conv.person_id, conv.person_dek),
        )
        info, file = await files.fetch(
            conn,
            tenant_id=who.tenant_id,
            conversation_id=conv.id,
            attachment_id=attachment_id,
            keys=keys,
        )
        # Only files on messages this login may see (as the thread page shows them).
        shown = (
            await conn.execute(
                select(messages.c.id).where(messages.c.id == info.message_id, _visible_kinds(who))
            )
        ).first()
    if shown is None:
        raise NotFound("No such attachment", code="attachment_not_found")
    return file


async def preferred_language(svc: Services, who: Citizen) -> str | None:
    """The language the municipality has on file for this phone's holder, if any."""
    async with svc.read() as conn:
        return (
            await conn.execute(
                select(persons.c.language)
                .where(
                    persons.c.tenant_id == who.tenant_id, persons.c.phone_index == who.phone_index
                )
                .order_by(persons.c.created_at, persons.c.id)
                .limit(1)
            )
        ).scalar_one_or_none()


def _own_persons(who: Citizen) -> Any:
    """The persons this login speaks for: the MitID person, else everyone on the phone."""
    if who.person_id is not None:
        return and_(persons.c.tenant_id == who.tenant_id, persons.c.id == who.person_id)
    return and_(persons.c.tenant_id == who.tenant_id, persons.c.phone_index == who.phone_index)


async def sms_language(svc: Services, who: Citizen) -> str | None:
    """The language the municipality writes SMS to this login in (None: nobody on file)."""
    async with svc.read() as conn:
        return (
            await conn.execute(
                select(persons.c.language)
                .where(_own_persons(who))
                .order_by(persons.c.created_at, persons.c.id)
                .limit(1)
            )
        ).scalar_one_or_none()


async def choose_language(svc: Services, who: Citizen, language: object) -> int:
    """The family's language choice in the secure inbox: also the language of their SMS.

    Written for the persons this login speaks for (:func:`_own_persons`) through the one
    rule (:func:`bot.domain.person_language.set_language`), journalised on their cases.

    Returns:
        How many persons' language changed (0 when it already was this one, or nobody).

    Raises:
        UnsupportedLanguage: not da, en, uk or ar; nothing changed.
    """
    code = person_language.checked(language)
    async with svc.write() as conn:
        ids = [
            str(i)
            for i in (await conn.execute(select(persons.c.id).where(_own_persons(who)))).scalars()
        ]
        if not ids:
            return 0
        changes = await person_language.set_language(
            conn,
            svc,
            tenant_id=who.tenant_id,
            person_ids=ids,
            language=code,
            door="family",
            actor="citizen",
        )
    return sum(1 for c in changes if c.changed)


async def municipalities(svc: Services) -> list[tuple[str, str]]:
    """(slug, name) of every municipality, for the login form's choice."""
    async with svc.read() as conn:
        rows = (
            await conn.execute(select(tenants.c.slug, tenants.c.name).order_by(tenants.c.name))
        ).all()
    return [(r.slug, r.name) for r in rows]


async def masthead(svc: Services, who: Citizen) -> Masthead:
    """The name (and logo, if any) of the municipality the citizen is logged in to.

    Every family page shows it in its header.
    """
    async with svc.read() as conn:
        return await tenant_logo.masthead(conn, who.tenant_id)


async def municipality_id(svc: Services, slug: str) -> str | None:
    async with svc.read() as conn:
        return (
            await conn.execute(select(tenants.c.id).where(tenants.c.slug == slug))
        ).scalar_one_or_none()


def _thread_key(svc: Services, conv: Any) -> SealingKey:
    """The key a message on the thread is sealed under: its case's, else its person's."""
    if conv.case_id is not None:
        return SealingKey("case", conv.case_id, svc.dek("cases", conv.case_id, conv.case_dek))
    return SealingKey("person", conv.person_id, svc.dek("persons", conv.person_id, conv.person_dek))


async def _decided(
    conn: AsyncConnection,
    svc: Services,
    who: Citizen,
    conv: Any,
    body: str,
    now: datetime,
    reply_by: datetime | None,
) -> tuple[CaseOnTeam, Decision, datetime]:
    """The same rules as an SMS: the team's calendar, absences, duty, triage; and the reply-by."""
    team = await team_row(conn, conv.team_id)
    calendar = await team_calendar(conn, svc, team)
    reply_by = reply_by or calendar.reply_by(now, team.reply_days)
    case = CaseOnTeam(
        id=conv.case_id,
        owner_id=conv.staff_id,
        team_id=conv.team_id,
        escalate_after_min=team.escalate_after_min,
    )
    decision = await decide(
        conn, svc, tenant_id=who.tenant_id, case=case, body=body, at=now, calendar=calendar
    )
    return case, decision, reply_by


async def reply(
    svc: Services, who: Citizen, conv_id: str, body: str, uploads: Sequence[Upload] = ()
) -> WebReceipt:
    """File the citizen's message (and its files) on the thread, open for an answer, journalised.

    On a case, the message is routed, triaged, paged and journalised as an SMS on
    the case would be (bot.domain.dispatch).

    Raises:
        BadInput: empty (no text and no file), too long, or the case is closed.
        NotFound: not one of this citizen's threads.
    """
    body = body.strip()
    if not body and not uploads:
        raise BadInput("The message is empty", code="empty_body")
    if len(body) > svc.config.max_body_chars:
        raise BadInput("The message is too long", code="body_too_long")
    now = svc.clock.now()
    cache: dict[str, str] = {}
    async with svc.write() as conn:
        conv = await _thread_row(conn, svc, who, conv_id)
        if conv.case_id is not None and conv.status != "open":
            raise BadInput("The case is closed", code="case_closed")
        key = _thread_key(svc, conv)
        reply_by = (
            await conn.execute(
                select(func.min(messages.c.reply_by)).where(
                    messages.c.conversation_id == conv_id, messages.c.awaiting_reply.is_(True)
                )
            )
        ).scalar_one_or_none()
        routed: tuple[CaseOnTeam, Decision] | None = None
        routing: dict[str, Any] = {}
        if conv.case_id is not None:
            case, decision, reply_by = await _decided(conn, svc, who, conv, body, now, reply_by)
            routed, routing = (case, decision), routing_columns(case, decision, now)
        mid = new_id()
        await conn.execute(
            messages.insert().values(
                id=mid,
                tenant_id=who.tenant_id,
                conversation_id=conv_id,
                case_id=conv.case_id,
                person_id=conv.person_id,
                direction="in",
                kind="citizen",
                key_scope=key.scope,
                body_enc=seal(key.dek, body, f"messages:{mid}:body"),
                status="received",
                provider="web",
                provider_id=None,
                segments=1,
                awaiting_reply=True,
                reply_by=reply_by,
                created_at=now,
                **routing,
            )
        )
        await conn.execute(
            update(conversations).where(conversations.c.id == conv_id).values(last_activity_at=now)
        )
        await append(
            conn,
            tenant_id=who.tenant_id,
            case_id=conv.case_id,
            kind="web_in",
            direction="in",
            channel="web",
            subject="Besked fra borger via den sikre indbakke",
            actor="citizen",
            at=now,
            content=body,
            key=key,
            message_id=mid,
        )
        if uploads:
            await files.store(
                conn,
                tenant_id=who.tenant_id,
                key=key,
                conversation_id=conv_id,
                case_id=conv.case_id,
                message_id=mid,
                uploads=uploads,
                at=now,
            )
        if routed is not None:
            entries = await dispatch(
                conn,
                tenant_id=who.tenant_id,
                case=routed[0],
                decision=routed[1],
                message_id=mid,
                key=key,
                at=now,
            )
            if entries:
                await append_many(conn, entries)
    return WebReceipt(caseworker=_staff_name(svc, conv, cache), reply_by=reply_by)
