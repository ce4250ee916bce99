from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from bot.base.clock import COPENHAGEN
from tests.harness import Stack, start_stack

# Friday 21 February 2025, 10:00 in Copenhagen: two working days later is Tuesday 25 February.
FRIDAY_MORNING = datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN)


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    try:
        yield s
    finally:
        await s.session.close()
