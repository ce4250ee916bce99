"""The SmsGateway contract, run against every gateway and its simulator over real HTTP.

Each provider runs its simulator on one test server; a receiver app on another
plays our service's webhook endpoints and verifies every request with the
gateway under test. Whatever a provider's wire format, the same behaviour is
required of it here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.simulators import (
    GatewayApiSimulatorConfig,
    SimulatorConfig,
    create_gatewayapi_simulator,
    create_simulator_app,
)
from channels.base import (
    DeliveryReport,
    DeliveryState,
    GatewayError,
    InboundSms,
    OutboundSms,
    SignatureError,
    SmsGateway,
    WebhookRequest,
)
from channels.gatewayapi import GatewayApiGateway
from channels.twilio import TwilioGateway

SERVICE = "+4570000000"
FAMILY = "+4520000001"
BODY = "Hej Mette, husk mødet på torsdag kl. 10."
UKRAINIAN = "Доброго дня! Зустріч у четвер о 10:00."

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class Receiver:
    """Our service's side: webhook endpoints that verify with the gateway under test."""

    def __init__(self) -> None:
        self.gateway: SmsGateway | None = None
        self.server: TestServer | None = None
        self.reports: asyncio.Queue[DeliveryReport | Exception] = asyncio.Queue()
        self.inbound: asyncio.Queue[InboundSms | Exception] = asyncio.Queue()
        self.raw_reports: list[WebhookRequest] = []

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    @staticmethod
    async def webhook(request: web.Request) -> WebhookRequest:
        """The request as an adapter sees it: URL, headers, form (if any) and raw body."""
        body = await request.read()
        form: dict[str, str] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            posted = await request.post()
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
        return WebhookRequest(url=str(request.url), headers=request.headers, form=form, body=body)

    async def on_status(self, request: web.Request) -> web.Response:
        assert self.gateway is not None
        webhook = await self.webhook(request)
        self.raw_reports.append(webhook)
        try:
            self.reports.put_nowait(self.gateway.verify_status(webhook))
        except Exception as exc:  # handed to the test, which fails on it
            self.reports.put_nowait(exc)
            return web.Response(status=403)
        return web.Response(status=204)

    async def on_inbound(self, request: web.Request) -> web.Response:
        assert self.gateway is not None
        try:
            self.inbound.put_nowait(self.gateway.verify_inbound(await self.webhook(request)))
        except Exception as exc:
            self.inbound.put_nowait(exc)
            return web.Response(status=403)
        return web.Response(status=204)


async def next_item(queue: asyncio.Queue[Any]) -> Any:
    """The next report or SMS, failing the test on a verification error."""
    item = await asyncio.wait_for(queue.get(), timeout=2)
    if isinstance(item, Exception):
        raise item
    return item


async def reports_until_final(receiver: Receiver) -> list[DeliveryReport]:
    """Every report up to and including the first final one."""
    reports = [await next_item(receiver.reports)]
    while not reports[-1].state.is_final:
        reports.append(await next_item(receiver.reports))
    return reports


# ---------------------------------------------------------------- providers


def _tamper_twilio(request: WebhookRequest) -> WebhookRequest:
    """Change a signed form parameter after signing."""
    return replace(request, form={**request.form, "MessageStatus": "failed"})


def _tamper_gatewayapi(request: WebhookRequest) -> WebhookRequest:
    """Rewrite the JWT's claims but keep its signature (and make the body agree)."""
    token = request.headers["X-Gwapi-Signature"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["status"] = "UNDELIVERABLE"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    headers = {**request.headers, "X-Gwapi-Signature": f"{header}.{forged}.{signature}"}
    return replace(request, headers=headers, body=json.dumps(claims).encode())


@dataclass(frozen=True)
class Provider:
    """What the contract needs to know about one gateway and its simulator."""

    name: str
    simulator: Callable[[Receiver], web.Application]
    gateway: Callable[[str, aiohttp.ClientSession, bool, float], SmsGateway]
    id_pattern: re.Pattern[str]
    sim_id_key: str
    phone_id_key: str
    tamper: Callable[[WebhookRequest], WebhookRequest]


TWILIO_ACCOUNT = "AC" + "c" * 32
TWILIO_TOKEN = "contract-twilio-auth-token"
GWAPI_TOKEN = "contract-gatewayapi-api-token"
GWAPI_SECRET = "contract-gatewayapi-webhook-secret-0123456789"

TWILIO = Provider(
    name="twilio",
    simulator=lambda receiver: create_simulator_app(
        SimulatorConfig(
            account_sid=TWILIO_ACCOUNT,
            auth_token=TWILIO_TOKEN,
            inbound_webhook_url=receiver.url("/inbound"),
            status_delay=0.01,
            service_number=SERVICE,
        )
    ),
    gateway=lambda base_url, session, good, timeout: TwilioGateway(
        account_sid=TWILIO_ACCOUNT,
        auth_token=TWILIO_TOKEN if good else "wrong-token",
        base_url=base_url,
        session=session,
        timeout=timeout,
    ),
    id_pattern=re.compile(r"^SM[0-9a-f]{32}$"),
    sim_id_key="sid",
    phone_id_key="message_sid",
    tamper=_tamper_twilio,
)

GATEWAYAPI = Provider(
    name="gatewayapi",
    simulator=lambda receiver: create_gatewayapi_simulator(
        GatewayApiSimulatorConfig(
            token=GWAPI_TOKEN,
            webhook_secret=GWAPI_SECRET,
            mo_webhook_url=receiver.url("/inbound"),
            status_delay=0.01,
            service_number=SERVICE,
        )
    ),
    gateway=lambda base_url, session, good, timeout: GatewayApiGateway(
        token=GWAPI_TOKEN if good else "wrong-token",
        webhook_secret=GWAPI_SECRET,
        base_url=base_url,
        session=session,
        timeout=timeout,
    ),
    id_pattern=re.compile(r"^[0-9]+$"),
    sim_id_key="id",
    phone_id_key="id",
    tamper=_tamper_gatewayapi,
)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(params=[TWILIO, GATEWAYAPI], ids=lambda p: p.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each gateway in turn."""
    assert isinstance(request.param, Provider)
    return request.param


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One real HTTP client session for the test."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> Receiver:
    """The service's webhook endpoints on their own test server."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/status", rec.on_status)
    app.router.add_post("/inbound", rec.on_inbound)
    rec.server = await aiohttp_server(app)
    return rec


@pytest.fixture
async def sim(aiohttp_server: ServerFactory, provider: Provider, receiver: Receiver) -> TestServer:
    """The provider's simulator, posting inbound SMS to the receiver."""
    return await aiohttp_server(provider.simulator(receiver))


def make_gateway(
    provider: Provider,
    sim: TestServer,
    session: aiohttp.ClientSession,
    *,
    good: bool = True,
    timeout: float = 2.0,
) -> SmsGateway:
    return provider.gateway(str(sim.make_url("")), session, good, timeout)


@pytest.fixture
def gateway(
    provider: Provider, sim: TestServer, session: aiohttp.ClientSession, receiver: Receiver
) -> SmsGateway:
    """The gateway pointed at its simulator; the receiver verifies with it too."""
    gw = make_gateway(provider, sim, session)
    receiver.gateway = gw
    return gw


def sms(callback: str | None = None, body: str = BODY) -> OutboundSms:
    return OutboundSms(
        reference="out-1", sender=SERVICE, recipient=FAMILY, body=body, status_callback=callback
    )


async def sim_json(
    session: aiohttp.ClientSession, sim: TestServer, method: str, path: str, payload: Any = None
) -> tuple[int, Any]:
    async with session.request(method, sim.make_url(path), json=payload) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data


async def set_faults(session: aiohttp.ClientSession, sim: TestServer, **faults: Any) -> None:
    status, _ = await sim_json(session, sim, "POST", "/_sim/faults", faults)
    assert status == 200


# ---------------------------------------------------------------- sending


@pytest.mark.parametrize("body", [BODY, UKRAINIAN], ids=["danish", "ukrainian"])
async def test_send_lands_in_simulator(
    provider: Provider,
    gateway: SmsGateway,
    sim: TestServer,
    session: aiohttp.ClientSession,
    body: str,
) -> None:
    """A send returns a queued provider id, and the simulator holds that message, text intact."""
    result = await gateway.send(sms(body=body))
    assert provider.id_pattern.match(result.provider_id)
    assert result.state is DeliveryState.QUEUED
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert [(str(m[provider.sim_id_key]), m["to"], m["body"]) for m in messages] == [
        (result.provider_id, FAMILY, body)
    ]


async def test_wrong_credentials_are_permanent(
    provider: Provider, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A gateway with the wrong credentials gets a permanent error naming HTTP 401."""
    gateway = make_gateway(provider, sim, session, good=False)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert (caught.value.transient, caught.value.status) == (False, 401)
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert messages == []


@pytest.mark.parametrize("mode", ["fail_5xx", "garbage"])
async def test_server_trouble_is_transient(
    provider: Provider,
    gateway: SmsGateway,
    sim: TestServer,
    session: aiohttp.ClientSession,
    mode: str,
) -> None:
    """A 5xx or an unreadable 2xx answer is a transient error; the next send works."""
    await set_faults(session, sim, mode=mode, count=1)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True
    assert provider.id_pattern.match((await gateway.send(sms())).provider_id)


async def test_client_error_is_permanent(
    gateway: SmsGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 4xx refusal of the message is a permanent error that names no number or text."""
    await set_faults(session, sim, mode="fail_4xx", count=1)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is False
    assert caught.value.status is not None and 400 <= caught.value.status < 500
    text = str(caught.value)
    assert FAMILY[1:] not in text and SERVICE[1:] not in text and BODY not in text


async def test_hang_times_out_transiently(
    provider: Provider, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A gateway that never answers makes a short-timeout send fail transiently, quickly."""
    await set_faults(session, sim, mode="hang", count=1)
    gateway = make_gateway(provider, sim, session, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True
    assert time.monotonic() - started < 1.5


async def test_unreachable_gateway_is_transient(
    provider: Provider, session: aiohttp.ClientSession
) -> None:
    """A refused connection is a transient error."""
    gateway = provider.gateway("http://127.0.0.1:9", session, True, 2.0)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True


# ---------------------------------------------------------------- delivery reports


async def test_delivered_reports_verify(
    gateway: SmsGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """Signed reports for the message arrive in order and end DELIVERED."""
    result = await gateway.send(sms(callback=receiver.url("/status")))
    reports = await reports_until_final(receiver)
    assert len(reports) >= 2
    assert {r.provider_id for r in reports} == {result.provider_id}
    assert [r.state.rank for r in reports] == sorted(r.state.rank for r in reports)
    assert (reports[-1].state, reports[-1].error_code) == (DeliveryState.DELIVERED, None)


async def test_undeliverable_reports_failure(
    gateway: SmsGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A recipient the network cannot reach ends in a FAILED report with an error code."""
    await set_faults(session, sim, undeliverable=[FAMILY])
    result = await gateway.send(sms(callback=receiver.url("/status")))
    final = (await reports_until_final(receiver))[-1]
    assert (final.provider_id, final.state) == (result.provider_id, DeliveryState.FAILED)
    assert final.error_code


async def test_tampered_report_is_refused(
    provider: Provider,
    gateway: SmsGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
) -> None:
    """A genuine report verifies; the same report altered after signing raises SignatureError."""
    await gateway.send(sms(callback=receiver.url("/status")))
    await next_item(receiver.reports)
    genuine = receiver.raw_reports[0]
    assert gateway.verify_status(genuine).state is not DeliveryState.FAILED
    with pytest.raises(SignatureError):
        gateway.verify_status(provider.tamper(genuine))


async def test_unsigned_report_is_refused(
    gateway: SmsGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A genuine report stripped of its signature header raises SignatureError."""
    await gateway.send(sms(callback=receiver.url("/status")))
    await next_item(receiver.reports)
    genuine = receiver.raw_reports[0]
    unsigned = {k: v for k, v in genuine.headers.items() if "signature" not in k.lower()}
    with pytest.raises(SignatureError):
        gateway.verify_status(replace(genuine, headers=unsigned))


# ---------------------------------------------------------------- inbound


async def test_inbound_sms_verifies(
    provider: Provider,
    gateway: SmsGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
) -> None:
    """A phone's SMS arrives as a signed webhook that parses into the right InboundSms."""
    status, answer = await sim_json(
        session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": BODY, "to": SERVICE}
    )
    inbound = await next_item(receiver.inbound)
    assert status == 200 and answer["status"] == 204
    assert inbound.provider_id == str(answer[provider.phone_id_key])
    assert provider.id_pattern.match(inbound.provider_id)
    assert (inbound.sender, inbound.recipient, inbound.body, inbound.segments) == (
        FAMILY,
        SERVICE,
        BODY,
        1,
    )


async def test_long_inbound_sms_counts_segments(
    gateway: SmsGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 320-character inbound SMS is three segments, whoever reports it."""
    await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": "a" * 320})
    assert (await next_item(receiver.inbound)).segments == 3


# ---------------------------------------------------------------- the simulators' fault control

NO_FAULTS = {
    "mode": "ok",
    "count": None,
    "delay": 0.0,
    "undeliverable": [],
    "reorder_reports": False,
}


async def test_fault_control_shows_sets_and_resets(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """GET /_sim/faults shows what POST set, in the same shape; DELETE puts back no faults."""
    assert await sim_json(session, sim, "GET", "/_sim/faults") == (200, NO_FAULTS)
    wanted = {
        "mode": "fail_5xx",
        "count": 2,
        "delay": 0.5,
        "undeliverable": [FAMILY],
        "reorder_reports": True,
    }
    assert await sim_json(session, sim, "POST", "/_sim/faults", wanted) == (200, wanted)
    assert await sim_json(session, sim, "GET", "/_sim/faults") == (200, wanted)
    assert await sim_json(session, sim, "DELETE", "/_sim/faults") == (200, NO_FAULTS)
    assert await sim_json(session, sim, "GET", "/_sim/faults") == (200, NO_FAULTS)


async def test_counted_delay_ends_after_its_sends(
    gateway: SmsGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A delay with a count slows that many sends, then the faults go back to none."""
    await set_faults(session, sim, delay=0.2, count=1, undeliverable=[FAMILY])
    started = time.monotonic()
    await gateway.send(sms())
    assert time.monotonic() - started >= 0.2
    _, faults = await sim_json(session, sim, "GET", "/_sim/faults")
    # The count covers mode and delay; who is undeliverable stays until reset.
    assert faults == {**NO_FAULTS, "undeliverable": [FAMILY]}


@pytest.mark.parametrize(
    "bad",
    [
        {"mode": "explode"},
        {"count": 0},
        {"count": True},
        {"count": 1.5},
        {"delay": -1},
        {"delay": True},
        {"delay": "1"},
        {"undeliverable": FAMILY},
        {"undeliverable": [4520000001]},
        {"reorder_reports": "yes"},
        ["not", "an", "object"],
    ],
)
async def test_fault_control_refuses_nonsense(
    sim: TestServer, session: aiohttp.ClientSession, bad: Any
) -> None:
    """A fault setting that makes no sense is refused with 400 and leaves the faults as they were."""
    status, answer = await sim_json(session, sim, "POST", "/_sim/faults", bad)
    assert status == 400 and isinstance(answer["error"], str)
    assert await sim_json(session, sim, "GET", "/_sim/faults") == (200, NO_FAULTS)


async def test_fault_control_refuses_a_body_that_is_not_json(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A POST /_sim/faults body that is not JSON is refused with 400."""
    async with session.post(sim.make_url("/_sim/faults"), data=b"mode=hang") as response:
        assert response.status == 400
        assert await response.json() == {"error": "expected a JSON object"}
