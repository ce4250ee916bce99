"""The ticker: APScheduler runs durable work (stored as rows) on an interval.

The scheduler only ticks; what is due lives in the database, so a restart or a
second worker loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
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
        self._work: dict[str, Callable[[], Awaitable[object]]] = {}
        self._busy: dict[str, bool] = {}
        self._again: dict[str, bool] = {}
        self._running: set[asyncio.Task[Any]] = set()

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        self._work[name] = job

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            self._busy[name] = True
            try:
                # A poke while running asks for one more pass, not a second instance.
                while True:
                    self._again[name] = False
                    try:
                        await job()
                    except Exception:
                        log.exception("tick %s failed; it runs again at the next tick", name)
                    if not self._again.get(name):
                        break
            finally:
                self._busy[name] = False
                if task is not None:
                    self._running.discard(task)

        self._jobs[name] = self._scheduler.add_job(
            run,
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    @property
    def names(self) -> list[str]:
        """The jobs added, by name."""
        return sorted(self._work)

    async def run_once(self, name: str) -> None:
        """Do one pass of a job now, in the caller's task (tests, and commands that drain)."""
        await self._work[name]()

    def poke(self, name: str) -> None:
        """Run a job as soon as possible (e.g. the relay, right after a commit)."""
        job = self._jobs.get(name)
        if job is None or not self._scheduler.running:
            return
        if self._busy.get(name):
            self._again[name] = True
            return
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

    async def aclose(self) -> None:
        """Stop ticking and let a running job end (cancelled) before resources go away.

        A job cut off mid-transaction would otherwise keep its database connection
        checked out past the engine's disposal.
        """
        self.shutdown()
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
