"""Fixtures for the journal: the running stack, and a way to tamper with the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import text

from bot.base.clock import COPENHAGEN
from bot.store.engine import make_engine
from tests.fakes.clock import FakeClock
from tests.harness import Stack, start_stack
from tests.journal.receivers import FileReceiver, HttpReceiver, Receiver, SmtpReceiver

# Friday 21 February 2025, 10:00 in Copenhagen.
FRIDAY_MORNING = datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN)

# The append-only triggers (PostgreSQL only), as the migration creates them.
TRIGGERS = {
    "journal_entries": "journal_entries_append_only",
    "access_log": "access_log_append_only",
    "journal_heads": "journal_heads_forward_only",
    # Retention records may only be written for a due case (0012_retention).
    "journal_retention": "journal_retention_due_only",
    "journal_signed_heads": "journal_signed_heads_append_only",
    # Redactions go only with a case's removal (0035_redactions).
    "journal_redactions": "journal_redactions_with_removal",
}


@pytest.fixture(params=["file", "mail", "http"])
async def receiver(
    request: pytest.FixtureRequest, tmp_path: Path, aiohttp_server: Any
) -> AsyncIterator[Receiver]:
    """Each of the case system's receiving ends in turn (one per exporter)."""
    clock = FakeClock(FRIDAY_MORNING)
    session = ClientSession()
    made: Receiver
    if request.param == "file":
        made = FileReceiver(tmp_path / "esdh-drop")
    elif request.param == "mail":
        made = await SmtpReceiver().start()
    else:
        made = await HttpReceiver(clock, session).start(aiohttp_server)
    try:
        yield made
    finally:
        await made.close()
        await session.close()


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    try:
        yield s
    finally:
        await s.session.close()


async def tamper(
    db_url: str, statements: Sequence[str], params: dict[str, Any] | None = None
) -> None:
    """Change the database behind the application's back, as an attacker with DDL rights could.

    On PostgreSQL the append-only triggers are switched off for the statements
    and on again, all in one transaction.
    """
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            pg = conn.dialect.name == "postgresql"
            if pg:
                for table, trigger in TRIGGERS.items():
                    await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            for sql in statements:
                await conn.execute(text(sql), params or {})
            if pg:
                for table, trigger in TRIGGERS.items():
                    await conn.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"))
    finally:
        await engine.dispose()
