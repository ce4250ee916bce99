"""The export relay: every journal entry on a case reaches the case system (ESDH).

Durable work is data. :func:`journal.journal.append` queues each case entry
in ``journal_export_intake`` inside the entry's own transaction. A tick of
:func:`export_tick` then

1. fans intake rows out into one ``journal_exports`` row per enabled exporter;
2. claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   several workers never claim the same row);
3. renders each entry's PDF once and hands it to each exporter, bounded by
   a timeout;
4. marks the row done, or leaves it pending with ``last_error`` and an
   exponential, jittered backoff. An entry is never given up on: the case
   file must be complete, and ``journal reconcile`` shows what is late.

Entries in a municipality's unassigned queue belong to no case and are not
exported; once the citizen's message is tied to a case it is filed there.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import and_, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.crypto import unseal
from bot.db.schema import (
    cases,
    journal_entries,
    messages,
    participants,
    persons,
    staff,
    tenants,
)
from bot.ids import new_id
from bot.services import Services
from journal.config import JournalConfig, journal_config
from journal.exporters import ExportDocument, ExportError, JournalExporter, Party, build_exporters
from journal.pdf import entry_pdf
from journal.schema import journal_export_intake, journal_exports

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BASE_BACKOFF = 5.0
MAX_BACKOFF = 3600.0
FAN_OUT_BATCH = 500
CONCURRENCY = 4
# journal reconcile: an entry not exported this long after it was filed is late.
EXPORT_WINDOW = timedelta(seconds=60)

ACTORS = {
    "system": "Tovholder (automatisk)",
    "gateway": "SMS-gateway (leveringsstatus)",
    "citizen": "Borger",
}


@dataclass(frozen=True, slots=True)
class ExportStats:
    fanned_out: int
    claimed: int
    exported: int
    failed: int


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: uniform in [½, 1] × min(cap, base·2^(n-1))."""
    ceiling = min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(attempts - 1, 0)))
    return (rng or random).uniform(ceiling / 2, ceiling)


# -- the document ---------------------------------------------------------------------


def _name(svc: Services, table: str, row_id: str, dek: bytes, blob: bytes | None, col: str) -> str:
    if blob is None:
        return ""
    return unseal(svc.dek(table, row_id, dek), blob, f"{table}:{row_id}:{col}")


async def _actor(svc: Services, conn: AsyncConnection, actor: str, message_id: str | None) -> str:
    """Who did it, as the case file names them (never an id where a name is known)."""
    kind, _, ref = actor.partition(":")
    if kind == "staff" and ref:
        row = (
            await conn.execute(
                select(staff.c.id, staff.c.dek, staff.c.full_name_enc).where(staff.c.id == ref)
            )
        ).first()
        if row is not None:
            return f"{_name(svc, 'staff', row.id, row.dek, row.full_name_enc, 'full_name')} " \
                "(medarbejder)"  # fmt: skip
        return "Medarbejder"
    if actor == "citizen" and message_id is not None:
        row = (
            await conn.execute(
                select(persons.c.id, persons.c.dek, persons.c.name_enc)
                .join(messages, messages.c.person_id == persons.c.id)
                .where(messages.c.id == message_id)
            )
        ).first()
        if row is not None and row.name_enc is not None:
            return f"{_name(svc, 'persons', row.id, row.dek, row.name_enc, 'name')} (borger)"
        return "Borger (ukendt afsender)"
    return ACTORS.get(actor, actor)


async def load_document(
    svc: Services, entry_id: str, config: JournalConfig | None = None
) -> ExportDocument:
    """One case entry, decrypted and rendered as the case system receives it."""
    cfg = config or journal_config(svc.config)
    async with svc.read() as conn:
        e = (
            await conn.execute(
                select(
                    journal_entries,
                    cases.c.number,
                    cases.c.dek.label("case_dek"),
                    tenants.c.name.label("municipality"),
                )
                .join(cases, cases.c.id == journal_entries.c.case_id)
                .join(tenants, tenants.c.id == journal_entries.c.tenant_id)
                .where(journal_entries.c.id == entry_id)
            )
        ).one()
        party_rows = (
            await conn.execute(
                select(participants.c.role, persons.c.id, persons.c.dek, persons.c.name_enc)
                .join(persons, persons.c.id == participants.c.person_id)
                .where(participants.c.case_id == e.case_id)
                .order_by(participants.c.created_at, persons.c.id)
            )
        ).all()
        parties = tuple(
            Party(p.role, _name(svc, "persons", p.id, p.dek, p.name_enc, "name") or "(ukendt)")
            for p in party_rows
        )
        actor = await _actor(svc, conn, e.actor, e.message_id)
        content = None
        if e.content_enc is not None:
            if e.key_scope == "case":
                key_row = (
                    await conn.execute(select(cases.c.dek).where(cases.c.id == e.key_owner_id))
                ).scalar_one()
                dek = svc.dek("cases", e.key_owner_id, key_row)
            else:
                key_row = (
                    await conn.execute(select(persons.c.dek).where(persons.c.id == e.key_owner_id))
                ).scalar_one()
                dek = svc.dek("persons", e.key_owner_id, key_row)
            content = unseal(dek, e.content_enc, f"journal_entries:{e.id}:content")
    pdf = await asyncio.to_thread(
        entry_pdf,
        municipality=e.municipality,
        case_number=e.number,
        created_at=e.created_at,
        kind=e.kind,
        direction=e.direction,
        channel=e.channel,
        subject=e.subject,
        actor=actor,
        parties=[(p.role, p.name) for p in parties],
        content=content,
        entry_id=e.id,
        chain=e.chain,
        seq=e.seq,
        entry_hash=e.hash,
        font=cfg.pdf_font,
    )
    return ExportDocument(
        entry_id=e.id,
        tenant_id=e.tenant_id,
        municipality=e.municipality,
        case_id=e.case_id,
        case_number=e.number,
        chain=e.chain,
        seq=e.seq,
        kind=e.kind,
        direction=e.direction,
        channel=e.channel,
        subject=e.subject,
        actor=actor,
        created_at=e.created_at,
        entry_hash=e.hash,
        parties=parties,
        pdf=pdf,
    )


# -- the relay ------------------------------------------------------------------------


async def _fan_out(svc: Services, names: Sequence[str]) -> int:
    """Turn intake rows into one export row per enabled exporter."""
    now = svc.clock.now()
    async with svc.write() as conn:
        q = (
            select(journal_export_intake.c.entry_id, journal_export_intake.c.tenant_id)
            .order_by(journal_export_intake.c.created_at)
            .limit(FAN_OUT_BATCH)
        )
        if not svc.sqlite:
            q = q.with_for_update(skip_locked=True)
        rows = (await conn.execute(q)).all()
        if not rows:
            return 0
        await conn.execute(
            journal_exports.insert(),
            [
                {
                    "id": new_id(),
                    "tenant_id": r.tenant_id,
                    "entry_id": r.entry_id,
                    "exporter": name,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for r in rows
                for name in names
            ],
        )
        await conn.execute(
            delete(journal_export_intake).where(
                journal_export_intake.c.entry_id.in_([r.entry_id for r in rows])
            )
        )
    return len(rows)


async def _claim(svc: Services, names: Sequence[str], limit: int) -> list[Any]:
    now = svc.clock.now()
    due = or_(
        and_(journal_exports.c.state == "pending", journal_exports.c.next_attempt_at <= now),
        and_(journal_exports.c.state == "sending", journal_exports.c.lease_until < now),
    )
    async with svc.write() as conn:
        q = (
            select(journal_exports.c.id, journal_exports.c.entry_id, journal_exports.c.exporter)
            .where(due, journal_exports.c.exporter.in_(names))
            .order_by(journal_exports.c.next_attempt_at, journal_exports.c.id)
            .limit(limit)
        )
        if not svc.sqlite:
            q = q.with_for_update(skip_locked=True)
        rows = (await conn.execute(q)).all()
        if rows:
            await conn.execute(
                update(journal_exports)
                .where(journal_exports.c.id.in_([r.id for r in rows]))
                .values(
                    state="sending",
                    lease_until=now + LEASE,
                    attempts=journal_exports.c.attempts + 1,
                )
            )
    return list(rows)


async def _done(svc: Services, export_id: str, receipt: str) -> None:
    async with svc.write() as conn:
        await conn.execute(
            update(journal_exports)
            .where(journal_exports.c.id == export_id)
            .values(
                state="done",
                lease_until=None,
                last_error=None,
                receipt=receipt[:200],
                exported_at=svc.clock.now(),
            )
        )


async def _retry_later(svc: Services, export_id: str, error: str) -> None:
    async with svc.write() as conn:
        attempts = (
            await conn.execute(
                select(journal_exports.c.attempts).where(journal_exports.c.id == export_id)
            )
        ).scalar_one()
        await conn.execute(
            update(journal_exports)
            .where(journal_exports.c.id == export_id, journal_exports.c.state == "sending")
            .values(
                state="pending",
                lease_until=None,
                last_error=error[:200],
                next_attempt_at=svc.clock.now() + timedelta(seconds=backoff_seconds(attempts)),
            )
        )


async def _deliver(
    svc: Services,
    row: Any,
    exporter: JournalExporter,
    document: asyncio.Future[ExportDocument],
    limit_s: float,
) -> bool:
    try:
        doc = await document
    except Exception as exc:
        log.exception("journal export %s: entry %s could not be prepared", row.id, row.entry_id)
        await _retry_later(svc, row.id, f"document_error: {type(exc).__name__}")
        return False
    try:
        async with asyncio.timeout(limit_s):
            receipt = await exporter.export(doc)
    except ExportError as exc:
        log.warning(
            "journal export %s (%s) of entry %s failed: %s",
            row.id,
            exporter.name,
            row.entry_id,
            exc.code,
        )
        await _retry_later(svc, row.id, str(exc))
        return False
    except TimeoutError:
        log.warning(
            "journal export %s (%s) of entry %s timed out", row.id, exporter.name, row.entry_id
        )
        await _retry_later(svc, row.id, f"timeout: no answer within {limit_s:g} s")
        return False
    except Exception as exc:
        log.exception("journal export %s (%s): unexpected failure", row.id, exporter.name)
        await _retry_later(svc, row.id, f"internal_error: {type(exc).__name__}")
        return False
    await _done(svc, row.id, receipt)
    return True


async def export_once(
    svc: Services, config: JournalConfig, exporters: Sequence[JournalExporter]
) -> ExportStats:
    """One round: fan out new entries, claim a batch, deliver it."""
    by_name = {e.name: e for e in exporters}
    names = list(by_name)
    fanned = 0
    while True:
        n = await _fan_out(svc, names)
        fanned += n
        if n < FAN_OUT_BATCH:
            break
    rows = await _claim(svc, names, config.export_batch)
    if not rows:
        return ExportStats(fanned, 0, 0, 0)
    documents: dict[str, asyncio.Future[ExportDocument]] = {}
    for r in rows:
        if r.entry_id not in documents:
            documents[r.entry_id] = asyncio.ensure_future(load_document(svc, r.entry_id, config))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(r: Any) -> bool:
        async with gate:
            return await _deliver(
                svc, r, by_name[r.exporter], documents[r.entry_id], config.export_timeout
            )

    try:
        outcomes = await asyncio.gather(*(one(r) for r in rows))
    finally:
        for fut in documents.values():
            if not fut.done():
                fut.cancel()
    ok = sum(outcomes)
    return ExportStats(fanned, len(rows), ok, len(rows) - ok)


async def export_tick(
    svc: Services,
    config: JournalConfig | None = None,
    exporters: Sequence[JournalExporter] | None = None,
) -> ExportStats:
    """The Ticker job: relay due journal exports to the case system.

    Args:
        svc: the service context.
        config: the journal configuration; by default ``svc.config.journal``
            (or the ``TOVHOLDER_JOURNAL_*`` variables in ``svc.config.extra``).
        exporters: ready exporters; by default built from ``config`` for this tick.
    """
    cfg = config or journal_config(svc.config)
    if exporters is not None:
        return await export_once(svc, cfg, exporters)
    if not cfg.exporters:
        return ExportStats(0, 0, 0, 0)
    if "http" not in cfg.exporters:
        return await export_once(svc, cfg, build_exporters(cfg, session=None, clock=svc.clock))
    async with aiohttp.ClientSession() as session:
        return await export_once(svc, cfg, build_exporters(cfg, session=session, clock=svc.clock))


# -- export status ----------------------------------------------------------------------


def summarise(case_id: str | None, queued: bool, rows: Sequence[Any]) -> str:
    """One word for an entry's export state.

    ``not_applicable`` (no case), ``queued`` (not yet handed to an exporter),
    ``exported`` (every exporter done), ``failing`` (a try failed; it will be
    retried) or ``pending``.
    """
    if case_id is None:
        return "not_applicable"
    if queued or not rows:
        return "queued"
    if all(r.state == "done" for r in rows):
        return "exported"
    if any(r.state != "done" and r.last_error for r in rows):
        return "failing"
    return "pending"


async def export_status(
    conn: AsyncConnection, entries: Sequence[tuple[str, str | None]]
) -> dict[str, dict[str, Any]]:
    """Export status of each (entry id, case id): a summary and one line per exporter."""
    ids = [e for e, _ in entries]
    if not ids:
        return {}
    queued = set(
        (
            await conn.execute(
                select(journal_export_intake.c.entry_id).where(
                    journal_export_intake.c.entry_id.in_(ids)
                )
            )
        ).scalars()
    )
    rows = (
        await conn.execute(
            select(journal_exports)
            .where(journal_exports.c.entry_id.in_(ids))
            .order_by(journal_exports.c.exporter)
        )
    ).all()
    per_entry: dict[str, list[Any]] = {i: [] for i in ids}
    for r in rows:
        per_entry[r.entry_id].append(r)
    return {
        entry_id: {
            "state": summarise(case_id, entry_id in queued, per_entry[entry_id]),
            "exporters": [
                {
                    "exporter": r.exporter,
                    "state": r.state,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "next_attempt_at": r.next_attempt_at.isoformat() if r.state != "done" else None,
                    "exported_at": r.exported_at.isoformat() if r.exported_at else None,
                    "receipt": r.receipt,
                }
                for r in per_entry[entry_id]
            ],
        }
        for entry_id, case_id in entries
    }


# -- reconcile --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unjournalled:
    message_id: str
    tenant_id: str
    case_id: str | None
    direction: str
    kind: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Unexported:
    entry_id: str
    case_id: str
    created_at: datetime
    state: str
    last_error: str | None


@dataclass(slots=True)
class ReconcileReport:
    exporters: tuple[str, ...]
    unjournalled: list[Unjournalled]
    unexported: list[Unexported]
    unexported_total: int

    @property
    def ok(self) -> bool:
        return not self.unjournalled and not self.unexported_total

    def summary(self) -> str:
        lines = []
        if self.unjournalled:
            lines.append(f"{len(self.unjournalled)} exchange(s) without a journal entry:")
            lines += [
                f"  message {m.message_id} ({m.direction} {m.kind}, {m.created_at.isoformat()}, "
                f"case {m.case_id or '-'})"
                for m in self.unjournalled
            ]
        if not self.exporters:
            if self.unexported_total:
                lines.append(
                    f"no exporter is configured: {self.unexported_total} case entries "
                    "have not been exported"
                )
        elif self.unexported_total:
            lines.append(
                f"{self.unexported_total} entr(y/ies) not exported within "
                f"{int(EXPORT_WINDOW.total_seconds())} s "
                f"(exporters: {', '.join(self.exporters)}):"
            )
            lines += [
                f"  entry {u.entry_id} (case {u.case_id}, {u.created_at.isoformat()}): "
                f"{u.state}{' - ' + u.last_error if u.last_error else ''}"
                for u in self.unexported
            ]
        return (
            "\n".join(lines)
            if lines
            else "reconcile OK: every exchange is journalised and exported"
        )


async def reconcile(
    svc: Services, config: JournalConfig | None = None, *, limit: int = 100
) -> ReconcileReport:
    """Exchanges without a journal entry, and case entries not exported in time.

    Args:
        limit: at most this many unexported entries are listed (all are counted).
    """
    cfg = config or journal_config(svc.config)
    names = list(cfg.exporters)
    cutoff = svc.clock.now() - EXPORT_WINDOW
    async with svc.read() as conn:
        missing = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.tenant_id,
                    messages.c.case_id,
                    messages.c.direction,
                    messages.c.kind,
                    messages.c.created_at,
                )
                .where(
                    ~select(journal_entries.c.id)
                    .where(journal_entries.c.message_id == messages.c.id)
                    .exists()
                )
                .order_by(messages.c.created_at, messages.c.id)
            )
        ).all()
        done = (
            select(func.count())
            .select_from(journal_exports)
            .where(
                journal_exports.c.entry_id == journal_entries.c.id,
                journal_exports.c.state == "done",
                journal_exports.c.exporter.in_(names),
            )
            .scalar_subquery()
        )
        late = and_(
            journal_entries.c.case_id.is_not(None),
            journal_entries.c.created_at < cutoff,
            done < len(names) if names else true(),
        )
        total = (
            await conn.execute(select(func.count()).select_from(journal_entries).where(late))
        ).scalar_one()
        listed = []
        if names and total:

            def worst(col: Any) -> Any:
                # The export row that explains the delay best: one with an error first.
                return (
                    select(col)
                    .where(
                        journal_exports.c.entry_id == journal_entries.c.id,
                        journal_exports.c.exporter.in_(names),
                        journal_exports.c.state != "done",
                    )
                    .order_by(journal_exports.c.last_error.is_(None), journal_exports.c.exporter)
                    .limit(1)
                    .scalar_subquery()
                )

            rows = (
                await conn.execute(
                    select(
                        journal_entries.c.id,
                        journal_entries.c.case_id,
                        journal_entries.c.created_at,
                        worst(journal_exports.c.state).label("state"),
                        worst(journal_exports.c.last_error).label("last_error"),
                    )
                    .where(late)
                    .order_by(journal_entries.c.created_at, journal_entries.c.id)
                    .limit(limit)
                )
            ).all()
            listed = [
                Unexported(r.id, r.case_id, r.created_at, r.state or "queued", r.last_error)
                for r in rows
            ]
    return ReconcileReport(
        exporters=tuple(names),
        unjournalled=[Unjournalled(*m) for m in missing],
        unexported=listed,
        unexported_total=total,
    )
