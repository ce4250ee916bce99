"""Primary and secondary gateways: the circuit breaker and the rate limiter."""

from __future__ import annotations

import time

import pytest

from channels.base import DeliveryState, GatewayError, OutboundSms, SendResult
from channels.failover import CircuitBreaker, FailoverGateway, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class ScriptedGateway:
    """An honest SmsGateway whose answers a test scripts: "ok", "5xx" or "4xx"."""

    def __init__(self, name: str, script: list[str] | None = None) -> None:
        self.name = name
        self.script = list(script or [])
        self.sent: list[OutboundSms] = []

    async def send(self, sms: OutboundSms) -> SendResult:
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "5xx":
            raise GatewayError("server error", transient=True, status=503)
        if outcome == "4xx":
            raise GatewayError("bad request", transient=False, status=400)
        self.sent.append(sms)
        return SendResult(f"{self.name}-{len(self.sent)}", DeliveryState.QUEUED)

    def verify_inbound(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def verify_status(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def sms(ref: str = "m1") -> OutboundSms:
    return OutboundSms(reference=ref, sender="+4533663366", recipient="+4520123401", body="Hej")


def router(primary: ScriptedGateway, secondary: ScriptedGateway, clock: Clock) -> FailoverGateway:
    return FailoverGateway(
        [primary, secondary],
        callback_for=lambda g, r: f"https://x/{g}/{r}",
        threshold=3,
        cooldown=30,
        monotonic=clock,
    )


async def test_breaker_opens_after_threshold_and_half_opens_after_cooldown() -> None:
    """Three failures open the breaker; after the cooldown one trial is let through."""
    clock = Clock()
    b = CircuitBreaker(threshold=3, cooldown=30, monotonic=clock)
    for _ in range(3):
        assert await b.allow()
        await b.failure()
    assert b.state == "open" and not await b.allow()
    clock.t = 31
    assert b.state == "half_open" and await b.allow() and not await b.allow()
    await b.failure()
    assert b.state == "open"
    clock.t = 62
    assert await b.allow()
    await b.success()
    assert b.state == "closed"


async def test_transient_failure_moves_the_message_to_the_secondary() -> None:
    """A 5xx from the primary sends the same message through the secondary, with its callback."""
    clock = Clock()
    primary, secondary = ScriptedGateway("twilio", ["5xx"]), ScriptedGateway("gatewayapi")
    result = await router(primary, secondary, clock).send(sms())
    assert result.gateway == "gatewayapi" and result.provider_id == "gatewayapi-1"
    assert secondary.sent[0].status_callback == "https://x/gatewayapi/m1"


async def test_open_breaker_skips_the_primary_until_the_cooldown() -> None:
    """After three failures the primary is not even tried; after the cooldown it is again."""
    clock = Clock()
    primary = ScriptedGateway("twilio", ["5xx", "5xx", "5xx"])
    secondary = ScriptedGateway("gatewayapi")
    gw = router(primary, secondary, clock)
    for i in range(5):
        await gw.send(sms(f"m{i}"))
    assert primary.script == [] and len(primary.sent) == 0 and len(secondary.sent) == 5
    clock.t = 31
    result = await gw.send(sms("later"))
    assert result.gateway == "twilio"


async def test_permanent_error_is_not_failed_over() -> None:
    """A 4xx is about the message, not the gateway: it is raised, not retried elsewhere."""
    primary, secondary = ScriptedGateway("twilio", ["4xx"]), ScriptedGateway("gatewayapi")
    with pytest.raises(GatewayError) as err:
        await router(primary, secondary, Clock()).send(sms())
    assert not err.value.transient and secondary.sent == []


async def test_all_gateways_down_is_transient() -> None:
    """Both failing: a transient error, so the outbox keeps the message and retries."""
    gw = router(ScriptedGateway("twilio", ["5xx"]), ScriptedGateway("gatewayapi", ["5xx"]), Clock())
    with pytest.raises(GatewayError) as err:
        await gw.send(sms())
    assert err.value.transient


async def test_rate_limiter_paces_sends() -> None:
    """At 20 messages/s, 41 sends (20 from a full bucket, then 21 paced) take a second."""
    limiter = RateLimiter(20)
    start = time.monotonic()
    for _ in range(41):
        await limiter.acquire()
    assert time.monotonic() - start >= 0.95


async def test_a_municipality_s_own_order_wins() -> None:
    """An SMS routed "gatewayapi,twilio" goes to GatewayAPI first, whatever the default order."""
    from dataclasses import replace

    primary, secondary = ScriptedGateway("twilio"), ScriptedGateway("gatewayapi")
    result = await router(primary, secondary, Clock()).send(
        replace(sms(), route=("gatewayapi", "twilio"))
    )
    assert result.gateway == "gatewayapi" and primary.sent == []


class BatchingGateway(ScriptedGateway):
    """A gateway that takes a list of messages in one request, as GatewayAPI does."""

    def __init__(self, name: str, answers: list[str] | None = None) -> None:
        super().__init__(name)
        self.requests: list[list[OutboundSms]] = []
        self.answers = list(answers or [])

    async def send_many(self, batch: list[OutboundSms]) -> list[SendResult | GatewayError]:
        self.requests.append(batch)
        out: list[SendResult | GatewayError] = []
        for one in batch:
            outcome = self.answers.pop(0) if self.answers else "ok"
            if outcome == "5xx":
                out.append(GatewayError("server error", transient=True, status=503))
            elif outcome == "4xx":
                out.append(GatewayError("bad number", transient=False, status=400))
            else:
                self.sent.append(one)
                out.append(SendResult(f"{self.name}-{len(self.sent)}", DeliveryState.QUEUED))
        return out


async def test_send_many_uses_one_request_and_keeps_each_callback() -> None:
    """A batch for a gateway that takes lists goes in one request, each SMS with its callback."""
    primary, secondary = BatchingGateway("gatewayapi"), ScriptedGateway("twilio")
    batch = [sms(f"m{i}") for i in range(5)]
    results = await router(primary, secondary, Clock()).send_many(batch)
    assert len(primary.requests) == 1 and not secondary.sent
    assert [r.gateway for r in results if isinstance(r, SendResult)] == ["gatewayapi"] * 5
    assert [s.status_callback for s in primary.requests[0]] == [
        f"https://x/gatewayapi/m{i}" for i in range(5)
    ]


async def test_send_many_moves_transient_failures_on_and_returns_permanent_ones() -> None:
    """A 5xx for one SMS sends that one through the secondary; a 4xx comes back as the error."""
    primary = BatchingGateway("gatewayapi", ["ok", "5xx", "4xx"])
    secondary = ScriptedGateway("twilio")
    results = await router(primary, secondary, Clock()).send_many([sms("a"), sms("b"), sms("c")])
    assert isinstance(results[0], SendResult) and results[0].gateway == "gatewayapi"
    assert isinstance(results[1], SendResult) and results[1].gateway == "twilio"
    assert secondary.sent[0].reference == "b"
    assert isinstance(results[2], GatewayError) and not results[2].transient


async def test_send_many_all_transient_counts_against_the_breaker() -> None:
    """A batch that fails whole opens the breaker like three single failures would."""
    clock = Clock()
    primary, secondary = BatchingGateway("gatewayapi", ["5xx"] * 9), ScriptedGateway("twilio")
    gw = router(primary, secondary, clock)
    for _ in range(3):
        results = await gw.send_many([sms("a"), sms("b"), sms("c")])
        assert all(isinstance(r, SendResult) and r.gateway == "twilio" for r in results)
    assert gw.breakers["gatewayapi"].state == "open"
    await gw.send_many([sms("d"), sms("e")])
    assert len(primary.requests) == 3 and len(secondary.sent) == 11
