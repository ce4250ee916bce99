"""Mine sager: every case a caseworker owns or covers (a lead: their team's), and one case.

Who sees what (``bot.store.caselist.case_reach``): the owner; a colleague
covering it (the substitute of an owner who is away today, or whoever holds an
open message on it); the lead of the case's team. Anything else, another
municipality's case above all, is "not found": we never confirm that a case exists.

On the case page, who works on the case (``scheduler.store.case_visible``: the owner,
the substitute while the owner is away, the lead of its team) opens every thread, open
or closed; whoever only holds an open message opens that thread alone.

The case page shows each thread's newest message; every message shown is
recorded in the access log (purpose ``sagsoversigt``), like the thread page.
When a participant's newest message there is theirs and written in Cyrillic or
Arabic letters while their SMS go out in another language, the participant says so
(``wrote_in``, :func:`bot.domain.person_language.wrote_otherwise`); no other
message is decrypted for it.
A search is recorded too (action ``search``, without what was typed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.person_language import wrote_otherwise
from bot.domain.search_index import parse_query
from bot.store import caselist as store
from journal.access import record_reads
from scheduler.store import local_date, works_on
from scheduler.templates import CASE_TYPES, title

PAGE_SIZE = 50
QUIET_MAX = 365
EXCERPT = 160


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """The list's filters, as the caseworker chose them.

    Attributes:
        urgent: an urgent message nobody has picked up.
        waiting: a message waiting for our reply.
        breached: an open message past its reply-by.
        quiet_days: no activity for at least this many days (1–365), or None.
        page: 1-based.
    """

    urgent: bool = False
    waiting: bool = False
    breached: bool = False
    quiet_days: int | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class NextStep:
    title: str
    expected_on: date | None


@dataclass
class CaseItem:
    """One line of the list (and the head of the case page)."""

    id: str
    number: str
    case_type: str
    status: str
    relation: str  # mine | covering | team
    owner_name: str | None
    participants: list[str]
    last_activity: datetime
    open_threads: int
    awaiting: int
    urgent: bool
    reply_by: datetime | None
    breached: bool
    next_step: NextStep | None


@dataclass
class CasePage:
    items: list[CaseItem]
    total: int
    page: int
    pages: int


@dataclass
class ThreadSummary:
    """One thread of a case: with whom, how much, its newest message (access-logged).

    ``family_count`` is how many messages the family wrote: "answered" means one of
    theirs was. A thread we started and they never wrote in says instead what became
    of our newest message (``sent_status``: queued, sent, delivered, failed, withheld
    …; ``sent_kind`` tells a planned SMS from one in the queue). ``answer_status`` is what
    became of our answer to the family's newest message (failed, withheld…: they never got
    it; None: nobody wrote after it).
    """

    id: str
    participant_name: str | None
    message_count: int
    open_count: int
    last_activity: datetime
    started: datetime
    can_open: bool
    latest: dict[str, Any] | None = None
    family_count: int = 0
    sent_status: str | None = None
    sent_kind: str | None = None
    answer_status: str | None = None


@dataclass(frozen=True, slots=True)
class NextMeeting:
    """Næste møde: the case's next meeting that is neither cancelled nor over.

    ``place`` is the address booked (None: none given); ``video`` says it is held by video
    link; ``attendees`` are the family's and the staff's names, as booked.
    """

    id: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    video: bool
    attendees: list[str]


@dataclass
class CaseDetail:
    case: CaseItem
    participants: list[dict[str, Any]] = field(default_factory=list)
    threads: list[ThreadSummary] = field(default_factory=list)
    next_meeting: NextMeeting | None = None


def _check_filters(f: CaseFilters) -> None:
    if f.quiet_days is not None and not 1 <= f.quiet_days <= QUIET_MAX:
        raise BadInput("quiet_days: 1 to 365", code="bad_quiet_days")
    if f.page < 1:
        raise BadInput("page: 1 or more", code="bad_page")


def _query(svc: Services, f: CaseFilters, **search: Any) -> store.CaseQuery:
    now = svc.clock.now()
    quiet = now - timedelta(days=f.quiet_days) if f.quiet_days else None
    return store.CaseQuery(
        urgent=f.urgent,
        waiting=f.waiting,
        breached=f.breached,
        quiet_since=quiet,
        limit=PAGE_SIZE,
        offset=(f.page - 1) * PAGE_SIZE,
        **search,
    )


async def list_cases(svc: Services, user: StaffUser, filters: CaseFilters) -> CasePage:
    """One page of the cases ``user`` owns, covers or leads, most pressing first.

    Raises:
        BadInput: ``bad_quiet_days`` or ``bad_page``.
    """
    _check_filters(filters)
    return await _page(svc, user, filters, _query(svc, filters))


async def search_cases(svc: Services, user: StaffUser, text: str, filters: CaseFilters) -> CasePage:
    """The visible cases whose number is ``text``, or with a participant whose phone number
    is ``text`` or whose name has every word of it (by blind index, never plaintext).

    Raises:
        BadInput: ``search_too_short``, ``search_too_long`` (nothing is looked up),
            ``bad_quiet_days`` or ``bad_page``.
    """
    _check_filters(filters)
    terms = parse_query(svc, user.tenant_id, text)
    q = _query(
        svc,
        filters,
        numbers=terms.numbers,
        phone_index=terms.phone_index,
        name_tokens=terms.name_tokens,
    )
    async with svc.write() as conn:
        await store.record_search(conn, user, purpose="sagssøgning", at=svc.clock.now())
    return await _page(svc, user, filters, q)


async def _page(
    svc: Services, user: StaffUser, filters: CaseFilters, q: store.CaseQuery
) -> CasePage:
    now = svc.clock.now()
    async with svc.read() as conn:
        rows, total = await store.list_cases(conn, user, q, today=local_date(now), now=now)
        items = await _items(svc, conn, user, rows, now)
    pages = max(1, -(-total // PAGE_SIZE))
    return CasePage(items, total, filters.page, pages)


def _name(svc: Services, person_id: str, dek: bytes, name_enc: bytes | None) -> str | None:
    if name_enc is None:
        return None
    return unseal(svc.dek("persons", person_id, dek), name_enc, f"persons:{person_id}:name")


def _step_title(case_type: str, step: str) -> str:
    policy = CASE_TYPES.get(case_type)
    tpl = policy.step(step) if policy is not None else None
    return title(tpl, "da") if tpl is not None else step.replace("_", " ").capitalize()


async def _items(
    svc: Services, conn: Any, user: StaffUser, rows: list[Any], now: datetime
) -> list[CaseItem]:
    """The page's rows with names (decrypted for this page only) and next milestones."""
    ids = [r.id for r in rows]
    names: dict[str, list[str]] = {i: [] for i in ids}
    for p in await store.participants_of(conn, user.tenant_id, ids):
        name = _name(svc, p.person_id, p.dek, p.name_enc)
        names[p.case_id].append(name or "Ukendt person")
    owners = await _staff_names(svc, conn, user, [r.owner_id for r in rows])
    steps = await store.next_steps(conn, ids)
    return [
        CaseItem(
            id=r.id,
            number=r.number,
            case_type=r.case_type,
            status=r.status,
            relation=r.relation,
            owner_name=owners.get(r.owner_id),
            participants=names[r.id],
            last_activity=r.last_at,
            open_threads=int(r.open_threads),
            awaiting=int(r.awaiting),
            urgent=bool(r.urgent),
            reply_by=r.reply_by,
            breached=r.reply_by is not None and r.reply_by < now,
            next_step=_next(r.case_type, steps.get(r.id)),
        )
        for r in rows
    ]


def _next(case_type: str, step: Any) -> NextStep | None:
    if step is None:
        return None
    return NextStep(_step_title(case_type, step.step), step.expected_on)


async def _staff_names(
    svc: Services, conn: Any, user: StaffUser, staff_ids: list[str]
) -> dict[str, str]:
    out = {}
    for s in await store.staff_names(conn, user.tenant_id, staff_ids):
        out[s.id] = unseal(
            svc.dek("staff", s.id, s.dek), s.full_name_enc, f"staff:{s.id}:full_name"
        )
    return out


# -- one case --------------------------------------------------------------------------------


async def _next_meeting(
    svc: Services, conn: Any, user: StaffUser, case: Any, people: dict[str, str], now: datetime
) -> NextMeeting | None:
    """The case's next meeting, its place opened with the case's key and its attendees named
    (the family by the case's participants, staff by their full names)."""
    m = await store.next_meeting(conn, user.tenant_id, case.id, now)
    if m is None:
        return None
    place = None
    if m.place_enc is not None:
        dek = svc.dek("cases", case.id, case.dek)
        place = unseal(dek, m.place_enc, f"appointments:{m.id}:place")
    who = json.loads(m.attendees)
    staff_ids = list(who.get("staff", []))
    staff_names = await _staff_names(svc, conn, user, staff_ids)
    names = [people.get(p, "Ukendt person") for p in who.get("persons", [])]
    names += [staff_names[s] for s in staff_ids if s in staff_names]
    return NextMeeting(
        id=m.id,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        place=place,
        video=m.video_url_enc is not None,
        attendees=names,
    )


async def next_meeting(svc: Services, user: StaffUser, case_id: str) -> NextMeeting | None:
    """Næste møde of one case, as its case page shows it: for the thread page beside it.

    None when the case has no meeting to come, or when ``user`` may not see the case
    (:func:`bot.store.caselist.case_reach`); the thread page asks only for those who work
    on the case.
    """
    now = svc.clock.now()
    today = local_date(now)
    if user.today is None:  # the covering rule reads the day from the user: the same day
        user = replace(user, today=today)
    async with svc.read() as conn:
        row = await store.case_row(conn, user, case_id, today)
        if row is None:
            return None
        people = {
            p.person_id: _name(svc, p.person_id, p.dek, p.name_enc) or "Ukendt person"
            for p in await store.participants_of(conn, user.tenant_id, [case_id])
        }
        return await _next_meeting(svc, conn, user, row, people, now)


ROLES = {
    "party": "Part",
    "parent": "Forælder",
    "bisidder": "Bisidder",
    "representative": "Partsrepræsentant",
}


async def case_detail(svc: Services, user: StaffUser, case_id: str) -> CaseDetail:
    """The case with its participants and every thread, open or closed.

    Each thread's newest message is shown to the user and so recorded in the access
    log (purpose ``sagsoversigt``), in the same transaction that read it; a thread the
    user may not open shows no content.

    Raises:
        NotFound: ``case_not_found`` for a case the user may not see (or none at all).
    """
    now = svc.clock.now()
    today = local_date(now)
    if user.today is None:  # the covering rule reads the day from the user: the same day
        user = replace(user, today=today)
    async with svc.write() as conn:
        row = await store.case_row(conn, user, case_id, today)
        if row is None:
            raise NotFound("No such case", code="case_not_found")
        # The one rule (scheduler.store.case_visible): owner, the substitute of an owner
        # away today, lead of the case's team; they open every thread, closed ones too.
        works = await works_on(conn, user, row.id)
        page_q = store.CaseQuery(case_ids=(row.id,), limit=1)
        listed, _ = await store.list_cases(conn, user, page_q, today=today, now=now)
        head = (await _items(svc, conn, user, listed, now))[0]
        detail = CaseDetail(head)
        people: dict[str, str] = {}
        for p in await store.participants_of(conn, user.tenant_id, [case_id]):
            people[p.person_id] = _name(svc, p.person_id, p.dek, p.name_enc) or "Ukendt person"
            detail.participants.append(
                {
                    "id": p.id,
                    "name": people[p.person_id],
                    "role": ROLES.get(p.role, p.role),
                    "entitled": p.entitled,
                    "language": p.language,
                    "person_id": p.person_id,
                    "wrote_in": None,
                }
            )
        detail.next_meeting = await _next_meeting(svc, conn, user, row, people, now)
        threads = await store.threads_of(conn, user, case_id)
        openable = [t.id for t in threads if works or t.holding]
        latest = await store.latest_messages(conn, openable)
        case_dek = svc.dek("cases", row.id, row.dek)
        # Each person's newest message shown on the page, and its text if it is theirs.
        newest: dict[str, tuple[datetime, str | None]] = {}
        for t in threads:
            summary = ThreadSummary(
                id=t.id,
                participant_name=_name(svc, t.person_id, t.person_dek, t.name_enc),
                message_count=int(t.message_count),
                open_count=int(t.open_count),
                last_activity=t.last_activity_at,
                started=t.created_at,
                can_open=works or bool(t.holding),
                family_count=int(t.family_count),
                sent_status=t.sent_status,
                sent_kind=t.sent_kind,
                answer_status=t.answer_status,
            )
            m = latest.get(t.id)
            if m is not None:
                dek = (
                    case_dek
                    if m.key_scope == "case"
                    else svc.dek("persons", t.person_id, t.person_dek)
                )
                body = unseal(dek, m.body_enc, f"messages:{m.id}:body")
                summary.latest = {
                    "id": m.id,
                    "direction": m.direction,
                    "kind": m.kind,
                    "created": m.created_at,
                    "excerpt": body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…",
                }
                seen = newest.get(t.person_id)
                if seen is None or m.created_at > seen[0]:
                    newest[t.person_id] = (m.created_at, body if m.direction == "in" else None)
            detail.threads.append(summary)
        for p in detail.participants:
            shown = newest.get(p["person_id"])
            p["wrote_in"] = wrote_otherwise(shown[1] if shown else None, p["language"])
        await record_reads(
            conn,
            tenant_id=user.tenant_id,
            staff_id=user.id,
            case_id=case_id,
            message_ids=[m.id for m in latest.values()],
            purpose="sagsoversigt",
            at=now,
        )
    return detail
