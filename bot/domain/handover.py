"""Overdragelse: when a caseworker's absence begins, their open messages move on.

Inbound routing (``bot.domain.routing.route``) sends a *new* message to the
substitute or the colleague on duty. A question that arrived before the
absence began would otherwise wait for someone who is not there; this moves
it the same way, journalises the move on the case, and leaves the citizen's
reply-by and any running escalation untouched.

``hand_over`` runs for one staff member (the absence page calls it as soon as
an absence that has already begun is saved); ``hand_over_tick`` runs for
everyone whose absence is under way, so absences registered in advance are
handed over on their first day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import select, update

from bot.base.crypto import SealingKey
from bot.base.services import Services
from bot.domain.dispatch import ROUTE_SUBJECTS
from bot.domain.routing import absence_on, local_day, route, team_calendar, team_row
from bot.store.schema.core import absences, cases, messages
from journal.journal import append

log = logging.getLogger(__name__)


async def hand_over(svc: Services, tenant_id: str, staff_id: str) -> int:
    """Move ``staff_id``'s open messages to whoever answers now, if they are away today.

    Returns:
        How many messages moved (0 when the person is not away today). With
        nobody available they go to the team's fallback queue (owner NULL),
        which the team lead sees, exactly as a new message would.
    """
    now = svc.clock.now()
    moved = 0
    async with svc.write() as conn:
        if await absence_on(conn, staff_id, local_day(now)) is None:
            return 0
        rows = (
            await conn.execute(
                select(
                    messages.c.id,
                    cases.c.id.label("case_id"),
                    cases.c.owner_id,
                    cases.c.team_id,
                    cases.c.dek,
                )
                .join(cases, cases.c.id == messages.c.case_id)
                .where(
                    messages.c.tenant_id == tenant_id,
                    messages.c.owner_id == staff_id,
                    messages.c.awaiting_reply.is_(True),
                )
                .order_by(messages.c.created_at, messages.c.id)
            )
        ).all()
        by_case: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            by_case[r.case_id].append(r)
        # Journal heads in case order, as every writer that holds several locks them.
        for case_id, items in sorted(by_case.items()):
            case = items[0]
            team = await team_row(conn, case.team_id)
            way = await route(
                conn,
                case_owner_id=case.owner_id,
                team_id=case.team_id,
                at=now,
                calendar=await team_calendar(conn, svc, team),
            )
            if way.owner_id == staff_id:
                continue
            ids = [r.id for r in items]
            await conn.execute(
                update(messages)
                .where(messages.c.id.in_(ids), messages.c.awaiting_reply.is_(True))
                .values(owner_id=way.owner_id, original_owner_id=case.owner_id)
            )
            await append(
                conn,
                tenant_id=tenant_id,
                case_id=case_id,
                kind="routed",
                direction="internal",
                channel="system",
                subject=ROUTE_SUBJECTS.get(way.reason, "Besked flyttet"),
                actor="system",
                at=now,
                content=f"Sagsbehandler {staff_id} er fraværende; ubesvarede beskeder "
                f"({len(ids)}) flyttet til {way.owner_id}",
                key=SealingKey("case", case_id, svc.dek("cases", case_id, case.dek)),
                message_id=ids[-1],
            )
            moved += len(ids)
    if moved:
        log.info("handed over %d open messages of absent staff %s", moved, staff_id)
    return moved


async def hand_over_tick(svc: Services) -> int:
    """For everyone away today who still holds open messages: hand them over."""
    now = svc.clock.now()
    day = local_day(now)
    async with svc.read() as conn:
        away = (
            await conn.execute(
                select(absences.c.tenant_id, absences.c.staff_id)
                .join(
                    messages,
                    (messages.c.owner_id == absences.c.staff_id)
                    & messages.c.awaiting_reply.is_(True),
                )
                .where(absences.c.starts_on <= day, absences.c.ends_on >= day)
                .distinct()
            )
        ).all()
    total = 0
    for row in away:
        total += await hand_over(svc, row.tenant_id, row.staff_id)
    return total
