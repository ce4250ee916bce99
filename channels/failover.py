"""Primary and secondary gateways behind one SmsGateway, with a circuit breaker and rate limits.

Timeouts and 5xx from the primary count as failures; after ``threshold``
consecutive failures its breaker opens and traffic moves to the secondary
for ``cooldown`` seconds, after which one trial send is let through (half
open). A permanent error (4xx) says nothing about the gateway's health and is
passed on as it is.

The breakers and rate limits here live in this process's memory (right for
one process, e.g. on SQLite); given a ``book``, the same rules are kept in
state every worker shares (:mod:`channels.limits`, PostgreSQL's in
``bot.store.limits``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from channels.base import (
    DeliveryReport,
    GatewayError,
    InboundSms,
    OutboundSms,
    SendResult,
    SmsGateway,
    WebhookRequest,
)
from channels.limits import LimitBook, SharedBreaker, SharedRateLimiter

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]
CallbackFor = Callable[[str, str], str | None]


class CircuitBreaker:
    """closed → open after ``threshold`` consecutive failures → half-open after ``cooldown``."""

    def __init__(
        self, *, threshold: int = 3, cooldown: float = 30.0, monotonic: Monotonic = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._now = monotonic
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_out = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._now() - self._opened_at >= self.cooldown else "open"

    async def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_out:
            self._trial_out = True
            return True
        return False

    async def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_out = False

    async def failure(self) -> None:
        self._failures += 1
        self._trial_out = False
        if self._opened_at is not None or self._failures >= self.threshold:
            self._opened_at = self._now()


class RateLimiter:
    """At most ``rate`` sends per second (a token bucket); 0 means no limit."""

    def __init__(self, rate: float, *, monotonic: Monotonic = time.monotonic) -> None:
        self.rate = rate
        self._now = monotonic
        self._tokens = max(rate, 1.0)
        self._stamp = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, count: int = 1) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            for _ in range(count):
                await self._one()

    async def _one(self) -> None:
        while True:
            now = self._now()
            self._tokens = min(max(self.rate, 1.0), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


class Breaker(Protocol):
    """A circuit breaker, this process's own or shared (:mod:`channels.limits`)."""

    @property
    def state(self) -> str: ...

    async def allow(self) -> bool: ...

    async def success(self) -> None: ...

    async def failure(self) -> None: ...


class Limiter(Protocol):
    """A rate limiter, this process's own or shared (:mod:`channels.limits`)."""

    async def acquire(self, count: int = 1) -> None: ...


class FailoverGateway:
    """Sends through the first healthy gateway; verifies webhooks with the gateway they name."""

    name = "failover"

    def __init__(
        self,
        gateways: Sequence[SmsGateway],
        *,
        callback_for: CallbackFor,
        rates: dict[str, float] | None = None,
        threshold: int = 3,
        cooldown: float = 30.0,
        monotonic: Monotonic = time.monotonic,
        book: LimitBook | None = None,
    ) -> None:
        """Put ``gateways`` behind one, in sending order.

        Args:
            book: where the breakers and rate limits are kept when several workers
                send (PostgreSQL); None: in this process's memory.
        """
        if not gateways:
            raise ValueError("at least one gateway is needed")
        self.gateways = list(gateways)
        self.by_name = {g.name: g for g in gateways}
        rates = rates or {}
        self.breakers: dict[str, Breaker] = {}
        self.limits: dict[str, Limiter] = {}
        for g in gateways:
            rate = rates.get(g.name, 0.0)
            if book is None:
                self.breakers[g.name] = CircuitBreaker(
                    threshold=threshold, cooldown=cooldown, monotonic=monotonic
                )
                self.limits[g.name] = RateLimiter(rate)
            else:
                key = f"gateway:{g.name}"
                self.breakers[g.name] = SharedBreaker(
                    book, key, threshold=threshold, cooldown=cooldown, monotonic=monotonic
                )
                self.limits[g.name] = SharedRateLimiter(book, key, rate)
        self._callback_for = callback_for

    @property
    def primary(self) -> SmsGateway:
        return self.gateways[0]

    @property
    def takes_lists(self) -> bool:
        """Whether the primary gateway takes several SMS per request (``send_many`` pays)."""
        return hasattr(self.primary, "send_many")

    def _order(self, sms: OutboundSms) -> list[SmsGateway]:
        return [self.by_name[n] for n in sms.route if n in self.by_name] or self.gateways

    async def send(self, sms: OutboundSms) -> SendResult:
        """Try each gateway in order whose breaker allows it; the last error if all fail."""
        return await self._send_via(sms, self._order(sms))

    async def send_many(self, batch: list[OutboundSms]) -> list[SendResult | GatewayError]:
        """Hand a batch to each SMS's first healthy gateway, in one request where it can.

        A gateway with ``send_many`` (GatewayAPI takes a list of messages) gets its share
        in one call; the others get one ``send`` each. An SMS that failed transiently is
        tried on the gateways after that one in its order, as ``send`` would.

        Returns:
            One result per SMS, in order: a ``SendResult`` or the ``GatewayError``.
        """
        results: list[SendResult | GatewayError | None] = [None] * len(batch)
        try:
            shares = await self._shares(batch)
        except GatewayError as exc:  # the shared breakers could not be read
            return [exc] * len(batch)
        for name, indexes in shares.items():
            answers: list[SendResult | GatewayError]
            try:
                if name:
                    answers = await self._send_share(name, [batch[i] for i in indexes])
                else:
                    answers = await self._send_each([batch[i] for i in indexes])
            except GatewayError as exc:  # the shared rate limit could not be read
                answers = [exc] * len(indexes)
            for i, answer in zip(indexes, answers, strict=True):
                results[i] = answer
        assert all(r is not None for r in results)
        return [r for r in results if r is not None]

    async def _shares(self, batch: list[OutboundSms]) -> dict[str, list[int]]:
        """Indexes of the batch by the list-taking gateway each SMS goes to first ("": none).

        Asking a breaker may let its half-open trial through, so each SMS asks once.
        """
        shares: dict[str, list[int]] = {}
        for i, sms in enumerate(batch):
            first = await self._first_allowed(self._order(sms))
            key = first.name if first is not None and hasattr(first, "send_many") else ""
            shares.setdefault(key, []).append(i)
        return shares

    async def _first_allowed(self, order: Sequence[SmsGateway]) -> SmsGateway | None:
        for gateway in order:
            if await self.breakers[gateway.name].allow():
                return gateway
        return None

    async def _send_each(self, share: list[OutboundSms]) -> list[SendResult | GatewayError]:
        """Send each SMS on its own, concurrently, as ``send`` would."""

        async def one(sms: OutboundSms) -> SendResult | GatewayError:
            try:
                return await self.send(sms)
            except GatewayError as exc:
                return exc

        return list(await asyncio.gather(*(one(sms) for sms in share)))

    async def _send_share(
        self, name: str, share: list[OutboundSms]
    ) -> list[SendResult | GatewayError]:
        """Send a share in one request to gateway ``name``; transient failures try the next."""
        gateway = self.by_name[name]
        await self.limits[name].acquire(len(share))
        routed = [
            replace(sms, status_callback=self._callback_for(name, sms.reference)) for sms in share
        ]
        answers: list[SendResult | GatewayError] = await gateway.send_many(routed)  # type: ignore[attr-defined]
        await self._judge(name, answers)
        return [
            await self._after_list(name, sms, answer)
            for sms, answer in zip(share, answers, strict=True)
        ]

    async def _judge(self, name: str, answers: list[SendResult | GatewayError]) -> None:
        """A batch the gateway failed as a whole counts against its breaker; any answer heals."""
        transient = [a for a in answers if isinstance(a, GatewayError) and a.transient]
        breaker = self.breakers[name]
        if transient and len(transient) == len(answers):
            await breaker.failure()
            log.warning("gateway %s failed a batch (breaker %s)", name, breaker.state)
        else:
            await breaker.success()

    async def _after_list(
        self, name: str, sms: OutboundSms, answer: SendResult | GatewayError
    ) -> SendResult | GatewayError:
        """One SMS's answer from a list request; a transient failure goes on down its order."""
        if isinstance(answer, SendResult):
            return replace(answer, gateway=name)
        if not answer.transient:
            return answer
        order = self._order(sms)
        rest = order[[g.name for g in order].index(name) + 1 :]
        try:
            return await self._send_via(sms, rest, last=answer)
        except GatewayError as exc:
            return exc

    async def _send_via(
        self, sms: OutboundSms, order: Sequence[SmsGateway], *, last: GatewayError | None = None
    ) -> SendResult:
        for gateway in order:
            breaker = self.breakers[gateway.name]
            if not await breaker.allow():
                continue
            await self.limits[gateway.name].acquire()
            routed = replace(sms, status_callback=self._callback_for(gateway.name, sms.reference))
            try:
                result = await gateway.send(routed)
            except GatewayError as exc:
                if not exc.transient:
                    await breaker.success()  # the gateway answered; the message was the problem
                    raise
                await breaker.failure()
                log.warning(
                    "gateway %s failed (breaker %s); trying the next", gateway.name, breaker.state
                )
                last = exc
                continue
            await breaker.success()
            return replace(result, gateway=gateway.name)
        raise last or GatewayError("every gateway's breaker is open", transient=True)

    def verify_inbound(self, request: WebhookRequest) -> InboundSms:
        return self.primary.verify_inbound(request)

    def verify_status(self, request: WebhookRequest) -> DeliveryReport:
        return self.primary.verify_status(request)
