"""A local GatewayAPI look-alike for tests and the demo.

It speaks GatewayAPI's REST wire formats over real HTTP with real JWTs:

* ``POST /rest/mtsms`` sends an SMS: API token as ``Authorization: Token``,
  as the basic-auth user name or as the ``token`` query argument; a JSON body
  (one message or a list) with ``message``, ``recipients: [{msisdn}]`` and the
  optional ``sender``, ``userref``, ``encoding`` (``UTF8``/``UCS2``),
  ``max_parts``, ``validity_period``, ``callback_url``, ``class``… It answers
  ``{"ids": [...], "usage": {...}}`` (one id per recipient, in order), then
  posts delivery status notifications ``BUFFERED``, ``ENROUTE`` and
  ``DELIVERED`` (or ``UNDELIVERABLE``, code ``0x1010``) to the message's
  ``callback_url`` or the default status webhook, each signed as an HS256
  JWT in ``X-Gwapi-Signature``.
* ``POST /_sim/phones/{msisdn}/send`` plays a family's phone: it posts a
  signed MO SMS webhook to the service, exactly as GatewayAPI would.

Like GatewayAPI, text sent without ``encoding: UCS2`` is transcoded to GSM
03.38: characters outside it arrive as ``?``. A text longer than
``max_parts`` segments is cut to fit, as GatewayAPI does.

Everything under ``/_sim/`` is the simulator's own control surface.

Routes:
    ``POST /rest/mtsms``: send SMS.
    ``GET|POST|DELETE /_sim/faults``: show, set or reset fault injection
        (``mode``: ok, fail_5xx, fail_4xx, hang, garbage; ``count``, ``delay``,
        ``undeliverable`` numbers, ``reorder_reports``).
    ``GET|DELETE /_sim/messages``: list or forget the messages sent over REST.
    ``POST /_sim/phones/{msisdn}/send``: the phone sends an SMS to the service.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
from aiohttp import web

from bot.simulators.base import CLIENT_TIMEOUT, SimulatorState, read_json, sim_error
from bot.simulators.faults import FaultInjection, Faults, GatewayWords, add_fault_routes
from channels.gatewayapi import SEND_PATH, SIGNATURE_HEADER, encode_claims
from channels.smstext import GSM7_BASIC, GSM7_EXTENSION, SmsText, analyse

logger = logging.getLogger(__name__)

UNDELIVERABLE_CODE: Final = "0x1010"
UNDELIVERABLE_ERROR: Final = "Unknown subscriber"
MAX_BODY_CHARS: Final = 1600
PRICE_PER_PART: Final = 0.12

_MSISDN = re.compile(r"^\+?([1-9][0-9]{6,14})$")
_ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 .&_-]{1,11}$")
_DIGIT_SENDER = re.compile(r"^[0-9]{1,15}$")
_KNOWN_FIELDS: Final = frozenset(
    {
        "class",
        "message",
        "sender",
        "sendtime",
        "tags",
        "userref",
        "priority",
        "validity_period",
        "encoding",
        "destaddr",
        "payload",
        "udh",
        "callback_url",
        "label",
        "recipients",
        "max_parts",
    }
)
_CLASSES: Final = frozenset({"standard", "premium", "secret"})
_COUNTRIES: Final = ((45, "DK"), (46, "SE"), (47, "NO"), (49, "DE"), (44, "GB"), (1, "US"))
_RANK: Final = {"UNKNOWN": 0, "BUFFERED": 1, "ENROUTE": 2, "DELIVERED": 3, "UNDELIVERABLE": 3}
# What GET /_sim/messages shows of a message.
_PUBLIC_KEYS: Final = (
    "id",
    "to",
    "msisdn",
    "from",
    "body",
    "encoding",
    "parts",
    "truncated",
    "userref",
    "callback_url",
    "validity_period",
    "max_parts",
    "class",
    "status",
    "error",
    "code",
    "created_at",
)


@dataclass(slots=True)
class GatewayApiSimulatorConfig:
    """How to run the GatewayAPI simulator.

    Attributes:
        token: The API token clients must present.
        webhook_secret: The webhooks' authentication token, the JWT key.
        mo_webhook_url: Where phones' SMS are posted (the service's MO
            webhook); ``None`` disables phone sends.
        status_webhook_url: The default webhook for status notifications of
            messages sent without ``callback_url``; ``None`` sends none.
        webhook_label: The ``webhook_label`` claim of MO webhooks.
        status_delay: Seconds before each status notification.
        service_number: The number a phone writes to when a send names none
            (E.164 or bare MSISDN); when unset, the numeric sender that last
            wrote to the phone.
        max_rate: Messages per second the gateway takes in; a request waits
            for its messages' turn before it is answered, as an account's
            throughput limit paces a real one. ``None``: no limit.
    """

    token: str
    webhook_secret: str
    mo_webhook_url: str | None
    status_webhook_url: str | None = None
    webhook_label: str = "tovholder"
    status_delay: float = 0.05
    service_number: str | None = None
    max_rate: float | None = None


class _SimState(SimulatorState):
    """Everything the simulator remembers, hung on the app."""

    def __init__(self, config: GatewayApiSimulatorConfig) -> None:
        super().__init__(_PUBLIC_KEYS)
        self.config = config
        self.last_sender: dict[int, str] = {}
        self.faults = FaultInjection(_GATEWAYAPI_WORDS)
        self.ids = itertools.count(100_000_000 + secrets.randbelow(900_000_000))
        # When the rate limit lets the next message in (event-loop time).
        self.next_free = 0.0

    async def take_turn(self, messages: int) -> bool:
        """Wait until ``messages`` more fit under the rate limit; False if shutting down."""
        rate = self.config.max_rate
        if not rate:
            return True
        now = asyncio.get_running_loop().time()
        start = max(now, self.next_free)
        self.next_free = start + messages / rate
        wait = self.next_free - now
        return wait <= 0 or await self.pause(wait)


STATE_KEY: Final = web.AppKey("gatewayapi_simulator_state", _SimState)


def _undeliverable_key(number: str) -> str | None:
    """A number named in ``undeliverable`` as a message's ``to`` (``+`` and the MSISDN)."""
    msisdn = _msisdn(number)
    return None if msisdn is None else f"+{msisdn}"


# GatewayAPI's answers to the shared faults; it takes MSISDNs with or without "+".
_GATEWAYAPI_WORDS: Final = GatewayWords(
    unavailable=lambda: _api_error(503, "Service unavailable"),
    server_error=lambda: _api_error(500, "Internal server error"),
    number_key=_undeliverable_key,
    number_error="undeliverable must be a list of phone numbers",
)


def create_gatewayapi_simulator(config: GatewayApiSimulatorConfig) -> web.Application:
    """Build the GatewayAPI simulator's aiohttp application.

    Args:
        config: Credentials and webhook targets.

    Returns:
        The application; its client session and background tasks live in
        ``cleanup_ctx`` and end with it.
    """
    app = web.Application()
    state = _SimState(config)
    app[STATE_KEY] = state
    state.serve_with(app)
    app.router.add_post(SEND_PATH, _send)
    add_fault_routes(app, state.faults)
    state.add_message_routes(app)
    app.router.add_post("/_sim/phones/{msisdn}/send", _phone_send)
    return app


# ---------------------------------------------------------------- helpers


def _msisdn(value: object) -> int | None:
    """An MSISDN from an integer, a digit string or an E.164 string; None if it is none."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    match = _MSISDN.match(str(value).strip())
    return int(match.group(1)) if match else None


def _country(msisdn: int) -> tuple[str, int | None]:
    text = str(msisdn)
    for prefix, country in _COUNTRIES:
        if text.startswith(str(prefix)):
            return country, prefix
    return "", None


def _api_error(
    status: int, message: str, code: str | None = None, variables: list[Any] | None = None
) -> web.Response:
    """An error answer shaped like GatewayAPI's; ``code``/``variables`` only when set."""
    body: dict[str, Any] = {"incident_uuid": str(uuid.uuid4()), "message": message}
    if code is not None:
        body["code"] = code
    if variables:
        body["variables"] = variables
    return web.json_response(body, status=status)


def _authorized(request: web.Request, token: str) -> bool:
    """Token auth: ``Token`` header, basic auth with the token as user name, or ``?token=``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    given: str | None
    if scheme.lower() == "token":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:
            return False
        given = decoded.partition(":")[0]
    else:
        given = request.query.get("token")
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _to_gsm7(text: str) -> str:
    """Transcode to GSM 03.38 as a gateway does: what it cannot carry becomes ``?``."""
    return "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else "?" for ch in text)


def _cut_to_parts(text: str, encoding: str, max_parts: int) -> str:
    """The longest prefix of ``text`` that fits in ``max_parts`` segments."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if analyse(text[:middle], "UCS-2" if encoding == "UCS2" else "GSM-7").segments <= max_parts:
            low = middle
        else:
            high = middle - 1
    return text[:low]


# ---------------------------------------------------------------- REST API


def _validate(item: Any) -> tuple[dict[str, Any], list[int]] | web.Response:
    """Check one message of a send request; return it and its MSISDNs, or an error answer."""
    if not isinstance(item, dict):
        return _api_error(422, "Invalid json request body")
    unknown = sorted(set(item) - _KNOWN_FIELDS)
    if unknown:
        return _api_error(400, "Unsupported parameter %1", "0x0220", unknown[:1])
    if "payload" in item:
        return _api_error(400, "Unsupported parameter %1", "0x0220", ["payload"])
    message = item.get("message")
    if not isinstance(message, str) or not message:
        return _api_error(400, "Missing required parameter %1", "0x0222", ["message"])
    if len(message) > MAX_BODY_CHARS:
        return _api_error(400, "Invalid argument %1", "0x0308", ["message"])
    recipients = item.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        return _api_error(400, "Missing required parameter %1", "0x0222", ["recipients"])
    msisdns = []
    for recipient in recipients:
        msisdn = _msisdn(recipient.get("msisdn")) if isinstance(recipient, dict) else None
        if msisdn is None:
            return _api_error(400, "Invalid argument %1", "0x0308", ["recipients.msisdn"])
        if msisdn in msisdns:
            return _api_error(
                400,
                "A message contains the same recipient more than once. MSISDNs %1 is duplicated",
                "0x0310",
                [msisdn],
            )
        msisdns.append(msisdn)
    sender = item.get("sender", "GatewayAPI")
    if not isinstance(sender, str) or not (
        _DIGIT_SENDER.match(sender) or _ALPHANUMERIC_SENDER.match(sender)
    ):
        return _api_error(400, "Invalid argument %1", "0x0308", ["sender"])
    checks: tuple[tuple[str, bool], ...] = (
        ("encoding", item.get("encoding", "UTF8") in ("UTF8", "UCS2")),
        ("class", item.get("class", "standard") in _CLASSES),
        ("userref", isinstance(item.get("userref", ""), str)),
        ("max_parts", _int_in(item.get("max_parts", 1), 1, 255)),
        ("validity_period", _int_in(item.get("validity_period", 60), 1, 10**9)),
        (
            "callback_url",
            isinstance(item.get("callback_url", "http://x"), str)
            and str(item.get("callback_url", "http://x")).startswith(("http://", "https://")),
        ),
    )
    for name, ok in checks:
        if not ok:
            return _api_error(400, "Invalid argument %1", "0x0308", [name])
    return item, msisdns


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


async def _send(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not _authorized(request, state.config.token):
        return _api_error(401, "Invalid Consumer Key", "0x0223")
    fault = await state.faults.before_send(state)
    if fault.answer is not None:
        return fault.answer
    checked = _check_request(await read_json(request))
    if isinstance(checked, web.Response):
        return checked
    if fault.refuse:
        first = checked[0][1][0]
        return _api_error(400, "MSISDN %1 blacklisted", "0x0215", [first])
    if not await state.take_turn(sum(len(msisdns) for _, msisdns in checked)):
        return _api_error(503, "Service unavailable")
    accepted = [_record(state, item, msisdn) for item, msisdns in checked for msisdn in msisdns]
    # One task walks every message of the request through its reports.
    state.spawn(
        _progress_all(state, accepted, state.faults.current),
        name=f"gatewayapi-sim-status-{accepted[0]['id']}",
    )
    return web.json_response({"ids": [m["id"] for m in accepted], "usage": _usage(accepted)})


def _check_request(data: Any) -> list[tuple[dict[str, Any], list[int]]] | web.Response:
    """Check a send request (one message or a list); return each with its MSISDNs, or an error."""
    items = data if isinstance(data, list) else [data]
    if not items or data is None:
        return _api_error(422, "Invalid json request body")
    checked = []
    for item in items:
        result = _validate(item)
        if isinstance(result, web.Response):
            return result
        checked.append(result)
    # "If specified it must be the same for all messages in the request."
    if len({item.get("class", "standard") for item, _ in checked}) > 1:
        return _api_error(400, "Invalid argument %1", "0x0308", ["class"])
    return checked


def _usage(accepted: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``usage`` of a send answer: messages per country and the price of their parts."""
    countries: dict[str, int] = {}
    for message in accepted:
        country, _ = _country(message["msisdn"])
        countries[country or "XX"] = countries.get(country or "XX", 0) + 1
    parts_total = sum(message["parts"] for message in accepted)
    return {
        "countries": countries,
        "currency": "DKK",
        "total_cost": round(parts_total * PRICE_PER_PART, 2),
    }


def _record(state: _SimState, item: Mapping[str, Any], msisdn: int) -> dict[str, Any]:
    """Store one accepted message and start its delivery reports."""
    encoding = item.get("encoding", "UTF8")
    body = item["message"] if encoding == "UCS2" else _to_gsm7(item["message"])
    analysis: SmsText = analyse(body, "UCS-2" if encoding == "UCS2" else "GSM-7")
    max_parts = item.get("max_parts")
    truncated = max_parts is not None and analysis.segments > max_parts
    if max_parts is not None and truncated:
        body = _cut_to_parts(body, encoding, max_parts)
        analysis = analyse(body, "UCS-2" if encoding == "UCS2" else "GSM-7")
    sender = item.get("sender", "GatewayAPI")
    message: dict[str, Any] = {
        "id": next(state.ids),
        "to": f"+{msisdn}",
        "msisdn": msisdn,
        "from": sender,
        "body": body,
        "encoding": encoding,
        "parts": analysis.segments,
        "truncated": truncated,
        "userref": item.get("userref"),
        "callback_url": item.get("callback_url"),
        "validity_period": item.get("validity_period"),
        "max_parts": max_parts,
        "class": item.get("class", "standard"),
        "status": "UNKNOWN",
        "error": None,
        "code": None,
        "created_at": datetime.now(UTC).isoformat(),
    }
    state.messages.append(message)
    if _DIGIT_SENDER.match(sender):
        state.last_sender[msisdn] = sender
    logger.debug("simulator accepted message %s", message["id"])
    return message


async def _progress_all(state: _SimState, messages: list[dict[str, Any]], faults: Faults) -> None:
    """Move messages through BUFFERED → ENROUTE → final, notifying each step of each."""
    plans = []
    for message in messages:
        steps = faults.report_steps(
            message["to"],
            progress=["BUFFERED", "ENROUTE"],
            delivered="DELIVERED",
            failed="UNDELIVERABLE",
        )
        plans.append((message, steps, message["callback_url"] or state.config.status_webhook_url))
    for i in range(3):
        if not await state.pause(state.config.status_delay):
            return
        posts = []
        for message, steps, callback in plans:
            step = steps[i]
            if _RANK[step] > _RANK[message["status"]]:
                message["status"] = step
                if step == "UNDELIVERABLE":
                    message["error"], message["code"] = UNDELIVERABLE_ERROR, UNDELIVERABLE_CODE
            if callback is not None:
                posts.append(_post_status(state, message, step, callback))
        if posts:
            await asyncio.gather(*posts)


async def _post_status(
    state: _SimState, message: Mapping[str, Any], step: str, callback: str
) -> None:
    country, prefix = _country(message["msisdn"])
    failed = step == "UNDELIVERABLE"
    claims = {
        "id": message["id"],
        "msisdn": message["msisdn"],
        "time": int(time.time()),
        "status": step,
        "error": UNDELIVERABLE_ERROR if failed else None,
        "code": UNDELIVERABLE_CODE if failed else None,
        "userref": message["userref"],
        "callback_url": message["callback_url"],
        "country_code": country,
        "country_prefix": prefix,
        "charge_status": "NOCHARGE",
        "api": 4,
    }
    await _post_signed(state, callback, claims, what=f"status {step} for {message['id']}")


async def _post_signed(
    state: _SimState, url: str, claims: Mapping[str, Any], *, what: str
) -> int | None:
    """POST ``claims`` as JSON with their JWT; return the HTTP status, None if unreachable."""
    headers = {SIGNATURE_HEADER: encode_claims(claims, state.config.webhook_secret)}
    try:
        async with state.session.post(
            url, json=dict(claims), headers=headers, timeout=CLIENT_TIMEOUT
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("webhook %s failed: %s", what, type(exc).__name__)
        return None
    if status >= 300:
        logger.warning("webhook %s answered HTTP %s", what, status)
    return status


# ---------------------------------------------------------------- phones


async def _phone_send(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    config = state.config
    msisdn = _msisdn(request.match_info["msisdn"])
    if msisdn is None:
        return sim_error(400, "the phone must be an MSISDN or E.164 number")
    data = await read_json(request)
    if not isinstance(data, dict):
        return sim_error(400, "expected a JSON object")
    body = data.get("body")
    if not isinstance(body, str) or not body or len(body) > MAX_BODY_CHARS:
        return sim_error(400, f"body must be a string of 1 to {MAX_BODY_CHARS} characters")
    receiver = _msisdn(
        data.get("to") or config.service_number or state.last_sender.get(msisdn) or ""
    )
    if receiver is None:
        return sim_error(400, "to must be a phone number (none is configured)")
    if config.mo_webhook_url is None:
        return sim_error(409, "no MO webhook URL is configured")

    country, prefix = _country(msisdn)
    mo_id = next(state.ids)
    claims = {
        "id": mo_id,
        "msisdn": msisdn,
        "receiver": receiver,
        "message": body,
        "senttime": int(time.time()),
        "webhook_label": config.webhook_label,
        "encoding": "UTF8" if analyse(body).encoding == "GSM-7" else "UCS2",
        "country_code": country,
        "country_prefix": prefix,
    }
    status = await _post_signed(state, config.mo_webhook_url, claims, what=f"MO {mo_id}")
    if status is None:
        return web.json_response(
            {"status": None, "id": mo_id, "error": "webhook unreachable"}, status=502
        )
    logger.info("MO webhook for %s answered HTTP %s", mo_id, status)
    return web.json_response({"status": status, "id": mo_id})
