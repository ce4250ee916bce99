"""A local Twilio look-alike for tests and the demo.

It speaks Twilio's wire formats over real HTTP with real signatures:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` creates a Message
  (basic auth, form-encoded ``To``/``From``/``Body``/``StatusCallback``) and
  answers 201 with a Twilio-shaped resource, then posts signed status callbacks
  ``sent`` and ``delivered`` (or ``undelivered``, error 30003).
* ``POST /_sim/phones/{number}/send`` plays a family's phone: it posts a signed
  incoming-message webhook to the service, exactly as Twilio would; with
  ``media`` it is an MMS (``NumMedia``, ``MediaUrl{N}``, ``MediaContentType{N}``)
  whose items are served, as Twilio serves them, at
  ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``
  (basic auth; by default a 307 to an unauthenticated, short-lived
  ``/_sim/mms-cdn/{token}``).

Everything under ``/_sim/`` is the simulator's own control surface: fault
injection, the list of messages sent, demo phones and a small proxy to the
caseworker API so that ``GET /`` can offer a demo page with both sides of a
conversation.

Routes:
    ``GET /``: the demo page (``phone.html``).
    ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: send an SMS.
    ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json``: fetch one.
    ``GET|POST|DELETE /_sim/faults``: show, set or reset fault injection.
    ``GET|DELETE /_sim/messages``: list or forget the messages sent over REST.
    ``GET /_sim/phones``: the demo phones.
    ``GET /_sim/phones/{number}/messages``: one phone's conversation, oldest first.
    ``POST /_sim/phones/{number}/send``: the phone sends an SMS (or MMS) to the service.
    ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``: media.
    ``GET /_sim/mms-cdn/{token}``: where a media URL redirects to.
    ``GET /_sim/caseworkers``: the demo caseworkers.
    ``GET /_sim/caseworkers/{index}/conversations[/{id}]``: proxied to the API.
    ``POST /_sim/caseworkers/{index}/conversations/{id}/replies``: proxied to the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote
from xml.etree import ElementTree

import aiohttp
from aiohttp import web

from bot.simulators.base import CLIENT_TIMEOUT, SimulatorState, read_json, sim_error
from bot.simulators.faults import FaultInjection, Faults, GatewayWords, add_fault_routes
from channels.smstext import analyse
from channels.twilio import API_VERSION, SIGNATURE_HEADER, compute_signature

logger = logging.getLogger(__name__)

UNDELIVERED_ERROR_CODE: Final = "30003"
MAX_BODY_CHARS: Final = 1600

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_COUNTRIES: Final = (
    ("+45", "DK"),
    ("+46", "SE"),
    ("+47", "NO"),
    ("+49", "DE"),
    ("+44", "GB"),
    ("+1", "US"),
)
# What GET /_sim/messages shows of a message (and the demo page of a phone's conversation).
_PUBLIC_KEYS: Final = (
    "sid",
    "to",
    "from",
    "body",
    "status",
    "error_code",
    "num_segments",
    "created_at",
)
_OUTBOUND_RANK: Final = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2}
_PAGE = Path(__file__).with_name("phone.html")
# "Haster" on the demo page: the word the municipality's triage reads as urgent.
URGENT_MARKER: Final = "HASTER:"


@dataclass(frozen=True, slots=True)
class SimPhone:
    """A demo family's phone.

    Attributes:
        number: The phone number in E.164 form, e.g. ``+4520123456``.
        label: What the demo page calls it, e.g. ``"Familien Jensen (mor)"``.
    """

    number: str
    label: str


@dataclass(frozen=True, slots=True)
class SimCaseworker:
    """A demo caseworker (sagsbehandler) and the API token the panel acts with."""

    name: str
    token: str


@dataclass(slots=True)
class SimulatorConfig:
    """How to run the simulator.

    Attributes:
        account_sid: The account SID clients must authenticate as.
        auth_token: The auth token: basic-auth password and webhook signing key.
        inbound_webhook_url: Where phones' SMS are posted (the service's
            incoming-message webhook); ``None`` disables phone sends.
        phones: Demo phones shown on the demo page.
        caseworker_api_base: Base URL of the service's caseworker API, for the
            demo page's caseworker panel.
        caseworker_tokens: Caseworkers the panel can act as.
        status_delay: Seconds before each status callback.
        service_number: The number a phone writes to when a send names none;
            when unset, the number that last wrote to the phone is used.
        media_base_url: The simulator's address as the service knows it (its
            Twilio base URL), for the ``MediaUrl{N}`` of a phone's MMS; when
            unset, the address the phone send came in on.
    """

    account_sid: str
    auth_token: str
    inbound_webhook_url: str | None
    phones: list[SimPhone] = field(default_factory=list)
    caseworker_api_base: str | None = None
    caseworker_tokens: list[SimCaseworker] = field(default_factory=list)
    status_delay: float = 0.05
    service_number: str | None = None
    media_base_url: str | None = None


@dataclass(slots=True)
class SimMedia:
    """One media item a phone sent, served as Twilio serves it.

    Attributes:
        content: The bytes.
        content_type: What Twilio says it is (``MediaContentType{N}``; not checked).
        status: The HTTP status the Media URL answers (404 plays a vanished item).
        redirect: Answer the Media URL with a redirect to the CDN, as Twilio does.
    """

    content: bytes
    content_type: str
    status: int = 200
    redirect: bool = True


class _SimState(SimulatorState):
    """Everything the simulator remembers, hung on the app."""

    def __init__(self, config: SimulatorConfig, page: str) -> None:
        super().__init__(_PUBLIC_KEYS)
        self.config = config
        self.page = page
        self.by_sid: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.faults = FaultInjection(_TWILIO_WORDS)
        # Media of MMS the phones sent, by MediaSid; the CDN's short-lived tokens.
        self.media: dict[str, SimMedia] = {}
        self.cdn: dict[str, str] = {}
        self.media_requests: list[dict[str, Any]] = []

    def forget_messages(self) -> None:
        super().forget_messages()
        self.by_sid.clear()
        self.conversations.clear()

    def record_to_phone(self, number: str, sid: str) -> None:
        self.conversations.setdefault(number, []).append({"sid": sid, "direction": "to_phone"})

    def conversation(self, number: str) -> list[dict[str, Any]]:
        """One phone's conversation, oldest first, with current statuses."""
        entries = []
        for entry in self.conversations.get(number, []):
            if entry["direction"] == "to_phone" and entry["sid"] in self.by_sid:
                message = self.by_sid[entry["sid"]]
                entries.append({**self.public_message(message), "direction": "to_phone"})
            else:
                entries.append(dict(entry))
        return entries


STATE_KEY: Final = web.AppKey("twilio_simulator_state", _SimState)

# Twilio's answers to the shared faults; Twilio keys messages by the E.164 ``To`` as given.
_TWILIO_WORDS: Final = GatewayWords(
    unavailable=lambda: _twilio_error(503, 20503, "Service unavailable"),
    server_error=lambda: _twilio_error(500, 20500, "An internal server error has occurred"),
    number_key=lambda number: number,
    number_error="undeliverable must be a list of numbers",
)


def create_simulator_app(config: SimulatorConfig) -> web.Application:
    """Build the simulator's aiohttp application.

    Args:
        config: Credentials, webhook target, demo phones and caseworkers.

    Returns:
        The application; its client session and background tasks live in
        ``cleanup_ctx`` and end with it.
    """
    # A phone's MMS comes in as base64 JSON: room for a photo (Twilio takes 5 MB of media).
    app = web.Application(client_max_size=16 * 1024 * 1024)
    state = _SimState(config, _PAGE.read_text("utf-8"))
    app[STATE_KEY] = state
    state.serve_with(app)
    messages = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"
    app.router.add_get("/", _page)
    app.router.add_post(f"{messages}.json", _create_message)
    app.router.add_get(f"{messages}/{{message_sid}}.json", _fetch_message)
    app.router.add_get(f"{messages}/{{message_sid}}/Media/{{media_sid}}", _fetch_media)
    app.router.add_get("/_sim/mms-cdn/{token}", _cdn_media)
    add_fault_routes(app, state.faults)
    state.add_message_routes(app)
    app.router.add_get("/_sim/phones", _list_phones)
    app.router.add_get("/_sim/phones/{number}/messages", _phone_messages)
    app.router.add_post("/_sim/phones/{number}/send", _phone_send)
    caseworker = "/_sim/caseworkers/{index:[0-9]+}"
    app.router.add_get("/_sim/caseworkers", _list_caseworkers)
    app.router.add_get(f"{caseworker}/conversations", _cw_conversations)
    app.router.add_get(f"{caseworker}/conversations/{{conversation_id}}", _cw_thread)
    app.router.add_post(f"{caseworker}/conversations/{{conversation_id}}/replies", _cw_reply)
    return app


# ---------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def new_message_sid() -> str:
    """Return a fresh Twilio-style message SID: ``"SM"`` and 32 hex digits."""
    return "SM" + secrets.token_hex(16)


def segments_for(body: str) -> int:
    """How many SMS segments ``body`` takes, as Twilio counts them (GSM-7 160/153, UCS-2 70/67)."""
    return analyse(body).segments


def _country(number: str) -> str:
    for prefix, country in _COUNTRIES:
        if number.startswith(prefix):
            return country
    return ""


def _twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _authorized(request: web.Request, config: SimulatorConfig) -> bool:
    """Check HTTP basic auth against the configured account SID and token."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        return False
    expected = f"{config.account_sid}:{config.auth_token}".encode()
    return hmac.compare_digest(decoded, expected)


def _signed_headers(config: SimulatorConfig, url: str, form: Mapping[str, str]) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: compute_signature(config.auth_token, url, form),
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        "User-Agent": "TwilioProxy/1.1",
    }


async def _read_json_object(request: web.Request) -> dict[str, Any] | None:
    data = await read_json(request)
    return data if isinstance(data, dict) else None


# ---------------------------------------------------------------- REST API


async def _create_message(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    config = state.config
    if not _authorized(request, config):
        response = _twilio_error(401, 20003, "Authenticate")
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response
    if request.match_info["account_sid"] != config.account_sid:
        return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    fault = await state.faults.before_send(state)
    if fault.answer is not None:
        return fault.answer
    checked = _check_form(await request.post())
    if isinstance(checked, web.Response):
        return checked
    if fault.refuse:
        return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    to, sender, body, callback = checked
    message = _record(state, to, sender, body)
    state.spawn(
        _progress(state, message, callback or None, state.faults.current),
        name=f"twilio-sim-status-{message['sid']}",
    )
    return web.json_response(_resource(config, message), status=201)


def _check_form(
    form: Mapping[str, Any],
) -> tuple[str, str, str, str | None] | web.Response:
    """Check a create-message form: ``To``, ``From``, ``Body``, ``StatusCallback``, or an error."""
    to, sender, body, callback = (
        form.get("To"),
        form.get("From"),
        form.get("Body"),
        form.get("StatusCallback"),
    )
    if not isinstance(to, str) or not to:
        return _twilio_error(400, 21604, "A 'To' phone number is required.")
    if not isinstance(sender, str) or not sender:
        return _twilio_error(400, 21603, "A 'From' phone number is required.")
    if not isinstance(body, str) or not body:
        return _twilio_error(400, 21602, "Message body is required.")
    if not _E164.match(to):
        return _twilio_error(400, 21211, "Invalid 'To' Phone Number")
    if not (_E164.match(sender) or _ALPHANUMERIC_SENDER.match(sender)):
        return _twilio_error(400, 21212, "Invalid From Number (caller ID)")
    if len(body) > MAX_BODY_CHARS:
        return _twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if callback is not None and (
        not isinstance(callback, str) or not callback.startswith(("http://", "https://"))
    ):
        return _twilio_error(400, 21609, "Invalid StatusCallback url")
    return to, sender, body, callback


def _record(state: _SimState, to: str, sender: str, body: str) -> dict[str, Any]:
    """Store one accepted message, queued."""
    now = _now()
    sid = new_message_sid()
    message: dict[str, Any] = {
        "sid": sid,
        "to": to,
        "from": sender,
        "body": body,
        "status": "queued",
        "error_code": None,
        "num_segments": str(segments_for(body)),
        "created_at": now.isoformat(),
        "date_created": format_datetime(now),
    }
    state.messages.append(message)
    state.by_sid[sid] = message
    state.record_to_phone(to, sid)
    logger.info("simulator accepted message %s", sid)
    return message


async def _fetch_message(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not _authorized(request, state.config):
        return _twilio_error(401, 20003, "Authenticate")
    message = state.by_sid.get(request.match_info["message_sid"])
    if request.match_info["account_sid"] != state.config.account_sid or message is None:
        return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return web.json_response(_resource(state.config, message))


def _resource(config: SimulatorConfig, message: Mapping[str, Any]) -> dict[str, Any]:
    """The Message resource as Twilio's REST API renders it."""
    sid = message["sid"]
    base = f"/{API_VERSION}/Accounts/{config.account_sid}/Messages/{sid}"
    return {
        "account_sid": config.account_sid,
        "api_version": API_VERSION,
        "body": message["body"],
        "date_created": message["date_created"],
        "date_sent": None,
        "date_updated": message["date_created"],
        "direction": "outbound-api",
        "error_code": int(message["error_code"]) if message["error_code"] else None,
        "error_message": None,
        "from": message["from"],
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": message["num_segments"],
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": message["status"],
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": message["to"],
        "uri": f"{base}.json",
    }


async def _progress(
    state: _SimState, message: dict[str, Any], callback: str | None, faults: Faults
) -> None:
    """Move a sent message through sent → delivered/undelivered, reporting each step."""
    steps = faults.report_steps(
        message["to"], progress=["sent"], delivered="delivered", failed="undelivered"
    )
    for step in steps:
        if not await state.pause(state.config.status_delay):
            return
        if _OUTBOUND_RANK[step] > _OUTBOUND_RANK[message["status"]]:
            message["status"] = step
            if step == "undelivered":
                message["error_code"] = UNDELIVERED_ERROR_CODE
        if callback is not None:
            await _post_status(state, message, step, callback)


async def _post_status(
    state: _SimState, message: Mapping[str, Any], step: str, callback: str
) -> None:
    config = state.config
    form = {
        "AccountSid": config.account_sid,
        "ApiVersion": API_VERSION,
        "From": message["from"],
        "MessageSid": message["sid"],
        "MessageStatus": step,
        "SmsSid": message["sid"],
        "SmsStatus": step,
        "To": message["to"],
    }
    if step == "undelivered":
        form["ErrorCode"] = UNDELIVERED_ERROR_CODE
    if step in ("delivered", "undelivered"):
        form["RawDlrDoneDate"] = _now().strftime("%y%m%d%H%M")
    try:
        async with state.session.post(
            callback,
            data=form,
            headers=_signed_headers(config, callback, form),
            timeout=CLIENT_TIMEOUT,
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning(
            "status callback %s for %s failed: %s", step, message["sid"], type(exc).__name__
        )
        return
    if status >= 400:
        logger.warning("status callback %s for %s answered HTTP %s", step, message["sid"], status)


# ---------------------------------------------------------------- phones


async def _list_phones(request: web.Request) -> web.Response:
    phones = request.app[STATE_KEY].config.phones
    return web.json_response([{"number": p.number, "label": p.label} for p in phones])


async def _phone_messages(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    if not _E164.match(number):
        return sim_error(400, "number must be in E.164 form")
    return web.json_response(request.app[STATE_KEY].conversation(number))


def _counterpart(state: _SimState, number: str) -> str | None:
    """The number that last wrote to this phone."""
    for entry in reversed(state.conversations.get(number, [])):
        if entry["direction"] == "to_phone" and entry["sid"] in state.by_sid:
            sender: str = state.by_sid[entry["sid"]]["from"]
            return sender
    return None


def _phone_body(data: dict[str, Any]) -> str | web.Response:
    """The SMS text a phone sends ("Haster" puts the urgent marker first), or a 400."""
    body = data.get("body")
    urgent = data.get("urgent", False)
    if not isinstance(urgent, bool):
        return sim_error(400, "urgent must be true or false")
    if isinstance(body, str) and urgent and not body.lstrip().upper().startswith(URGENT_MARKER):
        body = f"{URGENT_MARKER} {body.lstrip()}"
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARS:
        return sim_error(400, f"body must be a string of at most {MAX_BODY_CHARS} characters")
    return body


async def _phone_send(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    config = state.config
    number = request.match_info["number"]
    if not _E164.match(number):
        return sim_error(400, "number must be in E.164 form")
    data = await _read_json_object(request)
    if data is None:
        return sim_error(400, "expected a JSON object")
    body = _phone_body(data)
    if isinstance(body, web.Response):
        return body
    to = data.get("to") or config.service_number or _counterpart(state, number)
    if not isinstance(to, str) or not _E164.match(to):
        return sim_error(400, "to must be an E.164 number (none is configured)")
    if config.inbound_webhook_url is None:
        return sim_error(409, "no inbound webhook URL is configured")

    media = _media_items(data.get("media"))
    if isinstance(media, web.Response):
        return media
    sid = ("MM" + new_message_sid()[2:]) if media else new_message_sid()
    form = {
        "AccountSid": config.account_sid,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": number,
        "FromCity": "",
        "FromCountry": _country(number),
        "FromState": "",
        "FromZip": "",
        "MessageSid": sid,
        "MessagingServiceSid": _messaging_service_sid(config.account_sid),
        "NumMedia": "0",
        "NumSegments": str(segments_for(body)),
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": to,
        "ToCity": "",
        "ToCountry": _country(to),
        "ToState": "",
        "ToZip": "",
    }
    _announce_media(state, request, form, sid, media, data.get("num_media"))
    url = config.inbound_webhook_url
    entry: dict[str, Any] = {
        "sid": sid,
        "direction": "from_phone",
        "from": number,
        "to": to,
        "body": body,
        "status": "received",
        "error_code": None,
        "num_segments": form["NumSegments"],
        "created_at": _now().isoformat(),
        "webhook_status": None,
    }
    state.conversations.setdefault(number, []).append(entry)
    try:
        async with state.session.post(
            url, data=form, headers=_signed_headers(config, url, form), timeout=CLIENT_TIMEOUT
        ) as response:
            webhook_status = response.status
            content_type = response.content_type
            answer = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("inbound webhook for %s failed: %s", sid, type(exc).__name__)
        entry["status"] = "webhook_failed"
        return web.json_response(
            {"status": None, "message_sid": sid, "error": "webhook unreachable"}, status=502
        )
    entry["webhook_status"] = webhook_status
    if webhook_status >= 400:
        entry["status"] = "webhook_failed"
    logger.info("inbound webhook for %s answered HTTP %s", sid, webhook_status)
    if 200 <= webhook_status < 300 and "xml" in content_type:
        _record_twiml_replies(state, answer, sender=to, recipient=number)
    media_urls = [form[f"MediaUrl{n}"] for n in range(len(media)) if f"MediaUrl{n}" in form]
    return web.json_response(
        {"status": webhook_status, "message_sid": sid, "media_urls": media_urls}
    )


def _media_items(given: Any) -> list[dict[str, Any]] | web.Response:
    """Check ``media`` of a phone send: ``[{"content_type", "content_b64", ...}]`` (≤ 10)."""
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > 10:
        return sim_error(400, "media must be a list of at most 10 items")
    items = []
    for item in given:
        if not isinstance(item, dict) or not isinstance(item.get("content_type"), str):
            return sim_error(400, "each media item needs a content_type")
        try:
            content = base64.b64decode(item.get("content_b64", ""), validate=True)
        except ValueError:
            return sim_error(400, "content_b64 must be base64")
        items.append({**item, "content": content})
    return items


def _announce_media(
    state: _SimState,
    request: web.Request,
    form: dict[str, str],
    sid: str,
    media: list[dict[str, Any]],
    num_media: Any,
) -> None:
    """Store a phone's media and add Twilio's MMS fields to its webhook form.

    An item may override its ``url`` (a broken link) or be ``omit``-ted from the
    fields, and ``num_media`` may override the count: the disagreements a
    service must survive.
    """
    account = state.config.account_sid
    root = (state.config.media_base_url or str(request.url.origin())).rstrip("/")
    base = f"{root}/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media"
    for n, item in enumerate(media):
        media_sid = "ME" + secrets.token_hex(16)
        state.media[media_sid] = SimMedia(
            content=item["content"],
            content_type=item["content_type"],
            status=int(item.get("status", 200)),
            redirect=bool(item.get("redirect", True)),
        )
        if item.get("omit"):
            continue
        form[f"MediaUrl{n}"] = str(item.get("url") or f"{base}/{media_sid}")
        form[f"MediaContentType{n}"] = item["content_type"]
    form["NumMedia"] = str(num_media) if num_media is not None else str(len(media))


async def _fetch_media(request: web.Request) -> web.Response:
    """A Media resource: its content (or a redirect to the CDN), for the account only."""
    state = request.app[STATE_KEY]
    state.media_requests.append(
        {"path": request.path, "authorized": _authorized(request, state.config)}
    )
    if not _authorized(request, state.config):
        response = _twilio_error(401, 20003, "Authenticate")
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response
    media_sid = request.match_info["media_sid"]
    item = state.media.get(media_sid)
    if request.match_info["account_sid"] != state.config.account_sid or item is None:
        return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    if item.status != 200:
        return _twilio_error(item.status, 20404, "The requested resource was not found")
    if item.redirect:
        token = secrets.token_urlsafe(24)
        state.cdn[token] = media_sid
        raise web.HTTPTemporaryRedirect(f"/_sim/mms-cdn/{token}")
    return web.Response(body=item.content, content_type=item.content_type)


async def _cdn_media(request: web.Request) -> web.Response:
    """The CDN a Media URL redirects to: no credentials, the token is the key."""
    state = request.app[STATE_KEY]
    state.media_requests.append(
        {"path": "/_sim/mms-cdn", "authorized": _authorized(request, state.config)}
    )
    media_sid = state.cdn.get(request.match_info["token"])
    item = state.media.get(media_sid) if media_sid else None
    if item is None:
        return web.Response(status=404)
    return web.Response(body=item.content, content_type=item.content_type)


def _messaging_service_sid(account_sid: str) -> str:
    return "MG" + hashlib.sha256(account_sid.encode("utf-8")).hexdigest()[:32]


def _record_twiml_replies(state: _SimState, answer: bytes, *, sender: str, recipient: str) -> None:
    """Deliver ``<Message>`` replies in a TwiML answer to the phone, as Twilio would."""
    if not answer.strip():
        return
    try:
        root = ElementTree.fromstring(answer)
    except ElementTree.ParseError:
        logger.warning("inbound webhook answered XML that is not TwiML")
        return
    for element in root.iter("Message"):
        body_element = element.find("Body")
        text = (body_element.text if body_element is not None else element.text) or ""
        if not text.strip():
            continue
        state.conversations.setdefault(recipient, []).append(
            {
                "sid": new_message_sid(),
                "direction": "to_phone",
                "from": sender,
                "to": recipient,
                "body": text.strip(),
                "status": "delivered",
                "error_code": None,
                "num_segments": str(segments_for(text.strip())),
                "created_at": _now().isoformat(),
            }
        )


# ---------------------------------------------------------------- caseworker panel


async def _list_caseworkers(request: web.Request) -> web.Response:
    caseworkers = request.app[STATE_KEY].config.caseworker_tokens
    return web.json_response([{"index": i, "name": c.name} for i, c in enumerate(caseworkers)])


async def _cw_conversations(request: web.Request) -> web.Response:
    return await _proxy(request, "GET", "/api/v1/conversations")


async def _cw_thread(request: web.Request) -> web.Response:
    conversation = quote(request.match_info["conversation_id"], safe="")
    return await _proxy(request, "GET", f"/api/v1/conversations/{conversation}")


async def _cw_reply(request: web.Request) -> web.Response:
    data = await _read_json_object(request)
    if data is None or not isinstance(data.get("body"), str):
        return sim_error(400, "expected a JSON object with a string body")
    conversation = quote(request.match_info["conversation_id"], safe="")
    return await _proxy(
        request,
        "POST",
        f"/api/v1/conversations/{conversation}/replies",
        payload={"body": data["body"]},
    )


async def _proxy(
    request: web.Request, method: str, path: str, payload: dict[str, Any] | None = None
) -> web.Response:
    """Call the caseworker API as the chosen caseworker and pass the answer through."""
    state = request.app[STATE_KEY]
    config = state.config
    if config.caseworker_api_base is None:
        return sim_error(503, "no caseworker API is configured")
    index = int(request.match_info["index"])
    if index >= len(config.caseworker_tokens):
        return sim_error(404, "no such caseworker")
    token = config.caseworker_tokens[index].token
    url = config.caseworker_api_base.rstrip("/") + path
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with state.session.request(
            method, url, headers=headers, json=payload, timeout=CLIENT_TIMEOUT
        ) as response:
            status = response.status
            content_type = response.content_type
            answer = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("caseworker API %s %s failed: %s", method, path, type(exc).__name__)
        return sim_error(502, "caseworker API unreachable")
    if not answer:
        return web.Response(status=status)
    if content_type == "application/json":
        return web.Response(status=status, body=answer, content_type="application/json")
    return sim_error(
        status if status >= 400 else 502, f"caseworker API answered HTTP {status} without JSON"
    )


# ---------------------------------------------------------------- demo page


_PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


async def _page(request: web.Request) -> web.Response:
    html = request.app[STATE_KEY].page
    return web.Response(text=html, content_type="text/html", headers=_PAGE_HEADERS)
