"""The caseworker's case list, case page and search: the statements (bot.domain.caselist decides).

Which cases a member of staff may see here (:func:`case_reach`): cases they own;
cases whose owner is away today with them as the substitute (and cases where an
open message was routed to them); for a team lead, every case of their team.
Always within their municipality.

The list is one statement: the visible cases with their last activity (the
latest of their threads) and their open items (open inbound messages, from the
partial index of open messages), filtered, sorted and paged in the database,
with the total beside each row. Names are fetched and decrypted for the page only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.base.staff import StaffUser
from bot.store.schema.core import (
    absences,
    access_log,
    cases,
    conversations,
    messages,
    participants,
    persons,
    staff,
)
from bot.store.schema.scheduler import appointments, milestones
from bot.store.schema.search import person_search_tokens

LEADS = ("lead", "admin")
# What nobody wrote: not shown as a thread's newest message (a login code is never shown).
AUTOMATIC = ("receipt", "auto", "login_code")


# -- who may see which case ----------------------------------------------------------------


def _covering(user: StaffUser, today: date) -> ColumnElement[bool]:
    """Cases whose owner is away today with ``user`` as substitute, or that hold an open
    message routed to ``user`` (substitute or on duty)."""
    absent_owners = select(absences.c.staff_id).where(
        absences.c.tenant_id == user.tenant_id,
        absences.c.substitute_id == user.id,
        absences.c.starts_on <= today,
        absences.c.ends_on >= today,
    )
    holding = select(messages.c.case_id).where(
        messages.c.owner_id == user.id,
        messages.c.awaiting_reply.is_(True),
        messages.c.case_id.is_not(None),
    )
    return or_(cases.c.owner_id.in_(absent_owners), cases.c.id.in_(holding))


def _team(user: StaffUser) -> ColumnElement[bool]:
    if user.role in LEADS:
        return cases.c.team_id == user.team_id
    return false()


def case_reach(user: StaffUser, today: date) -> ColumnElement[bool]:
    """The cases ``user`` may see on the case pages (always within their municipality).

    As a union of index look-ups (by owner, by team, by absent owner, by open message)
    rather than one OR over every case: the planner then knows how few they are.
    """
    reach = cases.alias("reach")
    absent_owners = select(absences.c.staff_id).where(
        absences.c.tenant_id == user.tenant_id,
        absences.c.substitute_id == user.id,
        absences.c.starts_on <= today,
        absences.c.ends_on >= today,
    )
    parts: list[Select[Any]] = [
        select(reach.c.id).where(reach.c.owner_id == user.id),
        select(reach.c.id).where(reach.c.owner_id.in_(absent_owners)),
        select(messages.c.case_id).where(
            messages.c.owner_id == user.id,
            messages.c.awaiting_reply.is_(True),
            messages.c.case_id.is_not(None),
        ),
    ]
    if user.role in LEADS:
        parts.append(select(reach.c.id).where(reach.c.team_id == user.team_id))
    return and_(cases.c.tenant_id == user.tenant_id, cases.c.id.in_(union(*parts)))


def _relation(user: StaffUser, today: date) -> ColumnElement[str]:
    """mine | covering | team: why the case is on the user's list."""
    return case(
        (cases.c.owner_id == user.id, literal("mine")),
        (_covering(user, today), literal("covering")),
        else_=literal("team"),
    )


# -- the list ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """What to list: filters, the search's matches, and the page.

    Attributes:
        urgent: only cases with an urgent message nobody has picked up.
        waiting: only cases with a message waiting for our reply.
        breached: only cases with an open message past its reply-by.
        quiet_since: only cases with no activity since this instant.
        numbers: search: case numbers to match exactly.
        phone_index: search: the blind index of an E.164 number.
        name_tokens: search: a person's name must have every one of these tokens.
    """

    urgent: bool = False
    waiting: bool = False
    breached: bool = False
    quiet_since: datetime | None = None
    numbers: tuple[str, ...] = ()
    phone_index: str | None = None
    name_tokens: tuple[str, ...] = ()
    case_ids: tuple[str, ...] = ()
    limit: int = 50
    offset: int = 0

    @property
    def is_search(self) -> bool:
        return bool(self.numbers or self.phone_index or self.name_tokens)


def _matches(tenant_id: str, q: CaseQuery) -> ColumnElement[bool]:
    """Search: the case number, or a participant found by phone or by every word of a name."""
    found: list[ColumnElement[bool]] = []
    if q.numbers:
        found.append(cases.c.number.in_(q.numbers))
    people: list[Select[Any]] = []
    if q.phone_index is not None:
        people.append(
            select(persons.c.id).where(
                persons.c.tenant_id == tenant_id, persons.c.phone_index == q.phone_index
            )
        )
    if q.name_tokens:
        people.append(
            select(person_search_tokens.c.person_id)
            .where(
                person_search_tokens.c.tenant_id == tenant_id,
                person_search_tokens.c.token.in_(q.name_tokens),
            )
            .group_by(person_search_tokens.c.person_id)
            .having(func.count(distinct(person_search_tokens.c.token)) == len(set(q.name_tokens)))
        )
    for who in people:
        found.append(
            cases.c.id.in_(
                select(participants.c.case_id).where(
                    participants.c.tenant_id == tenant_id, participants.c.person_id.in_(who)
                )
            )
        )
    return or_(*found) if found else false()


def _activity(tenant_id: str, scope: Any) -> Any:
    """Each case's latest thread activity, for the cases in ``scope`` only."""
    return (
        select(
            conversations.c.case_id,
            func.max(conversations.c.last_activity_at).label("last_at"),
        )
        .where(
            conversations.c.tenant_id == tenant_id,
            conversations.c.case_id.in_(select(scope.c.id)),
        )
        .group_by(conversations.c.case_id)
        .subquery("activity")
    )


def _open_items(tenant_id: str, scope: Any) -> Any:
    """Each case's open messages (from ``ix_messages_awaiting_case``), for ``scope`` only."""
    unacknowledged = and_(messages.c.urgent.is_(True), messages.c.acknowledged_at.is_(None))
    return (
        select(
            messages.c.case_id,
            func.count(distinct(messages.c.conversation_id)).label("open_threads"),
            func.count().label("awaiting"),
            func.max(case((unacknowledged, 1), else_=0)).label("urgent"),
            func.min(messages.c.reply_by).label("reply_by"),
        )
        .where(
            messages.c.awaiting_reply.is_(True),
            messages.c.case_id.in_(select(scope.c.id)),
            messages.c.tenant_id == tenant_id,
        )
        .group_by(messages.c.case_id)
        .subquery("open_items")
    )


def _scope(user: StaffUser, q: CaseQuery, today: date) -> Any:
    """The cases the user may see that the search (if any) matches, with what the list shows."""
    where: list[ColumnElement[bool]] = [case_reach(user, today)]
    if q.is_search:
        where.append(_matches(user.tenant_id, q))
    if q.case_ids:
        where.append(cases.c.id.in_(q.case_ids))
    return (
        select(
            cases.c.id,
            cases.c.number,
            cases.c.case_type,
            cases.c.status,
            cases.c.owner_id,
            cases.c.created_at,
            _relation(user, today).label("relation"),
        )
        .where(*where)
        .cte("scope")
    )


async def list_cases(
    conn: AsyncConnection, user: StaffUser, q: CaseQuery, *, today: date, now: datetime
) -> tuple[list[Any], int]:
    """One page of the cases ``user`` may see, most pressing first, and how many there are.

    The visible (and matching) cases are found first; their activity and open items
    are then gathered for them alone, not for the whole municipality.

    Rows: ``id, number, case_type, status, owner_id, relation, last_at, open_threads,
    awaiting, urgent, reply_by``.
    """
    scope = _scope(user, q, today)
    act, items = _activity(user.tenant_id, scope), _open_items(user.tenant_id, scope)
    last_at = func.coalesce(act.c.last_at, scope.c.created_at)
    where: list[ColumnElement[bool]] = []
    if q.urgent:
        where.append(items.c.urgent == 1)
    if q.waiting:
        where.append(items.c.awaiting > 0)
    if q.breached:
        where.append(items.c.reply_by < now)
    if q.quiet_since is not None:
        where.append(last_at < q.quiet_since)
    base = (
        select(
            scope.c.id,
            scope.c.number,
            scope.c.case_type,
            scope.c.status,
            scope.c.owner_id,
            scope.c.relation,
            last_at.label("last_at"),
            func.coalesce(items.c.open_threads, 0).label("open_threads"),
            func.coalesce(items.c.awaiting, 0).label("awaiting"),
            func.coalesce(items.c.urgent, 0).label("urgent"),
            items.c.reply_by,
            func.count().over().label("total"),
        )
        .select_from(scope)
        .outerjoin(act, act.c.case_id == scope.c.id)
        .outerjoin(items, items.c.case_id == scope.c.id)
        .where(*where)
    )
    stmt = (
        base.order_by(
            func.coalesce(items.c.urgent, 0).desc(),
            items.c.reply_by.is_(None),
            items.c.reply_by,
            last_at.desc(),
            scope.c.number,
        )
        .limit(q.limit)
        .offset(q.offset)
    )
    rows = list((await conn.execute(stmt)).all())
    total = int(rows[0].total) if rows else 0
    if not rows and q.offset:
        # Past the last page: say how many there are all the same.
        count = select(func.count()).select_from(base.with_only_columns(scope.c.id).subquery())
        total = int((await conn.execute(count)).scalar_one())
    return rows, total


# -- what a page of cases shows beside the row ------------------------------------------------


async def participants_of(conn: AsyncConnection, tenant_id: str, case_ids: Sequence[str]) -> Any:
    """The cases' participants with their sealed names: ``id, case_id, person_id, role,
    entitled, dek, name_enc, language``, in the order they were added."""
    if not case_ids:
        return []
    return (
        await conn.execute(
            select(
                participants.c.id,
                participants.c.case_id,
                participants.c.person_id,
                participants.c.role,
                participants.c.entitled,
                persons.c.dek,
                persons.c.name_enc,
                persons.c.language,
            )
            .join(persons, persons.c.id == participants.c.person_id)
            .where(participants.c.tenant_id == tenant_id, participants.c.case_id.in_(case_ids))
            .order_by(participants.c.case_id, participants.c.created_at, participants.c.id)
        )
    ).all()


async def staff_names(conn: AsyncConnection, tenant_id: str, staff_ids: Sequence[str]) -> Any:
    """``id, dek, first_name_enc, full_name_enc`` of these staff members."""
    if not staff_ids:
        return []
    return (
        await conn.execute(
            select(staff.c.id, staff.c.dek, staff.c.first_name_enc, staff.c.full_name_enc).where(
                staff.c.tenant_id == tenant_id, staff.c.id.in_(set(staff_ids))
            )
        )
    ).all()


async def next_steps(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, Any]:
    """Each case's next milestone not done yet (``step, status, expected_on``), by case id."""
    if not case_ids:
        return {}
    rows = (
        await conn.execute(
            select(
                milestones.c.case_id,
                milestones.c.step,
                milestones.c.status,
                milestones.c.expected_on,
            )
            .where(milestones.c.case_id.in_(case_ids), milestones.c.status != "done")
            .order_by(milestones.c.case_id, milestones.c.position)
        )
    ).all()
    found: dict[str, Any] = {}
    for r in rows:
        found.setdefault(r.case_id, r)
    return found


async def next_meeting(conn: AsyncConnection, tenant_id: str, case_id: str, now: datetime) -> Any:
    """The case's next meeting that is neither cancelled nor over (``id, starts_at, ends_at,
    place_enc, video_url_enc, attendees``), or None. A meeting under way still counts, as on
    the family's "Dine møder"."""
    return (
        await conn.execute(
            select(
                appointments.c.id,
                appointments.c.starts_at,
                appointments.c.ends_at,
                appointments.c.place_enc,
                appointments.c.video_url_enc,
                appointments.c.attendees,
            )
            .where(
                appointments.c.tenant_id == tenant_id,
                appointments.c.case_id == case_id,
                appointments.c.status == "scheduled",
                appointments.c.ends_at > now,
            )
            .order_by(appointments.c.starts_at, appointments.c.id)
            .limit(1)
        )
    ).first()


# -- one case ------------------------------------------------------------------------------------


async def case_row(conn: AsyncConnection, user: StaffUser, case_id: str, today: date) -> Any:
    """The case if ``user`` may see it (:func:`case_reach`), with why; else None."""
    return (
        await conn.execute(
            select(cases, _relation(user, today).label("relation")).where(
                cases.c.id == case_id, case_reach(user, today)
            )
        )
    ).first()


def _newest_first() -> Any:
    """``n``: 1 for each thread's newest message of those selected, 2 for the one before…"""
    return (
        func.row_number()
        .over(
            partition_by=messages.c.conversation_id,
            order_by=(messages.c.created_at.desc(), messages.c.id.desc()),
        )
        .label("n")
    )


async def threads_of(conn: AsyncConnection, user: StaffUser, case_id: str) -> Any:
    """The case's threads, newest activity first, with counts and whether an open message
    in it is routed to ``user`` (``holding``: they may open that thread even if they do not
    work on the case; bot.domain.caselist decides).

    Beside the counts: how many messages the family wrote (``family_count``), and the
    status and kind of the newest message we wrote that is not automatic (``sent_status``,
    ``sent_kind``; None if there is none), so a thread we started says what became of it;
    and what became of our answer to the family's newest message (``answer_status``: the
    status of the newest message a caseworker wrote, if it came after that message; None
    otherwise), the rule ``bot.domain.conversations`` applies to each family message."""
    counts = (
        select(
            messages.c.conversation_id,
            func.count().label("message_count"),
            func.sum(case((messages.c.awaiting_reply.is_(True), 1), else_=0)).label("open_count"),
            func.sum(case((messages.c.direction == "in", 1), else_=0)).label("family_count"),
            func.max(case((messages.c.direction == "in", messages.c.created_at))).label(
                "family_last"
            ),
            func.max(
                case(
                    (and_(messages.c.awaiting_reply.is_(True), messages.c.owner_id == user.id), 1),
                    else_=0,
                )
            ).label("holding"),
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(conversations.c.case_id == case_id, messages.c.kind != "login_code")
        .group_by(messages.c.conversation_id)
        .subquery("counts")
    )
    sent = (
        select(
            messages.c.conversation_id,
            messages.c.status,
            messages.c.kind,
            _newest_first(),
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            conversations.c.case_id == case_id,
            messages.c.direction == "out",
            messages.c.kind.not_in(AUTOMATIC),
        )
        .subquery("sent")
    )
    # The newest message a caseworker wrote: at or after the family's newest message (the
    # thread page puts theirs first at the same instant), it is that message's answer.
    written = (
        select(
            messages.c.conversation_id,
            messages.c.status,
            messages.c.created_at,
            _newest_first(),
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            conversations.c.case_id == case_id,
            messages.c.direction == "out",
            messages.c.author_id.is_not(None),
        )
        .subquery("written")
    )
    answer = case((written.c.created_at >= counts.c.family_last, written.c.status), else_=None)
    return (
        await conn.execute(
            select(
                conversations.c.id,
                conversations.c.person_id,
                conversations.c.last_activity_at,
                conversations.c.created_at,
                persons.c.dek.label("person_dek"),
                persons.c.name_enc,
                func.coalesce(counts.c.message_count, 0).label("message_count"),
                func.coalesce(counts.c.open_count, 0).label("open_count"),
                func.coalesce(counts.c.family_count, 0).label("family_count"),
                func.coalesce(counts.c.holding, 0).label("holding"),
                sent.c.status.label("sent_status"),
                sent.c.kind.label("sent_kind"),
                answer.label("answer_status"),
            )
            .join(persons, persons.c.id == conversations.c.person_id)
            .outerjoin(counts, counts.c.conversation_id == conversations.c.id)
            .outerjoin(sent, and_(sent.c.conversation_id == conversations.c.id, sent.c.n == 1))
            .outerjoin(
                written, and_(written.c.conversation_id == conversations.c.id, written.c.n == 1)
            )
            .where(conversations.c.case_id == case_id, conversations.c.tenant_id == user.tenant_id)
            .order_by(conversations.c.last_activity_at.desc(), conversations.c.id)
        )
    ).all()


async def latest_messages(conn: AsyncConnection, conversation_ids: Sequence[str]) -> dict[str, Any]:
    """Each thread's newest message a person wrote (``id, direction, kind, key_scope,
    body_enc, created_at``), by thread id: not a receipt, an automatic answer or a
    one-time login code."""
    if not conversation_ids:
        return {}
    ranked = (
        select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.direction,
            messages.c.kind,
            messages.c.key_scope,
            messages.c.body_enc,
            messages.c.created_at,
            _newest_first(),
        )
        .where(
            messages.c.conversation_id.in_(conversation_ids),
            messages.c.kind.not_in(AUTOMATIC),
        )
        .subquery()
    )
    rows = (await conn.execute(select(ranked).where(ranked.c.n == 1))).all()
    return {r.conversation_id: r for r in rows}


# -- the search index ------------------------------------------------------------------------------


async def replace_person_tokens(
    conn: AsyncConnection, tenant_id: str, person_id: str, tokens: Sequence[str]
) -> None:
    """The person's name tokens are now ``tokens`` (the old ones go)."""
    await conn.execute(
        delete(person_search_tokens).where(person_search_tokens.c.person_id == person_id)
    )
    if tokens:
        await conn.execute(
            person_search_tokens.insert(),
            [{"tenant_id": tenant_id, "person_id": person_id, "token": t} for t in set(tokens)],
        )


async def named_persons_after(conn: AsyncConnection, after: str, limit: int) -> Any:
    """Persons with a name, in id order after ``after``: ``id, tenant_id, dek, name_enc``."""
    return (
        await conn.execute(
            select(persons.c.id, persons.c.tenant_id, persons.c.dek, persons.c.name_enc)
            .where(persons.c.id > after, persons.c.name_enc.is_not(None))
            .order_by(persons.c.id)
            .limit(limit)
        )
    ).all()


async def record_search(
    conn: AsyncConnection, user: StaffUser, *, purpose: str, at: datetime
) -> None:
    """One access-log row for a search (what was typed is not kept)."""
    await conn.execute(
        access_log.insert().values(
            id=new_id(),
            tenant_id=user.tenant_id,
            staff_id=user.id,
            action="search",
            case_id=None,
            message_id=None,
            purpose=purpose,
            at=at,
        )
    )
