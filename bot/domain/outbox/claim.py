"""Claiming due outbox rows with a lease, so that several workers never send one row twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextClause, and_, bindparam, or_, select, update
from sqlalchemy import text as sql_text

from bot.base.services import Services
from bot.domain.outbox.policy import LEASE
from bot.store.engine import records
from bot.store.schema.core import UTCDateTime, outbox

# PostgreSQL's claim, one statement: the ids are picked in queue order along
# ix_outbox_due (state, next attempt, queued at), walking only the rows in the state
# asked for and stopping at the limit, and locked, skipping rows another worker holds;
# the UPDATE then finds them by primary key. Rows whose lease ran out (a worker died
# mid-send) come first; the batch may then hold up to twice the limit. The limit is
# written into the statement, so that PostgreSQL plans the walk for it.
_CLAIM_PG = """
UPDATE outbox AS o SET state = 'sending', lease_until = :lease, attempts = o.attempts + 1
FROM (SELECT unnest(
    ARRAY(SELECT id FROM outbox WHERE state = 'sending' AND lease_until < :now
          ORDER BY next_attempt_at, created_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
    || ARRAY(SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= :now
             ORDER BY next_attempt_at, created_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
) AS id) AS picked
WHERE o.id = picked.id
RETURNING o.id, o.message_id, o.staff_notice_id, o.attempts, o.next_attempt_at, o.created_at
"""
_CLAIMS: dict[int, TextClause] = {}


def _claim_pg(limit: int) -> TextClause:
    stmt = _CLAIMS.get(limit)
    if stmt is None:
        stmt = _CLAIMS[limit] = sql_text(_CLAIM_PG.format(limit=int(limit))).bindparams(
            bindparam("lease", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())
        )
    return stmt


async def claim_batch(svc: Services, limit: int) -> list[Any]:
    """Claim due rows: on PostgreSQL with one ``UPDATE … RETURNING`` (``SKIP LOCKED``).

    The rows come back in the order they were queued (next attempt, then queued
    at): RETURNING itself promises no order, and a citizen's SMS must go in order.
    """
    now = svc.clock.now()
    if not svc.sqlite:
        async with svc.write() as conn:
            rows = records(await conn.execute(_claim_pg(limit), {"lease": now + LEASE, "now": now}))
        rows.sort(key=lambda r: (r.next_attempt_at, r.created_at))
        return rows
    due = or_(
        and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == "sending", outbox.c.lease_until < now),
    )
    pick = (
        select(outbox.c.id)
        .where(due)
        .order_by(outbox.c.next_attempt_at, outbox.c.created_at)
        .limit(limit)
    )
    claimed = (outbox.c.id, outbox.c.message_id, outbox.c.staff_notice_id, outbox.c.attempts)
    claim = {"state": "sending", "lease_until": now + LEASE, "attempts": outbox.c.attempts + 1}
    # One writer, and its RETURNING sees only the updated table: pick, then claim.
    async with svc.write() as conn:
        ids = list((await conn.execute(pick)).scalars())
        if not ids:
            return []
        rows = list(
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(**claim).returning(*claimed)
            )
        )
    order = {oid: i for i, oid in enumerate(ids)}
    rows.sort(key=lambda r: order[r.id])
    return rows
