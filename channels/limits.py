"""Rate limits and circuit breakers that several workers share through one book.

``tovholder serve --workers N`` runs N processes that all send through the same
gateways. A token bucket or breaker in each process's memory lets N workers
send at N times the gateway's limit, and keeps hammering a gateway that another
worker already found down. The classes here keep the same rules as
:class:`channels.failover.CircuitBreaker` and :class:`channels.failover.RateLimiter`
but keep their state in a :class:`LimitBook` (PostgreSQL: ``bot.store.limits``),
changed with one atomic statement at a time and read with a short cache, so
that the book is asked once per batch, not once per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Monotonic = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Health:
    """A breaker's shared state as the book saw it: failures, and seconds it stays open."""

    failures: int
    # None: closed; > 0: open for this long yet; <= 0: the cooldown is over (half open).
    open_for: float | None


class LimitBook(Protocol):
    """Where the shared state lives. Every method is one atomic statement."""

    async def take(self, key: str, rate: float, burst: float, count: int) -> float:
        """Reserve ``count`` tokens of the bucket ``key`` (refilled at ``rate`` per second).

        The bucket may go below zero: the reservation is then a place in a queue.

        Returns:
            The tokens the bucket held just before the reservation.
        """
        ...

    async def health(self, key: str) -> Health:
        """The breaker ``key``'s state now."""
        ...

    async def failed(self, key: str, threshold: int, cooldown: float) -> Health:
        """Count one failure; open (again) for ``cooldown`` at ``threshold`` or when half open."""
        ...

    async def healed(self, key: str) -> None:
        """A success: close the breaker and forget its failures."""
        ...

    async def trial(self, key: str, hold: float) -> bool:
        """Take the one half-open trial (none out, or the last older than ``hold``)."""
        ...


class SharedBreaker:
    """A circuit breaker whose state every worker shares through a :class:`LimitBook`.

    closed → open after ``threshold`` consecutive failures (any worker's) →
    half open after ``cooldown``, when exactly one worker gets the trial send.
    The state is read from the book at most once per ``refresh`` seconds;
    while closed with no failures, a success writes nothing.
    """

    def __init__(
        self,
        book: LimitBook,
        key: str,
        *,
        threshold: int = 3,
        cooldown: float = 30.0,
        refresh: float = 1.0,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.book = book
        self.key = key
        self.threshold = threshold
        self.cooldown = cooldown
        self.refresh = refresh
        self._now = monotonic
        self._failures = 0
        self._open_until: float | None = None
        self._read_at: float | None = None

    def _see(self, health: Health) -> None:
        now = self._now()
        self._failures = health.failures
        self._open_until = None if health.open_for is None else now + health.open_for
        self._read_at = now

    async def _fresh(self) -> None:
        if self._read_at is None or self._now() - self._read_at >= self.refresh:
            self._see(await self.book.health(self.key))

    @property
    def state(self) -> str:
        """closed, open or half_open, as last seen."""
        if self._open_until is None:
            return "closed"
        return "open" if self._now() < self._open_until else "half_open"

    async def allow(self) -> bool:
        await self._fresh()
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        return await self.book.trial(self.key, self.cooldown)

    async def success(self) -> None:
        if self._failures or self._open_until is not None:
            await self.book.healed(self.key)
            self._see(Health(0, None))

    async def failure(self) -> None:
        self._see(await self.book.failed(self.key, self.threshold, self.cooldown))


class SharedRateLimiter:
    """At most ``rate`` sends per second for all workers together (a shared token bucket).

    Sends that ask at the same moment (a batch sent concurrently) are reserved
    together with one statement; each then waits for its own place.
    """

    def __init__(self, book: LimitBook, key: str, rate: float) -> None:
        self.book = book
        self.key = key
        self.rate = rate
        self._waiting: list[tuple[int, asyncio.Future[float]]] = []

    async def acquire(self, count: int = 1) -> None:
        """Wait until ``count`` more sends fit under the shared rate."""
        if self.rate <= 0 or count <= 0:
            return
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((count, future))
        if len(self._waiting) == 1:
            # The first to ask reserves for all who ask before the loop comes round.
            asyncio.get_running_loop().call_soon(self._reserve_soon)
        wait = await future
        if wait > 0:
            await asyncio.sleep(wait)

    def _reserve_soon(self) -> None:
        asking, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._reserve(asking))
        _KEPT.add(task)
        task.add_done_callback(_KEPT.discard)

    async def _reserve(self, asking: list[tuple[int, asyncio.Future[float]]]) -> None:
        total = sum(count for count, _ in asking)
        try:
            before = await self.book.take(self.key, self.rate, max(self.rate, 1.0), total)
        except Exception as exc:  # every waiter hears of it
            for _, future in asking:
                if not future.done():
                    future.set_exception(exc)
            return
        last = 0
        for count, future in asking:
            last += count
            # The last token of this share is there once the bucket refilled to it.
            if not future.done():
                future.set_result(max(0.0, (last - before) / self.rate))


_KEPT: set[asyncio.Future[None]] = set()
