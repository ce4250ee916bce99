"""The ticker: APScheduler runs durable work (stored as rows) on an interval.

The scheduler only ticks; what is due lives in the database, so a restart or a
second worker loses and duplicates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Ticker:
    """Runs named coroutine jobs every few seconds, and on demand."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._jobs: dict[str, Any] = {}

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        async def run() -> None:
            try:
                await job()
            except Exception:
                log.exception("tick %s failed; it runs again at the next tick", name)

        self._jobs[name] = self._scheduler.add_job(
            run,
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def poke(self, name: str) -> None:
        """Run a job as soon as possible (e.g. the relay, right after a commit)."""
        job = self._jobs.get(name)
        if job is not None and self._scheduler.running:
            # Wall time on purpose: APScheduler schedules against the real clock.
            job.modify(next_run_time=datetime.now(UTC))

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
