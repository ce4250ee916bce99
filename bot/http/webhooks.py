"""Gateway webhooks: verify, parse, hand to one service function, answer.

The answer comes only after the message is committed; a database outage is a
503 so the gateway retries.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from aiohttp import web

from bot.base.appkeys import CONFIG, SERVICES, TICKER
from bot.base.errors import ApiError, BadInput, Forbidden
from bot.base.services import Services
from bot.domain import mms
from bot.domain.delivery import apply_report, message_sent_as
from bot.domain.inbound import receive_sms
from channels.base import MalformedWebhook, SignatureError, SmsGateway, WebhookRequest
from channels.gatewayapi import reference_of

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

routes = web.RouteTableDef()


# Control characters a text field may not hold (tab, line feed and carriage return may).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text_of(body: bytes) -> str:
    """The body as UTF-8 text, refused (400) before anything else reads it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("The webhook body is not UTF-8", code="bad_encoding") from None
    if _CONTROL.search(text):
        raise BadInput("The webhook body holds control characters", code="bad_field")
    return text


def _check_text(*values: str) -> None:
    """Refuse (400) a decoded field that holds a control character (a NUL after a number…)."""
    if any(_CONTROL.search(value) for value in values):
        raise BadInput("A webhook field holds control characters", code="bad_field")


async def _webhook_request(request: web.Request) -> WebhookRequest:
    if request.content_type != "application/x-www-form-urlencoded":
        raise ApiError("Webhooks must be form-encoded", code="unsupported_media_type", status=415)
    body = await request.read()
    try:
        pairs = parse_qsl(_text_of(body), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadInput("A webhook field is not UTF-8", code="bad_encoding") from None
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        _check_text(key, value)
        values.setdefault(key, []).append(value)
    url = request.app[CONFIG].public_base_url + request.raw_path
    return WebhookRequest(
        url=url,
        headers=request.headers,
        form={key: got[0] for key, got in values.items() if len(got) == 1},
        body=body,
        repeated={key: tuple(got) for key, got in values.items() if len(got) > 1},
    )


def _twilio(svc: Services) -> SmsGateway:
    gateway = svc.gateways.get("twilio")
    if gateway is None:
        raise ApiError("Twilio is not configured here", code="unknown_gateway", status=404)
    return gateway


def _twiml() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


@routes.post("/webhooks/twilio/sms")
async def twilio_inbound(request: web.Request) -> web.Response:
    """A family's SMS or MMS, as Twilio delivers it."""
    svc = request.app[SERVICES]
    hook = await _webhook_request(request)
    try:
        sms = _twilio(svc).verify_inbound(hook)
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    # An MMS's media are queued with it and fetched after the answer (bot.domain.mms).
    await mms.receive_message(svc, sms, provider="twilio")
    if sms.media:
        request.app[TICKER].poke(mms.JOB)
    return _twiml()


@routes.post("/webhooks/twilio/status")
async def twilio_status(request: web.Request) -> web.Response:
    """A delivery report for one of our messages; ``ref`` (signed, in the URL) names it."""
    svc = request.app[SERVICES]
    hook = await _webhook_request(request)
    try:
        report = _twilio(svc).verify_status(hook)
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    ref = request.query.get("ref")
    if not ref:
        raise BadInput("The status callback has no message reference", code="missing_field")
    await apply_report(svc, ref, report)
    return web.Response(status=204)


async def _gatewayapi_request(request: web.Request) -> tuple[WebhookRequest, object]:
    svc = request.app[SERVICES]
    gateway = svc.gateways.get("gatewayapi")
    if gateway is None:
        raise ApiError("GatewayAPI is not configured here", code="unknown_gateway", status=404)
    body = await request.read()
    _text_of(body)
    url = request.app[CONFIG].public_base_url + request.raw_path
    return WebhookRequest(url=url, headers=request.headers, form={}, body=body), gateway


@routes.post("/webhooks/gatewayapi/sms")
async def gatewayapi_inbound(request: web.Request) -> web.Response:
    """A family's SMS, as GatewayAPI delivers it (claims in an HS256 JWT)."""
    hook, gateway = await _gatewayapi_request(request)
    try:
        sms = gateway.verify_inbound(hook)  # type: ignore[attr-defined]
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    _check_text(sms.sender, sms.recipient, sms.body)
    await receive_sms(request.app[SERVICES], sms, provider="gatewayapi")
    return web.Response(status=204)


@routes.post("/webhooks/gatewayapi/status")
async def gatewayapi_status(request: web.Request) -> web.Response:
    """A GatewayAPI delivery report; our reference comes back signed as ``userref``."""
    hook, gateway = await _gatewayapi_request(request)
    try:
        report = gateway.verify_status(hook)  # type: ignore[attr-defined]
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    svc = request.app[SERVICES]
    # Our reference comes back as ``userref`` when we sent one; otherwise
    # GatewayAPI's own message id names the message (it answered with it).
    ref = reference_of(report) or await message_sent_as(svc, "gatewayapi", report.provider_id)
    if ref is None:
        # Not ours (or not yet stored as sent): answered 2xx all the same, so
        # GatewayAPI does not retry it for ever.
        return web.Response(status=204)
    await apply_report(svc, ref, report)
    return web.Response(status=204)
