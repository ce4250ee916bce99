"""TwilioGateway against the local Twilio simulator, over real HTTP.

The simulator runs on one test server; a small receiver app on another plays
our service's webhook endpoints and verifies every request with the gateway.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.simulators import SimCaseworker, SimPhone, SimulatorConfig, create_simulator_app
from channels.base import (
    DeliveryReport,
    DeliveryState,
    GatewayError,
    InboundSms,
    OutboundSms,
    WebhookRequest,
)
from channels.twilio import TwilioGateway, basic_auth_header

ACCOUNT = "AC" + "c" * 32
TOKEN = "simulator-auth-token"
SERVICE = "+4570000000"
FAMILY = "+4520000001"
BODY = "Hej Mette, husk mødet på torsdag kl. 10."
SID = re.compile(r"^SM[0-9a-f]{32}$")
TWIML_REPLY = "Tak, vi har modtaget din besked."

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class Receiver:
    """Our service's side: webhook endpoints that verify with the gateway."""

    def __init__(self) -> None:
        self.gateway: TwilioGateway | None = None
        self.reports: asyncio.Queue[DeliveryReport | Exception] = asyncio.Queue()
        self.inbound: asyncio.Queue[InboundSms | Exception] = asyncio.Queue()
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    @staticmethod
    async def _webhook(request: web.Request) -> WebhookRequest:
        form = await request.post()
        return WebhookRequest(
            url=str(request.url),
            headers=request.headers,
            form={k: v for k, v in form.items() if isinstance(v, str)},
        )

    async def on_status(self, request: web.Request) -> web.Response:
        assert self.gateway is not None
        try:
            self.reports.put_nowait(self.gateway.verify_status(await self._webhook(request)))
        except Exception as exc:  # handed to the test, which fails on it
            self.reports.put_nowait(exc)
            return web.Response(status=403)
        return web.Response(status=204)

    async def on_inbound(self, request: web.Request) -> web.Response:
        assert self.gateway is not None
        try:
            self.inbound.put_nowait(self.gateway.verify_inbound(await self._webhook(request)))
        except Exception as exc:
            self.inbound.put_nowait(exc)
            return web.Response(status=403)
        twiml = f"<?xml version='1.0'?><Response><Message>{TWIML_REPLY}</Message></Response>"
        return web.Response(text=twiml, content_type="text/xml")


async def next_item(queue: asyncio.Queue[Any]) -> Any:
    """The next report or SMS, failing the test on a verification error."""
    item = await asyncio.wait_for(queue.get(), timeout=2)
    if isinstance(item, Exception):
        raise item
    return item


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
async def sim(aiohttp_server: ServerFactory, receiver: Receiver) -> TestServer:
    """The Twilio simulator, posting inbound SMS to the receiver."""
    config = SimulatorConfig(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        inbound_webhook_url=receiver.url("/inbound"),
        phones=[SimPhone(number=FAMILY, label="Familien Test")],
        status_delay=0.01,
        service_number=SERVICE,
    )
    return await aiohttp_server(create_simulator_app(config))


def make_gateway(
    sim: TestServer, session: aiohttp.ClientSession, *, token: str = TOKEN, timeout: float = 2.0
) -> TwilioGateway:
    return TwilioGateway(
        account_sid=ACCOUNT,
        auth_token=token,
        base_url=str(sim.make_url("")),
        session=session,
        timeout=timeout,
    )


@pytest.fixture
def gateway(sim: TestServer, session: aiohttp.ClientSession, receiver: Receiver) -> TwilioGateway:
    """A gateway pointed at the simulator; the receiver verifies with it too."""
    gw = make_gateway(sim, session)
    receiver.gateway = gw
    return gw


def sms(callback: str | None = None, to: str = FAMILY, body: str = BODY) -> OutboundSms:
    return OutboundSms(
        reference="out-1", sender=SERVICE, recipient=to, body=body, status_callback=callback
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


def assert_private(error: BaseException) -> None:
    text = str(error)
    assert FAMILY not in text and SERVICE not in text and BODY not in text


# ---------------------------------------------------------------- sending


async def test_send_returns_sm_sid(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A send is accepted as queued with an SM sid and recorded by the simulator."""
    result = await gateway.send(sms())
    assert SID.match(result.provider_id)
    assert result.state is DeliveryState.QUEUED
    status, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert status == 200
    assert [(m["sid"], m["to"], m["from"], m["body"]) for m in messages] == [
        (result.provider_id, FAMILY, SERVICE, BODY)
    ]


async def test_resource_is_twilio_shaped(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """The created message can be fetched as a Twilio Message resource."""
    result = await gateway.send(sms())
    url = sim.make_url(f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{result.provider_id}.json")
    auth = {"Authorization": basic_auth_header(ACCOUNT, TOKEN)}
    async with session.get(url, headers=auth) as response:
        resource = await response.json()
    assert response.status == 200
    assert resource["sid"] == result.provider_id
    assert resource["account_sid"] == ACCOUNT
    assert resource["direction"] == "outbound-api"
    assert resource["num_segments"] == "1"
    assert resource["uri"].endswith(f"/Messages/{result.provider_id}.json")


async def test_wrong_auth_token_is_permanent(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A wrong auth token gives a non-transient GatewayError with HTTP 401."""
    gateway = make_gateway(sim, session, token="wrong-token")
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert (caught.value.transient, caught.value.status) == (False, 401)
    assert_private(caught.value)


async def test_invalid_recipient_is_permanent(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 400 from Twilio (invalid To) is permanent and names no number."""
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms(to="12345"))
    assert (caught.value.transient, caught.value.status) == (False, 400)
    assert "21211" in str(caught.value)
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert messages == []


async def test_fail_5xx_is_transient_and_counts_down(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """fail_5xx with count 1 fails one send transiently; the next one succeeds."""
    await set_faults(session, sim, mode="fail_5xx", count=1)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert (caught.value.transient, caught.value.status) == (True, 500)
    assert SID.match((await gateway.send(sms())).provider_id)
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert len(messages) == 1


async def test_fail_4xx_is_permanent(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """fail_4xx makes the send fail permanently."""
    await set_faults(session, sim, mode="fail_4xx")
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert (caught.value.transient, caught.value.status) == (False, 400)
    assert_private(caught.value)


async def test_garbage_is_transient(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 2xx answer that is not a Message resource is a transient error."""
    await set_faults(session, sim, mode="garbage", count=1)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True


async def test_hang_times_out_transiently(sim: TestServer, session: aiohttp.ClientSession) -> None:
    """A hanging Twilio makes a short-timeout gateway raise a transient error quickly."""
    await set_faults(session, sim, mode="hang", count=1)
    gateway = make_gateway(sim, session, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True
    assert time.monotonic() - started < 1.5


async def test_delay_is_applied(sim: TestServer, session: aiohttp.ClientSession) -> None:
    """A configured delay longer than the gateway timeout is a transient error."""
    await set_faults(session, sim, delay=0.5, count=1)
    gateway = make_gateway(sim, session, timeout=0.1)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True


async def test_unreachable_gateway_is_transient(session: aiohttp.ClientSession) -> None:
    """A refused connection is a transient error."""
    gateway = TwilioGateway(
        account_sid=ACCOUNT, auth_token=TOKEN, base_url="http://127.0.0.1:9", session=session
    )
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert caught.value.transient is True
    assert_private(caught.value)


async def test_fault_reset_and_validation(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """DELETE /_sim/faults restores normal sends; nonsense faults are refused."""
    await set_faults(session, sim, mode="fail_5xx")
    status, _ = await sim_json(session, sim, "DELETE", "/_sim/faults")
    assert status == 200
    assert SID.match((await gateway.send(sms())).provider_id)
    for bad in ({"mode": "explode"}, {"count": 0}, {"delay": -1}, {"undeliverable": "x"}):
        status, _ = await sim_json(session, sim, "POST", "/_sim/faults", bad)
        assert status == 400


async def test_clear_messages(
    gateway: TwilioGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """DELETE /_sim/messages forgets what was sent."""
    await gateway.send(sms())
    async with session.delete(sim.make_url("/_sim/messages")) as response:
        assert response.status == 204
    assert (await sim_json(session, sim, "GET", "/_sim/messages"))[1] == []


# ---------------------------------------------------------------- status callbacks


async def test_status_callbacks_verify(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """Signed callbacks sent then delivered arrive and pass verify_status."""
    result = await gateway.send(sms(callback=receiver.url("/status")))
    first, second = await next_item(receiver.reports), await next_item(receiver.reports)
    assert (first.provider_id, first.state, first.provider_status) == (
        result.provider_id,
        DeliveryState.SENT,
        "sent",
    )
    assert (second.state, second.error_code) == (DeliveryState.DELIVERED, None)
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert messages[0]["status"] == "delivered"


async def test_undeliverable_reports_failure(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A recipient marked undeliverable ends in a FAILED report with error 30003."""
    await set_faults(session, sim, undeliverable=[FAMILY])
    await gateway.send(sms(callback=receiver.url("/status")))
    assert (await next_item(receiver.reports)).state is DeliveryState.SENT
    final = await next_item(receiver.reports)
    assert (final.state, final.provider_status, final.error_code) == (
        DeliveryState.FAILED,
        "undelivered",
        "30003",
    )


async def test_reorder_reports_sends_delivered_first(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """With reorder_reports the delivered callback arrives before sent."""
    await set_faults(session, sim, reorder_reports=True)
    await gateway.send(sms(callback=receiver.url("/status")))
    first, second = await next_item(receiver.reports), await next_item(receiver.reports)
    assert (first.state, second.state) == (DeliveryState.DELIVERED, DeliveryState.SENT)
    _, messages = await sim_json(session, sim, "GET", "/_sim/messages")
    assert messages[0]["status"] == "delivered"


# ---------------------------------------------------------------- phones


async def test_phone_send_posts_verifiable_webhook(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A phone's SMS reaches the service as a signed webhook verify_inbound accepts."""
    status, answer = await sim_json(
        session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": BODY, "to": SERVICE}
    )
    inbound = await next_item(receiver.inbound)
    assert status == 200 and answer["status"] == 200
    assert inbound.provider_id == answer["message_sid"]
    assert SID.match(inbound.provider_id)
    assert (inbound.sender, inbound.recipient, inbound.body, inbound.segments) == (
        FAMILY,
        SERVICE,
        BODY,
        1,
    )
    expected = {"SmsSid", "SmsMessageSid", "MessagingServiceSid", "NumMedia", "ApiVersion"}
    assert expected <= set(inbound.raw)
    assert (inbound.raw["SmsStatus"], inbound.raw["FromCountry"]) == ("received", "DK")


async def test_phone_send_counts_segments(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 320-character SMS is reported as three segments."""
    await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": "a" * 320})
    assert (await next_item(receiver.inbound)).segments == 3


async def test_phone_conversation_in_order(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A phone's conversation holds what it received and sent, oldest first, with TwiML replies."""
    await gateway.send(sms(body="Første"))
    await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": "Svar"})
    await next_item(receiver.inbound)
    status, conversation = await sim_json(session, sim, "GET", f"/_sim/phones/{FAMILY}/messages")
    assert status == 200
    assert [(m["direction"], m["body"]) for m in conversation] == [
        ("to_phone", "Første"),
        ("from_phone", "Svar"),
        ("to_phone", TWIML_REPLY),
    ]
    status, phones = await sim_json(session, sim, "GET", "/_sim/phones")
    assert phones == [{"number": FAMILY, "label": "Familien Test"}]


async def test_phone_send_marks_an_urgent_sms(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """ "Haster" on the demo page puts HASTER: in front (once); a non-boolean urgent is refused."""
    path = f"/_sim/phones/{FAMILY}/send"
    await sim_json(session, sim, "POST", path, {"body": "Min søn er væk", "urgent": True})
    assert (await next_item(receiver.inbound)).body == "HASTER: Min søn er væk"
    await sim_json(session, sim, "POST", path, {"body": "haster: ring", "urgent": True})
    assert (await next_item(receiver.inbound)).body == "haster: ring"
    status, _ = await sim_json(session, sim, "POST", path, {"body": "x", "urgent": "ja"})
    assert status == 400


async def test_phone_send_rejects_bad_input(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A phone send without a string body, or from a non-E.164 number, is refused."""
    assert (await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {}))[0] == 400
    status, _ = await sim_json(session, sim, "POST", "/_sim/phones/12/send", {"body": "x"})
    assert status == 400


async def test_logs_name_no_numbers_or_bodies(
    gateway: TwilioGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither the adapter nor the simulator logs phone numbers or message text."""
    caplog.set_level(logging.DEBUG, logger="channels")
    await gateway.send(sms(callback=receiver.url("/status")))
    await next_item(receiver.reports)
    await next_item(receiver.reports)
    await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": BODY})
    await next_item(receiver.inbound)
    with pytest.raises(GatewayError):
        await make_gateway(sim, session, token="bad").send(sms())
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("channels")]
    assert logged
    assert not [line for line in logged if FAMILY in line or SERVICE in line or BODY in line]


# ---------------------------------------------------------------- caseworker panel and page


async def fake_caseworker_api(request: web.Request) -> web.Response:
    """Just enough of the main app's caseworker API to proxy to."""
    if request.headers.get("Authorization") != "Bearer cw-token":
        return web.json_response({"error": "unauthenticated"}, status=401)
    if request.method == "POST":
        data = await request.json()
        message = {"id": 7, "direction": "out", "kind": "reply", "body": data["body"]}
        return web.json_response(message, status=201)
    if "id" in request.match_info:
        return web.json_response({"id": int(request.match_info["id"]), "messages": []})
    return web.json_response({"items": [{"id": 3, "case_number": "2024-17"}]})


async def test_caseworker_proxy(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """The caseworker panel proxies list, thread and reply with the caseworker's token."""
    api = web.Application()
    api.router.add_get("/api/v1/conversations", fake_caseworker_api)
    api.router.add_get("/api/v1/conversations/{id}", fake_caseworker_api)
    api.router.add_post("/api/v1/conversations/{id}/replies", fake_caseworker_api)
    api_server = await aiohttp_server(api)
    config = SimulatorConfig(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        inbound_webhook_url=None,
        caseworker_api_base=str(api_server.make_url("")),
        caseworker_tokens=[SimCaseworker("Mette", "cw-token"), SimCaseworker("Ib", "stale")],
    )
    sim = await aiohttp_server(create_simulator_app(config))
    base = "/_sim/caseworkers"
    assert await sim_json(session, sim, "GET", base) == (
        200,
        [{"index": 0, "name": "Mette"}, {"index": 1, "name": "Ib"}],
    )
    assert await sim_json(session, sim, "GET", f"{base}/0/conversations") == (
        200,
        {"items": [{"id": 3, "case_number": "2024-17"}]},
    )
    assert await sim_json(session, sim, "GET", f"{base}/0/conversations/3") == (
        200,
        {"id": 3, "messages": []},
    )
    status, reply = await sim_json(
        session, sim, "POST", f"{base}/0/conversations/3/replies", {"body": "Vi ses"}
    )
    assert (status, reply["body"]) == (201, "Vi ses")
    assert (await sim_json(session, sim, "GET", f"{base}/1/conversations"))[0] == 401
    assert (await sim_json(session, sim, "GET", f"{base}/5/conversations"))[0] == 404


async def test_demo_page_is_served(sim: TestServer, session: aiohttp.ClientSession) -> None:
    """GET / serves the self-contained Danish demo page, which never uses innerHTML."""
    async with session.get(sim.make_url("/")) as response:
        html = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "Familiernes telefoner" in html and "Sagsbehandler" in html
    assert "innerHTML" not in html
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_shutdown_ends_hanging_requests(session: aiohttp.ClientSession) -> None:
    """Stopping the app ends a hanging send at once, even without handler cancellation."""
    config = SimulatorConfig(account_sid=ACCOUNT, auth_token=TOKEN, inbound_webhook_url=None)
    runner = web.AppRunner(create_simulator_app(config), shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base_url = f"http://127.0.0.1:{port}"
    async with session.post(f"{base_url}/_sim/faults", json={"mode": "hang"}) as response:
        assert response.status == 200
    gateway = TwilioGateway(
        account_sid=ACCOUNT, auth_token=TOKEN, base_url=base_url, session=session, timeout=5
    )
    pending = asyncio.create_task(gateway.send(sms()))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - started < 2
    with pytest.raises(GatewayError) as caught:
        await pending
    assert caught.value.transient is True


async def test_phone_mms_is_signed_and_its_media_served_as_twilio_does(
    gateway: TwilioGateway, receiver: Receiver, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """An MMS: MM sid, NumMedia and MediaUrl0 signed; the URL needs basic auth, then redirects."""
    photo = b"\xff\xd8\xff\xe0" + b"p" * 200
    media = [{"content_type": "image/jpeg", "content_b64": base64.b64encode(photo).decode()}]
    status, answer = await sim_json(
        session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": "", "media": media}
    )
    inbound = await next_item(receiver.inbound)
    assert status == 200 and answer["status"] == 200
    assert re.fullmatch(r"MM[0-9a-f]{32}", inbound.provider_id)
    assert inbound.raw["NumMedia"] == "1" and inbound.body == ""
    (item,) = inbound.media
    assert item.content_type == "image/jpeg" and item.url == answer["media_urls"][0]
    assert item.url is not None and gateway.owns_media_url(item.url)
    assert await gateway.fetch_media(item.url, limit=10_000) == photo
    async with session.get(item.url, allow_redirects=False) as unauthenticated:
        assert unauthenticated.status == 401
    headers = {"Authorization": basic_auth_header(ACCOUNT, TOKEN)}
    async with session.get(item.url, headers=headers, allow_redirects=False) as redirected:
        assert redirected.status == 307
        assert redirected.headers["Location"].startswith("/_sim/mms-cdn/")
    bad = {"body": "x", "media": [{"content_type": "image/jpeg", "content_b64": "!!"}]}
    assert (await sim_json(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", bad))[0] == 400


def test_segments_are_counted_as_twilio_counts_them() -> None:
    """GSM-7 160 then 153 a segment; a Cyrillic or Arabic text is UCS-2: 70 then 67 (the
    demo's phone showed a 117-character Ukrainian SMS as one segment)."""
    from bot.simulators.twilio import segments_for

    assert [segments_for("a" * 160), segments_for("a" * 161)] == [1, 2]
    assert [segments_for("ї" * 70), segments_for("ї" * 71), segments_for("ع" * 117)] == [1, 2, 2]
