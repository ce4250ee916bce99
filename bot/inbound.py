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
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import consent
from bot.clock import COPENHAGEN
from bot.crypto import seal, unseal
from bot.db.schema import (
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
from bot.errors import BadInput, NotFound
from bot.escalation import acknowledge_by_sms, page
from bot.hooks import FiledSms, HookOutcome
from bot.ids import new_id
from bot.integration import metrics
from bot.integration.events import emit
from bot.outbound import ensure_conversation, queue_sms
from bot.routing import Route, route, team_calendar, team_lead
from bot.services import Services
from bot.texts import text
from bot.triage import DEFAULT_RISK, DEFAULT_URGENT, Triager
from channels.base import InboundSms
from channels.sensitivity import find_cpr
from journal.journal import SealingKey, append
from scheduler.workdays import WorkingCalendar, format_long_date

log = logging.getLogger(__name__)

_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


class UnknownRecipient(NotFound):
    code = "unknown_recipient"


def normalise_number(raw: str, *, field: str = "From") -> str:
    """E.164 for a phone number as gateways send it (default region: Denmark)."""
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


@dataclass(frozen=True, slots=True)
class _Candidate:
    case_id: str
    person_id: str


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
    ) -> None:
        self.svc = svc
        self.conn = conn
        self.sms = sms
        self.provider = provider
        self.tenant = tenant
        self.sender = sender
        self.now = svc.clock.now()
        # A citizen who texts a CPR number gets a friendly note; the message is flagged.
        self.has_cpr = bool(find_cpr(sms.body))

    # -- keys -------------------------------------------------------------

    async def case_key(self, case_id: str) -> SealingKey:
        wrapped = (
            await self.conn.execute(select(cases.c.dek).where(cases.c.id == case_id))
        ).scalar_one()
        return SealingKey("case", case_id, self.svc.dek("cases", case_id, wrapped))

    def person_key(self, person: Any) -> SealingKey:
        return SealingKey("person", person.id, self.svc.dek("persons", person.id, person.dek))

    # -- the flow ---------------------------------------------------------

    async def run(self) -> InboundResult:
        index = self.svc.blind_index(self.sender)
        if _OK.match(self.sms.body):
            acked = await acknowledge_by_sms(
                self.conn,
                self.svc,
                tenant_id=self.tenant.id,
                phone_index=index,
                after_hours_number=self.sender,
            )
            if acked is not None:
                return InboundResult(None, False, "acknowledged")
        people = (
            await self.conn.execute(
                select(persons)
                .where(and_(persons.c.tenant_id == self.tenant.id, persons.c.phone_index == index))
                .order_by(persons.c.created_at, persons.c.id)
            )
        ).all()
        if not people:
            people = [await self._unknown_person(index)]
        by_id = {p.id: p for p in people}
        consent_command = consent.command(self.sms.body)
        if consent_command is not None:
            return await self._consent(consent_command, people)

        candidates = await self._candidates(list(by_id))
        choice = await self._pending_choice(index)
        if choice is not None:
            options = [_Candidate(c, p) for c, p in json.loads(choice.options)]
            match = _CHOICE.match(self.sms.body)
            if match and 1 <= int(match.group(1)) <= len(options):
                picked = options[int(match.group(1)) - 1]
                if picked in candidates:
                    return await self._resolve_choice(choice, picked, by_id[picked.person_id])
            if len({c.case_id for c in candidates}) > 1:
                return await self._ask(by_id, candidates, index, people[0], choice)

        case_ids = list(dict.fromkeys(c.case_id for c in candidates))
        if not case_ids:
            return await self._unassigned(people[0])
        if len(case_ids) == 1:
            pick = candidates[0]
            return await self._file(pick.case_id, by_id[pick.person_id])
        recent = await self._recent_thread(
            candidates, shared=self._shared_ambiguity(candidates, by_id)
        )
        if recent is not None:
            return await self._file(recent.case_id, by_id[recent.person_id])
        return await self._ask(by_id, candidates, index, people[0], None)

    async def _store_unassigned(
        self,
        person: Any,
        *,
        status: str,
        awaiting: bool = False,
        reply_by: datetime | None = None,
    ) -> tuple[str, SealingKey, str]:
        """Store the SMS in the person's own (unassigned) thread, sealed with their key."""
        conv_id = await self._conversation(None, person.id)
        key = self.person_key(person)
        mid = await self._store(
            conv_id=conv_id,
            case_id=None,
            person_id=person.id,
            key=key,
            status=status,
            awaiting=awaiting,
            reply_by=reply_by,
        )
        return conv_id, key, mid

    async def _consent(self, command: str, people: Sequence[Any]) -> InboundResult:
        """STOP / START: record consent for everyone on this number, confirm, journalise."""
        first = people[0]
        conv_id, key, mid = await self._store_unassigned(first, status="received")
        state = "opted_out" if command == "stop" else "opted_in"
        subject = (
            "Borgeren har frameldt påmindelser og nyheder på SMS (STOP)"
            if command == "stop"
            else "Borgeren har tilmeldt sig påmindelser og nyheder på SMS igen (START)"
        )
        for person in people:
            await self.conn.execute(
                consents.insert().values(
                    id=new_id(),
                    tenant_id=self.tenant.id,
                    person_id=person.id,
                    channel="sms",
                    state=state,
                    source="sms",
                    at=self.now,
                )
            )
            case_ids = [c.case_id for c in await self._candidates([person.id])]
            for case_id in dict.fromkeys(case_ids) or [None]:
                await append(
                    self.conn,
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
        await queue_sms(
            self.conn,
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
        return InboundResult(mid, False, f"consent_{command}")

    async def _unknown_person(self, index: str) -> Any:
        """A number nobody registered: keep it (encrypted) so staff can answer it."""
        pid = new_id()
        dek, wrapped = self.svc.new_dek("persons", pid)
        row = {
            "id": pid,
            "tenant_id": self.tenant.id,
            "dek": wrapped,
            "phone_enc": seal(dek, self.sender, f"persons:{pid}:phone"),
            "phone_index": index,
            "origin": "unknown",
            "language": self.tenant.language,
            "created_at": self.now,
        }
        await self.conn.execute(persons.insert().values(**row))
        return (await self.conn.execute(select(persons).where(persons.c.id == pid))).one()

    async def _candidates(self, person_ids: list[str]) -> list[_Candidate]:
        rows = await self.conn.execute(
            select(participants.c.case_id, participants.c.person_id)
            .join(cases, cases.c.id == participants.c.case_id)
            .where(
                participants.c.person_id.in_(person_ids),
                participants.c.entitled.is_(True),
                cases.c.status == "open",
                cases.c.tenant_id == self.tenant.id,
            )
            .order_by(cases.c.number, participants.c.created_at, participants.c.id)
        )
        return [_Candidate(r.case_id, r.person_id) for r in rows]

    @staticmethod
    def _shared_ambiguity(candidates: list[_Candidate], by_id: dict[str, Any]) -> bool:
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

    async def _pending_choice(self, index: str) -> Any:
        return (
            await self.conn.execute(
                select(case_choices)
                .where(
                    case_choices.c.tenant_id == self.tenant.id,
                    case_choices.c.phone_index == index,
                    case_choices.c.resolved_at.is_(None),
                )
                .order_by(case_choices.c.created_at.desc())
                .limit(1)
            )
        ).first()

    async def _conversation(self, case_id: str | None, person_id: str) -> str:
        return await ensure_conversation(
            self.conn, tenant_id=self.tenant.id, case_id=case_id, person_id=person_id, at=self.now
        )

    async def _store(
        self,
        *,
        conv_id: str,
        case_id: str | None,
        person_id: str,
        key: SealingKey,
        status: str,
        awaiting: bool,
        reply_by: datetime | None,
    ) -> str:
        mid = new_id()
        await self.conn.execute(
            messages.insert().values(
                id=mid,
                tenant_id=self.tenant.id,
                conversation_id=conv_id,
                case_id=case_id,
                person_id=person_id,
                direction="in",
                kind="citizen",
                key_scope=key.scope,
                body_enc=seal(key.dek, self.sms.body, f"messages:{mid}:body"),
                status=status,
                provider=self.provider,
                provider_id=self.sms.provider_id,
                segments=self.sms.segments,
                sensitive=self.has_cpr,
                awaiting_reply=awaiting,
                reply_by=reply_by,
                created_at=self.now,
            )
        )
        await emit(
            self.conn,
            tenant_id=self.tenant.id,
            event="message.received",
            payload={"message_id": mid, "conversation_id": conv_id, "case_id": case_id},
            at=self.now,
        )
        return mid

    async def _open_reply_by(self, conv_id: str) -> datetime | None:
        """The reply-by of a message in this thread still waiting for an answer, if any."""
        return (
            await self.conn.execute(
                select(messages.c.reply_by)
                .where(messages.c.conversation_id == conv_id, messages.c.awaiting_reply.is_(True))
                .order_by(messages.c.reply_by)
                .limit(1)
            )
        ).scalar_one_or_none()

    async def _case_context(self, case_id: str) -> Any:
        return (
            await self.conn.execute(
                select(
                    cases.c.id,
                    cases.c.owner_id,
                    cases.c.number,
                    teams.c.id.label("team_id"),
                    teams.c.tenant_id,
                    teams.c.reply_days,
                    teams.c.opens_at,
                    teams.c.closes_at,
                    teams.c.after_hours_phone,
                    teams.c.escalate_after_min,
                    staff.c.dek.label("owner_dek"),
                    staff.c.first_name_enc,
                )
                .join(teams, teams.c.id == cases.c.team_id)
                .join(staff, staff.c.id == cases.c.owner_id)
                .where(cases.c.id == case_id)
            )
        ).one()

    def _owner_first_name(self, ctx: Any) -> str:
        dek = self.svc.dek("staff", ctx.owner_id, ctx.owner_dek)
        return unseal(dek, ctx.first_name_enc, f"staff:{ctx.owner_id}:first_name")

    async def _file(self, case_id: str, person: Any) -> InboundResult:
        """File the SMS on a case's thread: reply-by, route, triage, receipt, journal."""
        conv_id = await self._conversation(case_id, person.id)
        key = await self.case_key(case_id)
        ctx = await self._case_context(case_id)
        calendar = await team_calendar(self.conn, self.svc, ctx)
        already_open = await self._open_reply_by(conv_id)
        reply_by = already_open or calendar.reply_by(self.now, ctx.reply_days)
        mid = await self._store(
            conv_id=conv_id,
            case_id=case_id,
            person_id=person.id,
            key=key,
            status="received",
            awaiting=True,
            reply_by=reply_by,
        )
        await self._journal_in(case_id, key, mid, "SMS fra borger")
        outcome = await self._run_hooks(
            FiledSms(
                svc=self.svc,
                conn=self.conn,
                tenant_id=self.tenant.id,
                case_id=case_id,
                person_id=person.id,
                conversation_id=conv_id,
                message_id=mid,
                body=self.sms.body,
                language=person.language,
                key=key,
                now=self.now,
            )
        )
        awaiting = outcome is None or outcome.awaiting_reply
        if not awaiting:
            await self.conn.execute(
                update(messages)
                .where(messages.c.id == mid)
                .values(awaiting_reply=False, reply_by=None)
            )
        decision = await self._dispatch(ctx, calendar, [mid], key) if awaiting else None
        if outcome is not None and outcome.reply is not None:
            await queue_sms(
                self.conn,
                tenant_id=self.tenant.id,
                conversation_id=conv_id,
                case_id=case_id,
                person_id=person.id,
                kind="auto",
                body=outcome.reply,
                key=key,
                at=self.now,
            )
        elif decision is not None and (already_open is None or decision.urgent):
            await self._receipt(conv_id, case_id, person, key, ctx, reply_by, decision)
        return InboundResult(mid, False, "filed")

    async def _dispatch(
        self, ctx: Any, calendar: WorkingCalendar, message_ids: list[str], key: SealingKey
    ) -> _Decision:
        """Route the message(s) to whoever answers now, flag urgency, page, and journalise it."""
        way = await route(
            self.conn,
            case_owner_id=ctx.owner_id,
            team_id=ctx.team_id,
            at=self.now,
            calendar=calendar,
        )
        triage = (await tenant_triager(self.conn, self.svc, self.tenant.id))(self.sms.body)
        values: dict[str, Any] = {
            "owner_id": way.owner_id,
            "original_owner_id": ctx.owner_id if way.moved else None,
        }
        if triage.urgent:
            values["urgent"] = True
            values["next_escalation_at"] = self.now + timedelta(minutes=ctx.escalate_after_min)
        await self.conn.execute(
            update(messages).where(messages.c.id.in_(message_ids)).values(**values)
        )
        if way.moved:
            await append(
                self.conn,
                tenant_id=self.tenant.id,
                case_id=ctx.id,
                kind="routed",
                direction="internal",
                channel="system",
                subject=ROUTE_SUBJECTS[way.reason],
                actor="system",
                at=self.now,
                content=f"Sagsbehandler {ctx.owner_id} er ikke til stede; ansvarlig nu: "
                f"{way.owner_id or 'teamets fælles kø'}",
                key=key,
                message_id=message_ids[-1],
            )
        if way.reason == "fallback":
            log.warning(
                "team %s: nobody available for message %s (fallback queue)",
                ctx.team_id,
                message_ids[-1],
            )
        if triage.urgent:
            await append(
                self.conn,
                tenant_id=self.tenant.id,
                case_id=ctx.id,
                kind="urgent",
                direction="internal",
                channel="system",
                subject="Besked markeret som akut",
                actor="system",
                at=self.now,
                content="Udløst af: " + ", ".join(triage.matched),
                key=key,
                message_id=message_ids[-1],
            )
            paged = way.owner_id or await team_lead(self.conn, ctx.team_id)
            await page(
                self.conn,
                tenant_id=self.tenant.id,
                team_id=ctx.team_id,
                staff_id=paged,
                message_id=message_ids[-1],
                kind="urgent",
                at=self.now,
            )
        return _Decision(way, triage.urgent, calendar.is_open(self.now))

    async def _run_hooks(self, filed: FiledSms) -> HookOutcome | None:
        for hook in self.svc.inbound_hooks:
            outcome = await hook(filed)
            if outcome is not None:
                return outcome
        return None

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
        case_id: str,
        person: Any,
        key: SealingKey,
        ctx: Any,
        reply_by: datetime,
        decision: _Decision,
    ) -> None:
        lang = person.language
        when = format_long_date(reply_by.astimezone(COPENHAGEN).date(), lang)
        way = decision.route
        if way.reason == "owner":
            body = text(lang, "receipt", first_name=self._owner_first_name(ctx), reply_by=when)
        elif way.owner_id is not None and way.back_on is not None:
            body = text(
                lang,
                "receipt_covered",
                back_on=format_long_date(way.back_on, lang),
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
                back_on=format_long_date(way.back_on, lang),
                reply_by=when,
            )
        else:
            body = text(lang, "receipt_fallback", reply_by=when)
        if self.has_cpr:
            body += " " + text(lang, "cpr_warning")
        if decision.urgent and not decision.open_now:
            if ctx.after_hours_phone:
                body += " " + text(lang, "urgent_after_hours", phone=ctx.after_hours_phone)
            else:
                body += " " + text(lang, "urgent_112")
        await queue_sms(
            self.conn,
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=case_id,
            person_id=person.id,
            kind="receipt",
            body=body,
            key=key,
            at=self.now,
        )

    async def _journal_in(
        self, case_id: str | None, key: SealingKey, mid: str, subject: str
    ) -> None:
        await append(
            self.conn,
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

    async def _unassigned(self, person: Any) -> InboundResult:
        """No open case for this number: the unassigned queue, and a receipt that tells nothing."""
        conv_id = await self._conversation(None, person.id)
        already_open = await self._open_reply_by(conv_id)
        conv_id, key, mid = await self._store_unassigned(
            person, status="received", awaiting=True, reply_by=already_open
        )
        await self._journal_in(None, key, mid, "SMS fra ukendt afsender (ikke knyttet til en sag)")
        if already_open is None:
            await queue_sms(
                self.conn,
                tenant_id=self.tenant.id,
                conversation_id=conv_id,
                case_id=None,
                person_id=person.id,
                kind="receipt",
                body=text(self.tenant.language, "receipt_neutral")
                + (" " + text(self.tenant.language, "cpr_warning") if self.has_cpr else ""),
                key=key,
                at=self.now,
            )
        return InboundResult(mid, False, "unassigned")

    async def _ask(
        self,
        by_id: dict[str, Any],
        candidates: list[_Candidate],
        index: str,
        asker: Any,
        choice: Any,
    ) -> InboundResult:
        """Several open cases and no recent thread: hold the SMS and ask which case."""
        seen: dict[str, _Candidate] = {}
        for c in candidates:
            seen.setdefault(c.case_id, c)
        options = list(seen.values())
        lines = []
        for n, opt in enumerate(options, start=1):
            ctx = await self._case_context(opt.case_id)
            admin = (
                await self.conn.execute(
                    select(administrations.c.name)
                    .join(cases, cases.c.administration_id == administrations.c.id)
                    .where(cases.c.id == opt.case_id)
                )
            ).scalar_one()
            lines.append(
                text(
                    asker.language,
                    "choose_case_option",
                    n=n,
                    administration=admin,
                    first_name=self._owner_first_name(ctx),
                )
            )
        if choice is not None:
            await self.conn.execute(
                update(case_choices)
                .where(case_choices.c.id == choice.id)
                .values(resolved_at=self.now)
            )
        await self.conn.execute(
            case_choices.insert().values(
                id=new_id(),
                tenant_id=self.tenant.id,
                phone_index=index,
                options=json.dumps([[o.case_id, o.person_id] for o in options]),
                created_at=self.now,
            )
        )
        conv_id, key, mid = await self._store_unassigned(asker, status="awaiting_case")
        await self._journal_in(None, key, mid, "SMS fra borger, afventer valg af sag")
        await queue_sms(
            self.conn,
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=None,
            person_id=asker.id,
            kind="clarify",
            body=text(asker.language, "choose_case", options="\n".join(lines)),
            key=key,
            at=self.now,
        )
        return InboundResult(mid, False, "awaiting_case")

    async def _resolve_choice(self, choice: Any, picked: _Candidate, person: Any) -> InboundResult:
        """The citizen answered which case: file what was waiting, then this answer."""
        await self.conn.execute(
            update(case_choices).where(case_choices.c.id == choice.id).values(resolved_at=self.now)
        )
        conv_id = await self._conversation(picked.case_id, person.id)
        case_key = await self.case_key(picked.case_id)
        ctx = await self._case_context(picked.case_id)
        already_open = await self._open_reply_by(conv_id)
        reply_by = already_open or (await team_calendar(self.conn, self.svc, ctx)).reply_by(
            self.now, ctx.reply_days
        )
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
                    case_id=picked.case_id,
                    person_id=person.id,
                    key_scope="case",
                    body_enc=seal(case_key.dek, body, f"messages:{w.id}:body"),
                    status="received",
                    awaiting_reply=True,
                    reply_by=reply_by,
                )
            )
            await append(
                self.conn,
                tenant_id=self.tenant.id,
                case_id=picked.case_id,
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
        mid = await self._store(
            conv_id=conv_id,
            case_id=picked.case_id,
            person_id=person.id,
            key=case_key,
            status="received",
            awaiting=False,
            reply_by=None,
        )
        await self._journal_in(picked.case_id, case_key, mid, "Borgerens valg af sag")
        if not waiting:
            return InboundResult(mid, False, "filed")
        calendar = await team_calendar(self.conn, self.svc, ctx)
        decision = await self._dispatch(ctx, calendar, [w.id for w in waiting], case_key)
        if already_open is None or decision.urgent:
            await self._receipt(conv_id, picked.case_id, person, case_key, ctx, reply_by, decision)
        return InboundResult(waiting[0].id, False, "filed")


async def receive_sms(svc: Services, sms: InboundSms, *, provider: str) -> InboundResult:
    """Handle one verified inbound SMS. Commits before returning.

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
    recipient = normalise_number(sms.recipient, field="To")
    try:
        async with svc.write() as conn:
            seen = (
                await conn.execute(
                    select(messages.c.id).where(
                        messages.c.provider == provider, messages.c.provider_id == sms.provider_id
                    )
                )
            ).scalar_one_or_none()
            if seen is not None:
                return InboundResult(seen, True, "duplicate")
            tenant = await _tenant_by_number(conn, svc, recipient)
            if tenant is None:
                raise UnknownRecipient("No municipality here uses that number")
            result = await _Inbound(svc, conn, sms, provider, tenant, sender).run()
    except IntegrityError:
        # A concurrent retry of the same webhook won the race: same answer as a replay.
        async with svc.read() as conn:
            seen = (
                await conn.execute(
                    select(messages.c.id).where(
                        messages.c.provider == provider, messages.c.provider_id == sms.provider_id
                    )
                )
            ).scalar_one_or_none()
        if seen is None:
            raise
        return InboundResult(seen, True, "duplicate")
    log.info("inbound %s stored as %s (%s)", sms.provider_id, result.message_id, result.outcome)
    metrics.message_received()
    svc.wake_relay()
    return result
