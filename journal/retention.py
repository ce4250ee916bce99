"""Retention (bevaring og sletning): the journal is kept for its period, then removed.

Journalised material is not deleted on request (the municipality's duty to keep
the case file comes first): an erasure request is recorded as a restriction of
processing, with its reason, on every case of the person, and the person gets
no more proactive messages. Transient data — one-time codes, spent links to the
secure inbox, delivery bookkeeping of sent messages — is purged after
``TOVHOLDER_RETENTION_TRANSIENT_DAYS`` (default 30).

A case's journal is kept for the retention period of its case type
(:data:`DEFAULT_BY_TYPE`, else :data:`DEFAULT_DAYS`; a municipality sets its own
per type in ``retention_rules``, ``"*"`` for every type it has not named). The
period runs from the case's last journal entry once it is closed — normally the
``case_closed`` entry; anything filed later (a late reply, a restriction) starts
it again. A case is *due* when it is closed, has a ``case_closed`` entry, every
entry has been exported to the case system (ESDH), and the period has passed.

A due journal is removed through one path, :func:`remove_case_journal`: it
first writes an append-only ``journal_retention`` record (case, entry count,
final head, when, under which rule), and a ``retired`` line in the heads sink,
then deletes the chain with its head and export bookkeeping. On PostgreSQL the
database enforces this (migration ``0012_retention``): the record can only be
inserted for a due case, and entries and heads can only be deleted in the
transaction that inserted their chain's record. ``journal verify`` reads the
records and the sink's retired lines, so a retired chain is not reported as
tampered with, while a chain removed any other way still is.

The same transaction clears the content of the municipality's unassigned-chain
entries about the case's messages (those no other case's chain names), under
signed redaction records (:mod:`journal.redaction`); verify accepts those
entries' hashes only on a valid redaction.

A restriction (erasure request) does not shorten the period: restricted material
is kept, unused, until its case's period ends, and is then removed like the rest.
The restriction record itself (on the person) stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, seal
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store.schema.core import (
    cases,
    inbox_links,
    journal_entries,
    journal_heads,
    metadata,
    outbox,
    participants,
    persons,
    restrictions,
    staff_notices,
)
from bot.store.schema.journal import (
    journal_anchors,
    journal_export_intake,
    journal_exports,
    journal_retention,
    retention_rules,
)
from journal.case_removal import remove_case_content
from journal.config import JournalConfig, journal_config
from journal.journal import append
from journal.redaction import case_messages, redact_unassigned
from journal.sinkfile import append_lines, format_line

log = logging.getLogger(__name__)


def transient_days(svc: Services) -> int:
    return int(svc.config.extra.get("TOVHOLDER_RETENTION_TRANSIENT_DAYS", "30"))


async def purge_transient(svc: Services) -> dict[str, int]:
    """Delete transient rows older than the retention period. Returns counts per kind."""
    cutoff = svc.clock.now() - timedelta(days=transient_days(svc))
    counts: dict[str, int] = {}
    async with svc.write() as conn:
        counts["inbox_links"] = (
            await conn.execute(delete(inbox_links).where(inbox_links.c.expires_at < cutoff))
        ).rowcount
        counts["outbox"] = (
            await conn.execute(
                delete(outbox).where(
                    outbox.c.state.in_(["done", "failed", "withdrawn"]),
                    outbox.c.created_at < cutoff,
                )
            )
        ).rowcount
        spent_notices = select(staff_notices.c.id).where(
            staff_notices.c.created_at < cutoff,
            ~staff_notices.c.id.in_(
                select(outbox.c.staff_notice_id).where(outbox.c.staff_notice_id.is_not(None))
            ),
        )
        counts["staff_notices"] = (
            await conn.execute(delete(staff_notices).where(staff_notices.c.id.in_(spent_notices)))
        ).rowcount
        codes = metadata.tables.get("web_login_codes")
        if codes is not None:
            counts["login_codes"] = (
                await conn.execute(
                    delete(codes).where(codes.c.expires_at < svc.clock.now() - timedelta(days=1))
                )
            ).rowcount
    if any(counts.values()):
        log.info("retention purged %s", counts)
    return counts


async def restrict(svc: Services, user: StaffUser, person_id: str, reason: Any) -> dict[str, Any]:
    """Record an erasure request as a restriction of processing, journalised on each case."""
    if user.role not in ("lead", "admin"):
        raise NotFound("No such person", code="person_not_found")
    if not isinstance(reason, str) or not 3 <= len(reason.strip()) <= 1000:
        raise BadInput("A reason of 3–1000 characters is required", code="bad_reason")
    now = svc.clock.now()
    async with svc.write() as conn:
        person = (
            await conn.execute(
                select(persons.c.id, persons.c.dek).where(
                    persons.c.id == person_id, persons.c.tenant_id == user.tenant_id
                )
            )
        ).first()
        if person is None:
            raise NotFound("No such person", code="person_not_found")
        rid = new_id()
        dek = svc.dek("persons", person.id, person.dek)
        await conn.execute(
            restrictions.insert().values(
                id=rid,
                tenant_id=user.tenant_id,
                person_id=person.id,
                staff_id=user.id,
                reason_enc=seal(dek, reason.strip(), f"restrictions:{rid}:reason"),
                created_at=now,
            )
        )
        case_rows = (
            await conn.execute(
                select(cases.c.id, cases.c.dek)
                .join(participants, participants.c.case_id == cases.c.id)
                .where(participants.c.person_id == person.id)
            )
        ).all()
        for case in case_rows:
            key = SealingKey("case", case.id, svc.dek("cases", case.id, case.dek))
            await append(
                conn,
                tenant_id=user.tenant_id,
                case_id=case.id,
                kind="restriction",
                direction="internal",
                channel="api",
                subject="Anmodning om sletning registreret som begrænsning af behandling",
                actor=f"staff:{user.id}",
                at=now,
                content=reason.strip(),
                key=key,
            )
    return {"id": rid, "person_id": person.id, "cases": len(case_rows)}


async def is_restricted(conn: Any, person_id: str) -> bool:
    return (
        await conn.execute(select(restrictions.c.id).where(restrictions.c.person_id == person_id))
    ).first() is not None


# -- retention per case type ------------------------------------------------------------

# Defaults until a municipality sets its own (they must agree with the PostgreSQL
# function tovholder_retention_days in migration 0012_retention): five years after
# closing, ten for a children's case (børnesag).
DEFAULT_DAYS = 1826
DEFAULT_BY_TYPE: dict[str, int] = {"boernesag": 3653}
ANY_TYPE = "*"
_IN_CHUNK = 500


class NotDue(Exception):
    """The case's journal may not be removed (yet): open, not exported, or within its period."""

    def __init__(self, case_id: str, reason: str) -> None:
        super().__init__(f"case {case_id}: {reason}")
        self.case_id = case_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RetentionState:
    """Where one closed case stands against its retention period."""

    case_id: str
    tenant_id: str
    case_type: str
    chain: str
    entries: int
    final_seq: int
    final_hash: str
    closed_at: datetime | None
    last_at: datetime
    days: int
    source: str  # "municipality" | "default"
    due_at: datetime
    blocked: str | None  # why it may not go even when the period has passed
    action: str = "remove"  # or "archive": kept under archive law, restricted instead

    @property
    def rule(self) -> str:
        return f"{self.case_type}: {self.days} days ({self.source})"

    def due(self, now: datetime) -> bool:
        return self.blocked is None and self.due_at <= now


@dataclass(slots=True)
class RetentionReport:
    """What a retention run found and did (ids only: never names or content)."""

    applied: bool
    due: list[RetentionState] = field(default_factory=list)
    removed: list[tuple[str, int]] = field(default_factory=list)  # (case id, entries)
    restricted: list[str] = field(default_factory=list)  # kept under archive law instead
    refused: list[tuple[str, str]] = field(default_factory=list)  # (case id, reason)
    waiting: int = 0  # closed cases still within their period (or not yet exported)

    def summary(self) -> str:
        verb = "removed" if self.applied else "would remove"
        lines = [
            f"retention: {len(self.due)} closed case journal(s) due; {self.waiting} still kept"
        ]
        done = dict(self.removed)
        for s in self.due:
            if s.action == "archive":
                lines.append(
                    f"  {'restricted' if self.applied else 'would restrict'} case {s.case_id}: "
                    f"kept under archive law ({s.rule})"
                )
                continue
            if self.applied and s.case_id not in done:
                continue
            n = done.get(s.case_id, s.entries)
            lines.append(
                f"  {verb} case {s.case_id}: {n} entries, head #{s.final_seq}, "
                f"due {s.due_at.isoformat()} under {s.rule}"
            )
        lines += [f"  refused case {c}: {why}" for c, why in self.refused]
        return "\n".join(lines)


def default_days(case_type: str) -> int:
    return DEFAULT_BY_TYPE.get(case_type, DEFAULT_DAYS)


ACTIONS = ("remove", "archive")


def check_rule(case_type: Any, days: Any, action: Any) -> None:
    """Refuse a rule that is not one: the days, the type and the action are checked.

    Raises:
        BadInput: with the code of the first field that is wrong.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36_525:
        raise BadInput("days must be a whole number from 1 to 36525", code="bad_days")
    if (
        not isinstance(case_type, str)
        or not 1 <= len(case_type) <= 64
        or case_type != case_type.strip()
    ):
        raise BadInput("case_type must be 1–64 characters", code="bad_case_type")
    if action not in ACTIONS:
        raise BadInput("action must be remove or archive", code="bad_action")


async def set_rule(
    svc: Services, tenant_id: str, case_type: str, days: Any, action: Any = "remove"
) -> dict[str, Any]:
    """A municipality's retention rule for one case type (``"*"``: every other type).

    Args:
        days: how long a closed case is kept after its last entry.
        action: ``remove`` (the whole case goes when the period ends) or ``archive``
            (archive law requires keeping it: the case is restricted instead).
    """
    check_rule(case_type, days, action)
    now = svc.clock.now()
    async with svc.write() as conn:
        await conn.execute(
            delete(retention_rules).where(
                retention_rules.c.tenant_id == tenant_id, retention_rules.c.case_type == case_type
            )
        )
        await conn.execute(
            retention_rules.insert().values(
                tenant_id=tenant_id, case_type=case_type, days=days, action=action, created_at=now
            )
        )
    return {"case_type": case_type, "days": days, "action": action, "set_at": now.isoformat()}


async def list_rules(svc: Services, tenant_id: str) -> list[dict[str, Any]]:
    """The municipality's own rules, by case type (the defaults apply to every other type)."""
    async with svc.read() as conn:
        rows = await conn.execute(
            select(retention_rules)
            .where(retention_rules.c.tenant_id == tenant_id)
            .order_by(retention_rules.c.case_type)
        )
        return [
            {
                "case_type": r.case_type,
                "days": r.days,
                "action": r.action,
                "set_at": r.created_at.isoformat(),
            }
            for r in rows
        ]


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]


async def _chain_stats(
    conn: AsyncConnection, chains: Sequence[str]
) -> tuple[dict[str, Any], set[str], set[str]]:
    """Per chain: entry count and times; chains with an export not done; chains with
    entries never handed to an exporter (still in the intake)."""
    stats: dict[str, Any] = {}
    unsent: set[str] = set()
    pending: set[str] = set()
    for part in _chunks(chains):
        rows = await conn.execute(
            select(
                journal_entries.c.chain,
                func.count().label("n"),
                func.max(journal_entries.c.created_at).label("last_at"),
                func.max(
                    case((journal_entries.c.kind == "case_closed", journal_entries.c.created_at))
                ).label("closed_at"),
            )
            .where(journal_entries.c.chain.in_(part))
            .group_by(journal_entries.c.chain)
        )
        stats.update({r.chain: r for r in rows})
        unsent.update(
            (
                await conn.execute(
                    select(journal_entries.c.chain)
                    .join(
                        journal_export_intake,
                        journal_export_intake.c.entry_id == journal_entries.c.id,
                    )
                    .where(journal_entries.c.chain.in_(part))
                    .distinct()
                )
            ).scalars()
        )
        pending.update(
            (
                await conn.execute(
                    select(journal_entries.c.chain)
                    .join(journal_exports, journal_exports.c.entry_id == journal_entries.c.id)
                    .where(journal_entries.c.chain.in_(part), journal_exports.c.state != "done")
                    .distinct()
                )
            ).scalars()
        )
    return stats, pending, unsent


async def _restricted(conn: AsyncConnection, case_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in _chunks(case_ids):
        found.update(
            (
                await conn.execute(
                    select(restrictions.c.case_id).where(restrictions.c.case_id.in_(part))
                )
            ).scalars()
        )
    return found


@dataclass(frozen=True, slots=True)
class _Facts:
    """What blocks a closed case's removal, gathered once for a run."""

    pending: set[str]
    unsent: set[str]
    restricted: set[str]
    exports_nowhere: bool

    def blocked(self, case_id: str, chain: str, closed: bool, own_rule: bool) -> str | None:
        if not closed:
            return "the case was never closed in its journal"
        if case_id in self.restricted:
            return "restricted: kept under archive law"
        if chain in self.pending:
            return "entries are not yet exported to the case system"
        if chain not in self.unsent:
            return None
        if not self.exports_nowhere:
            return "entries are not yet exported to the case system"
        if not own_rule:
            return "nothing is exported and the municipality has set no retention rule of its own"
        return None


async def retention_states(
    conn: AsyncConnection,
    *,
    case_ids: Sequence[str] | None = None,
    exports_nowhere: bool = False,
) -> list[RetentionState]:
    """Every closed case that still has a journal, with its rule and due date.

    Args:
        exports_nowhere: no exporter is configured. Entries then never reach a
            case system, and a case goes only under the municipality's own rule.
    """
    chain_of = literal("case:") + cases.c.id
    q = (
        select(
            cases.c.id,
            cases.c.tenant_id,
            cases.c.case_type,
            journal_heads.c.chain,
            journal_heads.c.seq,
            journal_heads.c.hash,
        )
        .join(journal_heads, journal_heads.c.chain == chain_of)
        .where(cases.c.status == "closed", journal_heads.c.seq > 0)
        .order_by(cases.c.id)
    )
    if case_ids is not None:
        q = q.where(cases.c.id.in_(list(case_ids)))
    heads = (await conn.execute(q)).all()
    if not heads:
        return []
    stats, pending, unsent = await _chain_stats(conn, [h.chain for h in heads])
    facts = _Facts(pending, unsent, await _restricted(conn, [h.id for h in heads]), exports_nowhere)
    tenants = sorted({h.tenant_id for h in heads})
    rules = {
        (r.tenant_id, r.case_type): (r.days, r.action)
        for r in await conn.execute(
            select(retention_rules).where(retention_rules.c.tenant_id.in_(tenants))
        )
    }
    out = []
    for h in heads:
        st = stats.get(h.chain)
        if st is None:  # a head without entries: verify's business, not retention's
            continue
        own = rules.get((h.tenant_id, h.case_type), rules.get((h.tenant_id, ANY_TYPE)))
        days, action = own if own is not None else (default_days(h.case_type), "remove")
        closed_at = _utc(st.closed_at)
        last_at = _utc(st.last_at)
        assert last_at is not None
        out.append(
            RetentionState(
                case_id=h.id,
                tenant_id=h.tenant_id,
                case_type=h.case_type,
                chain=h.chain,
                entries=int(st.n),
                final_seq=int(h.seq),
                final_hash=h.hash,
                closed_at=closed_at,
                last_at=last_at,
                days=days,
                source="default" if own is None else "municipality",
                due_at=last_at + timedelta(days=days),
                blocked=facts.blocked(h.id, h.chain, closed_at is not None, own is not None),
                action=action,
            )
        )
    return out


def _utc(value: Any) -> datetime | None:
    """An aggregate's time: SQLite hands max() back as text, PostgreSQL as a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _remove_journal_sqlite(
    conn: AsyncConnection, st: RetentionState, record_id: str, actor: str, now: datetime
) -> None:
    """SQLite: the record, then the chain with its head and export bookkeeping (on
    PostgreSQL the database's own function does the same, and checks it all again)."""
    await conn.execute(
        journal_retention.insert().values(
            id=record_id,
            tenant_id=st.tenant_id,
            case_id=st.case_id,
            chain=st.chain,
            entries=st.entries,
            final_seq=st.final_seq,
            final_hash=st.final_hash,
            closed_at=st.closed_at,
            due_at=st.due_at,
            rule=st.rule,
            actor=actor,
            removed_at=now,
        )
    )
    ids = select(journal_entries.c.id).where(journal_entries.c.chain == st.chain)
    await conn.execute(
        delete(journal_export_intake).where(journal_export_intake.c.entry_id.in_(ids))
    )
    await conn.execute(delete(journal_exports).where(journal_exports.c.entry_id.in_(ids)))
    await conn.execute(delete(journal_anchors).where(journal_anchors.c.chain == st.chain))
    await conn.execute(delete(journal_entries).where(journal_entries.c.chain == st.chain))
    await conn.execute(delete(journal_heads).where(journal_heads.c.chain == st.chain))


def _check_due(st: RetentionState, now: datetime, head: tuple[int, str] | None) -> None:
    if st.blocked is not None:
        raise NotDue(st.case_id, st.blocked)
    if st.action != "remove":
        raise NotDue(st.case_id, f"kept under archive law ({st.rule}): restricted instead")
    if st.due_at > now:
        raise NotDue(st.case_id, f"kept until {st.due_at.isoformat()} under {st.rule}")
    if head is not None and head != (st.final_seq, st.final_hash):
        raise NotDue(st.case_id, "the journal grew while retention ran; next run")


async def remove_case_journal(
    svc: Services,
    case_id: str,
    *,
    actor: str = "system",
    head: tuple[int, str] | None = None,
    exports_nowhere: bool = False,
) -> int:
    """Remove one due case whole, through the one sanctioned path. Returns entries removed.

    One transaction writes the retention record, removes the journal, then
    everything else the case holds, and shreds its data key
    (:func:`journal.case_removal.remove_case_content`), and clears the content of
    the unassigned chain's entries about the case's messages, with signed records
    (:func:`journal.redaction.redact_unassigned`).

    Args:
        head: the (seq, hash) the caller saw (and wrote to the heads sink); if the
            chain has moved on since, nothing is removed.
        exports_nowhere: no exporter is configured; the case may go unexported
            under the municipality's own rule.

    Raises:
        NotDue: the case is open, not closed in its journal, not fully exported,
            within its period, kept under archive law, or gone; nothing is changed.
    """
    now = svc.clock.now()
    record_id = new_id()
    try:
        async with svc.write() as conn:
            if not svc.sqlite:
                # Case first, then head: the order update_case and append take them in.
                await conn.execute(
                    select(cases.c.id).where(cases.c.id == case_id).with_for_update()
                )
            states = await retention_states(
                conn, case_ids=[case_id], exports_nowhere=exports_nowhere
            )
            if not states:
                raise NotDue(case_id, "not a closed case with a journal")
            st = states[0]
            _check_due(st, now, head)
            named = await case_messages(conn, case_id)
            if svc.sqlite:
                await _remove_journal_sqlite(conn, st, record_id, actor, now)
                removed = st.entries
            else:
                # The database checks it all again and does the removal itself.
                removed = (
                    await conn.execute(
                        text("SELECT tovholder_retention_remove(:case_id, :now, :id, :actor, :nx)"),
                        {
                            "case_id": case_id,
                            "now": now,
                            "id": record_id,
                            "actor": actor,
                            "nx": exports_nowhere,
                        },
                    )
                ).scalar_one()
            counts = await remove_case_content(conn, case_id)
            counts["redacted"] = await redact_unassigned(
                conn,
                tenant_id=st.tenant_id,
                case_id=case_id,
                retention_id=record_id,
                message_ids=named,
                at=now,
            )
            log.info("retention removed case %s: %s", case_id, counts)
            return int(removed)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in ("42501", "P0002"):
            raise NotDue(case_id, "the database refused: not due") from exc
        raise


async def restrict_case(svc: Services, st: RetentionState, *, actor: str = "system") -> str:
    """Keep a due case under archive law: restrict its processing instead of removing it.

    A ``restrictions`` row on the case (no person, no staff: the system decides
    under the municipality's rule) and a ``restriction`` entry in its journal.
    Once restricted, retention never removes the case (the database refuses too).
    Returns the restriction's id.
    """
    now = svc.clock.now()
    rid = new_id()
    reason = f"Bevaringspligtig efter arkivloven: begrænset i stedet for slettet ({st.rule})"
    async with svc.write() as conn:
        row = (
            await conn.execute(select(cases.c.id, cases.c.dek).where(cases.c.id == st.case_id))
        ).one()
        found = (
            await conn.execute(
                select(restrictions.c.id).where(restrictions.c.case_id == st.case_id)
            )
        ).scalar()
        if found is not None:  # restricted meanwhile (a second worker): once is enough
            return str(found)
        dek = svc.dek("cases", row.id, row.dek)
        await conn.execute(
            restrictions.insert().values(
                id=rid,
                tenant_id=st.tenant_id,
                case_id=st.case_id,
                reason_enc=seal(dek, reason, f"restrictions:{rid}:reason"),
                created_at=now,
            )
        )
        await append(
            conn,
            tenant_id=st.tenant_id,
            case_id=st.case_id,
            kind="restriction",
            direction="internal",
            channel="system",
            subject="Sagen er bevaringspligtig: behandlingen er begrænset i stedet for sletning",
            actor=actor,
            at=now,
            content=reason,
            key=SealingKey("case", row.id, dek),
        )
    return rid


async def apply_retention(
    svc: Services,
    config: JournalConfig | None = None,
    *,
    apply: bool = True,
    actor: str = "system",
) -> RetentionReport:
    """Find every closed case whose retention period has passed; remove it whole, or
    restrict it where the municipality's rule says archive law requires keeping it.

    Args:
        svc: the service context.
        config: the journal configuration (exporters, heads sink); by default from ``svc``.
            With no exporter, a case goes unexported under the municipality's own rule.
        apply: False for a dry run: report what is due, change nothing.
        actor: who asked (``system`` for the periodic job, ``cli`` for an operator).
    """
    cfg = config or journal_config(svc.config)
    nowhere = not cfg.exporters
    now = svc.clock.now()
    async with svc.read() as conn:
        states = await retention_states(conn, exports_nowhere=nowhere)
    due = [s for s in states if s.due(now)]
    report = RetentionReport(applied=apply, due=due, waiting=len(states) - len(due))
    if not apply or not due:
        return report
    for s in (s for s in due if s.action == "archive"):
        await restrict_case(svc, s, actor=actor)
        report.restricted.append(s.case_id)
    going = [s for s in due if s.action == "remove"]
    if going and cfg.heads_sink is not None and cfg.heads_key is not None:
        # The sink first, as for heads: a record in the database always has its line.
        lines = [
            format_line(cfg.heads_key, s.chain, s.final_seq, s.final_hash, now, retired=True)
            for s in going
        ]
        await asyncio.to_thread(append_lines, cfg.heads_sink, lines)
    for s in going:
        try:
            n = await remove_case_journal(
                svc,
                s.case_id,
                actor=actor,
                head=(s.final_seq, s.final_hash),
                exports_nowhere=nowhere,
            )
            report.removed.append((s.case_id, n))
        except NotDue as exc:
            report.refused.append((s.case_id, exc.reason))
    if report.removed or report.restricted:
        log.info(
            "retention removed %d closed cases (%s), restricted %d under archive law",
            len(report.removed),
            ", ".join(c for c, _ in report.removed),
            len(report.restricted),
        )
    return report


async def retention_tick(svc: Services, config: JournalConfig | None = None) -> None:
    """The hourly Ticker job: purge transient data, remove journals whose period has passed."""
    await purge_transient(svc)
    await apply_retention(svc, config)
