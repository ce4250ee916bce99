"""Inbound SMS: the statements that identify a sender and touch their thread, and their rows.

One round trip tells the inbound flow (bot.domain.inbound) everything it needs
to decide before it writes: whether the SMS was seen before, who is on the
sender's number, their open cases (with what routing and the receipt need) and a
pending "which case?" question. On PostgreSQL, the same statement touches the
thread and holds its case's journal head when only one thread can be meant;
a batch of SMS asks for all of them at once (see bot.domain.inbound_batch).

The journal's head-holding SQL and the outbound thread guard belong to the
domain (journal.journal, bot.domain.outbound): the store cannot import them,
so the domain hands them over once, when it builds :class:`InboundStore`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Executable,
    FromClause,
    Integer,
    Label,
    Row,
    String,
    TextualSelect,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.store.engine import frozen_for_postgresql
from bot.store.schema.core import (
    UTCDateTime,
    absences,
    administrations,
    case_choices,
    cases,
    conversations,
    messages,
    participants,
    persons,
    staff,
    teams,
)
from bot.store.schema.integration import webhook_subscriptions
from bot.store.schema.intents import intent_confirmations

# A batch that waits long for a lock (a head another transaction holds) gives up, and
# its SMS go one at a time, rather than holding up every SMS queued behind it.
BATCH_LOCK_TIMEOUT = "500ms"


# -- what the statements tell --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entitled participation in an open case: a case the SMS may be filed on, for whom."""

    case_id: str
    person_id: str


@dataclass(frozen=True, slots=True)
class Person:
    """Someone registered (or remembered) on the sender's number."""

    id: str
    dek: bytes
    origin: str  # known | unknown
    language: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OpenCase:
    """An open case the sender takes part in, with what filing on it needs."""

    id: str
    number: str
    dek: bytes
    administration: str
    owner_id: str
    owner_dek: bytes
    first_name_enc: bytes
    owner_active: bool
    owner_away: bool  # an absence covers today
    team_id: str
    tenant_id: str  # the team's (for its working calendar)
    reply_days: int
    opens_at: str
    closes_at: str
    after_hours_phone: str | None
    escalate_after_min: int


@dataclass(frozen=True, slots=True)
class PendingChoice:
    """A pending "which case?" question: its options as JSON [[case_id, person_id], …]."""

    id: str
    options: str
    phone_index: str


@dataclass(frozen=True, slots=True)
class TouchedThread:
    """A thread touched (or made) by the statement that identified its SMS."""

    case_id: str
    person_id: str
    id: str
    open_reply_by: datetime | None  # the reply-by of a message in it still open


@dataclass(frozen=True, slots=True)
class HeldHead:
    """A journal chain's head a statement made or locked (for journal.journal to hold)."""

    chain: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Identified:
    """What one query tells about an inbound SMS before anything is written."""

    seen: str | None  # the message already stored for this provider id
    may_emit: bool  # the municipality has an active webhook subscription
    staff_phone: bool  # "OK" from a staff work phone or after-hours line (asked only then)
    choice: PendingChoice | None  # the latest unresolved "which case?" question to this number
    people: list[Person]  # oldest first
    candidates: list[Candidate]  # entitled participations in open cases, by case number
    cases: dict[str, OpenCase]
    # A question waits for this number's yes (bot.domain.intents).
    asked: bool = False
    # PostgreSQL, one thread meant: touched by the same statement, its case's head held.
    thread: TouchedThread | None = None
    head: tuple[int, str] | None = None  # the head's (seq, hash), when held


@dataclass(frozen=True, slots=True)
class Ask:
    """One inbound SMS as the identify statement asks about it."""

    provider: str
    provider_id: str
    tenant_id: str
    phone_index: str  # the sender's blind index
    sender: str  # E.164
    ok: bool  # the body is an "OK" (which may acknowledge a page)


@dataclass(frozen=True, slots=True)
class ThreadTouch:
    """One SMS of a batch whose thread (case and person) is to be touched or made."""

    tenant_id: str
    case_id: str
    person_id: str
    at: datetime


class HeadColumns(Protocol):
    """journal.journal.held_head_columns: columns that lock (or make) a head in a statement."""

    def __call__(
        self, source: FromClause, chain: ColumnElement[str], tenant_id: ColumnElement[str]
    ) -> tuple[Label[int], Label[str]]: ...


# -- identify: one round trip ------------------------------------------------------------------
#
# Deduplication, the sender's people, their open cases (with what routing and the
# receipt need) and a pending "which case?" question: one round trip, built once.
# The anchor row makes the answer one row even when nobody has this number. Constants
# are written into the SQL, not bound: PostgreSQL then plans the statement once for
# any parameters (a generic plan) instead of again on every execution.
_ONE: ColumnElement[int] = literal_column("1", Integer())
_anchor = select(literal_column("1").label("one")).subquery("anchor")
_pending = (
    select(case_choices.c.id, case_choices.c.options, case_choices.c.phone_index)
    .where(
        case_choices.c.tenant_id == bindparam("tenant_id"),
        case_choices.c.phone_index == bindparam("phone_index"),
        case_choices.c.resolved_at.is_(None),
    )
    .order_by(case_choices.c.created_at.desc())
    .limit(_ONE)
    .subquery("pending")
)
# "OK" from a staff work phone or an after-hours line may acknowledge a page.
_work_phones = staff.alias("work_phones")
_lines = teams.alias("lines")
_identified_columns = (
    select(messages.c.id)
    .where(
        messages.c.provider == bindparam("provider"),
        messages.c.provider_id == bindparam("provider_id"),
    )
    .scalar_subquery()
    .label("seen"),
    exists()
    .where(
        webhook_subscriptions.c.tenant_id == bindparam("tenant_id"),
        webhook_subscriptions.c.active.is_(True),
    )
    .label("may_emit"),
    exists()
    .where(
        intent_confirmations.c.tenant_id == bindparam("tenant_id"),
        intent_confirmations.c.phone_index == bindparam("phone_index"),
        intent_confirmations.c.state == literal_column("'open'"),
    )
    .label("asked"),
    _pending.c.id.label("choice_id"),
    _pending.c.options.label("choice_options"),
    _pending.c.phone_index.label("choice_phone_index"),
    persons.c.id.label("person_id"),
    persons.c.dek.label("person_dek"),
    persons.c.origin,
    persons.c.language,
    persons.c.created_at.label("person_created_at"),
    cases.c.id.label("case_id"),
    cases.c.number,
    cases.c.dek.label("case_dek"),
    administrations.c.name.label("administration"),
    cases.c.owner_id,
    staff.c.dek.label("owner_dek"),
    staff.c.first_name_enc,
    staff.c.active.label("owner_active"),
    exists()
    .where(
        absences.c.staff_id == cases.c.owner_id,
        absences.c.starts_on <= bindparam("day"),
        absences.c.ends_on >= bindparam("day"),
    )
    .label("owner_away"),
    teams.c.id.label("team_id"),
    teams.c.tenant_id.label("team_tenant_id"),
    teams.c.reply_days,
    teams.c.opens_at,
    teams.c.closes_at,
    teams.c.after_hours_phone,
    teams.c.escalate_after_min,
    participants.c.created_at.label("joined_at"),
    participants.c.id.label("participation_id"),
)
_identified_from = (
    _anchor.outerjoin(_pending, true())
    .outerjoin(
        persons,
        and_(
            persons.c.tenant_id == bindparam("tenant_id"),
            persons.c.phone_index == bindparam("phone_index"),
        ),
    )
    .outerjoin(
        participants,
        and_(participants.c.person_id == persons.c.id, participants.c.entitled.is_(True)),
    )
    .outerjoin(
        cases,
        and_(
            cases.c.id == participants.c.case_id,
            cases.c.status == literal_column("'open'"),
            cases.c.tenant_id == bindparam("tenant_id"),
        ),
    )
    .outerjoin(administrations, administrations.c.id == cases.c.administration_id)
    .outerjoin(teams, teams.c.id == cases.c.team_id)
    .outerjoin(staff, staff.c.id == cases.c.owner_id)
)


def _staff_phone(*, asked: bool) -> ColumnElement[bool]:
    """Is the sender a staff work phone or an after-hours line? With ``asked``, only if
    the ``ok`` parameter says the SMS is an "OK" (the only SMS that question matters for)."""
    gate = [bindparam("ok", type_=Boolean())] if asked else []
    return or_(
        exists().where(
            *gate,
            _work_phones.c.tenant_id == bindparam("tenant_id"),
            _work_phones.c.work_phone_index == bindparam("phone_index"),
        ),
        exists().where(
            *gate,
            _lines.c.tenant_id == bindparam("tenant_id"),
            _lines.c.after_hours_phone == bindparam("sender"),
        ),
    ).label("staff_phone")


_IDENTIFY = (
    select(*_identified_columns, _staff_phone(asked=True))
    .select_from(_identified_from)
    .order_by(cases.c.number, participants.c.created_at, participants.c.id)
)
_SEEN = select(messages.c.id).where(
    messages.c.provider == bindparam("provider"),
    messages.c.provider_id == bindparam("provider_id"),
)


def _identify_and_touch(
    *,
    ok: bool,
    thread_unchanged: str,
    open_reply_by: Label[Any],
    head_columns: HeadColumns,
    case_chain_of: Callable[[ColumnElement[str]], ColumnElement[str]],
) -> TextualSelect:
    """PostgreSQL: _IDENTIFY, and for an SMS that can only be filed on one thread, touch it.

    That is a single open case and participant on the number, no pending question,
    nothing to deduplicate, and (for an "OK", built with ``ok``) no page to
    acknowledge: the same statement then touches the thread and locks (or makes) its
    case's journal head, which is what filing on the case does first (and the flow takes
    exactly that path). Not for STOP/START. One statement for "OK" and one for other
    SMS, so that PostgreSQL can plan each once for any parameters, with no flag to prune by.
    """
    ident = (
        select(*_identified_columns, *([_staff_phone(asked=False)] if ok else []))
        .select_from(_identified_from)
        .cte("ident")
    )
    one = (
        select(
            func.min(ident.c.case_id).label("case_id"),
            func.min(ident.c.person_id).label("person_id"),
        )
        .where(
            ident.c.case_id.is_not(None),
            ident.c.seen.is_(None),
            ident.c.choice_id.is_(None),
            *([ident.c.staff_phone.is_(False)] if ok else []),
        )
        .having(func.count() == _ONE)
        .cte("one")
    )
    at = bindparam("at", type_=UTCDateTime())
    thread = pg_insert(conversations)
    touched = (
        thread.from_select(
            ["id", "tenant_id", "case_id", "person_id", "last_activity_at", "created_at"],
            select(
                bindparam("thread_id", type_=String()),
                bindparam("tenant_id", type_=String()),
                one.c.case_id,
                one.c.person_id,
                at,
                at,
            ),
        )
        .on_conflict_do_update(
            index_elements=["case_id", "person_id"],
            set_={"last_activity_at": thread.excluded.last_activity_at},
            # Changed since the snapshot: nothing touched, and the filing touches it itself.
            where=sql_text(thread_unchanged),
        )
        .returning(
            conversations.c.id,
            conversations.c.case_id,
            conversations.c.person_id,
            open_reply_by,
        )
        .cte("touched")
    )
    return frozen_for_postgresql(
        select(
            ident,
            touched.c.id.label("thread_id"),
            touched.c.case_id.label("thread_case_id"),
            touched.c.person_id.label("thread_person_id"),
            touched.c.open_reply_by.label("thread_open_reply_by"),
            *head_columns(
                touched, case_chain_of(touched.c.case_id), bindparam("tenant_id", type_=String())
            ),
        )
        .select_from(ident.outerjoin(touched, true()))
        .order_by(ident.c.number, ident.c.joined_at, ident.c.participation_id)
    )


def _identify_many() -> TextualSelect:
    """_IDENTIFY for a batch: one row set per SMS (``n``), from arrays of their parameters."""
    per_sms = (
        select(*_identified_columns, _staff_phone(asked=True))
        .select_from(_identified_from)
        .order_by(cases.c.number, participants.c.created_at, participants.c.id)
    )
    dialect = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
    inner = per_sms.compile(dialect=dialect).string
    # Each SMS's own parameters come from its row of the arrays; the day is the batch's.
    inner = re.sub(r":(provider_id|provider|tenant_id|phone_index|sender|ok)\b", r"p.\1", inner)
    left = set(re.findall(r"(?<![:\w]):(\w+)", inner))
    if left != {"day"}:  # a parameter added to the identify statement must be mapped here
        raise RuntimeError(f"identify statement: unmapped parameters {sorted(left - {'day'})}")
    sql = (
        "SELECT p.n, ident.* FROM unnest(CAST(:n AS INTEGER[]), CAST(:provider AS VARCHAR[]), "
        "CAST(:provider_id AS VARCHAR[]), CAST(:tenant_id AS VARCHAR[]), "
        "CAST(:phone_index AS VARCHAR[]), CAST(:sender AS VARCHAR[]), CAST(:ok AS BOOLEAN[])) "
        "AS p(n, provider, provider_id, tenant_id, phone_index, sender, ok) "
        f"CROSS JOIN LATERAL ({inner}) AS ident "
        # A batch that waits long for a lock (a head another transaction holds) gives up,
        # and its SMS go one at a time, rather than holding up every SMS queued behind it.
        f"CROSS JOIN (SELECT set_config('lock_timeout', '{BATCH_LOCK_TIMEOUT}', true)) AS guard "
        "ORDER BY p.n, ident.number, ident.joined_at, ident.participation_id"
    )
    return (
        sql_text(sql)
        .bindparams(bindparam("day", type_=Date()))
        .columns(
            column("n", Integer()), *(column(str(c.key), c.type) for c in per_sms.selected_columns)
        )
    )


_IDENTIFY_MANY = _identify_many()


def _touch_many(
    *, thread_unchanged: str, open_reply_by: Label[Any], hold_heads: str
) -> TextualSelect:
    """Touch (or make) each SMS's thread, and hold its case's journal head.

    The heads are made or locked after the threads: the order one SMS alone takes
    them in. A thread changed since the statement's snapshot (see the outbound
    thread guard) is locked but not returned: it is touched again, with a fresh
    snapshot.
    """
    open_reply_by_sql = str(
        open_reply_by.compile(
            dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
            compile_kwargs={"literal_binds": True},
        )
    )
    return sql_text(
        "WITH touched AS (INSERT INTO conversations (id, tenant_id, case_id, person_id, "
        "last_activity_at, created_at) SELECT v.id, v.tenant_id, v.case_id, v.person_id, v.at, "
        "v.at FROM unnest(CAST(:id AS TEXT[]), CAST(:tenant_id AS TEXT[]), "
        "CAST(:case_id AS TEXT[]), CAST(:person_id AS TEXT[]), "
        "CAST(:at AS TIMESTAMP WITH TIME ZONE[])) AS v(id, tenant_id, case_id, person_id, at) "
        "ON CONFLICT (case_id, person_id) DO UPDATE "
        f"SET last_activity_at = excluded.last_activity_at WHERE {thread_unchanged} "
        "RETURNING conversations.id, conversations.case_id, conversations.person_id, "
        f"{open_reply_by_sql} AS open_reply_by), {hold_heads} "
        "SELECT id, case_id, person_id, open_reply_by, CAST(NULL AS TEXT) AS chain, "
        "CAST(NULL AS INTEGER) AS seq, CAST(NULL AS TEXT) AS hash FROM touched "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, chain, seq, hash FROM made "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, chain, seq, hash FROM locked"
    ).columns(
        column("id", String()),
        column("case_id", String()),
        column("person_id", String()),
        column("open_reply_by", UTCDateTime()),
        column("chain", String()),
        column("seq", Integer()),
        column("hash", String()),
    )


# -- rows to records ---------------------------------------------------------------------------


def _open_case(r: Row[Any]) -> OpenCase:
    return OpenCase(
        id=r.case_id,
        number=r.number,
        dek=r.case_dek,
        administration=r.administration,
        owner_id=r.owner_id,
        owner_dek=r.owner_dek,
        first_name_enc=r.first_name_enc,
        owner_active=bool(r.owner_active),
        owner_away=bool(r.owner_away),
        team_id=r.team_id,
        tenant_id=r.team_tenant_id,
        reply_days=r.reply_days,
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        after_hours_phone=r.after_hours_phone,
        escalate_after_min=r.escalate_after_min,
    )


def _known(
    rows: Sequence[Row[Any]],
    *,
    staff_phone: bool,
    thread: TouchedThread | None = None,
    head: tuple[int, str] | None = None,
) -> Identified:
    """What the identify statement's rows (for one SMS) tell about it."""
    first = rows[0]
    people: dict[str, Person] = {}
    candidates: list[Candidate] = []
    found: dict[str, OpenCase] = {}
    for r in rows:
        if r.person_id is None:
            continue
        people.setdefault(
            r.person_id,
            Person(r.person_id, r.person_dek, r.origin, r.language, r.person_created_at),
        )
        if r.case_id is None:
            continue
        candidates.append(Candidate(r.case_id, r.person_id))
        if r.case_id not in found:
            found[r.case_id] = _open_case(r)
    choice = None
    if first.choice_id is not None:
        choice = PendingChoice(first.choice_id, first.choice_options, first.choice_phone_index)
    return Identified(
        seen=first.seen,
        may_emit=bool(first.may_emit),
        staff_phone=staff_phone,
        choice=choice,
        asked=bool(first.asked),
        people=sorted(people.values(), key=lambda p: (p.created_at, p.id)),
        candidates=candidates,
        cases=found,
        thread=thread,
        head=head,
    )


def _touched(first: Row[Any]) -> tuple[TouchedThread | None, tuple[int, str] | None]:
    """The thread an identify-and-touch statement touched, and its case's head if held."""
    if first.thread_id is None:
        return None, None
    thread = TouchedThread(
        first.thread_case_id, first.thread_person_id, first.thread_id, first.thread_open_reply_by
    )
    head = (first.head_seq, first.head_hash) if first.head_seq is not None else None
    return thread, head


# -- the store ---------------------------------------------------------------------------------


class InboundStore:
    """The inbound flow's statements, built once (so each is compiled once), and their rows."""

    def __init__(
        self,
        *,
        thread_unchanged: str,
        open_reply_by: Label[Any],
        head_columns: HeadColumns,
        case_chain_of: Callable[[ColumnElement[str]], ColumnElement[str]],
        hold_heads: str,
    ) -> None:
        """Build the statements that touch threads and hold journal heads.

        Args:
            thread_unchanged: SQL guard: touch a thread only if unchanged since the snapshot.
            open_reply_by: the RETURNING column with a touched thread's open reply-by.
            head_columns: columns that lock (or make) a chain's head inside a statement.
            case_chain_of: a case's journal chain, in SQL.
            hold_heads: the CTEs ``made`` and ``locked`` that hold a batch's heads.
        """
        self._identify_and_touch = {
            ok: _identify_and_touch(
                ok=ok,
                thread_unchanged=thread_unchanged,
                open_reply_by=open_reply_by,
                head_columns=head_columns,
                case_chain_of=case_chain_of,
            )
            for ok in (False, True)
        }
        self._touch_many = _touch_many(
            thread_unchanged=thread_unchanged, open_reply_by=open_reply_by, hold_heads=hold_heads
        )

    @staticmethod
    async def seen(conn: AsyncConnection, *, provider: str, provider_id: str) -> str | None:
        """The message already stored for this provider's id, if any."""
        found = await conn.execute(_SEEN, {"provider": provider, "provider_id": provider_id})
        seen = found.scalar_one_or_none()
        return None if seen is None else str(seen)

    async def identify(
        self, conn: AsyncConnection, ask: Ask, *, day: date, touch_at: datetime | None
    ) -> Identified:
        """What the database knows about one SMS, in one round trip.

        Args:
            day: the local day (for the owner's absences).
            touch_at: on PostgreSQL, touch the one thread the SMS can be filed on (at
                this time) and hold its case's journal head in the same statement.
        """
        params: dict[str, Any] = {
            "provider": ask.provider,
            "provider_id": ask.provider_id,
            "tenant_id": ask.tenant_id,
            "phone_index": ask.phone_index,
            "day": day,
        }
        touching = touch_at is not None and conn.dialect.name == "postgresql"
        stmt: Executable
        if touching:
            stmt = self._identify_and_touch[ask.ok]
            params |= {"thread_id": new_id(), "at": touch_at}
        else:
            stmt, params["ok"] = _IDENTIFY, ask.ok
        if ask.ok or not touching:  # (touching, a plain SMS: nothing asked about the sender)
            params["sender"] = ask.sender  # asked whether it is a staff phone
        rows = (await conn.execute(stmt, params)).all()
        first = rows[0]
        thread, head = _touched(first) if touching else (None, None)
        staff_phone = ask.ok and bool(first.staff_phone)
        return _known(rows, staff_phone=staff_phone, thread=thread, head=head)

    @staticmethod
    async def identify_many(
        conn: AsyncConnection, asks: Mapping[int, Ask], *, day: date
    ) -> dict[int, Identified]:
        """PostgreSQL: what the database knows about each SMS of a batch (by its ``n``).

        The statement also sets the batch's lock timeout (BATCH_LOCK_TIMEOUT).
        """
        found: dict[int, list[Row[Any]]] = {}
        params = {
            "n": list(asks),
            "provider": [a.provider for a in asks.values()],
            "provider_id": [a.provider_id for a in asks.values()],
            "tenant_id": [a.tenant_id for a in asks.values()],
            "phone_index": [a.phone_index for a in asks.values()],
            "sender": [a.sender for a in asks.values()],
            "ok": [a.ok for a in asks.values()],
            "day": day,
        }
        for row in await conn.execute(_IDENTIFY_MANY, params):
            found.setdefault(row.n, []).append(row)
        return {
            n: _known(found[n], staff_phone=ask.ok and bool(found[n][0].staff_phone))
            for n, ask in asks.items()
        }

    async def touch_threads(
        self,
        conn: AsyncConnection,
        touches: Sequence[ThreadTouch],
        heads: Mapping[str, Any],
    ) -> tuple[list[TouchedThread], list[HeldHead]]:
        """PostgreSQL: touch (or make) the batch's threads and hold their cases' heads.

        Args:
            heads: the parameters of the head-holding CTEs (journal.journal.heads_parameters).

        Returns:
            The threads touched (one changed since the snapshot is locked, not returned:
            touch it again), and the heads made or locked.
        """
        found = await conn.execute(
            self._touch_many,
            {
                "id": [new_id() for _ in touches],
                "tenant_id": [t.tenant_id for t in touches],
                "case_id": [t.case_id for t in touches],
                "person_id": [t.person_id for t in touches],
                "at": [t.at for t in touches],
                **heads,
            },
        )
        threads: list[TouchedThread] = []
        held: list[HeldHead] = []
        for row in found:
            if row.chain is None:
                threads.append(TouchedThread(row.case_id, row.person_id, row.id, row.open_reply_by))
            else:
                held.append(HeldHead(row.chain, int(row.seq), str(row.hash)))
        return threads, held
