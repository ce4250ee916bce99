"""The database itself keeps the journal and the access log append-only (PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.store.engine import make_engine
from bot.store.schema.core import access_log, journal_entries
from tests.harness import Stack, start_stack
from tests.journal.conftest import FRIDAY_MORNING

REFUSED = [
    "UPDATE journal_entries SET subject = 'x'",
    "DELETE FROM journal_entries",
    "UPDATE access_log SET purpose = 'x'",
    "DELETE FROM access_log",
    "DELETE FROM journal_heads",
    "UPDATE journal_heads SET seq = seq - 1",
    "UPDATE journal_heads SET seq = seq + 1",
    "UPDATE journal_heads SET hash = 'f'",
    "TRUNCATE journal_entries CASCADE",
    "TRUNCATE journal_heads",
    "TRUNCATE access_log",
    "TRUNCATE journal_retention",
    "UPDATE journal_signed_heads SET signature = 'x'",
    "DELETE FROM journal_signed_heads",
    "TRUNCATE journal_signed_heads",
    # Content is cleared only under a redaction of a case's removal (0035_redactions).
    "UPDATE journal_entries SET content_enc = NULL",
    "TRUNCATE journal_redactions",
]


async def _truncate_and_close(engine: Any, stack: Stack) -> None:
    """The fixture's own clean-up cannot delete what the triggers guard: TRUNCATE it here,
    as the tables' owner, with the TRUNCATE guard lifted for this transaction only."""
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT tovholder_truncate_guard(false)"))
            await conn.execute(
                text("TRUNCATE journal_export_intake, journal_entries, access_log CASCADE")
            )
            await conn.execute(text("SELECT tovholder_truncate_guard(true)"))
    finally:
        await engine.dispose()
        await stack.session.close()


async def _some_history(stack: Stack) -> None:
    """Journal entries (an SMS and its receipt) and access-log rows (a caseworker reads it)."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert (await stack.api("GET", f"/api/v1/conversations/{items[0]['id']}")).status == 200


async def test_no_update_or_delete_even_as_superuser(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """UPDATE/DELETE/TRUNCATE on entries, access log, heads, retention records, signed heads and
    redactions fail for a superuser, also as a replica; appending still works."""
    if db_url.startswith("sqlite"):
        pytest.skip("the append-only triggers are PostgreSQL's; on SQLite verify finds changes")
    stack = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    engine = make_engine(db_url)
    try:
        await _some_history(stack)
        for replica in (False, True):
            for sql in REFUSED:
                with pytest.raises(DBAPIError, match="append-only|only moves forward|must name"):
                    async with engine.begin() as conn:
                        assert (await conn.execute(text("SHOW is_superuser"))).scalar() == "on"
                        if replica:
                            # Would switch ordinary triggers off; ENABLE ALWAYS ones still fire.
                            await conn.execute(text("SET session_replication_role = replica"))
                        await conn.execute(text(sql))
        await stack.sms(stack.world.phones["anna"], "Og en til")
        async with engine.connect() as conn:
            seqs = (
                await conn.execute(select(journal_entries.c.seq).order_by(journal_entries.c.seq))
            ).scalars()
            assert list(seqs) == [1, 2, 3]
            assert (await conn.execute(select(func.count()).select_from(access_log))).scalar()
    finally:
        await _truncate_and_close(engine, stack)


async def test_a_head_moves_many_entries_at_once_only_along_linked_entries(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """A batch moves a head past several entries in one UPDATE; the trigger refuses a move
    over a gap in seq or over an entry that does not name the one before it."""
    if db_url.startswith("sqlite"):
        pytest.skip("the head's trigger is PostgreSQL's; SQLite keeps the rules in code")
    from journal.journal import NewEntry, append_many

    stack = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    engine = make_engine(db_url)
    cid = stack.world.cases["anna"]
    chain = f"case:{cid}"
    try:
        await _some_history(stack)  # the SMS and its receipt: seq 1 and 2

        def note(n: int) -> NewEntry:
            return NewEntry(
                tenant_id=stack.world.tenant_id,
                case_id=cid,
                kind="note",
                direction="internal",
                channel="system",
                subject=f"Notat {n}",
                actor="system",
                at=stack.clock.now(),
            )

        async with stack.svc.write() as conn:  # three entries, one head move (2 -> 5)
            await append_many(conn, [note(1), note(2), note(3)])
        head = "SELECT seq FROM journal_heads WHERE chain = :c"
        async with engine.connect() as conn:
            assert (await conn.execute(text(head), {"c": chain})).scalar() == 5

        # Forged entries can be inserted (the table is append-only), but the head
        # cannot be moved onto them.
        copy = (
            "INSERT INTO journal_entries (id, tenant_id, chain, seq, case_id, kind, direction, "
            "channel, subject, actor, created_at, prev_hash, hash) "
            "SELECT :id, tenant_id, chain, :seq, case_id, kind, direction, channel, subject, "
            "actor, created_at, :prev, :hash FROM journal_entries WHERE chain = :c AND seq = 5"
        )
        move = "UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :c"
        async with engine.begin() as conn:  # a gap: nothing at seq 6
            await conn.execute(
                text(copy), {"id": "gap-7", "seq": 7, "prev": "x", "hash": "h7", "c": chain}
            )
        with pytest.raises(DBAPIError, match="linked entries"):
            async with engine.begin() as conn:
                await conn.execute(text(move), {"seq": 7, "hash": "h7", "c": chain})
        async with engine.begin() as conn:  # seq 6 exists now but does not name seq 5
            await conn.execute(
                text(copy), {"id": "bad-6", "seq": 6, "prev": "not-5", "hash": "h6", "c": chain}
            )
        for seq, hash_ in ((6, "h6"), (7, "h7")):
            with pytest.raises(DBAPIError, match="linked entries"):
                async with engine.begin() as conn:
                    await conn.execute(text(move), {"seq": seq, "hash": hash_, "c": chain})
        async with engine.connect() as conn:
            assert (await conn.execute(text(head), {"c": chain})).scalar() == 5
    finally:
        await _truncate_and_close(engine, stack)
