"""The caseworker's inbox, grouped: mine, covering for a colleague, my team, unassigned.

The open threads come from ``bot.domain.conversations.list_open`` (the same rules as
the JSON API: own cases; a lead also their team's and the unassigned queue);
this module only adds whose case each one is, and sorts it into groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from bot.base.crypto import unseal
from bot.base.errors import NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import conversations as conv
from bot.store.schema.core import cases, conversations, persons, staff
from bot.store.schema.pages import web_citizen_reads
from bot.store.schema.scheduler import reply_promises
from scheduler.store import case_visible


@dataclass
class InboxItem:
    id: str
    case_number: str | None
    participant_name: str | None
    open_count: int
    reply_by: datetime | None
    last_message_at: datetime
    owner_id: str | None
    owner_name: str | None
    urgent: bool = False
    concern: bool = False  # bekymring: answer today; first after the urgent ones


@dataclass
class InboxGroup:
    key: str  # mine | covering | team | unassigned
    title: str
    items: list[InboxItem] = field(default_factory=list)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _owners(svc: Services, user: StaffUser, ids: list[str]) -> dict[str, tuple[str, str]]:
    """conversation id -> (owner id, owner's first name), within the user's municipality."""
    if not ids:
        return {}
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(
                    conversations.c.id,
                    staff.c.id.label("owner_id"),
                    staff.c.dek,
                    staff.c.first_name_enc,
                )
                .join(cases, cases.c.id == conversations.c.case_id)
                .join(staff, staff.c.id == cases.c.owner_id)
                .where(conversations.c.id.in_(ids), conversations.c.tenant_id == user.tenant_id)
            )
        ).all()
    names: dict[str, str] = {}
    result = {}
    for r in rows:
        if r.owner_id not in names:
            dek = svc.dek("staff", r.owner_id, r.dek)
            names[r.owner_id] = unseal(dek, r.first_name_enc, f"staff:{r.owner_id}:first_name")
        result[r.id] = (r.owner_id, names[r.owner_id])
    return result


def _sort_key(item: InboxItem) -> tuple[bool, bool, bool, datetime, str]:
    # Urgent first, then concerns (bekymring), then the earliest reply-by; no reply-by last.
    far = datetime.max.replace(tzinfo=item.last_message_at.tzinfo)
    return (
        not item.urgent,
        not item.concern,
        item.reply_by is None,
        item.reply_by or far,
        item.id,
    )


GROUPS = {
    "mine": "Mine sager",
    "covering": "Jeg dækker for en kollega",
    "team_unassigned": "Teamets sager uden ansvarlig lige nu",
    "team": "Teamets sager",
    "unassigned": "Ikke fordelt (ingen sag)",
}


def _group_of(i: dict[str, Any], user: StaffUser, owner_id: str | None) -> str:
    group = i.get("group")
    if isinstance(group, str) and group in GROUPS:
        return group  # bot.domain.conversations knows about covers and open-message owners
    if i.get("case_number") is None and owner_id is None:
        return "unassigned"
    return "mine" if owner_id == user.id else "team"


async def inbox(svc: Services, user: StaffUser) -> list[InboxGroup]:
    """The user's open threads in groups, urgent first; "mine" and "covering" even if empty."""
    raw: list[dict[str, Any]] = await conv.list_open(svc, user)
    owners = await _owners(svc, user, [str(i["id"]) for i in raw])
    groups = {key: InboxGroup(key, title) for key, title in GROUPS.items()}
    for i in raw:
        owner_id, owner_name = owners.get(str(i["id"]), (None, None))
        item = InboxItem(
            id=str(i["id"]),
            case_number=i.get("case_number"),
            participant_name=i.get("participant_name"),
            open_count=int(i.get("open_count") or 0),
            reply_by=_when(i.get("reply_by")),
            last_message_at=_when(i.get("last_message_at")) or svc.clock.now(),
            owner_id=owner_id,
            owner_name=owner_name,
            urgent=bool(i.get("urgent", False)),
            concern=bool(i.get("concern", False)),
        )
        groups[_group_of(i, user, owner_id)].items.append(item)
    for g in groups.values():
        g.items.sort(key=_sort_key)
    shown = ["mine", "covering"]
    if user.role in ("lead", "admin"):
        shown += ["team_unassigned", "team", "unassigned"]
    return [groups[k] for k in shown if k != "team_unassigned" or groups[k].items]


def fingerprint(items: list[dict[str, Any]]) -> tuple[tuple[str, int, str], ...]:
    """What changes when a new message arrives on any open thread (for live updates)."""
    return tuple(
        sorted((str(i["id"]), int(i["open_count"]), str(i["last_message_at"])) for i in items)
    )


async def citizen_reads(
    svc: Services, user: StaffUser, message_ids: list[str]
) -> dict[str, datetime]:
    """When the citizen first saw each of these messages in the secure inbox.

    Call with ids from a thread the user was allowed to read (``read_thread``).
    """
    if not message_ids:
        return {}
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(web_citizen_reads.c.message_id, web_citizen_reads.c.first_read_at).where(
                    web_citizen_reads.c.message_id.in_(message_ids),
                    web_citizen_reads.c.tenant_id == user.tenant_id,
                )
            )
        ).all()
    return {r.message_id: r.first_read_at for r in rows}


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """What the thread page needs beside the messages: the case, and who may do what on it."""

    case_id: str | None
    case_open: bool
    # Owner, the substitute covering for an absent owner today, or lead/admin of
    # the case's team: may schedule, promise, see the timeline and file notes.
    works_on_case: bool
    citizen_first_name: str | None
    promise_due: date | None
    # The family's language (da/en/uk/ar): reply templates are offered in it.
    citizen_language: str = "da"


async def thread_context(svc: Services, user: StaffUser, conv_id: str) -> ThreadContext:
    """Call after ``read_thread`` has shown the user may see this thread."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(
                    conversations.c.case_id,
                    cases.c.owner_id,
                    cases.c.team_id,
                    cases.c.status,
                    persons.c.id.label("person_id"),
                    persons.c.dek,
                    persons.c.first_name_enc,
                    persons.c.language,
                )
                .join(persons, persons.c.id == conversations.c.person_id)
                .outerjoin(cases, cases.c.id == conversations.c.case_id)
                .where(conversations.c.id == conv_id, conversations.c.tenant_id == user.tenant_id)
            )
        ).one()
        promise = (
            await conn.execute(
                select(reply_promises.c.due_on)
                .where(
                    reply_promises.c.conversation_id == conv_id,
                    reply_promises.c.status == "open",
                )
                .order_by(reply_promises.c.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        # The one rule (scheduler.store.case_visible): owner, covering substitute, team lead.
        works = (
            row.case_id is not None
            and (
                await conn.execute(
                    select(cases.c.id).where(cases.c.id == row.case_id, case_visible(user))
                )
            ).first()
            is not None
        )
    first = None
    if row.first_name_enc is not None:
        dek = svc.dek("persons", row.person_id, row.dek)
        first = unseal(dek, row.first_name_enc, f"persons:{row.person_id}:first_name")
    return ThreadContext(
        case_id=row.case_id,
        case_open=row.case_id is not None and row.status == "open",
        works_on_case=works,
        citizen_first_name=first,
        promise_due=promise,
        citizen_language=row.language or "da",
    )


async def team_names(svc: Services, user: StaffUser) -> dict[str, str]:
    """The user's team, active members only: staff id -> full name (decrypted), by name."""
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(staff.c.id, staff.c.dek, staff.c.full_name_enc).where(
                    staff.c.tenant_id == user.tenant_id,
                    staff.c.team_id == user.team_id,
                    staff.c.active.is_(True),
                )
            )
        ).all()
    names = {
        r.id: unseal(svc.dek("staff", r.id, r.dek), r.full_name_enc, f"staff:{r.id}:full_name")
        for r in rows
    }
    return dict(sorted(names.items(), key=lambda kv: (kv[1], kv[0])))


async def working_case(svc: Services, user: StaffUser, conv_id: str) -> str:
    """The thread's case id if the user works on that case (owner, or lead of its team).

    Raises:
        NotFound: no such thread, no case, or not one of the user's cases.
    """
    async with svc.read() as conn:
        case_id = (
            await conn.execute(
                select(cases.c.id)
                .join(conversations, conversations.c.case_id == cases.c.id)
                .where(conversations.c.id == conv_id, case_visible(user))
            )
        ).scalar_one_or_none()
    if case_id is None:
        raise NotFound("No such conversation", code="conversation_not_found")
    return str(case_id)
