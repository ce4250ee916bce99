"""The database itself keeps the journal and the access log append-only (PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.db.engine import make_engine
from bot.db.schema import access_log, journal_entries
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
]


async def _some_history(stack: Stack) -> None:
    """Journal entries (an SMS and its receipt) and access-log rows (a caseworker reads it)."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert (await stack.api("GET", f"/api/v1/conversations/{items[0]['id']}")).status == 200


async def test_no_update_or_delete_even_as_superuser(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """UPDATE/DELETE on entries, access log and heads fail for a superuser, also as a replica;
    appending still works and TRUNCATE (what the test fixture uses) is not blocked."""
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
        async with engine.begin() as conn:
            await conn.execute(
                text("TRUNCATE journal_export_intake, journal_entries, access_log CASCADE")
            )
    finally:
        await engine.dispose()
        await stack.session.close()
