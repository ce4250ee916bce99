"""The reminder claim walks its index even when PostgreSQL's statistics predate a burst."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bot.base.ids import new_id
from bot.store.engine import index_walk, insert_many
from bot.store.schema.scheduler import reminders
from scheduler.runner import claim_query
from tests.harness import Stack


async def test_a_burst_of_due_reminders_is_claimed_along_the_index(stack: Stack) -> None:
    """3,000 reminders fall due: the claim walks ix_reminders_due in its own order and
    stops at the batch (no bitmap scan and sort of every due row, which PostgreSQL
    picks for a burst its statistics do not know of yet, 250 ms a claim at 100,000
    due). On SQLite (one worker, no planner settings) it returns the earliest batch."""
    svc, w = stack.svc, stack.world
    now = svc.clock.now()
    rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "tenant_id": w.tenant_id,
            "case_id": w.cases["anna"],
            "kind": "deadline",
            "ref_id": None,
            "person_id": None,
            "conversation_id": None,
            "staff_id": None,
            "nominal_at": now - timedelta(seconds=i),
            "due_at": now - timedelta(seconds=i),
            "event_at": None,
            "expires_at": None,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for i in range(3000)
    ]
    async with svc.write() as conn:
        await insert_many(conn, reminders, rows)
        query = claim_query(now, 200, lock=not svc.sqlite)
        if svc.sqlite:
            async with index_walk(conn):
                claimed = (await conn.execute(query)).all()
            assert [r.id for r in claimed] == [r["id"] for r in rows[::-1][:200]]
            return
        compiled = query.compile(dialect=postgresql.dialect(paramstyle="named"))  # type: ignore[no-untyped-call]
        explain = text("EXPLAIN " + compiled.string)
        async with index_walk(conn):
            plan = "\n".join((await conn.execute(explain, compiled.params)).scalars())
            assert (await conn.execute(text("SHOW enable_bitmapscan"))).scalar() == "off"
        assert (await conn.execute(text("SHOW enable_bitmapscan"))).scalar() == "on"
        # A setting the caller had made is what it finds afterwards.
        await conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        async with index_walk(conn):
            pass
        assert (await conn.execute(text("SHOW enable_bitmapscan"))).scalar() == "off"
    assert "Index Scan using ix_reminders_due" in plan, plan
    assert "Bitmap" not in plan and "Sort" not in plan, plan
