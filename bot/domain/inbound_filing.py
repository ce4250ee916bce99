"""Filing one inbound SMS: identify the sender, decide, store encrypted, receipt, journal.

:class:`Intake` is one SMS inside one write transaction: on a case (routed and
triaged by bot.domain.dispatch, receipted), on the number's unassigned thread,
held while the sender is asked which case they mean (bot.domain.inbound_choice),
or a STOP/START (bot.domain.inbound_consent, steered there by bot.domain.intents).
The batch (bot.domain.inbound_batch) files several SMS on their cases through the
same steps: :meth:`Intake.decide`, :meth:`Intake.on_case`, :meth:`Intake.run_hooks`,
:meth:`Intake.answer` and :meth:`Intake.emit`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, seal, unseal
from bot.base.hooks import FiledSms, HookOutcome, may_act
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.domain import intents, receipts
from bot.domain.dispatch import (
    Decision,
    decide,
    dispatch,
    dispatch_unassigned,
    routing_columns,
    tenant_triage,
    tenant_triager,
)
from bot.domain.escalation import acknowledge_by_sms
from bot.domain.inbound_choice import ask_which_case, resolve_choice
from bot.domain.inbound_result import InboundResult as InboundResult
from bot.domain.outbound import (
    OPEN_REPLY_BY,
    THREAD_UNCHANGED,
    OutboundSms,
    open_conversation,
    outbound_sms,
)
from bot.domain.routing import FrontDesk, local_day, team_calendar
from bot.domain.triage import Triage
from bot.store.events import emit
from bot.store.inbound import (
    Ask,
    Candidate,
    Identified,
    InboundStore,
    OpenCase,
    Person,
    TouchedThread,
)
from bot.store.schema.core import (
    conversations,
    messages,
    persons,
    staff,
    tenants,
)
from channels.base import InboundSms
from channels.sensitivity import find_cpr
from journal.journal import (
    HOLD_HEADS_CTES,
    NewEntry,
    append_many,
    case_chain,
    case_chain_of,
    held_head_columns,
    hold_head,
    unassigned_chain,
)

log = logging.getLogger(__name__)

# The inbound statements, with the journal's way of holding a case's head inside them
# and the outbound thread guard (the store cannot import the domain: handed over here).
STORE = InboundStore(
    thread_unchanged=THREAD_UNCHANGED,
    open_reply_by=OPEN_REPLY_BY,
    head_columns=held_head_columns,
    case_chain_of=case_chain_of,
    hold_heads=HOLD_HEADS_CTES,
)

_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_OK = re.compile(r"^\s*ok\W*$", re.IGNORECASE)


def is_ok(body: str) -> bool:
    """An "OK": from a staff phone it may acknowledge a page; a hook may read it too."""
    return bool(_OK.match(body))


async def tenant_by_number(conn: AsyncConnection, svc: Services, number: str) -> Any:
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
class CaseFiling:
    """An SMS being filed on a case's thread: what it is filed as, and what decides its answer."""

    case: OpenCase
    person: Person
    conv_id: str
    already_open: datetime | None  # the reply-by of a message in the thread still open
    key: SealingKey
    reply_by: datetime
    decision: Decision
    stored: dict[str, Any]  # its message row
    entry: NewEntry  # its journal entry

    @property
    def message_id(self) -> str:
        return str(self.stored["id"])


class Intake:
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
        *,
        may_emit: bool = True,
        cases: Mapping[str, OpenCase] | None = None,
    ) -> None:
        """Start handling ``sms`` in ``conn``'s transaction.

        Args:
            tenant: the municipality's row (the SMS was sent to its number).
            sender: the sender's number, E.164.
            now: the time the SMS is filed at (a batch files its SMS at one time).
            may_emit: the municipality has an active webhook subscription (as far as known).
            cases: the sender's open cases, when identified already (a batch).
        """
        self.svc = svc
        self.conn = conn
        self.sms = sms
        self.provider = provider
        self.tenant = tenant
        self.sender = sender
        self.now = now or svc.clock.now()
        # A citizen who texts a CPR number gets a friendly note; the message is flagged.
        self.has_cpr = bool(find_cpr(sms.body))
        self._triage: Triage | None = None
        self.may_emit = may_emit
        self.cases: Mapping[str, OpenCase] = cases or {}
        self.thread: TouchedThread | None = None
        self.intent: str | None = None  # a wish confirmed by "JA" (bot.domain.intents)

    # -- keys -------------------------------------------------------------

    def case_key(self, case: OpenCase) -> SealingKey:
        return SealingKey("case", case.id, self.svc.dek("cases", case.id, case.dek))

    def person_key(self, person: Person) -> SealingKey:
        return SealingKey("person", person.id, self.svc.dek("persons", person.id, person.dek))

    # -- the flow ---------------------------------------------------------

    async def _identify(self, index: str) -> Identified:
        """What the database knows about this SMS; on PostgreSQL, its one thread touched."""
        ask = Ask(
            provider=self.provider,
            provider_id=self.sms.provider_id,
            tenant_id=self.tenant.id,
            phone_index=index,
            sender=self.sender,
            ok=is_ok(self.sms.body),
        )
        # Not for STOP/START: they file on the number's unassigned thread first.
        touch_at = None if intents.files_unassigned(self.sms.body) else self.now
        known = await STORE.identify(self.conn, ask, day=local_day(self.now), touch_at=touch_at)
        self.thread = known.thread
        if known.thread is not None and known.head is not None:
            hold_head(self.conn, case_chain(known.thread.case_id), *known.head)
        return known

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
        # A yes to a waiting question, STOP/START, a wish to confirm (urgency wins).
        steered = await intents.steer(self, people, candidates, asked=known.asked)
        if steered is not None:
            return steered

        choice = known.choice
        if choice is not None:
            options = [Candidate(c, p) for c, p in json.loads(choice.options)]
            match = _CHOICE.match(self.sms.body)
            if match and 1 <= int(match.group(1)) <= len(options):
                picked = options[int(match.group(1)) - 1]
                if picked in candidates:
                    return await resolve_choice(self, choice, picked, by_id[picked.person_id])
            if len({c.case_id for c in candidates}) > 1:
                return await ask_which_case(self, candidates, index, people[0], choice)

        case_ids = list(dict.fromkeys(c.case_id for c in candidates))
        if not case_ids:
            return await self._unassigned(people[0])
        if len(case_ids) == 1:
            pick = candidates[0]
            return await self.file(self.cases[pick.case_id], by_id[pick.person_id])
        return await self._several(candidates, by_id, index, people[0])

    async def _several(
        self, candidates: list[Candidate], by_id: dict[str, Person], index: str, first: Person
    ) -> InboundResult:
        """Several open cases: the recent thread's, else ask which, but never hold urgent."""
        shared = self._shared_ambiguity(candidates, by_id)
        recent = await self._recent_thread(candidates, shared=shared)
        if recent is None and not shared and (await self.triage()).urgent:
            # Urgent is never held behind "which case?": the case last written on.
            recent = await self._recent_thread(candidates, shared=False, ever=True)
        if recent is not None:
            return await self.file(self.cases[recent.case_id], by_id[recent.person_id])
        if (await self.triage()).urgent:  # a shared phone: the urgent unassigned queue
            return await self._unassigned(first)
        return await ask_which_case(self, candidates, index, first, None)

    async def _unknown_person(self, index: str) -> Person:
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
        return Person(pid, wrapped, "unknown", self.tenant.language, self.now)

    @staticmethod
    def _shared_ambiguity(candidates: list[Candidate], by_id: dict[str, Person]) -> bool:
        """True when the number is shared and not every case belongs to everyone on it."""
        known = {pid for pid, p in by_id.items() if p.origin == "known"}
        if len(known) < 2:
            return False
        per_case: dict[str, set[str]] = {}
        for c in candidates:
            per_case.setdefault(c.case_id, set()).add(c.person_id)
        return any(members != known for members in per_case.values())

    async def _recent_thread(
        self, candidates: list[Candidate], *, shared: bool, ever: bool = False
    ) -> Candidate | None:
        """The case of the person's latest thread: within the recent window, or ``ever``.

        With ``ever`` and no thread at all, the candidates' first case.
        """
        if shared:
            return None  # a shared phone is never filed by guesswork
        q = (
            select(conversations.c.case_id, conversations.c.person_id)
            .where(
                conversations.c.person_id.in_({c.person_id for c in candidates}),
                conversations.c.case_id.in_({c.case_id for c in candidates}),
            )
            .order_by(conversations.c.last_activity_at.desc())
            .limit(1)
        )
        if not ever:
            since = self.now - timedelta(days=self.svc.config.thread_recent_days)
            q = q.where(conversations.c.last_activity_at >= since)
        row = (await self.conn.execute(q)).first()
        if row is None:
            return candidates[0] if ever else None
        pick = Candidate(row.case_id, row.person_id)
        return pick if pick in candidates else (candidates[0] if ever else None)

    async def triage(self) -> Triage:
        """This SMS read by the municipality's triage (for a door before any case is known)."""
        if self._triage is None:
            triager = await tenant_triager(self.conn, self.svc, self.tenant.id)
            self._triage = tenant_triage(triager, self.sms.body)
        return self._triage

    async def conversation(
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

    def inbound_row(
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

    async def emit(self, mid: str, conv_id: str, case_id: str | None) -> None:
        if self.may_emit:  # nobody subscribes: no event to queue
            await emit(
                self.conn,
                tenant_id=self.tenant.id,
                event="message.received",
                payload={"message_id": mid, "conversation_id": conv_id, "case_id": case_id},
                at=self.now,
            )

    def owner_first_name(self, case: OpenCase) -> str:
        dek = self.svc.dek("staff", case.owner_id, case.owner_dek)
        return unseal(dek, case.first_name_enc, f"staff:{case.owner_id}:first_name")

    def sms_in(self, case_id: str | None, key: SealingKey, mid: str, subject: str) -> NewEntry:
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

    async def file(self, case: OpenCase, person: Person) -> InboundResult:
        """File the SMS on a case's thread: reply-by, route, triage, receipt, journal."""
        thread = self.thread
        if thread is not None and (thread.case_id, thread.person_id) == (case.id, person.id):
            conv_id, already_open = thread.id, thread.open_reply_by  # touched by _identify
        else:
            conv_id, already_open = await self.conversation(case.id, person.id)
        calendar = await team_calendar(self.conn, self.svc, case)
        # Routing and triage read nothing this SMS writes: decided first, the message row
        # is written once with its owner (and undone below should a hook answer it).
        filing = self.on_case(
            case, person, conv_id, already_open, calendar, await self.decide(case, calendar)
        )
        # Written before the hooks run: they may read the message and journalise after it.
        await append_many(self.conn, [filing.entry], rows_first=[(messages, [filing.stored])])
        await self.emit(filing.message_id, conv_id, case.id)
        entries, reply, result = await self.answer(filing, await self.run_hooks(filing))
        if entries:
            await append_many(
                self.conn, entries, rows_first=OutboundSms.rows([reply]) if reply else ()
            )
        return result

    def on_case(
        self,
        case: OpenCase,
        person: Person,
        conv_id: str,
        already_open: datetime | None,
        calendar: WorkingCalendar,
        decision: Decision,
    ) -> CaseFiling:
        """The SMS as filed on its case's thread: its message row and journal entry, unwritten."""
        key = self.case_key(case)
        reply_by = receipts.reply_by(calendar, self.now, case.reply_days, decision, already_open)
        stored = self.inbound_row(
            conv_id=conv_id,
            case_id=case.id,
            person_id=person.id,
            key=key,
            status="received",
            awaiting=True,
            reply_by=reply_by,
            routing=routing_columns(case, decision, self.now),
        )
        entry = self.sms_in(case.id, key, stored["id"], "SMS fra borger")
        return CaseFiling(
            case, person, conv_id, already_open, key, reply_by, decision, stored, entry
        )

    def filed(self, filing: CaseFiling, batch: dict[Any, Any] | None = None) -> FiledSms:
        """The filed SMS as the hooks see it (``batch``: what they fetched for a batch)."""
        return FiledSms(
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
            intent=self.intent,
            batch=batch,
        )

    async def run_hooks(
        self, filing: CaseFiling, filed: FiledSms | None = None
    ) -> HookOutcome | None:
        """The first outcome a hook gives for the filed SMS (written and journalised by now)."""
        if filing.decision.urgent:
            return None  # urgency always wins over a reply's intent
        filed = filed or self.filed(filing)
        for hook in self.svc.inbound_hooks:
            if not may_act((hook,), filed.body):
                continue  # it declared it would return None unread: no savepoint for it
            # A hook that fails must not cost the SMS: what it wrote is undone (a
            # savepoint), it is logged, and the SMS is filed and answered without it.
            try:
                async with self.conn.begin_nested():
                    outcome = await hook(filed)
            except Exception:
                log.exception(
                    "inbound hook %s failed on message %s; filed without it",
                    getattr(hook, "__name__", "?"),
                    filing.message_id,
                )
                continue
            if outcome is not None:
                return outcome
        return None

    async def answer(
        self, filing: CaseFiling, outcome: HookOutcome | None
    ) -> tuple[list[NewEntry], OutboundSms | None, InboundResult]:
        """After the SMS is written: what to journalise and send (not written yet), and pages.

        Pages for an urgent SMS are written here; they name the message, so it must be
        in the database first.
        """
        case, mid, decision = filing.case, filing.message_id, filing.decision
        entries: list[NewEntry] = []
        dispatched: Decision | None = decision
        if outcome is None or outcome.awaiting_reply:
            entries += await self.dispatched(case, decision, mid, filing.key)
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
                language=filing.person.language,
            )
        elif dispatched is not None and await self._must_tell(filing, dispatched):
            reply = await self.case_receipt(
                filing.conv_id, case, filing.person, filing.key, filing.reply_by, dispatched
            )
        if reply is not None:
            entries.append(reply.entry)
        # A hook that acted may have queued something itself.
        queued = reply is not None or outcome is not None or bool(dispatched and dispatched.urgent)
        return entries, reply, InboundResult(mid, False, "filed", queued=queued)

    async def _must_tell(self, filing: CaseFiling, decision: Decision) -> bool:
        """One receipt per waiting thread, except what the citizen must know now.

        A new thread, an urgent message (112), a CPR number in the SMS (the warning),
        or a message that goes to someone other than who was answering the thread
        (a substitute since the last receipt) each get a receipt of their own.
        """
        if filing.already_open is None or decision.urgent or self.has_cpr:
            return True
        if not decision.route.moved:
            return False
        before = await self.conn.scalar(
            select(messages.c.owner_id)
            .where(
                messages.c.conversation_id == filing.conv_id,
                messages.c.awaiting_reply.is_(True),
                messages.c.id != filing.message_id,
            )
            .order_by(messages.c.created_at.desc())
            .limit(1)
        )
        return before != decision.route.owner_id

    async def decide(
        self, case: OpenCase, calendar: WorkingCalendar, *, body: str | None = None
    ) -> Decision:
        """Who answers now, and is it urgent (nothing is written); ``body``: else this SMS."""
        return await decide(
            self.conn,
            self.svc,
            tenant_id=self.tenant.id,
            case=case,
            body=self.sms.body if body is None else body,
            at=self.now,
            calendar=calendar,
            # Known from the identify statement: routing need not ask.
            owner_here=case.owner_active and not case.owner_away,
            # Read once: a door before the case (steer) may have read this SMS already.
            triage=self._triage if body is None else None,
        )

    async def dispatched(
        self, case: OpenCase, decision: Decision, message_id: str, key: SealingKey
    ) -> list[NewEntry]:
        """Act on a routed message: page when urgent; the journal entries saying what happened."""
        return await dispatch(
            self.conn,
            tenant_id=self.tenant.id,
            case=case,
            decision=decision,
            message_id=message_id,
            key=key,
            at=self.now,
        )

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

    async def case_receipt(
        self,
        conv_id: str,
        case: OpenCase,
        person: Person,
        key: SealingKey,
        reply_by: datetime,
        decision: Decision,
    ) -> OutboundSms:
        way = decision.route
        helper = way.owner_id if way.reason != "owner" else None
        body = receipts.case_receipt(
            person.language,
            owner_first_name=self.owner_first_name(case),
            colleague=await self._staff_first_name(helper) if helper is not None else None,
            reply_by=reply_by,
            route=way,
            urgent_line=receipts.urgent_line(person.language, decision, case.after_hours_phone),
            has_cpr=self.has_cpr,
            urgent_now=decision.urgent and decision.open_now,
        )
        return outbound_sms(
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=case.id,
            person_id=person.id,
            kind="receipt",
            body=body,
            key=key,
            at=self.now,
            language=person.language,
        )

    async def _unassigned(self, person: Person) -> InboundResult:
        """No open case for this number: the unassigned queue, and a receipt that tells nothing."""
        conv_id, already_open = await self.conversation(None, person.id)
        key = self.person_key(person)
        stored = self.inbound_row(
            conv_id=conv_id,
            case_id=None,
            person_id=person.id,
            key=key,
            status="received",
            awaiting=True,
            reply_by=already_open,
        )
        mid = stored["id"]
        triage = await self.triage()
        stored["urgent"] = triage.urgent
        sms_in = self.sms_in(None, key, mid, "SMS fra ukendt afsender (ikke knyttet til en sag)")
        # Written first: a page names the message.
        await append_many(self.conn, [sms_in], rows_first=[(messages, [stored])])
        desk: FrontDesk | None = None
        entries: list[NewEntry] = []
        if triage.urgent:
            desk, entries = await dispatch_unassigned(
                self.conn,
                self.svc,
                tenant_id=self.tenant.id,
                message_id=mid,
                matched=triage.matched,
                key=key,
                at=self.now,
            )
        receipts = []
        # What the citizen must know goes out even while an earlier receipt stands.
        if already_open is None or triage.urgent or self.has_cpr:
            receipts.append(self._neutral_receipt(conv_id, person, key, triage.urgent, desk))
        await append_many(
            self.conn,
            [*entries, *(r.entry for r in receipts)],
            rows_first=OutboundSms.rows(receipts),
        )
        await self.emit(mid, conv_id, None)
        return InboundResult(mid, False, "unassigned", queued=bool(receipts))

    def _neutral_receipt(
        self,
        conv_id: str,
        person: Person,
        key: SealingKey,
        urgent: bool,
        desk: FrontDesk | None,
    ) -> OutboundSms:
        """A receipt that names no case or person; the 112 line when urgent, the CPR warning."""
        lang = self.tenant.language
        return outbound_sms(
            tenant_id=self.tenant.id,
            conversation_id=conv_id,
            case_id=None,
            person_id=person.id,
            kind="receipt",
            body=receipts.neutral_receipt(lang, urgent=urgent, desk=desk, has_cpr=self.has_cpr),
            key=key,
            at=self.now,
            language=lang,
        )
