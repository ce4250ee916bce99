"""The tamper matrix: every forgery the journal's guards and ``journal verify`` must catch."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bot.store.engine import make_engine
from bot.store.schema.core import journal_entries, journal_heads
from journal.journal import entry_hash
from journal.sink import heads_tick
from journal.verify import COLUMNS, verify
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.journal.test_verify import SINK_KEY, chain_rows, notes, sink_config


async def forge_append(
    stack: Stack, chain: str, *, back: timedelta, move_head: bool
) -> dict[str, Any]:
    """Append a correctly hashed "SMS til borger" entry, with no trigger switched off.

    Dated ``back`` before the chain's last entry; the head moved onto it when ``move_head``
    (the head trigger lets a head move along linked entries). Returns the forged row.
    """
    last = (await chain_rows(stack, chain))[-1]
    row: dict[str, Any] = {c: getattr(last, c) for c in COLUMNS[:15]}
    row |= {
        "id": str(uuid.uuid4()),
        "seq": last.seq + 1,
        "kind": "sms_out_reply",
        "direction": "out",
        "channel": "sms",
        "subject": "SMS til borger",
        "key_scope": None,
        "key_owner_id": None,
        "content_enc": None,
        "message_id": None,
        "actor": "system",
        "created_at": last.created_at - back,
    }
    row["prev_hash"] = last.hash
    row["hash"] = entry_hash(row, last.hash)
    engine = make_engine(stack.config.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(journal_entries).values(**row))
            if move_head:
                await conn.execute(
                    text("UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :chain"),
                    {"seq": row["seq"], "hash": row["hash"], "chain": chain},
                )
    finally:
        await engine.dispose()
    return row


async def test_a_backdated_forged_append_is_named_at_the_forged_entry(stack: Stack) -> None:
    """A hashed entry dated three days before the one it follows is named, head moved or not."""
    moved = await notes(stack, "anna", 3)
    left = await notes(stack, "carl", 2)
    rows = {
        moved: await forge_append(stack, moved, back=timedelta(days=3), move_head=True),
        left: await forge_append(stack, left, back=timedelta(days=3), move_head=False),
    }
    report = await verify(stack.config.database_url)
    found = {p.chain: p for p in report.problems}
    assert set(found) == {moved, left}, report.summary()
    for chain, row in rows.items():
        assert (found[chain].kind, found[chain].seq) == ("backdated", row["seq"])
        assert found[chain].entry_id == row["id"]
        assert "time runs backwards" in found[chain].detail


async def _forge_retention(stack: Stack, case_key: str) -> str:
    """Remove a case's chain and head behind the retention path and forge its record."""
    await notes(stack, case_key, 2)
    case_id = stack.world.cases[case_key]
    chain = f"case:{case_id}"
    async with stack.svc.read() as conn:
        head = (
            await conn.execute(select(journal_heads).where(journal_heads.c.chain == chain))
        ).one()
    at = stack.clock.now()
    await tamper(
        stack.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id IN "
            "(SELECT id FROM journal_entries WHERE chain = :chain)",
            "DELETE FROM journal_entries WHERE chain = :chain",
            "DELETE FROM journal_heads WHERE chain = :chain",
            "INSERT INTO journal_retention (id, tenant_id, case_id, chain, entries, final_seq, "
            "final_hash, closed_at, due_at, rule, actor, removed_at) VALUES ('forged', :tenant, "
            ":case_id, :chain, :seq, :seq, :hash, :at, :at, 'x', 'x', :at)",
        ],
        {
            "chain": chain,
            "tenant": stack.world.tenant_id,
            "case_id": case_id,
            "seq": head.seq,
            "hash": head.hash,
            "at": at,
        },
    )
    return chain


async def test_a_forged_retention_record_is_not_counted_as_a_removal(
    stack: Stack, tmp_path: Path
) -> None:
    """A retention record without the sink's retired line is named and not counted as removed;
    without a sink to ask, it is counted as not proven."""
    cfg = sink_config(tmp_path)
    await notes(stack, "bo_children", 1)
    await heads_tick(stack.svc, cfg)  # the sink exists, but never saw the forged chain
    chain = await _forge_retention(stack, "carl")
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    assert report.retired == 0 and report.unproven == 1
    assert [(p.chain, p.kind, p.seq) for p in report.problems] == [(chain, "retention", 2)]
    assert "removed at the end of their retention period" not in report.summary()
    bare = await verify(stack.config.database_url)
    assert (bare.retired, bare.unproven) == (0, 1)
    assert "1 retention records not proven" in bare.summary()
