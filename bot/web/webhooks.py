"""Gateway webhooks: verify, parse, hand to one service function, answer.

The answer comes only after the message is committed; a database outage is a
503 so the gateway retries.
"""

from __future__ import annotations

from aiohttp import web

from bot.delivery import apply_report
from bot.errors import ApiError, BadInput, Forbidden
from bot.inbound import receive_sms
from bot.web.keys import CONFIG, SERVICES
from channels.base import MalformedWebhook, SignatureError, WebhookRequest

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

routes = web.RouteTableDef()


async def _webhook_request(request: web.Request) -> WebhookRequest:
    if request.content_type != "application/x-www-form-urlencoded":
        raise ApiError("Webhooks must be form-encoded", code="unsupported_media_type", status=415)
    body = await request.read()
    form = await request.post()
    fields: dict[str, str] = {}
    for key, value in form.items():
        if not isinstance(value, str) or key in fields:
            raise BadInput("Webhook fields must be single text values", code="bad_field")
        fields[key] = value
    url = request.app[CONFIG].public_base_url + request.raw_path
    return WebhookRequest(url=url, headers=request.headers, form=fields, body=body)


def _twiml() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


@routes.post("/webhooks/twilio/sms")
async def twilio_inbound(request: web.Request) -> web.Response:
    """A family's SMS, as Twilio delivers it."""
    svc = request.app[SERVICES]
    hook = await _webhook_request(request)
    try:
        sms = svc.gateway.verify_inbound(hook)
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    await receive_sms(svc, sms, provider=svc.gateway.name)
    return _twiml()


@routes.post("/webhooks/twilio/status")
async def twilio_status(request: web.Request) -> web.Response:
    """A delivery report for one of our messages; ``ref`` (signed, in the URL) names it."""
    svc = request.app[SERVICES]
    hook = await _webhook_request(request)
    try:
        report = svc.gateway.verify_status(hook)
    except SignatureError as exc:
        raise Forbidden("The webhook signature is missing or wrong", code="bad_signature") from exc
    except MalformedWebhook as exc:
        raise BadInput(str(exc), code=exc.code) from exc
    ref = request.query.get("ref")
    if not ref:
        raise BadInput("The status callback has no message reference", code="missing_field")
    await apply_report(svc, ref, report)
    return web.Response(status=204)
