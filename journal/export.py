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
from sqlalchemy import and_, bindparam, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.base.services import Services
from bot.store.events import emit
from bot.store.schema.core import (
    journal_entries,
    messages,
)
from bot.store.schema.integration import webhook_subscriptions
from bot.store.schema.journal import journal_export_intake, journal_exports
from journal.config import JournalConfig, journal_config
from journal.documents import load_document, load_documents
from journal.exporters import ExportDocument, ExportError, JournalExporter, build_exporters

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BASE_BACKOFF = 5.0
MAX_BACKOFF = 3600.0
FAN_OUT_BATCH = 500
# Rows delivered at once: rendering is CPU-bound, but each file drop waits on four fsyncs.
CONCURRENCY = 8
# One export tick keeps taking batches while they come back full, for at most this long.
TICK_BUDGET = 10.0
# journal reconcile: an entry not exported this long after it was filed is late.
EXPORT_WINDOW = timedelta(seconds=60)


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


async def _done(svc: Services, done: Sequence[tuple[str, str, datetime]]) -> None:
    """Mark a batch's delivered rows done, in one transaction: (export id, receipt, when)."""
    if not done:
        return
    async with svc.write() as conn:
        await conn.execute(
            update(journal_exports)
            .where(journal_exports.c.id == bindparam("export_id"))
            .values(
                state="done",
                lease_until=None,
                last_error=None,
                receipt=bindparam("r_receipt"),
                exported_at=bindparam("r_at"),
            ),
            [{"export_id": i, "r_receipt": r[:200], "r_at": at} for i, r, at in done],
        )
        await _announce(conn, [i for i, _r, _at in done])


async def _announce(conn: AsyncConnection, export_ids: Sequence[str]) -> None:
    """A ``journal.exported`` webhook event per exported entry, for tenants that subscribe."""
    rows = (
        await conn.execute(
            select(
                journal_exports.c.entry_id,
                journal_exports.c.exporter,
                journal_exports.c.exported_at,
                journal_entries.c.tenant_id,
                journal_entries.c.case_id,
            )
            .join(journal_entries, journal_entries.c.id == journal_exports.c.entry_id)
            .where(journal_exports.c.id.in_(export_ids))
        )
    ).all()
    tenants = {r.tenant_id for r in rows}
    wanting = set(
        (
            await conn.execute(
                select(webhook_subscriptions.c.tenant_id).where(
                    webhook_subscriptions.c.tenant_id.in_(tenants),
                    webhook_subscriptions.c.active.is_(True),
                    webhook_subscriptions.c.events.contains("journal.exported"),
                )
            )
        ).scalars()
    )
    for r in rows:
        if r.tenant_id in wanting:
            await emit(
                conn,
                tenant_id=r.tenant_id,
                event="journal.exported",
                payload={"entry_id": r.entry_id, "case_id": r.case_id, "exporter": r.exporter},
                at=r.exported_at,
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
) -> str | None:
    """Hand one row's document to its exporter: the receipt, or None (retried later)."""
    try:
        doc = await document
    except Exception as exc:
        log.exception("journal export %s: entry %s could not be prepared", row.id, row.entry_id)
        await _retry_later(svc, row.id, f"document_error: {type(exc).__name__}")
        return None
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
        return None
    except TimeoutError:
        log.warning(
            "journal export %s (%s) of entry %s timed out", row.id, exporter.name, row.entry_id
        )
        await _retry_later(svc, row.id, f"timeout: no answer within {limit_s:g} s")
        return None
    except Exception as exc:
        log.exception("journal export %s (%s): unexpected failure", row.id, exporter.name)
        await _retry_later(svc, row.id, f"internal_error: {type(exc).__name__}")
        return None
    return receipt


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
    # The batch's documents are read in a few queries and each rendered once, however many
    # exporters it goes to. A document that cannot be prepared fails only its own rows.
    documents: dict[str, asyncio.Future[ExportDocument]] = {}
    loop = asyncio.get_running_loop()
    try:
        loaded = await load_documents(svc, [r.entry_id for r in rows], config)
        for r in rows:
            fut = documents.setdefault(r.entry_id, loop.create_future())
            if not fut.done():
                if r.entry_id in loaded:
                    fut.set_result(loaded[r.entry_id])
                else:
                    fut.set_exception(LookupError("the entry is not a case entry"))
    except Exception:
        # One bad entry must not hold up the rest: each is prepared on its own instead.
        log.exception("journal export: the batch could not be prepared; entry by entry")
        documents.clear()
    gate = asyncio.Semaphore(CONCURRENCY)
    done: list[tuple[str, str, datetime]] = []

    async def one(r: Any) -> bool:
        async with gate:
            doc = documents.get(r.entry_id)
            if doc is None:
                doc = documents[r.entry_id] = asyncio.ensure_future(
                    load_document(svc, r.entry_id, config)
                )
            receipt = await _deliver(svc, r, by_name[r.exporter], doc, config.export_timeout)
        if receipt is None:
            return False
        done.append((r.id, receipt, svc.clock.now()))
        return True

    try:
        outcomes = await asyncio.gather(*(one(r) for r in rows))
    finally:
        for fut in documents.values():
            if not fut.done():
                fut.cancel()
        # Delivered is delivered: record it even when a sibling failed unexpectedly.
        await _done(svc, done)
    ok = sum(outcomes)
    return ExportStats(fanned, len(rows), ok, len(rows) - ok)


async def export_rounds(
    svc: Services, config: JournalConfig, exporters: Sequence[JournalExporter]
) -> ExportStats:
    """Rounds until a batch comes back short, or :data:`TICK_BUDGET` seconds have passed.

    A backlog is worked off in one tick instead of one batch per interval.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TICK_BUDGET
    total = ExportStats(0, 0, 0, 0)
    while True:
        s = await export_once(svc, config, exporters)
        total = ExportStats(
            total.fanned_out + s.fanned_out,
            total.claimed + s.claimed,
            total.exported + s.exported,
            total.failed + s.failed,
        )
        # A failure backs its row off; another round now would not help it.
        if s.claimed < config.export_batch or s.failed or loop.time() >= deadline:
            return total


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
        return await export_rounds(svc, cfg, exporters)
    if not cfg.exporters:
        return ExportStats(0, 0, 0, 0)
    if "http" not in cfg.exporters:
        return await export_rounds(svc, cfg, build_exporters(cfg, session=None, clock=svc.clock))
    async with aiohttp.ClientSession() as session:
        return await export_rounds(svc, cfg, build_exporters(cfg, session=session, clock=svc.clock))


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
