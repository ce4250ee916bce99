"""Fil det rigtigt: file an unassigned thread on a person and case, move a misfiled message.

Two acts, both by staff, both journalised in every chain they touch, neither
rewriting a journal entry (the old entries stay; new ones record the act):

* **Filing** (:func:`file_thread`): the messages of a thread in the municipality's
  unassigned queue ("Ikke fordelt") move to a case's thread, for an existing
  participant or for the sender themselves (the number's placeholder person is
  then registered with a name, :func:`register_sender`). The number goes with
  them, so the person's later SMS find them by its blind index.
* **Moving** (:func:`move_message`): one inbound message filed on the wrong case
  moves to the right case (for the same person or another participant there).

Who may: a target case must be one the user works on (owner, the lead of its
team, or the colleague covering its owner's absence today); the unassigned queue
is for leads and admins. Anything else, and another municipality's case, is a 404.
A message moved (or a thread filed) by someone else meanwhile is a 409 and
nothing is written: the rows are locked first, so of two acts at once one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, NoReturn

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.crypto import SealingKey, seal, unseal
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.attachments import _open_bytes as open_bytes
from bot.domain.attachments import _seal_bytes as seal_bytes
from bot.domain.conversations import thread_for
from bot.domain.directory import ROLES, add_participant
from bot.domain.dispatch import CaseOnTeam, decide, dispatch, routing_columns
from bot.domain.outbound import open_conversation
from bot.domain.routing import local_day, team_calendar
from bot.domain.search_index import index_person
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import (
    absences,
    cases,
    conversations,
    messages,
    participants,
    persons,
    staff,
    teams,
)
from journal.journal import NewEntry, append_many

log = logging.getLogger(__name__)

MAX_NAME = 200
SENDER = "sender"  # the form's choice "the sender themselves" (the thread's own person)


# -- what the pages are told ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant of a target case, as the filing form offers them."""

    person_id: str
    name: str | None
    role: str
    is_sender: bool  # the person the thread is about already


@dataclass(frozen=True, slots=True)
class CaseChoice:
    """A case the user may file into, found by its number, with its participants."""

    id: str
    number: str
    is_open: bool
    participants: list[Participant]


@dataclass(frozen=True, slots=True)
class UnassignedThread:
    """A thread of the unassigned queue: whose number, and is the sender registered."""

    id: str
    person_id: str
    known: bool  # a registered person (else only the number is known)
    name: str | None
    phone: str | None = None  # the sender's number, so the lead can call them back


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A name for the sender, registered when the thread is filed for them."""

    name: str
    first_name: str

    @staticmethod
    def parse(name: str, first_name: str) -> NewPerson:
        """Checked names (1–200 characters each; the first name defaults to the first word)."""
        name = " ".join(name.split())
        first = " ".join(first_name.split()) or name.partition(" ")[0]
        if not name or len(name) > MAX_NAME or len(first) > MAX_NAME:
            raise BadInput("A name of 1–200 characters is required", code="bad_name")
        return NewPerson(name, first)


@dataclass(frozen=True, slots=True)
class Filed:
    """Where the messages went: the case's thread, and how many moved."""

    conversation_id: str
    case_number: str
    moved: int


# -- who may file where ---------------------------------------------------------------------


def filable(user: StaffUser, today: date) -> ColumnElement[bool]:
    """The cases ``user`` may file into: own, covering the owner's absence today, team (leads)."""
    covering = exists().where(
        absences.c.staff_id == cases.c.owner_id,
        absences.c.substitute_id == user.id,
        absences.c.starts_on <= today,
        absences.c.ends_on >= today,
    )
    mine: ColumnElement[bool] = or_(cases.c.owner_id == user.id, covering)
    if user.role in ("lead", "admin"):
        mine = or_(mine, cases.c.team_id == user.team_id)
    return and_(cases.c.tenant_id == user.tenant_id, mine)


@dataclass(frozen=True, slots=True)
class _Case:
    id: str
    number: str
    tenant_id: str
    team_id: str
    owner_id: str
    status: str
    dek: bytes
    opens_at: str
    closes_at: str
    reply_days: int
    escalate_after_min: int


async def _target_case(
    conn: AsyncConnection,
    svc: Services,
    user: StaffUser,
    *,
    case_id: str | None = None,
    number: str | None = None,
    person_id: str | None = None,
) -> _Case:
    """The case by id or number if ``user`` may file into it; else 404 (whoever's it is).

    With ``person_id`` (the sender of a misfiled message) also any of that person's own
    cases in the municipality: the message is theirs, whichever team holds the case.
    """
    if case_id is not None:
        which = cases.c.id == case_id
    else:
        which = func.upper(cases.c.number) == (number or "").upper()
    allowed = filable(user, local_day(svc.clock.now()))
    if person_id is not None:
        theirs = exists().where(
            participants.c.case_id == cases.c.id, participants.c.person_id == person_id
        )
        allowed = or_(allowed, and_(cases.c.tenant_id == user.tenant_id, theirs))
    row = (
        await conn.execute(
            select(
                cases.c.id,
                cases.c.number,
                cases.c.tenant_id,
                cases.c.team_id,
                cases.c.owner_id,
                cases.c.status,
                cases.c.dek,
                teams.c.opens_at,
                teams.c.closes_at,
                teams.c.reply_days,
                teams.c.escalate_after_min,
            )
            .join(teams, teams.c.id == cases.c.team_id)
            .where(which, allowed)
        )
    ).first()
    if row is None:
        raise NotFound("No such case", code="case_not_found")
    return _Case(**row._mapping)


def _case_key(svc: Services, case: _Case) -> SealingKey:
    return SealingKey("case", case.id, svc.dek("cases", case.id, case.dek))


def _sender_key(svc: Services, sender: Any) -> SealingKey:
    """The key of the person behind an unassigned thread (its unassigned chain's entries)."""
    return SealingKey("person", sender.person_id, svc.dek("persons", sender.person_id, sender.dek))


def _by_staff(
    user: StaffUser,
    at: datetime,
    kind: str,
    subject: str,
    content: str,
    *,
    case_id: str | None,
    key: SealingKey,
    direction: str = "internal",
    message_id: str | None = None,
) -> NewEntry:
    """A journal entry for what a lead did (registered, filed, moved), on ``case_id``'s chain."""
    return NewEntry(
        tenant_id=user.tenant_id,
        case_id=case_id,
        kind=kind,
        direction=direction,
        channel="api",
        subject=subject,
        actor=f"staff:{user.id}",
        at=at,
        content=content,
        key=key,
        message_id=message_id,
    )


def _name(svc: Services, person_id: str, dek: bytes, name_enc: bytes | None) -> str | None:
    if name_enc is None:
        return None
    return unseal(svc.dek("persons", person_id, dek), name_enc, f"persons:{person_id}:name")


async def find_case(
    svc: Services, user: StaffUser, number: str, *, sender_id: str | None = None
) -> CaseChoice:
    """A case to file into, by its number, with its participants' names.

    Raises:
        BadInput: ``bad_case_number``, an empty or overlong number.
        NotFound: no such case, or not one the user may file into.
    """
    number = number.strip()
    if not number or len(number) > 64:
        raise BadInput("A case number of 1–64 characters is required", code="bad_case_number")
    async with svc.read() as conn:
        case = await _target_case(conn, svc, user, number=number, person_id=sender_id)
        rows = (
            await conn.execute(
                select(participants.c.role, persons.c.id, persons.c.dek, persons.c.name_enc)
                .join(persons, persons.c.id == participants.c.person_id)
                .where(participants.c.case_id == case.id)
                .order_by(participants.c.created_at, persons.c.id)
            )
        ).all()
    people = [
        Participant(r.id, _name(svc, r.id, r.dek, r.name_enc), r.role, r.id == sender_id)
        for r in rows
    ]
    return CaseChoice(case.id, case.number, case.status == "open", people)


# -- the unassigned queue -------------------------------------------------------------------


async def _unassigned(conn: AsyncConnection, user: StaffUser, conv_id: str) -> Any:
    """The unassigned thread with its person's row; 404 unless the user is a lead or admin."""
    if user.role not in ("lead", "admin"):
        raise NotFound("No such conversation", code="conversation_not_found")
    row = (
        await conn.execute(
            select(
                conversations.c.id,
                conversations.c.tenant_id,
                conversations.c.person_id,
                persons.c.origin,
                persons.c.dek,
                persons.c.name_enc,
                persons.c.phone_enc,
                persons.c.phone_index,
            )
            .join(persons, persons.c.id == conversations.c.person_id)
            .where(
                conversations.c.id == conv_id,
                conversations.c.tenant_id == user.tenant_id,
                conversations.c.case_id.is_(None),
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such conversation", code="conversation_not_found")
    return row


async def unassigned_thread(svc: Services, user: StaffUser, conv_id: str) -> UnassignedThread:
    """The unassigned thread ``conv_id`` as the filing page shows it (404 as above)."""
    async with svc.read() as conn:
        row = await _unassigned(conn, user, conv_id)
    return UnassignedThread(
        row.id,
        row.person_id,
        row.origin == "known",
        _name(svc, row.person_id, row.dek, row.name_enc),
        _phone(svc, row.person_id, row.dek, row.phone_enc),
    )


def _phone(svc: Services, person_id: str, dek: bytes, phone_enc: bytes | None) -> str | None:
    if phone_enc is None:
        return None
    return unseal(svc.dek("persons", person_id, dek), phone_enc, f"persons:{person_id}:phone")


async def _set_name(conn: AsyncConnection, svc: Services, sender: Any, who: NewPerson) -> None:
    """Register the number's placeholder person with a name (same row: its journal stays)."""
    dek = svc.dek("persons", sender.person_id, sender.dek)
    await conn.execute(
        update(persons)
        .where(persons.c.id == sender.person_id)
        .values(
            name_enc=svc.seal(dek, "persons", sender.person_id, "name", who.name),
            first_name_enc=svc.seal(dek, "persons", sender.person_id, "first_name", who.first_name),
            origin="known",
        )
    )
    # Found by name in the caseworkers' search from now on.
    await index_person(
        conn, svc, tenant_id=sender.tenant_id, person_id=sender.person_id, name=who.name
    )


async def register_sender(
    svc: Services, user: StaffUser, conv_id: str, who: NewPerson
) -> UnassignedThread:
    """Create the person behind an unknown number (the thread stays unassigned), journalised.

    Raises:
        BadInput: ``sender_known``, the number's person is registered already.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        sender = await _unassigned(conn, user, conv_id)
        if sender.origin == "known":
            raise BadInput("The sender is registered already", code="sender_known")
        await _set_name(conn, svc, sender, who)
        name = await _staff_name(conn, svc, user.id)
        registered = _by_staff(
            user,
            now,
            "person_registered",
            "Afsenderen er oprettet som person",
            f"Oprettet som person af {name}",
            case_id=None,
            key=_sender_key(svc, sender),
        )
        await append_many(conn, [registered])
    return UnassignedThread(conv_id, sender.person_id, True, who.name)


async def _staff_name(conn: AsyncConnection, svc: Services, staff_id: str) -> str:
    row = (
        await conn.execute(select(staff.c.dek, staff.c.full_name_enc).where(staff.c.id == staff_id))
    ).one()
    dek = svc.dek("staff", staff_id, row.dek)
    return unseal(dek, row.full_name_enc, f"staff:{staff_id}:full_name")


async def _same_phone(conn: AsyncConnection, one: str, other: str) -> bool:
    """Both people are found by the same phone number (a shared phone)."""
    rows = (
        await conn.execute(select(persons.c.phone_index).where(persons.c.id.in_([one, other])))
    ).scalars()
    found = list(rows)
    return len(found) == 2 and found[0] is not None and found[0] == found[1]


async def _is_participant(conn: AsyncConnection, case_id: str, person_id: str) -> bool:
    found = (
        await conn.execute(
            select(participants.c.id).where(
                participants.c.case_id == case_id, participants.c.person_id == person_id
            )
        )
    ).first()
    return found is not None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who the filed thread is for: an existing participant, or the sender themselves."""

    person_id: str = SENDER  # a participant's id, or SENDER
    new_person: NewPerson | None = None  # the sender's name, when only the number is known
    role: str = "party"  # the sender's role on the case, when not on it yet
    replace_number: bool = False  # the participant has another number: this one replaces it


async def _give_number(conn: AsyncConnection, svc: Services, sender: Any, to: Recipient) -> None:
    """The participant takes the sender's number, so their later SMS find them."""
    row = (
        await conn.execute(
            select(persons.c.dek, persons.c.phone_index).where(persons.c.id == to.person_id)
        )
    ).one()
    if row.phone_index not in (None, sender.phone_index) and not to.replace_number:
        raise BadInput("The person has another number", code="other_number")
    if sender.phone_enc is not None:
        number = unseal(
            svc.dek("persons", sender.person_id, sender.dek),
            sender.phone_enc,
            f"persons:{sender.person_id}:phone",
        )
        dek = svc.dek("persons", to.person_id, row.dek)
        await conn.execute(
            update(persons)
            .where(persons.c.id == to.person_id)
            .values(
                phone_enc=svc.seal(dek, "persons", to.person_id, "phone", number),
                phone_index=sender.phone_index,
            )
        )
    # The placeholder keeps its number sealed (its journal entries name it) but is no
    # longer found by it.
    await conn.execute(
        update(persons).where(persons.c.id == sender.person_id).values(phone_index=None)
    )


async def _recipient(
    conn: AsyncConnection, svc: Services, sender: Any, case: _Case, to: Recipient
) -> str:
    """The person the filed thread belongs to on ``case`` (registered and added if need be)."""
    if to.person_id in (SENDER, sender.person_id):
        if sender.origin != "known":
            if to.new_person is None:
                raise BadInput("A name is required for a new person", code="bad_name")
            await _set_name(conn, svc, sender, to.new_person)
        if not await _is_participant(conn, case.id, sender.person_id):
            if to.role not in ROLES:
                raise BadInput("Unknown role", code="bad_role")
            await add_participant(
                conn,
                svc,
                tenant_id=case.tenant_id,
                case_id=case.id,
                person_id=sender.person_id,
                role=to.role,
            )
        return str(sender.person_id)
    if not await _is_participant(conn, case.id, to.person_id):
        raise BadInput("Not a participant of the case", code="bad_person")
    if sender.origin == "known":
        # A registered person's messages are theirs: never handed to someone else.
        raise BadInput("The sender is a registered person", code="sender_known")
    await _give_number(conn, svc, sender, to)
    return to.person_id


# -- moving rows: re-sealed under the target case's key ---------------------------------------


def _source_dek(m: Any, keys: dict[tuple[str, str], bytes]) -> bytes:
    """The data key that seals message ``m`` now (its case's, or its person's)."""
    owner = m.case_id if m.key_scope == "case" else m.person_id
    found = keys.get((m.key_scope, owner))
    if found is None:
        raise ValueError(f"no key for message {m.id}")
    return found


async def _keys_of(
    conn: AsyncConnection, svc: Services, rows: Sequence[Any]
) -> dict[tuple[str, str], bytes]:
    """The data keys that seal ``rows`` now, by (scope, owner id)."""
    keys: dict[tuple[str, str], bytes] = {}
    case_ids = {m.case_id for m in rows if m.key_scope == "case"}
    person_ids = {m.person_id for m in rows if m.key_scope != "case"}
    if case_ids:
        for r in await conn.execute(
            select(cases.c.id, cases.c.dek).where(cases.c.id.in_(case_ids))
        ):
            keys["case", r.id] = svc.dek("cases", r.id, r.dek)
    if person_ids:
        for r in await conn.execute(
            select(persons.c.id, persons.c.dek).where(persons.c.id.in_(person_ids))
        ):
            keys["person", r.id] = svc.dek("persons", r.id, r.dek)
    return keys


async def _lock_messages(conn: AsyncConnection, *where: ColumnElement[bool]) -> list[Any]:
    """The messages to move, locked: of two acts on them at once, the second waits, then
    finds them gone (PostgreSQL re-reads a locked row that changed; SQLite has one writer)."""
    rows = (
        await conn.execute(
            select(messages)
            .where(*where)
            .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
            .with_for_update()
        )
    ).all()
    return list(rows)


async def _move_rows(
    conn: AsyncConnection,
    svc: Services,
    rows: Sequence[Any],
    *,
    key: SealingKey,
    conv_id: str,
    person_id: str,
) -> dict[str, str]:
    """Move ``rows`` to thread ``conv_id``, sealed under ``key`` (the case's); their bodies."""
    keys = await _keys_of(conn, svc, rows)
    bodies: dict[str, str] = {}
    for m in rows:
        body = unseal(_source_dek(m, keys), m.body_enc, f"messages:{m.id}:body")
        bodies[m.id] = body
        await conn.execute(
            update(messages)
            .where(messages.c.id == m.id)
            .values(
                conversation_id=conv_id,
                case_id=key.owner_id,
                person_id=person_id,
                key_scope="case",
                body_enc=seal(key.dek, body, f"messages:{m.id}:body"),
                status="received" if m.status == "awaiting_case" else m.status,
            )
        )
    await _reseal_attachments(conn, rows, keys, key=key, conv_id=conv_id)
    return bodies


async def _reseal_attachments(
    conn: AsyncConnection,
    rows: Sequence[Any],
    keys: dict[tuple[str, str], bytes],
    *,
    key: SealingKey,
    conv_id: str,
) -> None:
    """Files attached to the moved messages move with them, sealed under the new key."""
    by_id = {m.id: m for m in rows}
    files = (
        await conn.execute(
            select(message_attachments).where(message_attachments.c.message_id.in_(list(by_id)))
        )
    ).all()
    for a in files:
        m = by_id[a.message_id]
        old = keys[a.key_scope, a.case_id if a.key_scope == "case" else m.person_id]
        content = open_bytes(old, a.content_enc, f"message_attachments:{a.id}:content")
        filename = unseal(old, a.filename_enc, f"message_attachments:{a.id}:filename")
        await conn.execute(
            update(message_attachments)
            .where(message_attachments.c.id == a.id)
            .values(
                conversation_id=conv_id,
                case_id=key.owner_id,
                key_scope="case",
                content_enc=seal_bytes(key.dek, content, f"message_attachments:{a.id}:content"),
                filename_enc=seal(key.dek, filename, f"message_attachments:{a.id}:filename"),
            )
        )


async def _route_open(
    conn: AsyncConnection,
    svc: Services,
    case: _Case,
    open_rows: Sequence[Any],
    bodies: dict[str, str],
    *,
    key: SealingKey,
    moved: bool,
) -> list[NewEntry]:
    """Who answers the open messages on their new case, by when; page when urgent.

    Filed from the unassigned queue, they are triaged now (nobody did before) and
    their reply-by runs from when the first of them arrived. A moved message keeps
    its reply-by (the citizen was told it) and its urgency; if nobody has picked up
    an urgent one yet, its escalation starts again with the new case's caseworker.
    """
    if not open_rows:
        return []
    now = svc.clock.now()
    routed = CaseOnTeam(case.id, case.owner_id, case.team_id, case.escalate_after_min)
    calendar = await team_calendar(conn, svc, case)
    decision = await decide(
        conn,
        svc,
        tenant_id=case.tenant_id,
        case=routed,
        body="\n".join(bodies[m.id] for m in open_rows),
        at=now,
        calendar=calendar,
    )
    values: dict[str, Any]
    if moved:
        m = open_rows[0]
        pending = bool(m.urgent) and m.acknowledged_at is None
        moved_why = ("flyttet fra en anden sag",)
        decision = replace(
            decision,
            urgent=pending,
            matched=moved_why,
            level="akut" if pending else None,
            why=moved_why,
        )
        values = {**routing_columns(routed, decision, now), "urgent": m.urgent}
        if pending:
            values["escalation_level"] = 0
    else:
        first = min(m.created_at for m in open_rows)
        values = {
            **routing_columns(routed, decision, now),
            "reply_by": calendar.reply_by(first, case.reply_days),
        }
    await conn.execute(
        update(messages).where(messages.c.id.in_([m.id for m in open_rows])).values(**values)
    )
    return await dispatch(
        conn,
        tenant_id=case.tenant_id,
        case=routed,
        decision=decision,
        message_id=open_rows[-1].id,
        key=key,
        at=now,
    )


# -- the two acts -----------------------------------------------------------------------------


def _filed_note(staff_name: str, number: str) -> str:
    return f"Arkiveret fra ikke fordelt på sag {number} af {staff_name}"


async def file_thread(
    svc: Services, user: StaffUser, conv_id: str, *, case_id: str, to: Recipient
) -> Filed:
    """File the unassigned thread ``conv_id`` on ``case_id`` for ``to``, journalised twice.

    Each message gets an entry in the case's chain (its content, now under the
    case's key) and one in the unassigned chain saying where it went.

    Raises:
        NotFound: the thread is not in the queue (or the user is no lead), or the
            case is not one the user may file into.
        Conflict: ``already_filed``, someone filed the thread meanwhile.
        BadInput: ``case_closed``, ``bad_name``, ``bad_role``, ``bad_person``,
            ``sender_known`` or ``other_number`` (see :class:`Recipient`).
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        sender = await _unassigned(conn, user, conv_id)
        rows = await _lock_messages(
            conn, messages.c.conversation_id == conv_id, messages.c.kind != "login_code"
        )
        if not rows:
            raise Conflict("The thread was filed meanwhile", code="already_filed")
        case = await _target_case(conn, svc, user, case_id=case_id)
        if case.status != "open":
            raise BadInput("The case is closed", code="case_closed")
        person_id = await _recipient(conn, svc, sender, case, to)
        target, _ = await open_conversation(
            conn, tenant_id=user.tenant_id, case_id=case.id, person_id=person_id, at=now
        )
        key = _case_key(svc, case)
        bodies = await _move_rows(conn, svc, rows, key=key, conv_id=target, person_id=person_id)
        note = _filed_note(await _staff_name(conn, svc, user.id), case.number)
        sender_key = _sender_key(svc, sender)
        entries: list[NewEntry] = []
        for m in rows:
            entries += [
                _by_staff(
                    user,
                    now,
                    "filed_in",
                    "Besked arkiveret på sagen fra ikke fordelt",
                    f"{note}\n\n{bodies[m.id]}",
                    case_id=case.id,
                    key=key,
                    direction=m.direction,
                    message_id=m.id,
                ),
                _by_staff(
                    user,
                    now,
                    "filed_out",
                    "Besked arkiveret på en sag",
                    note,
                    case_id=None,
                    key=sender_key,
                    message_id=m.id,
                ),
            ]
        entries += await _route_open(
            conn, svc, case, [m for m in rows if m.awaiting_reply], bodies, key=key, moved=False
        )
        await append_many(conn, entries, lock_first=True)
    log.info("thread %s filed on case %s by staff %s", conv_id, case.id, user.id)
    return Filed(target, case.number, len(rows))


async def move_message(
    svc: Services,
    user: StaffUser,
    conv_id: str,
    message_id: str,
    *,
    case_id: str,
    person_id: str | None = None,
) -> Filed:
    """Move an inbound message misfiled on thread ``conv_id`` to ``case_id``, journalised twice.

    The old case's chain records that it left ("flyttet fra sag X til sag Y af …");
    the new case's chain records that it came, with its content under the new
    case's key. Nothing already journalised changes.

    Args:
        person_id: the participant of the new case it is from (default: the same person).

    Raises:
        NotFound: the thread or message is not the user's to see, or the case is not
            one the user may file into.
        Conflict: ``already_moved``, someone moved the message meanwhile.
        BadInput: ``unassigned_thread``, ``not_movable``, ``case_closed``,
            ``bad_person`` or ``same_case``.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        source = await thread_for(conn, user, conv_id)
        if source.case_id is None:
            raise BadInput("An unassigned message is filed, not moved", code="unassigned_thread")
        rows = await _lock_messages(
            conn, messages.c.id == message_id, messages.c.conversation_id == conv_id
        )
        if not rows:
            await _moved_or_missing(conn, user, message_id)
        m = rows[0]
        if m.direction != "in" or m.kind == "login_code":
            raise BadInput("Only a message from the citizen is moved", code="not_movable")
        case = await _target_case(conn, svc, user, case_id=case_id, person_id=m.person_id)
        if case.status != "open":
            raise BadInput("The case is closed", code="case_closed")
        to_person = person_id or m.person_id
        if not await _is_participant(conn, case.id, to_person):
            raise BadInput("Not a participant of the case", code="bad_person")
        if to_person != m.person_id and not await _same_phone(conn, m.person_id, to_person):
            # Who wrote it never changes, except between people who share one phone.
            raise BadInput("The message was written by someone else", code="other_author")
        if case.id == source.case_id and to_person == m.person_id:
            raise BadInput("The message is on this case already", code="same_case")
        target, _ = await open_conversation(
            conn, tenant_id=user.tenant_id, case_id=case.id, person_id=to_person, at=now
        )
        key = _case_key(svc, case)
        bodies = await _move_rows(conn, svc, rows, key=key, conv_id=target, person_id=to_person)
        name = await _staff_name(conn, svc, user.id)
        note = f"Flyttet fra sag {source.number} til sag {case.number} af {name}"
        old_key = SealingKey(
            "case", source.case_id, svc.dek("cases", source.case_id, source.case_dek)
        )
        entries = [
            _by_staff(
                user,
                now,
                "moved_out",
                "Besked flyttet til en anden sag",
                note,
                case_id=source.case_id,
                key=old_key,
                message_id=m.id,
            ),
            _by_staff(
                user,
                now,
                "moved_in",
                "Besked flyttet hertil fra en anden sag",
                f"{note}\n\n{bodies[m.id]}",
                case_id=case.id,
                key=key,
                direction="in",
                message_id=m.id,
            ),
        ]
        if m.awaiting_reply:
            entries += await _route_open(conn, svc, case, rows, bodies, key=key, moved=True)
        await append_many(conn, entries, lock_first=True)
    log.info("message %s moved to case %s by staff %s", message_id, case.id, user.id)
    return Filed(target, case.number, 1)


async def _moved_or_missing(conn: AsyncConnection, user: StaffUser, message_id: str) -> NoReturn:
    """A message no longer on the thread: moved meanwhile (409), or never there (404)."""
    found = (
        await conn.execute(
            select(func.count())
            .select_from(messages)
            .where(messages.c.id == message_id, messages.c.tenant_id == user.tenant_id)
        )
    ).scalar_one()
    if found:
        raise Conflict("The message was moved meanwhile", code="already_moved")
    raise NotFound("No such message", code="message_not_found")
