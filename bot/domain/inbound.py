"""A family texts the municipality: identify, file, store encrypted, receipt, journal.

Everything here happens in one transaction that commits before the webhook is
answered, so an SMS is either stored with its receipt queued and its journal
entries written, or not at all (and the gateway retries).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Executable,
    Integer,
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
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.batcher import GroupCommit
from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey, seal, unseal
from bot.base.errors import BadInput, NotFound, StorageUnavailable
from bot.base.hooks import FiledSms, HookOutcome, may_act
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar, format_long_date
from bot.domain import consent
from bot.domain.escalation import acknowledge_by_sms, page
from bot.domain.outbound import (
    OPEN_REPLY_BY,
    THREAD_UNCHANGED,
    OutboundSms,
    open_conversation,
    outbound_sms,
)
from bot.domain.routing import Route, local_day, route, team_calendar, team_lead
from bot.domain.texts import text
from bot.domain.triage import DEFAULT_RISK, DEFAULT_URGENT, Triager
from bot.store.engine import frozen_for_postgresql
from bot.store.events import emit
from bot.store.schema.core import (
    UTCDateTime,
    absences,
    administrations,
    case_choices,
    cases,
    consents,
    conversations,
    messages,
    participants,
    persons,
    staff,
    teams,
    tenants,
    triage_terms,
)
from bot.store.schema.integration import webhook_subscriptions
from channels.base import InboundSms
from channels.sensitivity import find_cpr
from journal.journal import (
    HOLD_HEADS_CTES,
    NewEntry,
    append_many,
    case_chain,
    case_chain_of,
    heads_parameters,
    held_head_columns,
    hold_found_heads,
    hold_head,
    unassigned_chain,
)

log = logging.getLogger(__name__)

_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Under load (a batch running), a new batch waits for this many SMS, or this long.
INBOUND_GATHER = 8
INBOUND_LINGER = 0.005


class UnknownRecipient(NotFound):
    code = "unknown_recipient"


_DANISH_E164 = re.compile(r"\+45[1-9][0-9]{7}")


def normalise_number(raw: str, *, field: str = "From") -> str:
    """E.164 for a phone number as gateways send it (default region: Denmark)."""
    if _DANISH_E164.fullmatch(raw):
        # Already E.164, as gateways send it: only its validity to check (parsing is slow).
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(45, int(raw[3:]))):
            return raw
        raise BadInput(f"{field} is not a valid phone number", code="bad_number")
    try:
        parsed = phonenumbers.parse(raw, "DK")
    except phonenumbers.NumberParseException as exc:
        raise BadInput(f"{field} is not a phone number", code="bad_number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise BadInput(f"{field} is not a valid phone number", code="bad_number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


ROUTE_SUBJECTS = {
    "substitute": "Sagsbehandler fraværende: besked sendt til stedfortræder",
    "on_duty": "Sagsbehandler fraværende: besked sendt til vagthavende kollega",
    "fallback": "Ingen tilgængelig: besked lagt i teamets fælles kø",
}
_OK = re.compile(r"^\s*ok\W*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Decision:
    route: Route
    urgent: bool
    open_now: bool
    matched: tuple[str, ...] = ()


async def tenant_triager(conn: AsyncConnection, svc: Services, tenant_id: str) -> Triager:
    """The municipality's triage: the defaults plus its own words (cached a minute)."""
    cache: dict[str, tuple[float, Triager]] = svc.__dict__.setdefault("_triagers", {})
    hit = cache.get(tenant_id)
    if hit is not None and time.monotonic() - hit[0] < 60:
        return hit[1]
    rows = (
        await conn.execute(
            select(triage_terms.c.kind, triage_terms.c.term).where(
                triage_terms.c.tenant_id == tenant_id
            )
        )
    ).all()
    triager = Triager(
        urgent=[*DEFAULT_URGENT, *(r.term for r in rows if r.kind == "urgent")],
        risk=[*DEFAULT_RISK, *(r.term for r in rows if r.kind == "risk")],
    )
    cache[tenant_id] = (time.monotonic(), triager)
    return triager


async def _tenant_by_number(conn: AsyncConnection, svc: Services, number: str) -> Any:
    """The municipality that owns this SMS number (cached a minute; numbers rarely move)."""
    cache: dict[str, tuple[float, Any]] = svc.__dict__.setdefault("_tenants_by_number", {})
    hit = cache.get(number)
    if hit is not None and time.monotonic() - hit[0] < 60:
        return hit[1]
    tenant = (await conn.execute(select(tenants).where(tenants.c.sms_number == number))).first()
    if tenant is not None:
        cache[number] = (time.monotonic(), tenant)
    return tenant


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: str | None
    duplicate: bool
    outcome: str  # filed | unassigned | awaiting_case | duplicate
    # Something may be waiting in the outbox for the relay (a receipt, a page …).
    queued: bool = True


@dataclass(frozen=True, slots=True)
class _Candidate:
    case_id: str
    person_id: str


@dataclass(frozen=True, slots=True)
class _Person:
    """Someone registered (or remembered) on the sender's number."""

    id: str
    dek: bytes
    origin: str  # known | unknown
    language: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Case:
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
class _Choice:
    """A pending "which case?" question: its options as JSON [[case_id, person_id], …]."""

    id: str
    options: str
    phone_index: str


@dataclass(frozen=True, slots=True)
class _Thread:
    """A thread already touched (and its case's journal head locked) by _identify."""

    case_id: str
    person_id: str
    id: str
    open_reply_by: datetime | None


@dataclass(frozen=True, slots=True)
class _Identified:
    """What one query tells about an inbound SMS before anything is written."""

    seen: str | None  # the message already stored for this provider id
    may_emit: bool  # the municipality has an active webhook subscription
    staff_phone: bool  # "OK" from a staff work phone or after-hours line (asked only then)
    choice: _Choice | None  # the latest unresolved "which case?" question to this number
    people: list[_Person]  # oldest first
    candidates: list[_Candidate]  # entitled participations in open cases, by case number
    cases: dict[str, _Case]


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


def _identify_and_touch(*, ok: bool) -> TextualSelect:
    """PostgreSQL: _IDENTIFY, and for an SMS that can only be filed on one thread, touch it.

    That is a single open case and participant on the number, no pending question,
    nothing to deduplicate, and (for an "OK", built with ``ok``) no page to
    acknowledge: the same statement then touches the thread and locks (or makes) its
    case's journal head, which is what _file does first (and run() takes exactly that
    path). Not for STOP/START. One statement for "OK" and one for other SMS, so that
    PostgreSQL can plan each once for any parameters, with no flag to prune by.
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
            # Changed since the snapshot: nothing touched, and _file touches it itself.
            where=sql_text(THREAD_UNCHANGED),
        )
        .returning(
            conversations.c.id,
            conversations.c.case_id,
            conversations.c.person_id,
            OPEN_REPLY_BY,
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
            *held_head_columns(
                touched, case_chain_of(touched.c.case_id), bindparam("tenant_id", type_=String())
            ),
        )
        .select_from(ident.outerjoin(touched, true()))
        .order_by(ident.c.number, ident.c.joined_at, ident.c.participation_id)
    )


_IDENTIFY_AND_TOUCH = _identify_and_touch(ok=False)
_IDENTIFY_OK_AND_TOUCH = _identify_and_touch(ok=True)
_SEEN = select(messages.c.id).where(
    messages.c.provider == bindparam("provider"),
    messages.c.provider_id == bindparam("provider_id"),
)


def _known(rows: Sequence[Any], *, staff_phone: bool) -> _Identified:
    """What the identify statement's rows (for one SMS) tell about it."""
    first = rows[0]
    people: dict[str, _Person] = {}
    candidates: list[_Candidate] = []
    found: dict[str, _Case] = {}
    for r in rows:
        if r.person_id is None:
            continue
        people.setdefault(
            r.person_id,
            _Person(r.person_id, r.person_dek, r.origin, r.language, r.person_created_at),
        )
        if r.case_id is None:
            continue
        candidates.append(_Candidate(r.case_id, r.person_id))
        found.setdefault(
            r.case_id,
            _Case(
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
            ),
        )
    choice = None
    if first.choice_id is not None:
        choice = _Choice(first.choice_id, first.choice_options, first.choice_phone_index)
    return _Identified(
        seen=first.seen,
        may_emit=bool(first.may_emit),
        staff_phone=staff_phone,
        choice=choice,
        people=sorted(people.values(), key=lambda p: (p.created_at, p.id)),
        candidates=candidates,
        cases=found,
    )


@dataclass(frozen=True, slots=True)
class _CaseFiling:
    """An SMS being filed on a case's thread: what it is filed as, and what decides its answer."""

    case: _Case
    person: _Person
    conv_id: str
    already_open: datetime | None  # the reply-by of a message in the thread still open
    key: SealingKey
    reply_by: datetime
    decision: _Decision
    stored: dict[str, Any]  # its message row
    entry: NewEntry  # its journal entry

    @property
    def message_id(self) -> str:
        return str(self.stored["id"])


class _Inbound:
    """One inbound SMS being handled inside one write transaction."""

    def __init__(
        self,
        svc: Services,
        conn: AsyncConnection,
        sms: InboundSms,
        provider: str,
        tenant: Any,
        sender: str,
        now: datetime | None = None,
    ) -> None:
        self.svc = svc
        self.conn = conn
        self.sms = sms
        self.provider = provider
        self.tenant = tenant
        self.sender = sender
        self.now = now or svc.clock.now()
        # A citizen who texts a CPR number gets a friendly note; the message is flagged.
        self.has_cpr = bool(find_cpr(sms.body))
        self.may_emit = True
        self.cases: dict[str, _Case] = {}
        self.thread: _Thread | None = None

    # -- keys -------------------------------------------------------------

    def case_key(self, case: _Case) -> SealingKey:
        return SealingKey("case", case.id, self.svc.dek("cases", case.id, case.dek))

    def person_key(self, person: _Person) -> SealingKey:
        return SealingKey("person", person.id, self.svc.dek("persons", person.id, person.dek))

    # -- the flow ---------------------------------------------------------

    async def _identify(self, index: str) -> _Identified:
        params: dict[str, Any] = {
            "provider": self.provider,
            "provider_id": self.sms.provider_id,
            "tenant_id": self.tenant.id,
            "phone_index": index,
            "day": local_day(self.now),
        }
        ok = bool(_OK.match(self.sms.body))
        touching = self.conn.dialect.name == "postgresql" and consent.command(self.sms.body) is None
        stmt: Executable
        if touching:
            stmt = _IDENTIFY_OK_AND_TOUCH if ok else _IDENTIFY_AND_TOUCH
            params |= {"thread_id": new_id(), "at": self.now}
        else:
            stmt, params["ok"] = _IDENTIFY, ok
        if stmt is not _IDENTIFY_AND_TOUCH:
            params["sender"] = self.sender  # asked whether it is a staff phone
        rows = (await self.conn.execute(stmt, params)).all()
        first = rows[0]
        if touching and first.thread_id is not None:
            self.thread = _Thread(
                first.thread_case_id,
                first.thread_person_id,
                first.thread_id,
                first.thread_open_reply_by,
            )
            if first.head_seq is not None:
                hold_head(
                    self.conn, case_chain(first.thread_case_id), first.head_seq, first.head_hash
                )
        return _known(rows, staff_phone=ok and bool(first.staff_phone))

    async def run(self) -> InboundResult:
        index = self.svc.blind_index(self.sender)
        known = await self._identify(index)
        if known.seen is not None:
            return InboundResult(known.seen, True, "duplicate", queued=False)
        self.may_emit = known.may_emit
        self.cases = known.cases
        if known.staff_phone:
            acked = await acknowledge_by_sms(
                self.conn,
                self.svc,
                tenant_id=self.tenant.id,
                phone_index=index,
                after_hours_number=self.sender,
            )
            if acked is not None:
                return InboundResult(None, False, "acknowledged")
        people = known.people or [await self._unknown_person(index)]
        by_id = {p.id: p for p in people}
        candidates = known.candidates
        consent_command = consent.command(self.sms.body)
        if consent_command is not None:
            return await self._consent(consent_command, people, candidates)

        choice = known.choice
        if choice is not None:
            options = [_Candidate(c, p) for c, p in json.loads(choice.options)]
            match = _CHOICE.match(self.sms.body)
            if match and 1 <= int(match.group(1)) <= len(options):
                picked = options[int(match.group(1)) - 1]
                if picked in candidates:
                    return await self._resolve_choice(choice, picked, by_id[picked.person_id])
            if len({c.case_id for c in candidates}) > 1:
                return await self._ask(candidates, index, people[0], choice)

        case_ids = list(dict.fromkeys(c.case_id for c in candidates))
        if not case_ids:
            return await self._unassigned(people[0])
        if len(case_ids) == 1:
            pick = candidates[0]
            return await self._file(self.cases[pick.case_id], by_id[pick.person_id])
        recent = await self._recent_thread(
            candidates, shared=self._shared_ambiguity(candidates, by_id)
        )
        if recent is not None:
            return await self._file(self.cases[recent.case_id], by_id[recent.person_id])
        return await self._ask(candidates, index, people[0], None)

    async def _consent(
        self, command: str, people: Sequence[_Person], candidates: list[_Candidate]
    ) -> InboundResult:
        """STOP / START: record consent for everyone on this number, confirm, journalise."""
        first = people[0]
        # The entries go on the people's cases first: their heads are locked in that order.
        conv_id, _ = await self._conversation(None, first.id, journal_next=False)
        key = self.person_key(first)
        stored = self._inbound_row(
            conv_id=conv_id, case_id=None, person_id=first.id, key=key, status="received"
        )
        mid = stored["id"]
        state = "opted_out" if command == "stop" else "opted_in"
        subject = (
            "Borgeren har frameldt påmindelser og nyheder på SMS (STOP)"
            if command == "stop"
            else "Borgeren har tilmeldt sig påmindelser og nyheder på SMS igen (START)"
        )
        recorded = []
        entries = []
        for person in people:
            recorded.append(
                {
                    "id": new_id(),
                    "tenant_id": self.tenant.id,
                    "person_id": person.id,
                    "channel": "sms",
                    "state": state,
                    "source": "sms",
                    "at": self.now,
                }
            )
            case_ids = [c.case_id for c in candidates if c.person_id == person.id]
            for case_id in dict.fromkeys(case_ids) or [None]:
                entries.append(
                    NewEntry(
                        tenant_id=self.tenant.id,
                        case_id=case_id,
                        kind=f"consent_{state}",
                        direction="in",
                        channel="sms",
                        subject=subject,
                        actor="citizen",
                        at=self.now,
                        message_id=mid,
                    )
                )
        confirm = outbound_sms(
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=None,
            person_id=first.id,
            kind="auto",
            body=text(first.language, "stopped" if command == "stop" else "started"),
            key=key,
            at=self.now,
            subject="Bekræftelse af til- eller framelding",
        )
        # Heads in chain order, as every writer that holds several locks them.
        entries.sort(key=lambda e: e.chain)
        await append_many(
            self.conn,
            [*entries, confirm.entry],
            rows_first=[
                (messages, [stored]),
                (consents, recorded),
                *OutboundSms.rows([confirm]),
            ],
        )
        await self._emit(mid, conv_id, None)
        return InboundResult(mid, False, f"consent_{command}")

    async def _unknown_person(self, index: str) -> _Person:
        """A number nobody registered: keep it (encrypted) so staff can answer it."""
        pid = new_id()
        dek, wrapped = self.svc.new_dek("persons", pid)
        await self.conn.execute(
            persons.insert(),
            {
                "id": pid,
                "tenant_id": self.tenant.id,
                "dek": wrapped,
                "phone_enc": seal(dek, self.sender, f"persons:{pid}:phone"),
                "phone_index": index,
                "origin": "unknown",
                "language": self.tenant.language,
                "created_at": self.now,
            },
        )
        return _Person(pid, wrapped, "unknown", self.tenant.language, self.now)

    @staticmethod
    def _shared_ambiguity(candidates: list[_Candidate], by_id: dict[str, _Person]) -> bool:
        """True when the number is shared and not every case belongs to everyone on it."""
        known = {pid for pid, p in by_id.items() if p.origin == "known"}
        if len(known) < 2:
            return False
        per_case: dict[str, set[str]] = {}
        for c in candidates:
            per_case.setdefault(c.case_id, set()).add(c.person_id)
        return any(members != known for members in per_case.values())

    async def _recent_thread(
        self, candidates: list[_Candidate], *, shared: bool
    ) -> _Candidate | None:
        if shared:
            return None  # a shared phone is never filed by guesswork
        since = self.now - timedelta(days=self.svc.config.thread_recent_days)
        row = (
            await self.conn.execute(
                select(conversations.c.case_id, conversations.c.person_id)
                .where(
                    conversations.c.person_id.in_({c.person_id for c in candidates}),
                    conversations.c.case_id.is_not(None),
                    conversations.c.last_activity_at >= since,
                )
                .order_by(conversations.c.last_activity_at.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        pick = _Candidate(row.case_id, row.person_id)
        return pick if pick in candidates else None

    async def _conversation(
        self, case_id: str | None, person_id: str, *, journal_next: bool = True
    ) -> tuple[str, datetime | None]:
        """The thread (made or touched), and the reply-by of a message in it still open.

        With ``journal_next``, the next journal entry goes on the thread's chain (the
        case's, or the unassigned one): its head is locked in the same round trip.
        """
        chain = case_chain(case_id) if case_id else unassigned_chain(self.tenant.id)
        return await open_conversation(
            self.conn,
            tenant_id=self.tenant.id,
            case_id=case_id,
            person_id=person_id,
            at=self.now,
            lock_chain=chain if journal_next else None,
        )

    def _inbound_row(
        self,
        *,
        conv_id: str,
        case_id: str | None,
        person_id: str,
        key: SealingKey,
        status: str,
        awaiting: bool = False,
        reply_by: datetime | None = None,
        routing: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The citizen's SMS as a message row, sealed under ``key``; not written yet."""
        mid = new_id()
        return {
            "id": mid,
            "tenant_id": self.tenant.id,
            "conversation_id": conv_id,
            "case_id": case_id,
            "person_id": person_id,
            "direction": "in",
            "kind": "citizen",
            "key_scope": key.scope,
            "body_enc": seal(key.dek, self.sms.body, f"messages:{mid}:body"),
            "status": status,
            "provider": self.provider,
            "provider_id": self.sms.provider_id,
            "segments": self.sms.segments,
            "sensitive": self.has_cpr,
            "awaiting_reply": awaiting,
            "reply_by": reply_by,
            "created_at": self.now,
            **(routing or {}),
        }

    async def _emit(self, mid: str, conv_id: str, case_id: str | None) -> None:
        if self.may_emit:  # nobody subscribes: no event to queue
            await emit(
                self.conn,
                tenant_id=self.tenant.id,
                event="message.received",
                payload={"message_id": mid, "conversation_id": conv_id, "case_id": case_id},
                at=self.now,
            )

    def _owner_first_name(self, case: _Case) -> str:
        dek = self.svc.dek("staff", case.owner_id, case.owner_dek)
        return unseal(dek, case.first_name_enc, f"staff:{case.owner_id}:first_name")

    def _sms_in(self, case_id: str | None, key: SealingKey, mid: str, subject: str) -> NewEntry:
        return NewEntry(
            tenant_id=self.tenant.id,
            case_id=case_id,
            kind="sms_in",
            direction="in",
            channel="sms",
            subject=subject,
            actor="citizen",
            at=self.now,
            content=self.sms.body,
            key=key,
            message_id=mid,
        )

    async def _file(self, case: _Case, person: _Person) -> InboundResult:
        """File the SMS on a case's thread: reply-by, route, triage, receipt, journal."""
        thread = self.thread
        if thread is not None and (thread.case_id, thread.person_id) == (case.id, person.id):
            conv_id, already_open = thread.id, thread.open_reply_by  # touched by _identify
        else:
            conv_id, already_open = await self._conversation(case.id, person.id)
        calendar = await team_calendar(self.conn, self.svc, case)
        # Routing and triage read nothing this SMS writes: decided first, the message row
        # is written once with its owner (and undone below should a hook answer it).
        filing = self._filing(
            case, person, conv_id, already_open, calendar, await self._decide(case, calendar)
        )
        # Written before the hooks run: they may read the message and journalise after it.
        await append_many(self.conn, [filing.entry], rows_first=[(messages, [filing.stored])])
        await self._emit(filing.message_id, conv_id, case.id)
        entries, reply, result = await self._answer(filing, await self._run_hooks(filing))
        if entries:
            await append_many(
                self.conn, entries, rows_first=OutboundSms.rows([reply]) if reply else ()
            )
        return result

    def _filing(
        self,
        case: _Case,
        person: _Person,
        conv_id: str,
        already_open: datetime | None,
        calendar: WorkingCalendar,
        decision: _Decision,
    ) -> _CaseFiling:
        """The SMS as filed on its case's thread: its message row and journal entry, unwritten."""
        key = self.case_key(case)
        reply_by = already_open or calendar.reply_by(self.now, case.reply_days)
        stored = self._inbound_row(
            conv_id=conv_id,
            case_id=case.id,
            person_id=person.id,
            key=key,
            status="received",
            awaiting=True,
            reply_by=reply_by,
            routing=self._routing(case, decision),
        )
        entry = self._sms_in(case.id, key, stored["id"], "SMS fra borger")
        return _CaseFiling(
            case, person, conv_id, already_open, key, reply_by, decision, stored, entry
        )

    async def _run_hooks(self, filing: _CaseFiling) -> HookOutcome | None:
        """The first outcome a hook gives for the filed SMS (written and journalised by now)."""
        filed = FiledSms(
            svc=self.svc,
            conn=self.conn,
            tenant_id=self.tenant.id,
            case_id=filing.case.id,
            person_id=filing.person.id,
            conversation_id=filing.conv_id,
            message_id=filing.message_id,
            body=self.sms.body,
            language=filing.person.language,
            key=filing.key,
            now=self.now,
        )
        for hook in self.svc.inbound_hooks:
            outcome = await hook(filed)
            if outcome is not None:
                return outcome
        return None

    async def _answer(
        self, filing: _CaseFiling, outcome: HookOutcome | None
    ) -> tuple[list[NewEntry], OutboundSms | None, InboundResult]:
        """After the SMS is written: what to journalise and send (not written yet), and pages.

        Pages for an urgent SMS are written here; they name the message, so it must be
        in the database first.
        """
        case, mid, decision = filing.case, filing.message_id, filing.decision
        entries: list[NewEntry] = []
        dispatched: _Decision | None = decision
        if outcome is None or outcome.awaiting_reply:
            entries += await self._dispatched(case, decision, mid, filing.key)
        else:
            # Nobody needs to answer: not waiting, not routed, not urgent.
            await self.conn.execute(
                update(messages)
                .where(messages.c.id == mid)
                .values(
                    awaiting_reply=False,
                    reply_by=None,
                    owner_id=None,
                    original_owner_id=None,
                    urgent=False,
                    next_escalation_at=None,
                )
            )
            dispatched = None
        reply: OutboundSms | None = None
        if outcome is not None and outcome.reply is not None:
            reply = outbound_sms(
                tenant_id=self.tenant.id,
                conversation_id=filing.conv_id,
                case_id=case.id,
                person_id=filing.person.id,
                kind="auto",
                body=outcome.reply,
                key=filing.key,
                at=self.now,
            )
        elif dispatched is not None and (filing.already_open is None or dispatched.urgent):
            reply = await self._receipt(
                filing.conv_id, case, filing.person, filing.key, filing.reply_by, dispatched
            )
        if reply is not None:
            entries.append(reply.entry)
        # A hook that acted may have queued something itself.
        queued = reply is not None or outcome is not None or bool(dispatched and dispatched.urgent)
        return entries, reply, InboundResult(mid, False, "filed", queued=queued)

    async def _decide(self, case: _Case, calendar: WorkingCalendar) -> _Decision:
        """Who answers now, and is it urgent (nothing is written)."""
        if case.owner_active and not case.owner_away:
            way = Route(case.owner_id, case.owner_id, "owner", None)  # known from _identify
        else:
            way = await route(
                self.conn,
                case_owner_id=case.owner_id,
                team_id=case.team_id,
                at=self.now,
                calendar=calendar,
            )
        triage = (await tenant_triager(self.conn, self.svc, self.tenant.id))(self.sms.body)
        return _Decision(way, triage.urgent, calendar.is_open(self.now), triage.matched)

    def _routing(self, case: _Case, decision: _Decision) -> dict[str, Any]:
        """The message columns that say who must answer (and by when, when urgent)."""
        # Every column every time: a batch's message rows then share one set of columns.
        return {
            "owner_id": decision.route.owner_id,
            "original_owner_id": case.owner_id if decision.route.moved else None,
            "urgent": decision.urgent,
            "next_escalation_at": (
                self.now + timedelta(minutes=case.escalate_after_min) if decision.urgent else None
            ),
        }

    async def _dispatched(
        self, case: _Case, decision: _Decision, message_id: str, key: SealingKey
    ) -> list[NewEntry]:
        """Act on a routed message: page when urgent; the journal entries saying what happened."""
        way = decision.route
        entries = []
        if way.moved:
            entries.append(
                NewEntry(
                    tenant_id=self.tenant.id,
                    case_id=case.id,
                    kind="routed",
                    direction="internal",
                    channel="system",
                    subject=ROUTE_SUBJECTS[way.reason],
                    actor="system",
                    at=self.now,
                    content=f"Sagsbehandler {case.owner_id} er ikke til stede; ansvarlig nu: "
                    f"{way.owner_id or 'teamets fælles kø'}",
                    key=key,
                    message_id=message_id,
                )
            )
        if way.reason == "fallback":
            log.warning(
                "team %s: nobody available for message %s (fallback queue)",
                case.team_id,
                message_id,
            )
        if decision.urgent:
            entries.append(
                NewEntry(
                    tenant_id=self.tenant.id,
                    case_id=case.id,
                    kind="urgent",
                    direction="internal",
                    channel="system",
                    subject="Besked markeret som akut",
                    actor="system",
                    at=self.now,
                    content="Udløst af: " + ", ".join(decision.matched),
                    key=key,
                    message_id=message_id,
                )
            )
            paged = way.owner_id or await team_lead(self.conn, case.team_id)
            await page(
                self.conn,
                tenant_id=self.tenant.id,
                team_id=case.team_id,
                staff_id=paged,
                message_id=message_id,
                kind="urgent",
                at=self.now,
            )
        return entries

    async def _staff_first_name(self, staff_id: str) -> str:
        row = (
            await self.conn.execute(
                select(staff.c.dek, staff.c.first_name_enc).where(staff.c.id == staff_id)
            )
        ).one()
        return unseal(
            self.svc.dek("staff", staff_id, row.dek),
            row.first_name_enc,
            f"staff:{staff_id}:first_name",
        )

    async def _receipt(
        self,
        conv_id: str,
        case: _Case,
        person: _Person,
        key: SealingKey,
        reply_by: datetime,
        decision: _Decision,
    ) -> OutboundSms:
        lang = person.language
        when = _long_date(reply_by.astimezone(COPENHAGEN).date(), lang)
        way = decision.route
        if way.reason == "owner":
            body = text(lang, "receipt", first_name=self._owner_first_name(case), reply_by=when)
        elif way.owner_id is not None and way.back_on is not None:
            body = text(
                lang,
                "receipt_covered",
                back_on=_long_date(way.back_on, lang),
                colleague=await self._staff_first_name(way.owner_id),
                reply_by=when,
            )
        elif way.owner_id is not None:
            body = text(
                lang,
                "receipt_colleague",
                colleague=await self._staff_first_name(way.owner_id),
                reply_by=when,
            )
        elif way.back_on is not None:
            body = text(
                lang,
                "receipt_fallback_away",
                back_on=_long_date(way.back_on, lang),
                reply_by=when,
            )
        else:
            body = text(lang, "receipt_fallback", reply_by=when)
        if self.has_cpr:
            body += " " + text(lang, "cpr_warning")
        if decision.urgent and not decision.open_now:
            if case.after_hours_phone:
                body += " " + text(lang, "urgent_after_hours", phone=case.after_hours_phone)
            else:
                body += " " + text(lang, "urgent_112")
        return outbound_sms(
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=case.id,
            person_id=person.id,
            kind="receipt",
            body=body,
            key=key,
            at=self.now,
        )

    async def _unassigned(self, person: _Person) -> InboundResult:
        """No open case for this number: the unassigned queue, and a receipt that tells nothing."""
        conv_id, already_open = await self._conversation(None, person.id)
        key = self.person_key(person)
        stored = self._inbound_row(
            conv_id=conv_id,
            case_id=None,
            person_id=person.id,
            key=key,
            status="received",
            awaiting=True,
            reply_by=already_open,
        )
        mid = stored["id"]
        entries = [
            self._sms_in(None, key, mid, "SMS fra ukendt afsender (ikke knyttet til en sag)")
        ]
        receipts = []
        if already_open is None:
            lang = self.tenant.language
            receipts.append(
                outbound_sms(
                    tenant_id=self.tenant.id,
                    conversation_id=conv_id,
                    case_id=None,
                    person_id=person.id,
                    kind="receipt",
                    body=text(lang, "receipt_neutral")
                    + (" " + text(lang, "cpr_warning") if self.has_cpr else ""),
                    key=key,
                    at=self.now,
                )
            )
        await append_many(
            self.conn,
            [*entries, *(r.entry for r in receipts)],
            rows_first=[(messages, [stored]), *OutboundSms.rows(receipts)],
        )
        await self._emit(mid, conv_id, None)
        return InboundResult(mid, False, "unassigned", queued=bool(receipts))

    async def _ask(
        self,
        candidates: list[_Candidate],
        index: str,
        asker: _Person,
        choice: _Choice | None,
    ) -> InboundResult:
        """Several open cases and no recent thread: hold the SMS and ask which case."""
        seen: dict[str, _Candidate] = {}
        for c in candidates:
            seen.setdefault(c.case_id, c)
        options = list(seen.values())
        lines = []
        for n, opt in enumerate(options, start=1):
            case = self.cases[opt.case_id]
            lines.append(
                text(
                    asker.language,
                    "choose_case_option",
                    n=n,
                    administration=case.administration,
                    first_name=self._owner_first_name(case),
                )
            )
        if choice is not None:
            await self.conn.execute(
                update(case_choices)
                .where(case_choices.c.id == choice.id)
                .values(resolved_at=self.now)
            )
        asked = {
            "id": new_id(),
            "tenant_id": self.tenant.id,
            "phone_index": index,
            "options": json.dumps([[o.case_id, o.person_id] for o in options]),
            "created_at": self.now,
        }
        conv_id, _ = await self._conversation(None, asker.id)
        key = self.person_key(asker)
        stored = self._inbound_row(
            conv_id=conv_id, case_id=None, person_id=asker.id, key=key, status="awaiting_case"
        )
        mid = stored["id"]
        question = outbound_sms(
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=None,
            person_id=asker.id,
            kind="clarify",
            body=text(asker.language, "choose_case", options="\n".join(lines)),
            key=key,
            at=self.now,
        )
        await append_many(
            self.conn,
            [self._sms_in(None, key, mid, "SMS fra borger, afventer valg af sag"), question.entry],
            rows_first=[
                (case_choices, [asked]),
                (messages, [stored]),
                *OutboundSms.rows([question]),
            ],
        )
        await self._emit(mid, conv_id, None)
        return InboundResult(mid, False, "awaiting_case")

    async def _resolve_choice(
        self, choice: _Choice, picked: _Candidate, person: _Person
    ) -> InboundResult:
        """The citizen answered which case: file what was waiting, then this answer."""
        await self.conn.execute(
            update(case_choices).where(case_choices.c.id == choice.id).values(resolved_at=self.now)
        )
        case = self.cases[picked.case_id]
        conv_id, already_open = await self._conversation(case.id, person.id)
        case_key = self.case_key(case)
        calendar = await team_calendar(self.conn, self.svc, case)
        reply_by = already_open or calendar.reply_by(self.now, case.reply_days)
        waiting = (
            await self.conn.execute(
                select(messages.c.id, messages.c.person_id, messages.c.body_enc, persons.c.dek)
                .join(persons, persons.c.id == messages.c.person_id)
                .where(
                    messages.c.tenant_id == self.tenant.id,
                    messages.c.status == "awaiting_case",
                    persons.c.phone_index == choice.phone_index,
                )
                .order_by(messages.c.created_at)
            )
        ).all()
        entries = []
        for w in waiting:
            # Re-seal under the case's key now that the message belongs to the case.
            body = unseal(
                self.svc.dek("persons", w.person_id, w.dek), w.body_enc, f"messages:{w.id}:body"
            )
            await self.conn.execute(
                update(messages)
                .where(messages.c.id == w.id)
                .values(
                    conversation_id=conv_id,
                    case_id=case.id,
                    person_id=person.id,
                    key_scope="case",
                    body_enc=seal(case_key.dek, body, f"messages:{w.id}:body"),
                    status="received",
                    awaiting_reply=True,
                    reply_by=reply_by,
                )
            )
            entries.append(
                NewEntry(
                    tenant_id=self.tenant.id,
                    case_id=case.id,
                    kind="sms_in",
                    direction="in",
                    channel="sms",
                    subject="SMS fra borger",
                    actor="citizen",
                    at=self.now,
                    content=body,
                    key=case_key,
                    message_id=w.id,
                )
            )
        stored = self._inbound_row(
            conv_id=conv_id, case_id=case.id, person_id=person.id, key=case_key, status="received"
        )
        mid = stored["id"]
        entries.append(self._sms_in(case.id, case_key, mid, "Borgerens valg af sag"))
        await append_many(self.conn, entries, rows_first=[(messages, [stored])])
        await self._emit(mid, conv_id, case.id)
        if not waiting:
            return InboundResult(mid, False, "filed", queued=False)
        decision = await self._decide(case, calendar)
        await self.conn.execute(
            update(messages)
            .where(messages.c.id.in_([w.id for w in waiting]))
            .values(**self._routing(case, decision))
        )
        entries = await self._dispatched(case, decision, waiting[-1].id, case_key)
        if already_open is None or decision.urgent:
            receipt = await self._receipt(conv_id, case, person, case_key, reply_by, decision)
            entries.append(receipt.entry)
            await append_many(self.conn, entries, rows_first=OutboundSms.rows([receipt]))
        elif entries:
            await append_many(self.conn, entries)
        return InboundResult(waiting[0].id, False, "filed")


@lru_cache(maxsize=4096)
def _long_date(day: date, language: str) -> str:
    """A receipt's date in words (pure, and Babel's formatting is not cheap)."""
    return format_long_date(day, language)


@lru_cache(maxsize=64)
def _municipality_number(raw: str) -> str:
    """The E.164 form of a number SMS are sent *to*: a municipality's, public, few."""
    return normalise_number(raw, field="To")


# -- several SMS in one transaction (PostgreSQL) ---------------------------------------------
#
# Under load, SMS that arrive together are filed together (bot.base.batcher.GroupCommit): one
# transaction and five statements for the whole batch instead of about five round trips
# each. A batch files only what the one-at-a-time flow would file the same way without
# asking anything more of the database: a known sender with one open case, whose
# caseworker is at work, a message that is not urgent and that no hook answers. Anything
# else (a duplicate is answered at once) goes back to the caller for run().


@dataclass(frozen=True, slots=True)
class BatchedSms:
    """A verified inbound SMS waiting for a batch, with what the batch needs to know first."""

    sms: InboundSms
    provider: str
    recipient: str  # E.164
    sender: str  # E.164
    index: str  # the sender's blind index


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


BATCH_LOCK_TIMEOUT = "500ms"
_IDENTIFY_MANY = _identify_many()
_OPEN_REPLY_BY_SQL = str(
    OPEN_REPLY_BY.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
)
# Touch (or make) each SMS's thread, and hold its case's journal head (made or locked,
# after the threads: the order one SMS alone takes them in). A thread changed since the
# statement's snapshot (see THREAD_UNCHANGED) is locked but not returned: it is touched
# again, with a fresh snapshot.
_TOUCH_MANY = sql_text(
    "WITH touched AS (INSERT INTO conversations (id, tenant_id, case_id, person_id, "
    "last_activity_at, created_at) SELECT v.id, v.tenant_id, v.case_id, v.person_id, v.at, "
    "v.at FROM unnest(CAST(:id AS TEXT[]), CAST(:tenant_id AS TEXT[]), "
    "CAST(:case_id AS TEXT[]), CAST(:person_id AS TEXT[]), "
    "CAST(:at AS TIMESTAMP WITH TIME ZONE[])) AS v(id, tenant_id, case_id, person_id, at) "
    "ON CONFLICT (case_id, person_id) DO UPDATE "
    f"SET last_activity_at = excluded.last_activity_at WHERE {THREAD_UNCHANGED} "
    "RETURNING conversations.id, conversations.case_id, conversations.person_id, "
    f"{_OPEN_REPLY_BY_SQL} AS open_reply_by), {HOLD_HEADS_CTES} "
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


@dataclass(slots=True)
class _ToFile:
    """One SMS of a batch that the batch files on its case."""

    n: int
    inbound: _Inbound
    case: _Case
    person: _Person
    calendar: WorkingCalendar
    decision: _Decision
    # Its answer waits until it is written: hooks may read it, pages name it.
    after: bool


async def _touch_threads(
    conn: AsyncConnection, todo: Sequence[_ToFile]
) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    """Each SMS's thread (made or touched): its id and the reply-by still open in it.

    Their cases' journal heads are held too (see journal.journal.hold_found_heads).
    """
    threads: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for _ in range(3):  # twice at most: a second pass finds the threads it locked as they stay
        if not todo:
            return threads
        found = list(
            await conn.execute(
                _TOUCH_MANY,
                {
                    "id": [new_id() for _ in todo],
                    "tenant_id": [f.inbound.tenant.id for f in todo],
                    "case_id": [f.case.id for f in todo],
                    "person_id": [f.person.id for f in todo],
                    "at": [f.inbound.now for f in todo],
                    **heads_parameters({case_chain(f.case.id): f.inbound.tenant.id for f in todo}),
                },
            )
        )
        hold_found_heads(conn, [row for row in found if row.chain is not None])
        for row in found:
            if row.chain is None:
                threads[row.case_id, row.person_id] = (row.id, row.open_reply_by)
        todo = [f for f in todo if (f.case.id, f.person.id) not in threads]
    raise RuntimeError("threads changed under a batch three times over")


async def _to_file(
    conn: AsyncConnection,
    svc: Services,
    n: int,
    item: BatchedSms,
    tenant: Any,
    rows: list[Any],
    now: datetime,
) -> _ToFile | InboundResult | None:
    """What a batch does with one SMS: files it, answers it as a duplicate, or leaves it."""
    ok = bool(_OK.match(item.sms.body))
    known = _known(rows, staff_phone=ok and bool(rows[0].staff_phone))
    if known.seen is not None:
        return InboundResult(known.seen, True, "duplicate", queued=False)
    if known.staff_phone or consent.command(item.sms.body) is not None:
        return None
    if known.choice is not None or len({c.case_id for c in known.candidates}) != 1:
        return None
    pick = known.candidates[0]
    case = known.cases[pick.case_id]
    inbound = _Inbound(svc, conn, item.sms, item.provider, tenant, item.sender, now)
    inbound.may_emit = known.may_emit
    inbound.cases = known.cases
    calendar = await team_calendar(conn, svc, case)
    decision = await inbound._decide(case, calendar)
    person = next(p for p in known.people if p.id == pick.person_id)
    after = decision.urgent or may_act(svc.inbound_hooks, item.sms.body)
    return _ToFile(n, inbound, case, person, calendar, decision, after)


async def file_batch(svc: Services, items: Sequence[BatchedSms]) -> list[InboundResult | None]:
    """File a batch of SMS in one transaction (PostgreSQL); None: left for run().

    What one SMS at a time does in its own transaction (see _Inbound._file), for all
    of them at once: their threads touched, journal heads held, messages and journal
    entries written, and the answers that need nothing more (receipts) with them in
    one statement; then the hooks and pages of those that need them, and their
    answers in one more.

    Raises:
        StorageUnavailable: the database is down (nothing of the batch is kept).
    """
    results: list[InboundResult | None] = [None] * len(items)
    if len(items) < 2 or svc.sqlite:
        return results  # alone, an SMS costs fewer statements one at a time
    async with svc.write() as conn:
        now = svc.clock.now()  # the batch's SMS are filed at one time
        tenants = [await _tenant_by_number(conn, svc, item.recipient) for item in items]
        asked = [(n, item, t) for n, (item, t) in enumerate(zip(items, tenants, strict=True)) if t]
        if not asked:
            return results
        found: dict[int, list[Any]] = {}
        for row in await conn.execute(
            _IDENTIFY_MANY,
            {
                "n": [n for n, _, _ in asked],
                "provider": [item.provider for _, item, _ in asked],
                "provider_id": [item.sms.provider_id for _, item, _ in asked],
                "tenant_id": [tenant.id for _, _, tenant in asked],
                "phone_index": [item.index for _, item, _ in asked],
                "sender": [item.sender for _, item, _ in asked],
                "ok": [bool(_OK.match(item.sms.body)) for _, item, _ in asked],
                "day": local_day(now),
            },
        ):
            found.setdefault(row.n, []).append(row)
        todo: list[_ToFile] = []
        for n, item, tenant in asked:
            done = await _to_file(conn, svc, n, item, tenant, found[n], now)
            if isinstance(done, _ToFile):
                todo.append(done)
            else:
                results[n] = done
        # An SMS whose answer is written after the batch's first insert (hooks, pages)
        # keeps its case's chain to itself: another SMS on the case would be journalised
        # between its entries. The others on that case go alone, after the batch.
        waits = {f.case.id for f in todo if f.after}
        first: dict[str, _ToFile] = {}
        for f in todo:
            first.setdefault(f.case.id, f)
        todo = [f for f in todo if f.case.id not in waits or first[f.case.id] is f]
        if not todo:
            return results
        threads = await _touch_threads(conn, todo)
        stored: list[dict[str, Any]] = []
        entries: list[NewEntry] = []
        replies: list[OutboundSms] = []
        filings: list[tuple[_ToFile, _CaseFiling]] = []
        for f in todo:
            conv_id, already_open = threads[f.case.id, f.person.id]
            filing = f.inbound._filing(
                f.case, f.person, conv_id, already_open, f.calendar, f.decision
            )
            filings.append((f, filing))
            stored.append(filing.stored)
            entries.append(filing.entry)
            if f.after:
                continue
            answer, reply, results[f.n] = await f.inbound._answer(filing, None)
            entries += answer
            replies += [reply] if reply else []
        await append_many(
            conn, entries, rows_first=[(messages, stored), *OutboundSms.rows(replies)], arrays=True
        )
        for f, filing in filings:
            await f.inbound._emit(filing.message_id, filing.conv_id, f.case.id)
        entries, replies = [], []
        for f, filing in filings:
            if not f.after:
                continue
            outcome = await f.inbound._run_hooks(filing)
            answer, reply, results[f.n] = await f.inbound._answer(filing, outcome)
            entries += answer
            replies += [reply] if reply else []
        if entries:
            await append_many(conn, entries, rows_first=OutboundSms.rows(replies), arrays=True)
    return results


def inbound_batcher(svc: Services) -> GroupCommit[BatchedSms, InboundResult] | None:
    """The service's batcher for inbound SMS; None where SMS go one at a time (SQLite)."""
    if svc.sqlite or svc.config.inbound_batch < 2:
        return None

    async def handle(items: Sequence[BatchedSms]) -> list[InboundResult | None]:
        try:
            results = await file_batch(svc, items)
        except Exception:
            metrics.inbound_batch("failed")
            raise
        if len(items) > 1:
            metrics.inbound_batch("ok")
        return results

    return GroupCommit(
        handle,
        key=lambda item: item.index,
        size=svc.config.inbound_batch,
        lanes=svc.config.inbound_lanes,
        gather=INBOUND_GATHER,
        linger=INBOUND_LINGER,
        # The database down: every SMS of the batch is answered 503 (the gateway retries),
        # rather than each trying again alone.
        passes=(StorageUnavailable,),
        name="inbound",
    )


async def receive_sms(svc: Services, sms: InboundSms, *, provider: str) -> InboundResult:
    """Handle one verified inbound SMS. Commits before returning.

    On PostgreSQL under load, the SMS is filed in a batch with others that arrive
    with it (see file_batch and bot.base.batcher), exactly as it would be alone; what a
    batch cannot file that way, and every SMS on SQLite, goes alone (_alone).

    Raises:
        BadInput: a malformed number or an over-long body (nothing is written).
        UnknownRecipient: the SMS was sent to a number no municipality here owns.
        StorageUnavailable: the database is down; the gateway should retry.
    """
    if len(sms.body) > svc.config.max_body_chars:
        raise BadInput(
            f"Body is longer than {svc.config.max_body_chars} characters", code="body_too_long"
        )
    sender = normalise_number(sms.sender, field="From")
    recipient = _municipality_number(sms.recipient)
    if svc.batcher is None or consent.command(sms.body) is not None:
        return await _alone(svc, sms, provider, sender, recipient)
    item = BatchedSms(sms, provider, recipient, sender, svc.blind_index(sender))
    async with svc.batcher.turn(item) as batched:
        if batched is not None:
            return _received(svc, sms, batched)
        # Left to us: filed alone, while no batch takes this sender's next SMS.
        return await _alone(svc, sms, provider, sender, recipient)


async def _alone(
    svc: Services, sms: InboundSms, provider: str, sender: str, recipient: str
) -> InboundResult:
    """One SMS in its own transaction (see receive_sms)."""
    seen_params = {"provider": provider, "provider_id": sms.provider_id}
    try:
        async with svc.write() as conn:
            tenant = await _tenant_by_number(conn, svc, recipient)
            if tenant is None:
                seen = (await conn.execute(_SEEN, seen_params)).scalar_one_or_none()
                if seen is not None:
                    return InboundResult(seen, True, "duplicate")
                raise UnknownRecipient("No municipality here uses that number")
            # Deduplication on the provider's id is part of the first query of the flow.
            result = await _Inbound(svc, conn, sms, provider, tenant, sender).run()
    except IntegrityError:
        # A concurrent retry of the same webhook won the race: same answer as a replay.
        async with svc.read() as conn:
            seen = (await conn.execute(_SEEN, seen_params)).scalar_one_or_none()
        if seen is None:
            raise
        return InboundResult(seen, True, "duplicate")
    return _received(svc, sms, result)


def _received(svc: Services, sms: InboundSms, result: InboundResult) -> InboundResult:
    """After the commit: log, count, wake the relay."""
    if result.duplicate:
        return result
    log.info("inbound %s stored as %s (%s)", sms.provider_id, result.message_id, result.outcome)
    metrics.message_received()
    if result.queued:  # else the relay would wake for nothing to send
        svc.wake_relay()
    return result
