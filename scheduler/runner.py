"""The reminder runner: claims due reminder rows and acts on each exactly once.

A batch of due rows is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(SQLite has one writer); the SMS the batch renders are written with one
multi-row insert per table (``scheduler.bulk.queue_many``: message, outbox and
journal rows) in the *same* transaction that marks the rows sent. A crash before the
commit leaves the rows pending and sends nothing; after the commit the SMS is
in the outbox, which delivers it exactly once. So several workers, restarts
and crashes never send a reminder twice.

At fire time each row is checked again: a reminder that is too late (an
appointment reminder after the appointment), about something cancelled, or
for a closed case is not sent and is journalised as skipped with the reason;
one that falls in the citizen's quiet hours waits (or, when what it is about
happens before the quiet hours end, is skipped, since its earlier slot has
passed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import StorageUnavailable
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain import gate
from bot.store.engine import index_walk, records, update_many
from bot.store.schema.core import cases, messages, persons, teams, tenants
from bot.store.schema.scheduler import (
    appointments,
    case_type_templates,
    deadlines,
    followup_tasks,
    reminders,
    reply_promises,
)
from scheduler import settings as quiet_store
from scheduler.bulk import Sms, queue_many
from scheduler.casetypes import pick_policy, policies_for_tenants
from scheduler.quiet import QuietSettings
from scheduler.store import (
    add_task,
    at_ten,
    case_key,
    conversation_for,
    entitled_people,
    ids_in,
    local_date,
    note,
    team_leads,
)
from scheduler.tasks import send_still_working
from scheduler.templates import CASE_TYPES, CaseTypePolicy, clock_time, long_date, say

log = logging.getLogger(__name__)

BATCH = 200
MAX_ATTEMPTS = 5
# A reminder this much behind its time is "late": check whether a later one replaces it.
LATE = timedelta(minutes=5)
# Outbound kinds that count as news for the citizen (a receipt does not).
UPDATE_KINDS = ("reply", "update", "scheduled")

_REASONS = {
    "too_late": "for sent, tidspunktet er passeret",
    "case_closed": "sagen er lukket",
    "appointment_cancelled": "mødet er aflyst eller flyttet",
    "deadline_cancelled": "fristen er annulleret",
    "quiet_hours": "stilletid indtil efter det, påmindelsen handler om",
    "no_phone": "intet telefonnummer",
    "answered": "borgeren har fået svar",
    "superseded": "en senere påmindelse om det samme sendes i stedet",
    "promise_closed": "løftet er erstattet eller afsluttet",
    "no_policy": "sagstypen har ingen opfølgning",
}
_WHAT = {
    "appointment": "møde",
    "deadline": "frist",
    "nudge": "opfølgning",
    "promise_due": "lovet svar",
    "promise_overdue": "lovet svar",
}


@dataclass
class FireStats:
    """What one run did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    postponed: int = 0
    failed: int = 0

    def add(self, other: FireStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.skipped += other.skipped
        self.postponed += other.postponed
        self.failed += other.failed


@dataclass
class _Done:
    """What became of one row."""

    state: str  # sent | skipped | withdrawn | pending (postponed or re-armed)
    outcome: str | None = None
    message_id: str | None = None
    due_at: datetime | None = None


def _skip(reason: str, *, withdrawn: bool = False) -> _Done:
    return _Done("withdrawn" if withdrawn else "skipped", reason)


@dataclass
class _Batch:
    """One claimed batch, processed inside the claiming transaction."""

    svc: Services
    conn: AsyncConnection
    now: datetime
    cases: dict[str, Any] = field(default_factory=dict)
    tenants: dict[str, str] = field(default_factory=dict)
    persons: dict[str, Any] = field(default_factory=dict)
    appointments: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, Any] = field(default_factory=dict)
    promises: dict[str, Any] = field(default_factory=dict)
    quiet: dict[tuple[str, str | None], QuietSettings] = field(default_factory=dict)
    policies: dict[tuple[str, str], CaseTypePolicy] = field(default_factory=dict)
    keys: dict[str, SealingKey] = field(default_factory=dict)
    # Is it quiet now under these settings? (``now`` is fixed for the batch.)
    quiet_now: dict[int, bool] = field(default_factory=dict)
    # SMS rendered by this batch, written together when the batch is done.
    queued: list[Sms] = field(default_factory=list)

    async def load(self, rows: Sequence[Any]) -> None:
        """Fetch everything the batch needs in a handful of queries."""
        conn = self.conn
        case_ids = ids_in(r.case_id for r in rows)
        q = (
            select(
                cases.c.id,
                cases.c.tenant_id,
                cases.c.team_id,
                cases.c.owner_id,
                cases.c.status,
                cases.c.case_type,
                cases.c.number,
                cases.c.dek,
                cases.c.created_at,
                teams.c.reply_days,
            )
            .join(teams, teams.c.id == cases.c.team_id)
            .where(cases.c.id.in_(case_ids))
        )
        self.cases = {r.id: r for r in records(await conn.execute(q))}
        tenant_ids = ids_in(r.tenant_id for r in rows)
        self.tenants = {
            r.id: r.name
            for r in await conn.execute(
                select(tenants.c.id, tenants.c.name).where(tenants.c.id.in_(tenant_ids))
            )
        }
        person_ids = ids_in(r.person_id for r in rows)
        if person_ids:
            self.persons = {
                r.id: r
                for r in records(
                    await conn.execute(
                        select(
                            persons.c.id,
                            persons.c.language,
                            persons.c.phone_enc.is_not(None).label("has_phone"),
                        ).where(persons.c.id.in_(person_ids))
                    )
                )
            }
        by_kind: dict[str, list[str]] = {}
        for r in rows:
            if r.ref_id:
                by_kind.setdefault(r.kind, []).append(r.ref_id)
        if ids := ids_in(by_kind.get("appointment", [])):
            self.appointments = {
                r.id: r
                for r in records(
                    await conn.execute(
                        select(
                            appointments.c.id,
                            appointments.c.status,
                            appointments.c.starts_at,
                            appointments.c.place_enc,
                        ).where(appointments.c.id.in_(ids))
                    )
                )
            }
        if ids := ids_in(by_kind.get("deadline", [])):
            self.deadlines = {
                r.id: r
                for r in records(
                    await conn.execute(select(deadlines).where(deadlines.c.id.in_(ids)))
                )
            }
        promise_ids = ids_in(by_kind.get("promise_due", []) + by_kind.get("promise_overdue", []))
        if promise_ids:
            self.promises = {
                r.id: r
                for r in await conn.execute(
                    select(reply_promises).where(reply_promises.c.id.in_(promise_ids))
                )
            }
        self.quiet = await quiet_store.settings_map(conn, tenant_ids, person_ids)
        if "nudge" in by_kind:
            self.policies = await policies_for_tenants(conn, tenant_ids)

    def key(self, case: Any) -> SealingKey:
        if case.id not in self.keys:
            self.keys[case.id] = case_key(self.svc, case.id, case.dek)
        return self.keys[case.id]

    async def _note(self, row: Any, case: Any, kind: str, subject: str) -> None:
        """Journalise on the reminder's case what the runner did instead of (or beside) an SMS."""
        await note(
            self.conn,
            tenant_id=row.tenant_id,
            case_id=case.id,
            kind=kind,
            subject=subject,
            at=self.now,
        )

    async def _task(
        self, row: Any, case: Any, *, staff_id: str, kind: str, ref_id: str, title: str
    ) -> None:
        """Give a member of staff a follow-up task on the reminder's case."""
        await add_task(
            self.conn,
            tenant_id=row.tenant_id,
            case_id=case.id,
            staff_id=staff_id,
            kind=kind,
            ref_id=ref_id,
            title=title,
            at=self.now,
        )

    # -- the checks every SMS to a citizen passes --------------------------------------------

    def _gate(self, row: Any, case: Any) -> _Done | None:
        """None when the SMS may go now; otherwise what to do instead."""
        if case.status != "open":
            return _skip("case_closed")
        if row.expires_at is not None and self.now >= row.expires_at:
            return _skip("too_late")
        person = self.persons.get(row.person_id)
        if person is None or not person.has_phone:
            return _skip("no_phone")
        quiet = quiet_store.pick(self.quiet, row.tenant_id, row.person_id)
        if not self._quiet_now(quiet):
            return None
        # The relay's rule, asked here too: only the runner knows when the reminder
        # would be late (the meeting before quiet hours end), and skips it then.
        hold = gate.quiet_hours(
            self.now,
            quiet,
            self.svc.calendar,
            event_at=row.event_at,
            expires_at=row.expires_at,
        )
        if hold is None:
            return None
        if hold.until is not None:
            return _Done("pending", "quiet_hours", due_at=hold.until)
        return _skip("quiet_hours")

    def _quiet_now(self, quiet: QuietSettings) -> bool:
        """Whether it is quiet now under ``quiet``: asked once per batch for each setting."""
        quiet_now = self.quiet_now.get(id(quiet))
        if quiet_now is None:
            quiet_now = self.quiet_now[id(quiet)] = (
                gate.quiet_hours(self.now, quiet, self.svc.calendar) is not None
            )
        return quiet_now

    async def _send(self, row: Any, case: Any, body: str, subject: str) -> _Done:
        conv_id = row.conversation_id or await conversation_for(
            self.conn,
            tenant_id=row.tenant_id,
            case_id=case.id,
            person_id=row.person_id,
            at=self.now,
        )
        mid = new_id()
        self.queued.append(
            Sms(
                tenant_id=row.tenant_id,
                conversation_id=conv_id,
                case_id=case.id,
                person_id=row.person_id,
                kind="reminder",
                body=body,
                key=self.key(case),
                at=self.now,
                subject=subject,
                message_id=mid,
                language=self.persons[row.person_id].language,
            )
        )
        return _Done("sent", "sent", message_id=mid)

    # -- one row -----------------------------------------------------------------------------

    async def fire(self, row: Any) -> _Done:
        case = self.cases[row.case_id]
        handler = {
            "appointment": self._appointment,
            "deadline": self._deadline,
            "promise_due": self._promise_due,
            "promise_overdue": self._promise_overdue,
            "nudge": self._nudge,
        }.get(row.kind)
        if handler is None:
            log.error("reminder %s: unknown kind %s", row.id, row.kind)
            return _skip("unknown_kind")
        done = await handler(row, case)
        if done.state in ("skipped", "withdrawn") and done.outcome:
            await self._note(
                row,
                case,
                "reminder_skipped",
                (
                    f"Påmindelse ({_WHAT.get(row.kind, row.kind)}) ikke sendt: "
                    f"{_REASONS.get(done.outcome, done.outcome)}"
                ),
            )
        return done

    async def _appointment(self, row: Any, case: Any) -> _Done:
        appt = self.appointments.get(row.ref_id)
        if appt is None or appt.status != "scheduled" or appt.starts_at != row.event_at:
            return _skip("appointment_cancelled", withdrawn=True)
        gate = self._gate(row, case)
        if gate is not None:
            return gate
        if self.now - row.due_at > LATE and await self._superseded(row):
            return _skip("superseded")
        lang = self.persons[row.person_id].language
        place = (
            Services.unseal(self.key(case).dek, "appointments", appt.id, "place", appt.place_enc)
            if appt.place_enc is not None
            else None
        )
        body = say(
            lang,
            "appointment_place" if place else "appointment",
            tenant=self.tenants[row.tenant_id],
            date=long_date(local_date(appt.starts_at), lang),
            time=clock_time(appt.starts_at, lang),
            place=place,
        )
        return await self._send(row, case, body, "Påmindelse om møde til borger")

    async def _superseded(self, row: Any) -> bool:
        """A later reminder about the same appointment is also due: send only that one."""
        later = await self.conn.execute(
            select(reminders.c.id)
            .where(
                reminders.c.ref_id == row.ref_id,
                reminders.c.person_id == row.person_id,
                reminders.c.id != row.id,
                reminders.c.state == "pending",
                reminders.c.nominal_at > row.nominal_at,
                reminders.c.due_at <= self.now,
            )
            .limit(1)
        )
        return later.first() is not None

    async def _deadline(self, row: Any, case: Any) -> _Done:
        d = self.deadlines.get(row.ref_id)
        if d is None or d.status != "open":
            return _skip("deadline_cancelled", withdrawn=True)
        gate = self._gate(row, case)
        if gate is not None:
            return gate
        lang = self.persons[row.person_id].language
        body = say(lang, f"deadline_{d.kind}", date=long_date(d.due_on, lang))
        return await self._send(row, case, body, "Påmindelse om frist til borger")

    async def _answered(self, promise: Any) -> bool:
        """Has anyone answered in the thread since the promise was made?"""
        found = await self.conn.execute(
            select(messages.c.id)
            .where(
                messages.c.conversation_id == promise.conversation_id,
                messages.c.direction == "out",
                messages.c.kind.in_(UPDATE_KINDS),
                messages.c.status != "withdrawn",
                messages.c.created_at > promise.created_at,
            )
            .limit(1)
        )
        return found.first() is not None

    async def _promise_due(self, row: Any, case: Any) -> _Done:
        promise = self.promises.get(row.ref_id)
        if promise is None or promise.status != "open":
            return _skip("promise_closed", withdrawn=True)
        if case.status != "open":
            return _skip("case_closed")
        if await self._answered(promise):
            return _skip("answered")
        when = long_date(promise.due_on, "da")
        await self._task(
            row,
            case,
            staff_id=promise.staff_id,
            kind="promise_due",
            ref_id=promise.id,
            title=f"Du har lovet borgeren svar senest {when}",
        )
        await self._note(
            row,
            case,
            "reminder_task",
            f"Påmindelse til sagsbehandler: svar lovet borgeren senest {when}",
        )
        return _Done("sent", "task")

    async def _promise_overdue(self, row: Any, case: Any) -> _Done:
        promise = self.promises.get(row.ref_id)
        if promise is None or promise.status != "open":
            return _skip("promise_closed", withdrawn=True)
        if case.status == "open" and await self._answered(promise):
            await self.conn.execute(
                update(reply_promises)
                .where(reply_promises.c.id == promise.id)
                .values(status="kept", closed_at=self.now)
            )
            return _skip("answered")
        gate = self._gate(row, case)
        if gate is not None:
            return gate
        cal = self.svc.calendar
        days = max(int(case.reply_days), 1)
        new_date = max(
            cal.add_working_days(promise.due_on, days),
            cal.add_working_days(local_date(self.now), days),
        )
        lang = self.persons[row.person_id].language
        done = await self._send(
            row,
            case,
            say(lang, "delayed", date=long_date(new_date, lang)),
            "Besked til borger: svaret er forsinket",
        )
        await self.conn.execute(
            update(reply_promises)
            .where(reply_promises.c.id == promise.id)
            .values(status="delayed", delayed_to=new_date, closed_at=self.now)
        )
        leads = await team_leads(self.conn, case.team_id) or [case.owner_id]
        when = long_date(promise.due_on, "da")
        for lead in leads:
            await self._task(
                row,
                case,
                staff_id=lead,
                kind="promise_broken",
                ref_id=promise.id,
                title=f"Lovet svar i sag {case.number} blev ikke givet senest {when}",
            )
        await self._note(
            row,
            case,
            "promise_broken",
            (
                f"Lovet svar ikke givet senest {when}; borgeren har fået nyt svartidspunkt "
                f"({long_date(new_date, 'da')}) og teamlederen besked"
            ),
        )
        return done

    async def _nudge(self, row: Any, case: Any) -> _Done:
        if case.status != "open":
            return _skip("case_closed", withdrawn=True)
        policy = pick_policy(self.policies, case.tenant_id, case.case_type)
        if policy is None:
            return _skip("no_policy", withdrawn=True)
        cal = self.svc.calendar
        last = (
            await self.conn.execute(
                select(func.max(messages.c.created_at)).where(
                    messages.c.case_id == case.id,
                    messages.c.direction == "out",
                    messages.c.kind.in_(UPDATE_KINDS),
                    messages.c.status != "withdrawn",
                )
            )
        ).scalar_one_or_none()
        since = max(last or case.created_at, case.created_at)
        threshold = at_ten(cal.add_working_days(local_date(since), policy.nudge_days))
        if threshold > self.now:
            return _Done("pending", "waiting", due_at=threshold)
        rearm = at_ten(cal.add_working_days(local_date(self.now), policy.nudge_days))
        if policy.auto_update and await entitled_people(self.conn, case.id):
            await send_still_working(self.conn, self.svc, case, now=self.now, author_id=None)
            return _Done("pending", "auto_update", due_at=rearm)
        open_task = (
            await self.conn.execute(
                select(followup_tasks.c.id)
                .where(
                    followup_tasks.c.case_id == case.id,
                    followup_tasks.c.kind == "nudge",
                    followup_tasks.c.state == "open",
                )
                .limit(1)
            )
        ).first()
        if open_task is not None:
            return _Done("pending", "task_open", due_at=rearm)
        title = f"Ingen opdatering til borgeren i {policy.nudge_days} arbejdsdage"
        await self._task(
            row,
            case,
            staff_id=case.owner_id,
            kind="nudge",
            ref_id=case.id,
            title=title,
        )
        await self._note(
            row,
            case,
            "nudge_task",
            f"Påmindelse til sagsbehandler: {title.lower()}",
        )
        return _Done("pending", "nudged", due_at=rearm)


def claim_query(now: datetime, limit: int, *, only: str | None = None, lock: bool) -> Select[Any]:
    """Due reminders, earliest first, in the order of ix_reminders_due (so that no sort
    of all due rows is needed to find a batch); ``lock``: skipping those another
    worker holds (PostgreSQL)."""
    q = select(reminders).where(reminders.c.state == "pending", reminders.c.due_at <= now)
    if only is not None:
        q = q.where(reminders.c.id == only)
    q = q.order_by(reminders.c.due_at, reminders.c.case_id).limit(limit)
    return q.with_for_update(skip_locked=True) if lock else q


async def _claim(
    conn: AsyncConnection, svc: Services, now: datetime, limit: int, only: str | None = None
) -> list[Any]:
    q = claim_query(now, limit, only=only, lock=not svc.sqlite)
    # Once per batch; a burst of due rows the statistics do not know of yet would
    # otherwise have every claim sort all of them.
    async with index_walk(conn):
        rows = records(await conn.execute(q))
    # One lock order for journal heads across workers: by case.
    rows.sort(key=lambda r: (r.case_id, r.due_at, r.id))
    return rows


_APPLY = (
    update(reminders)
    .where(reminders.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        outcome=bindparam("b_outcome"),
        message_id=bindparam("b_message_id"),
        due_at=bindparam("b_due_at"),
        done_at=bindparam("b_done_at"),
        dedupe_key=bindparam("b_dedupe_key"),
        attempts=reminders.c.attempts + 1,
    )
)


async def _process(
    conn: AsyncConnection, svc: Services, rows: list[Any], now: datetime
) -> FireStats:
    batch = _Batch(svc, conn, now)
    await batch.load(rows)
    stats = FireStats(claimed=len(rows))
    params = []
    for row in rows:
        done = await batch.fire(row)
        final = done.state != "pending"
        if done.state == "sent" or done.outcome in ("nudged", "auto_update"):
            stats.sent += 1
        elif final:
            stats.skipped += 1
        else:
            stats.postponed += 1
        params.append(
            {
                "id": row.id,
                "state": done.state,
                "outcome": done.outcome,
                "message_id": done.message_id or row.message_id,
                "due_at": done.due_at or row.due_at,
                "done_at": now if final else None,
                "dedupe_key": None if final else row.dedupe_key,
            }
        )
    await queue_many(conn, batch.queued)
    await update_many(
        conn, reminders, params, fallback=_APPLY, assign={"attempts": "t.attempts + 1"}
    )
    return stats


async def _fail(svc: Services, reminder_id: str, now: datetime) -> None:
    """A row that failed on its own: back off, and give up after a few attempts."""
    async with svc.write() as conn:
        row = (await conn.execute(select(reminders).where(reminders.c.id == reminder_id))).first()
        if row is None or row.state != "pending":
            return
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id)
                .values(
                    state="failed", outcome="error", attempts=attempts, done_at=now, dedupe_key=None
                )
            )
            await note(
                conn,
                tenant_id=row.tenant_id,
                case_id=row.case_id,
                kind="reminder_skipped",
                subject=(
                    f"Påmindelse ({_WHAT.get(row.kind, row.kind)}) ikke sendt: "
                    "teknisk fejl, opgivet efter flere forsøg"
                ),
                at=now,
            )
            return
        await conn.execute(
            update(reminders)
            .where(reminders.c.id == reminder_id)
            .values(attempts=attempts, due_at=now + timedelta(minutes=2**attempts))
        )


async def fire_due(svc: Services, *, limit: int = BATCH) -> FireStats:
    """Claim one batch of due reminders and act on each, in one transaction.

    If the batch fails, its rows are retried one per transaction so that one
    bad row cannot hold back the others; a row that keeps failing is given up
    (state ``failed``) and journalised.
    """
    now = svc.clock.now()
    ids: list[str] = []
    try:
        async with svc.write() as conn:
            rows = await _claim(conn, svc, now, limit)
            ids = [r.id for r in rows]
            if not rows:
                return FireStats()
            stats = await _process(conn, svc, rows, now)
    except StorageUnavailable:
        raise
    except Exception:
        if not ids:
            raise
        log.exception("reminder batch of %d failed; retrying its rows one by one", len(ids))
        stats = FireStats()
        for rid in ids:
            try:
                async with svc.write() as conn:
                    rows = await _claim(conn, svc, now, 1, only=rid)
                    if rows:
                        stats.add(await _process(conn, svc, rows, now))
            except StorageUnavailable:
                raise
            except Exception:
                log.exception("reminder %s failed", rid)
                stats.failed += 1
                await _fail(svc, rid, now)
    if stats.sent:
        svc.wake_relay()
    return stats


async def run_due(svc: Services, *, limit: int | None = None, max_batches: int = 50) -> FireStats:
    """Fire due reminders until none are left (or ``max_batches`` batches ran).

    ``limit`` rows per transaction; by default ``TOVHOLDER_REMINDER_BATCH``.
    """
    limit = limit or svc.config.reminder_batch
    total = FireStats()
    for _ in range(max_batches):
        stats = await fire_due(svc, limit=limit)
        total.add(stats)
        if stats.claimed < limit:
            break
    if total.claimed:
        log.info(
            "reminders: %d claimed, %d sent, %d skipped, %d postponed, %d failed",
            total.claimed,
            total.sent,
            total.skipped,
            total.postponed,
            total.failed,
        )
    return total


async def ensure_nudges(svc: Services, *, limit: int = 1000) -> int:
    """Give every open case of a case type with a follow-up policy its recurring nudge row.

    Returns:
        How many rows were added.
    """
    now = svc.clock.now()
    known = sorted(CASE_TYPES)
    async with svc.write() as conn:
        missing = list(
            await conn.execute(
                select(cases.c.id, cases.c.tenant_id, cases.c.owner_id)
                .outerjoin(reminders, reminders.c.dedupe_key == literal("nudge:") + cases.c.id)
                .where(
                    cases.c.status == "open",
                    or_(
                        cases.c.case_type.in_(known),
                        exists().where(
                            case_type_templates.c.tenant_id == cases.c.tenant_id,
                            case_type_templates.c.code == cases.c.case_type,
                        ),
                    ),
                    reminders.c.id.is_(None),
                )
                .limit(limit)
            )
        )
        if not missing:
            return 0
        ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(reminders)
        await conn.execute(
            ins.on_conflict_do_nothing(),
            [
                {
                    "id": new_id(),
                    "tenant_id": c.tenant_id,
                    "case_id": c.id,
                    "kind": "nudge",
                    "ref_id": c.id,
                    "person_id": None,
                    "conversation_id": None,
                    "staff_id": c.owner_id,
                    "nominal_at": now,
                    "due_at": now,
                    "event_at": None,
                    "expires_at": None,
                    "state": "pending",
                    "attempts": 0,
                    "outcome": None,
                    "message_id": None,
                    "dedupe_key": f"nudge:{c.id}",
                    "created_at": now,
                    "done_at": None,
                }
                for c in missing
            ],
        )
    return len(missing)
