"""The ticker runs durable work on an interval and on demand, without piling up."""

from __future__ import annotations

import asyncio

from bot.base.ticker import Ticker


async def test_poke_while_running_asks_for_one_more_pass() -> None:
    """A poke during a run gives exactly one more pass, not a second concurrent instance."""
    ticker = Ticker()
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[int] = []
    concurrent = 0
    peak = 0

    async def job() -> None:
        nonlocal concurrent, peak
        concurrent += 1
        peak = max(peak, concurrent)
        runs.append(len(runs))
        started.set()
        if len(runs) == 1:
            await release.wait()
        concurrent -= 1

    ticker.every("job", 3600, job)
    ticker.start()
    try:
        ticker.poke("job")
        await asyncio.wait_for(started.wait(), 5)
        for _ in range(5):
            ticker.poke("job")
        release.set()
        for _ in range(100):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
    finally:
        ticker.shutdown()
    assert len(runs) == 2 and peak == 1
