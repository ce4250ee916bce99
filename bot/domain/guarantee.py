"""Tilbagemeldingsgaranti: every inbound message is answered by its reply-by time.

A message stays open until a caseworker answers or closes it with a note. Its
owner is reminded before it is due; a breach goes to the team lead. Figures per
team and week: the share answered within the guarantee, and the median and
90th-percentile time to first reply.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.base import metrics
from bot.base.clock import COPENHAGEN
from bot.base.services import Services
from bot.domain.escalation import page
from bot.domain.routing import team_lead
from bot.store.schema.core import cases, messages
from journal.journal import append

REMIND_BEFORE = timedelta(hours=4)


async def guarantee_tick(svc: Services, limit: int = 200) -> tuple[int, int]:
    """Remind owners of messages soon due; report breaches to the team lead. (reminded, breached)"""
    now = svc.clock.now()
    reminded = breached = 0
    async with svc.write() as conn:
        base = (
            select(
                messages.c.id,
                messages.c.tenant_id,
                messages.c.case_id,
                messages.c.owner_id,
                messages.c.urgent,
                messages.c.created_at,
                messages.c.reply_by,
                cases.c.team_id,
            )
            .join(cases, cases.c.id == messages.c.case_id)
            .where(messages.c.awaiting_reply.is_(True), messages.c.reply_by.is_not(None))
            .limit(limit)
        )
        due_soon = base.where(
            messages.c.reminded_at.is_(None),
            messages.c.reply_by <= now + REMIND_BEFORE,
            messages.c.reply_by > now,
        )
        overdue = base.where(messages.c.breached_at.is_(None), messages.c.reply_by <= now)
        if not svc.sqlite:
            due_soon = due_soon.with_for_update(of=messages, skip_locked=True)
            overdue = overdue.with_for_update(of=messages, skip_locked=True)
        for m in (await conn.execute(due_soon)).all():
            await conn.execute(
                update(messages).where(messages.c.id == m.id).values(reminded_at=now)
            )
            if m.owner_id is not None and _worth_a_reminder(m):
                await page(
                    conn,
                    tenant_id=m.tenant_id,
                    team_id=m.team_id,
                    staff_id=m.owner_id,
                    message_id=m.id,
                    kind="reminder",
                    at=now,
                )
            reminded += 1
        # Case by case in one order, as every writer that holds several journal heads
        # locks them (inbound batches too): two such transactions wait, never deadlock.
        for m in sorted((await conn.execute(overdue)).all(), key=lambda m: m.case_id):
            await conn.execute(
                update(messages).where(messages.c.id == m.id).values(breached_at=now)
            )
            lead = await team_lead(conn, m.team_id)
            await page(
                conn,
                tenant_id=m.tenant_id,
                team_id=m.team_id,
                staff_id=lead,
                message_id=m.id,
                kind="breach",
                at=now,
            )
            await append(
                conn,
                tenant_id=m.tenant_id,
                case_id=m.case_id,
                kind="guarantee_breach",
                direction="internal",
                channel="system",
                subject="Svarfristen er overskredet; teamlederen er orienteret",
                actor="system",
                at=now,
                message_id=m.id,
            )
            breached += 1
    if breached:
        metrics.reply_guarantee_breached(breached)
    return reminded, breached


def _worth_a_reminder(m: Any) -> bool:
    """Not for an urgent message (it was paged and escalates on its own ladder), nor for
    one that arrived already inside the reminder window (a second page seconds after the
    first, or a page for a concern that is meant to wait in the inbox)."""
    return not m.urgent and m.created_at < m.reply_by - REMIND_BEFORE


def _week(at: datetime) -> str:
    year, week, _ = at.astimezone(COPENHAGEN).isocalendar()
    return f"{year}-W{week:02d}"


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


async def reply_stats(
    svc: Services, *, team_id: str, since: date, until: date
) -> list[dict[str, Any]]:
    """Per ISO week: messages, answered within the guarantee, median and p90 hours to reply.

    The share within the guarantee is of the messages answered or past their
    reply-by; those still open and not yet due are counted apart (``not_yet_due``).
    """
    now = svc.clock.now()
    start = datetime.combine(since, datetime.min.time(), COPENHAGEN)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), COPENHAGEN)
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(messages.c.created_at, messages.c.reply_by, messages.c.answered_at)
                .join(cases, cases.c.id == messages.c.case_id)
                .where(
                    cases.c.team_id == team_id,
                    messages.c.direction == "in",
                    messages.c.reply_by.is_not(None),
                    messages.c.created_at >= start,
                    messages.c.created_at < end,
                )
            )
        ).all()
    weeks: dict[str, list[Any]] = {}
    for r in rows:
        weeks.setdefault(_week(r.created_at), []).append(r)
    out = []
    for week in sorted(weeks):
        items = weeks[week]
        hours = sorted(
            (r.answered_at - r.created_at).total_seconds() / 3600
            for r in items
            if r.answered_at is not None
        )
        within = sum(1 for r in items if r.answered_at is not None and r.answered_at <= r.reply_by)
        # A message still open before its reply-by has not missed anything yet: it counts
        # neither for nor against the share until it is answered or its time runs out.
        pending = sum(1 for r in items if r.answered_at is None and r.reply_by > now)
        decided = len(items) - pending
        median = _quantile(hours, 0.5)
        p90 = _quantile(hours, 0.9)
        out.append(
            {
                "week": week,
                "messages": len(items),
                "answered": len(hours),
                "within_guarantee": within,
                "share_within_guarantee": round(within / decided, 3) if decided else None,
                "median_hours_to_reply": round(median, 2) if median is not None else None,
                "p90_hours_to_reply": round(p90, 2) if p90 is not None else None,
                "not_yet_due": pending,
            }
        )
    return out


def stats_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    fields = [
        "week",
        "messages",
        "answered",
        "within_guarantee",
        "share_within_guarantee",
        "median_hours_to_reply",
        "p90_hours_to_reply",
        "not_yet_due",
    ]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
