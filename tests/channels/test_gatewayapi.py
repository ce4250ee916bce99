"""GatewayAPI specifics: the webhook JWT, claim parsing, the send payload and the simulator.

The shared behaviour of every gateway lives in test_gateway_contract.py; this
file holds what only GatewayAPI has: HS256 JWTs in ``X-Gwapi-Signature`` whose
claims (never the body) are the webhook, ``userref``, MSISDNs without ``+``,
UCS-2 and ``max_parts``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.simulators import GatewayApiSimulatorConfig, create_gatewayapi_simulator
from channels.base import (
    DeliveryReport,
    DeliveryState,
    GatewayError,
    InboundSms,
    MalformedWebhook,
    OutboundSms,
    SendResult,
    SignatureError,
    WebhookRequest,
)
from channels.gatewayapi import (
    DEFAULT_VALIDITY_SECONDS,
    GATEWAYAPI_STATUSES,
    GatewayApiDeliveryReport,
    GatewayApiGateway,
    decode_claims,
    from_msisdn,
    map_status,
    reference_of,
    to_msisdn,
)
from tests.channels.test_gateway_contract import Receiver, next_item, reports_until_final

# Long enough for PyJWT to sign HS512 with it without a key-length warning.
SECRET = "gatewayapi-webhook-secret-for-tests-" + "0123456789abcdef" * 3
TOKEN = "gatewayapi-api-token"
SERVICE = "+4570000000"
FAMILY = "+4520000001"
BODY = "Hej Mette, husk mødet på torsdag kl. 10."
URL = "https://tovholder.example.dk/webhooks/gatewayapi/status"

# The example from GatewayAPI's REST documentation, signed with the secret "secret".
DOCS_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo"
    "0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJ"
    "vciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR"
    "0cDovL2JiYWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ.KdfDH65bnQtgxEkFnpAQodOciAJ"
    "edZFB13r9wEo8t3Y"
)

STATUS_CLAIMS: dict[str, Any] = {
    "id": 2381703,
    "msisdn": 4520000001,
    "time": 1522764062,
    "status": "DELIVERED",
    "error": None,
    "code": None,
    "userref": "out-1",
    "country_code": "DK",
    "country_prefix": 45,
    "charge_status": "NOCHARGE",
}
MO_CLAIMS: dict[str, Any] = {
    "id": 1000001,
    "msisdn": 4520000001,
    "receiver": 4570000000,
    "message": BODY,
    "senttime": 1450000000,
    "webhook_label": "tovholder",
}

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed(claims: dict[str, Any], *, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def webhook(
    token: str | None, body: dict[str, Any] | None = None, header: str = "X-Gwapi-Signature"
) -> WebhookRequest:
    """A webhook request carrying ``token`` (if any) and a JSON body."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[header] = token
    return WebhookRequest(url=URL, headers=headers, form={}, body=json.dumps(body or {}).encode())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One real HTTP client session for the test."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def gateway(session: aiohttp.ClientSession) -> GatewayApiGateway:
    """A gateway whose HTTP session the webhook tests never use."""
    return GatewayApiGateway(
        token=TOKEN, webhook_secret=SECRET, base_url="http://unused", session=session
    )


# ---------------------------------------------------------------- the JWT


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_documentation_example_token_decodes() -> None:
    """The signed example in GatewayAPI's documentation decodes with its secret."""
    claims = decode_claims(DOCS_TOKEN, "secret")
    assert (claims["id"], claims["msisdn"], claims["status"]) == (2381703, 4542609045, "DELIVERED")


async def test_valid_report_verifies(gateway: GatewayApiGateway) -> None:
    """An HS256 report signed with our secret becomes a report carrying our reference."""
    report = gateway.verify_status(webhook(signed(STATUS_CLAIMS), STATUS_CLAIMS))
    assert report == GatewayApiDeliveryReport(
        provider_id="2381703",
        state=DeliveryState.DELIVERED,
        provider_status="DELIVERED",
        error_code=None,
        reference="out-1",
    )
    assert reference_of(report) == "out-1"


def test_reference_of_other_gateways_report_is_none() -> None:
    """A plain DeliveryReport (e.g. Twilio's) has no reference."""
    assert reference_of(DeliveryReport("SM1", DeliveryState.SENT, "sent")) is None


async def test_alg_none_is_refused(gateway: GatewayApiGateway) -> None:
    """An unsigned token (alg "none") is refused, with or without a signature part."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    payload = b64url(json.dumps(STATUS_CLAIMS).encode())
    real_signature = signed(STATUS_CLAIMS).rsplit(".", 1)[1]
    for token in (f"{header}.{payload}.", f"{header}.{payload}.{real_signature}"):
        with pytest.raises(SignatureError):
            gateway.verify_status(webhook(token))


async def test_rs256_is_refused(gateway: GatewayApiGateway) -> None:
    """A token signed with RS256, even by a valid key, is refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(jwt.encode(STATUS_CLAIMS, key, algorithm="RS256")))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_sizes_are_refused(gateway: GatewayApiGateway, algorithm: str) -> None:
    """A token signed with our very secret but another HMAC algorithm is refused."""
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(signed(STATUS_CLAIMS, algorithm=algorithm)))


async def test_wrong_secret_is_refused(gateway: GatewayApiGateway) -> None:
    """A token signed with another secret is refused."""
    token = signed(STATUS_CLAIMS, secret="another-webhook-secret-0123456789abcdef")
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(token))


async def test_tampered_claims_are_refused(gateway: GatewayApiGateway) -> None:
    """Claims rewritten after signing invalidate the signature."""
    header, _, signature = signed(STATUS_CLAIMS).split(".")
    forged = b64url(json.dumps({**STATUS_CLAIMS, "userref": "out-2"}).encode())
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(f"{header}.{forged}.{signature}"))


async def test_tampered_signature_is_refused(gateway: GatewayApiGateway) -> None:
    """A signature with one character changed is refused."""
    token = signed(STATUS_CLAIMS)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(flipped))


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c", "æøå.æøå.æøå"])
async def test_missing_or_garbled_header_is_refused(
    gateway: GatewayApiGateway, token: str | None
) -> None:
    """No header, an empty one or one that is not a JWT raises SignatureError, for both webhooks."""
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(token, STATUS_CLAIMS))
    with pytest.raises(SignatureError):
        gateway.verify_inbound(webhook(token, MO_CLAIMS))


async def test_expired_token_is_refused(gateway: GatewayApiGateway) -> None:
    """A token with an ``exp`` in the past is refused."""
    token = signed({**STATUS_CLAIMS, "exp": int(time.time()) - 60})
    with pytest.raises(SignatureError):
        gateway.verify_status(webhook(token))


async def test_header_name_is_case_insensitive(gateway: GatewayApiGateway) -> None:
    """The signature header is found whatever its capitalisation."""
    request = webhook(signed(STATUS_CLAIMS), header="x-gwapi-signature")
    assert gateway.verify_status(request).provider_id == "2381703"


async def test_claims_win_over_body(gateway: GatewayApiGateway) -> None:
    """A body that disagrees with the signed claims is ignored: the claims are the webhook."""
    body = {**STATUS_CLAIMS, "status": "UNDELIVERABLE", "userref": "someone-else", "id": 1}
    report = gateway.verify_status(webhook(signed(STATUS_CLAIMS), body))
    assert (report.provider_id, report.state, report.reference) == (
        "2381703",
        DeliveryState.DELIVERED,
        "out-1",
    )
    inbound = gateway.verify_inbound(webhook(signed(MO_CLAIMS), {**MO_CLAIMS, "message": "Falsk"}))
    assert inbound.body == BODY


def test_short_secret_or_empty_token_is_refused(session: aiohttp.ClientSession) -> None:
    """The gateway refuses an empty API token, a secret under 32 bytes and silly limits."""
    good: dict[str, Any] = {"token": TOKEN, "webhook_secret": SECRET}
    for bad in (
        {"token": " "},
        {"webhook_secret": "secret"},
        {"sender_max_parts": 0},
        {"sender_max_parts": 256},
        {"validity_period": 10},
    ):
        with pytest.raises(ValueError):
            GatewayApiGateway(**{**good, **bad}, base_url="http://unused", session=session)


# ---------------------------------------------------------------- claim parsing


async def test_undeliverable_report_keeps_code(gateway: GatewayApiGateway) -> None:
    """An UNDELIVERABLE report is FAILED and keeps GatewayAPI's hex error code."""
    claims = {**STATUS_CLAIMS, "status": "UNDELIVERABLE", "error": "x", "code": "0x1010"}
    report = gateway.verify_status(webhook(signed(claims)))
    assert (report.state, report.error_code) == (DeliveryState.FAILED, "0x1010")


async def test_report_without_userref_has_no_reference(gateway: GatewayApiGateway) -> None:
    """A report for a message sent without userref has reference None."""
    report = gateway.verify_status(webhook(signed({**STATUS_CLAIMS, "userref": None})))
    assert reference_of(report) is None


@pytest.mark.parametrize("field", ["id", "status"])
async def test_report_requires_fields(gateway: GatewayApiGateway, field: str) -> None:
    """A signed report without id or status is MalformedWebhook(missing_field)."""
    claims = {k: v for k, v in STATUS_CLAIMS.items() if k != field}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_status(webhook(signed(claims)))
    assert caught.value.code == "missing_field"


@pytest.mark.parametrize(
    "change",
    [{"status": "TELEPORTED"}, {"status": 3}, {"id": True}, {"id": [1]}, {"userref": 7}],
)
async def test_report_rejects_bad_fields(
    gateway: GatewayApiGateway, change: dict[str, Any]
) -> None:
    """An unknown status or a claim of the wrong type is MalformedWebhook(bad_field)."""
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_status(webhook(signed({**STATUS_CLAIMS, **change})))
    assert caught.value.code == "bad_field"


async def test_inbound_parses_claims(gateway: GatewayApiGateway) -> None:
    """A signed MO webhook becomes an InboundSms with E.164 numbers and every claim in raw."""
    sms = gateway.verify_inbound(webhook(signed(MO_CLAIMS)))
    assert sms == InboundSms(
        provider_id="1000001",
        sender=FAMILY,
        recipient=SERVICE,
        body=BODY,
        segments=1,
        raw={
            "id": "1000001",
            "msisdn": "4520000001",
            "receiver": "4570000000",
            "message": BODY,
            "senttime": "1450000000",
            "webhook_label": "tovholder",
        },
    )


async def test_inbound_counts_ucs2_segments(gateway: GatewayApiGateway) -> None:
    """A 71-character Ukrainian MO SMS is two UCS-2 segments."""
    sms = gateway.verify_inbound(webhook(signed({**MO_CLAIMS, "message": "Ж" * 71})))
    assert sms.segments == 2


@pytest.mark.parametrize("field", ["id", "msisdn", "receiver", "message"])
async def test_inbound_requires_fields(gateway: GatewayApiGateway, field: str) -> None:
    """A signed MO webhook without a required claim is missing_field; a report is not an SMS."""
    claims = {k: v for k, v in MO_CLAIMS.items() if k != field}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(webhook(signed(claims)))
    assert caught.value.code == "missing_field"
    with pytest.raises(MalformedWebhook):
        gateway.verify_inbound(webhook(signed(STATUS_CLAIMS)))


@pytest.mark.parametrize(
    "change", [{"msisdn": "abc"}, {"receiver": 12}, {"message": 42}, {"msisdn": True}]
)
async def test_inbound_rejects_bad_fields(
    gateway: GatewayApiGateway, change: dict[str, Any]
) -> None:
    """A malformed number or non-string message is bad_field, and the error names no number."""
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(webhook(signed({**MO_CLAIMS, **change})))
    assert caught.value.code == "bad_field"
    assert "4520000001" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("UNKNOWN", DeliveryState.SENT),
        ("SCHEDULED", DeliveryState.QUEUED),
        ("BUFFERED", DeliveryState.QUEUED),
        ("ENROUTE", DeliveryState.SENT),
        ("ACCEPTED", DeliveryState.SENT),
        ("DELIVERED", DeliveryState.DELIVERED),
        ("READ", DeliveryState.DELIVERED),
        ("EXPIRED", DeliveryState.EXPIRED),
        ("UNDELIVERABLE", DeliveryState.FAILED),
        ("REJECTED", DeliveryState.FAILED),
        ("SKIPPED", DeliveryState.FAILED),
        ("DELETED", DeliveryState.FAILED),
        ("delivered", DeliveryState.DELIVERED),
    ],
)
def test_map_status(status: str, state: DeliveryState) -> None:
    """Each documented GatewayAPI status maps onto our state machine, in any case."""
    assert map_status(status) is state


def test_statuses_cover_documentation() -> None:
    """Every state in GatewayAPI's documented state diagram is known."""
    documented = {"UNKNOWN", "SCHEDULED", "BUFFERED", "ENROUTE", "DELIVERED", "EXPIRED"}
    documented |= {"DELETED", "UNDELIVERABLE", "ACCEPTED", "REJECTED", "SKIPPED"}
    assert documented <= GATEWAYAPI_STATUSES
    with pytest.raises(ValueError):
        map_status("RECEIVED")


def test_msisdn_conversion() -> None:
    """E.164 numbers become bare MSISDNs and back; anything else is refused."""
    assert to_msisdn(FAMILY) == 4520000001
    assert from_msisdn(4520000001) == from_msisdn("4520000001") == FAMILY
    for bad in ("4520000001", "+045", "+45 20 00 00 01", ""):
        with pytest.raises(ValueError):
            to_msisdn(bad)
    for value in (None, 1.5, "0452", "+4"):
        with pytest.raises(ValueError):
            from_msisdn(value)


# ---------------------------------------------------------------- the send payload


class Capture:
    """A stand-in GatewayAPI that records requests and answers as told."""

    def __init__(self, status: int = 200, answer: Any = None) -> None:
        self.status = status
        self.answer = {"ids": [42], "usage": {}} if answer is None else answer
        self.requests: list[tuple[dict[str, str], Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        return web.json_response(self.answer, status=self.status)


async def capture_gateway(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession, capture: Capture
) -> GatewayApiGateway:
    app = web.Application()
    app.router.add_post("/rest/mtsms", capture.handle)
    server = await aiohttp_server(app)
    return GatewayApiGateway(
        token=TOKEN, webhook_secret=SECRET, base_url=str(server.make_url("")), session=session
    )


def sms(body: str = BODY, callback: str | None = None, recipient: str = FAMILY) -> OutboundSms:
    return OutboundSms(
        reference="out-1", sender=SERVICE, recipient=recipient, body=body, status_callback=callback
    )


async def test_send_payload_is_documented_shape(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """A send posts GatewayAPI's JSON with token auth, userref, limits and no encoding for GSM-7."""
    capture = Capture()
    gateway = await capture_gateway(aiohttp_server, session, capture)
    result = await gateway.send(sms(callback=URL))
    assert (result.provider_id, result.state) == ("42", DeliveryState.QUEUED)
    [(headers, payload)] = capture.requests
    assert headers["Authorization"] == f"Token {TOKEN}"
    assert payload == {
        "class": "standard",
        "sender": "4570000000",
        "message": BODY,
        "recipients": [{"msisdn": 4520000001}],
        "userref": "out-1",
        "max_parts": 3,
        "validity_period": DEFAULT_VALIDITY_SECONDS,
        "callback_url": URL,
    }


async def test_send_uses_ucs2_only_when_needed(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """Non-GSM-7 text goes as UCS2; an alphanumeric sender and no callback go as they are."""
    capture = Capture()
    gateway = await capture_gateway(aiohttp_server, session, capture)
    await gateway.send(
        OutboundSms(reference="r", sender="Kommunen", recipient=FAMILY, body="Привіт 🙂")
    )
    [(_, payload)] = capture.requests
    assert (payload["encoding"], payload["sender"]) == ("UCS2", "Kommunen")
    assert "callback_url" not in payload


async def test_too_long_text_is_refused_before_sending(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """A text over max_parts segments is refused permanently, saying how many; nothing is sent."""
    capture = Capture()
    gateway = await capture_gateway(aiohttp_server, session, capture)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms(body="a" * (3 * 153 + 1)))
    assert caught.value.transient is False
    assert "4 SMS segments" in str(caught.value)
    assert capture.requests == []


async def test_non_e164_recipient_is_refused(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """A recipient that is not E.164 is a permanent error that does not repeat it."""
    capture = Capture()
    gateway = await capture_gateway(aiohttp_server, session, capture)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms(recipient="20000001"))
    assert caught.value.transient is False and "20000001" not in str(caught.value)
    assert capture.requests == []


@pytest.mark.parametrize(
    ("status", "answer", "transient"),
    [
        (429, {"message": "Too many requests"}, True),
        (503, {"message": "Unavailable"}, True),
        (403, {"code": "0x0213", "message": "Unauthorized IP-address: %1"}, False),
        (422, {"message": "Invalid json request body"}, False),
        (200, {"ids": []}, True),
        (200, {"ids": [1, 2]}, True),
        (200, {"ids": [True]}, True),
        (200, ["not", "an", "object"], True),
    ],
)
async def test_answer_classification(
    aiohttp_server: ServerFactory,
    session: aiohttp.ClientSession,
    status: int,
    answer: Any,
    transient: bool,
) -> None:
    """429 and 5xx are transient, other 4xx permanent, a 2xx without exactly one id transient."""
    gateway = await capture_gateway(aiohttp_server, session, Capture(status, answer))
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms())
    assert (caught.value.transient, caught.value.status) == (transient, status)


# ---------------------------------------------------------------- the simulator


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
    """The GatewayAPI simulator; its default status webhook and MO webhook are the receiver's."""
    config = GatewayApiSimulatorConfig(
        token=TOKEN,
        webhook_secret=SECRET,
        mo_webhook_url=receiver.url("/inbound"),
        status_webhook_url=receiver.url("/status"),
        status_delay=0.01,
    )
    return await aiohttp_server(create_gatewayapi_simulator(config))


@pytest.fixture
def sim_gateway(
    sim: TestServer, session: aiohttp.ClientSession, receiver: Receiver
) -> GatewayApiGateway:
    """A gateway pointed at the simulator; the receiver verifies with it too."""
    gw = GatewayApiGateway(
        token=TOKEN, webhook_secret=SECRET, base_url=str(sim.make_url("")), session=session
    )
    receiver.gateway = gw
    return gw


async def call(
    session: aiohttp.ClientSession,
    sim: TestServer,
    method: str,
    path: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with session.request(
        method, sim.make_url(path), json=payload, headers=headers
    ) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data


AUTH = {"Authorization": f"Token {TOKEN}"}


async def test_sim_records_what_the_gateway_sent(
    sim_gateway: GatewayApiGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """The simulator lists each send with sender, encoding, parts, userref and limits."""
    result = await sim_gateway.send(sms(body="Ж" * 100))
    _, [message] = await call(session, sim, "GET", "/_sim/messages")
    assert str(message["id"]) == result.provider_id
    assert {k: message[k] for k in ("to", "from", "encoding", "parts", "userref", "truncated")} == {
        "to": FAMILY,
        "from": "4570000000",
        "encoding": "UCS2",
        "parts": 2,
        "userref": "out-1",
        "truncated": False,
    }
    assert (message["max_parts"], message["validity_period"]) == (3, DEFAULT_VALIDITY_SECONDS)


async def test_reports_carry_our_reference(
    sim_gateway: GatewayApiGateway, receiver: Receiver, sim: TestServer
) -> None:
    """Without callback_url, BUFFERED, ENROUTE, DELIVERED go to the default webhook with userref."""
    result = await sim_gateway.send(sms())
    reports = await reports_until_final(receiver)
    assert [r.provider_status for r in reports] == ["BUFFERED", "ENROUTE", "DELIVERED"]
    assert {(r.provider_id, reference_of(r)) for r in reports} == {(result.provider_id, "out-1")}


async def test_reordered_reports_deliver_final_first(
    sim_gateway: GatewayApiGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
) -> None:
    """With reorder_reports the final report comes first and the message stays DELIVERED."""
    await call(session, sim, "POST", "/_sim/faults", {"reorder_reports": True})
    await sim_gateway.send(sms())
    states = [(await next_item(receiver.reports)).state for _ in range(3)]
    assert states == [DeliveryState.DELIVERED, DeliveryState.QUEUED, DeliveryState.SENT]
    _, [message] = await call(session, sim, "GET", "/_sim/messages")
    assert message["status"] == "DELIVERED"


@pytest.mark.parametrize(
    "auth",
    [
        {"Authorization": f"Token {TOKEN}"},
        {"Authorization": "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()},
    ],
    ids=["token", "basic"],
)
async def test_sim_accepts_documented_token_auth(
    sim: TestServer, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """The simulator takes the token as a Token header, as the basic-auth user or as ?token=."""
    payload = {"message": "Hej", "recipients": [{"msisdn": 4520000001}]}
    status, answer = await call(session, sim, "POST", "/rest/mtsms", payload, auth)
    assert status == 200 and len(answer["ids"]) == 1 and answer["usage"]["countries"] == {"DK": 1}
    status, _ = await call(session, sim, "POST", f"/rest/mtsms?token={TOKEN}", payload)
    assert status == 200
    status, error = await call(session, sim, "POST", "/rest/mtsms?token=wrong", payload)
    assert (status, error["code"]) == (401, "0x0223")


async def test_sim_transcodes_and_truncates_like_gatewayapi(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """Without UCS2, characters outside GSM-7 arrive as '?'; max_parts cuts a long text to fit."""
    payload = {"message": "Привіт, Søren", "recipients": [{"msisdn": "+4520000001"}]}
    assert (await call(session, sim, "POST", "/rest/mtsms", payload, AUTH))[0] == 200
    long = {"message": "a" * 400, "max_parts": 2, "recipients": [{"msisdn": 4520000002}]}
    assert (await call(session, sim, "POST", "/rest/mtsms", long, AUTH))[0] == 200
    _, messages = await call(session, sim, "GET", "/_sim/messages")
    assert messages[0]["body"] == "??????, Søren"
    assert (len(messages[1]["body"]), messages[1]["parts"], messages[1]["truncated"]) == (
        306,
        2,
        True,
    )


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"recipients": [{"msisdn": 4520000001}]}, 400, "0x0222"),
        ({"message": "x", "recipients": []}, 400, "0x0222"),
        ({"message": "x", "recipients": [{"msisdn": 4520000001}], "colour": "red"}, 400, "0x0220"),
        ({"message": "x", "recipients": [{"msisdn": 4520000001}] * 2}, 400, "0x0310"),
        ({"message": "x", "recipients": [{"msisdn": "12"}]}, 400, "0x0308"),
        ({"message": "x", "recipients": [{"msisdn": 4520000001}], "encoding": "X"}, 400, "0x0308"),
        ({"message": "x", "recipients": [{"msisdn": 4520000001}], "max_parts": 0}, 400, "0x0308"),
        ("not an object", 422, None),
    ],
)
async def test_sim_validates_requests(
    sim: TestServer, session: aiohttp.ClientSession, payload: Any, status: int, code: str | None
) -> None:
    """The simulator refuses malformed sends with GatewayAPI's error codes."""
    answer_status, answer = await call(session, sim, "POST", "/rest/mtsms", payload, AUTH)
    assert (answer_status, answer.get("code")) == (status, code)
    assert "incident_uuid" in answer


async def test_sim_fault_count_and_reset(
    sim_gateway: GatewayApiGateway, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A fault with count 2 fails two sends; DELETE resets; nonsense faults are refused."""
    await call(session, sim, "POST", "/_sim/faults", {"mode": "fail_5xx", "count": 2})
    for _ in range(2):
        with pytest.raises(GatewayError):
            await sim_gateway.send(sms())
    await sim_gateway.send(sms())
    await call(session, sim, "POST", "/_sim/faults", {"mode": "fail_5xx"})
    assert (await call(session, sim, "DELETE", "/_sim/faults"))[1]["mode"] == "ok"
    await sim_gateway.send(sms())
    for bad in ({"mode": "explode"}, {"count": 0}, {"delay": -1}, {"undeliverable": ["x"]}):
        assert (await call(session, sim, "POST", "/_sim/faults", bad))[0] == 400
    async with session.delete(sim.make_url("/_sim/messages")) as response:
        assert response.status == 204
    assert (await call(session, sim, "GET", "/_sim/messages"))[1] == []


async def test_sim_phone_send_errors(
    aiohttp_server: ServerFactory, sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A phone send needs a number, a body, a receiver and a configured MO webhook."""
    assert (await call(session, sim, "POST", "/_sim/phones/12/send", {"body": "x"}))[0] == 400
    assert (await call(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {}))[0] == 400
    # No service number configured and nobody has written to the phone yet.
    assert (await call(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": "x"}))[
        0
    ] == 400
    quiet = await aiohttp_server(
        create_gatewayapi_simulator(
            GatewayApiSimulatorConfig(token=TOKEN, webhook_secret=SECRET, mo_webhook_url=None)
        )
    )
    payload = {"body": "x", "to": SERVICE}
    assert (await call(session, quiet, "POST", f"/_sim/phones/{FAMILY}/send", payload))[0] == 409


async def test_sim_phone_replies_to_last_sender(
    sim_gateway: GatewayApiGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
) -> None:
    """A phone send without "to" goes to the number that last wrote to the phone."""
    await sim_gateway.send(sms())
    status, _ = await call(session, sim, "POST", "/_sim/phones/4520000001/send", {"body": "Tak"})
    inbound = await next_item(receiver.inbound)
    assert (status, inbound.recipient, inbound.raw["encoding"]) == (200, SERVICE, "UTF8")


async def test_logs_name_no_numbers_or_bodies(
    sim_gateway: GatewayApiGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Adapter and simulator log no numbers or text, even when GatewayAPI's error quotes one."""
    caplog.set_level(logging.DEBUG, logger="channels")
    await sim_gateway.send(sms())
    await reports_until_final(receiver)
    await call(session, sim, "POST", f"/_sim/phones/{FAMILY}/send", {"body": BODY, "to": SERVICE})
    await next_item(receiver.inbound)
    await call(session, sim, "POST", "/_sim/faults", {"mode": "fail_4xx", "count": 1})
    with pytest.raises(GatewayError) as caught:
        await sim_gateway.send(sms())
    with pytest.raises(SignatureError):
        sim_gateway.verify_status(webhook("garbage"))
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("channels")]
    assert logged
    texts = logged + [str(caught.value)]
    assert not [t for t in texts if "4520000001" in t or "4570000000" in t or BODY in t]


async def test_shutdown_ends_hanging_requests(session: aiohttp.ClientSession) -> None:
    """Stopping the simulator ends a hanging send at once."""
    config = GatewayApiSimulatorConfig(token=TOKEN, webhook_secret=SECRET, mo_webhook_url=None)
    runner = web.AppRunner(create_gatewayapi_simulator(config), shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with session.post(f"{base_url}/_sim/faults", json={"mode": "hang"}) as response:
        assert response.status == 200
    gateway = GatewayApiGateway(
        token=TOKEN, webhook_secret=SECRET, base_url=base_url, session=session, timeout=5
    )
    pending = asyncio.create_task(gateway.send(sms()))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - started < 2
    with pytest.raises(GatewayError) as caught:
        await pending
    assert caught.value.transient is True


# ---------------------------------------------------------------- many messages per request


def many(n: int, **kw: Any) -> list[OutboundSms]:
    return [
        OutboundSms(
            reference=f"ref-{i}",
            sender=SERVICE,
            recipient=f"+45200000{i:02d}",
            body=f"Besked {i}",
            **kw,
        )
        for i in range(n)
    ]


async def test_send_many_posts_one_documented_list_and_maps_ids_in_order(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """Several SMS go as one JSON list of messages, one recipient and userref each; ids in order."""
    capture = Capture(answer={"ids": [7, 8, 9], "usage": {}})
    gateway = await capture_gateway(aiohttp_server, session, capture)
    results = await gateway.send_many(many(3))
    assert [r.provider_id for r in results if isinstance(r, SendResult)] == ["7", "8", "9"]
    [(headers, payload)] = capture.requests
    assert headers["Authorization"] == f"Token {TOKEN}"
    assert isinstance(payload, list) and len(payload) == 3
    assert [(m["userref"], m["recipients"], m["class"]) for m in payload] == [
        (f"ref-{i}", [{"msisdn": int(f"45200000{i:02d}")}], "standard") for i in range(3)
    ]


async def test_send_many_refuses_a_bad_message_alone_and_sends_the_rest(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """A non-E.164 recipient fails on its own (permanent); the others still go, in one request."""
    capture = Capture(answer={"ids": [1, 2], "usage": {}})
    gateway = await capture_gateway(aiohttp_server, session, capture)
    batch = many(3)
    batch[1] = OutboundSms(reference="bad", sender=SERVICE, recipient="20000001", body="x")
    results = await gateway.send_many(batch)
    assert isinstance(results[1], GatewayError) and results[1].transient is False
    assert [r.provider_id for r in results if isinstance(r, SendResult)] == ["1", "2"]
    assert [m["userref"] for m in capture.requests[0][1]] == ["ref-0", "ref-2"]


@pytest.mark.parametrize(
    ("status", "answer"),
    [(503, {"message": "Unavailable"}), (200, {"ids": [1]}), (200, {"ids": [1, True]})],
)
async def test_send_many_transient_failures_fail_every_message_transiently(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession, status: int, answer: Any
) -> None:
    """5xx, or a 2xx without one id per message: each SMS gets a transient error to retry."""
    gateway = await capture_gateway(aiohttp_server, session, Capture(status, answer))
    results = await gateway.send_many(many(2))
    assert all(isinstance(r, GatewayError) and r.transient for r in results)


async def test_send_many_simulator_reports_each_message_by_its_own_userref(
    sim_gateway: GatewayApiGateway,
    receiver: Receiver,
    sim: TestServer,
    session: aiohttp.ClientSession,
) -> None:
    """Against the simulator: one request, three ids, and status reports naming each userref."""
    results = await sim_gateway.send_many(many(3))
    ids = [r.provider_id for r in results if isinstance(r, SendResult)]
    _, listed = await call(session, sim, "GET", "/_sim/messages")
    assert [(str(m["id"]), m["userref"]) for m in listed] == list(
        zip(ids, ["ref-0", "ref-1", "ref-2"], strict=True)
    )
    finals = set()
    while len(finals) < 3:
        report = await next_item(receiver.reports)
        if report.state is DeliveryState.DELIVERED:
            finals.add((report.provider_id, reference_of(report)))
    assert finals == set(zip(ids, ["ref-0", "ref-1", "ref-2"], strict=True))


async def test_sim_refuses_mixed_classes_in_one_request(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """The documented rule: the class must be the same for all messages in a request."""
    payload = [
        {"message": "a", "recipients": [{"msisdn": 4520000001}], "class": "standard"},
        {"message": "b", "recipients": [{"msisdn": 4520000002}], "class": "premium"},
    ]
    status, body = await call(session, sim, "POST", "/rest/mtsms", payload, AUTH)
    assert (status, body["code"], body["variables"]) == (400, "0x0308", ["class"])
    assert (await call(session, sim, "GET", "/_sim/messages"))[1] == []


async def test_sim_rate_limit_paces_acceptance(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    """With max_rate 50/s, 25 messages in one request are answered after about half a second."""
    config = GatewayApiSimulatorConfig(
        token=TOKEN,
        webhook_secret=SECRET,
        mo_webhook_url=None,
        status_webhook_url=None,
        max_rate=50.0,
    )
    server = await aiohttp_server(create_gatewayapi_simulator(config))
    gateway = GatewayApiGateway(
        token=TOKEN, webhook_secret=SECRET, base_url=str(server.make_url("")), session=session
    )
    started = time.monotonic()
    results = await gateway.send_many(many(25))
    took = time.monotonic() - started
    assert all(isinstance(r, SendResult) for r in results)
    assert 0.45 <= took < 3


async def test_sim_fault_numbers_take_gatewayapi_forms(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """Undeliverable numbers may be bare MSISDNs or E.164; the simulator shows them as E.164."""
    payload = {"undeliverable": ["4520000002", "+4520000001", "4520000001"]}
    status, faults = await call(session, sim, "POST", "/_sim/faults", payload)
    assert (status, faults["undeliverable"]) == (200, ["+4520000001", "+4520000002"])
    status, error = await call(session, sim, "POST", "/_sim/faults", {"undeliverable": ["12"]})
    assert (status, error) == (400, {"error": "undeliverable must be a list of phone numbers"})
