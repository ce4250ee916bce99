"""A local look-alike of SF1601 (KombiPostAfsend), Digital Post's sending service.

It speaks the wire format :mod:`channels.digitalpost` implements:

* ``POST /service/KombiPostAfsend_1/kombi`` takes a ``kombi_request``
  (``KombiValgKode`` ``Digital Post`` and one MeMo ``Message``) with the headers
  ``x-TransaktionsId`` and ``x-TransaktionsTid``. It validates the MeMo against
  the MeMo 1.1 schema (``channels/memo_schema``) and against the rules a letter
  to a citizen must meet (:func:`channels.memo.check_message`), and answers:
  ``200`` (accepted, JSON naming the transaction and the message),
  ``409`` (this ``messageUUID`` was already received: nothing new is kept),
  ``400`` (rejected, JSON ``{"errorCode", "detail"}``), or what a fault asks for.

Everything under ``/_sim/`` is the simulator's own control surface:

    ``GET|POST|DELETE /_sim/faults``: show, set or reset fault injection:
        ``{"mode": "ok" | "reject" | "unavailable" | "timeout", "count": n | null,
        "delay": seconds, "unregistered": [cpr, …]}``. ``reject`` answers 400,
        ``unavailable`` 503, ``timeout`` waits ``delay`` seconds (default 60)
        before answering 504, keeping nothing; ``count`` limits the fault
        to that many calls. A CPR in ``unregistered`` is rejected with
        ``recipient_not_registered`` (a citizen exempt from Digital Post).
    ``GET|DELETE /_sim/letters``: list or forget the letters received
        (header fields, the decoded main document, the transaction id).

The real service also needs a KOMBIT access token; when ``access_token`` is
configured the simulator requires ``Authorization: Holder-of-key <token>``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web
from lxml import etree

from channels.digitalpost import KOMBI_DIGITAL_POST, KOMBI_PATH
from channels.memo import (
    MEMO_NS,
    check_message,
    file_contents,
    header_text,
    safe_parser,
    schema_errors,
)

FAULT_MODES = frozenset({"ok", "reject", "unavailable", "timeout"})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A letter is a few pages; Digital Post's own limit is far larger than we need here.
MAX_BODY = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DigitalPostSimulatorConfig:
    """How the simulator behaves.

    Attributes:
        access_token: when set, required as ``Authorization: Holder-of-key <token>``.
        validate_schema: validate against the MeMo 1.1 XSD (explicit checks run always).
    """

    access_token: str | None = None
    validate_schema: bool = True


@dataclass
class _Faults:
    mode: str = "ok"
    count: int | None = None
    delay: float = 60.0
    unregistered: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "count": self.count,
            "delay": self.delay,
            "unregistered": sorted(self.unregistered),
        }


@dataclass
class _State:
    config: DigitalPostSimulatorConfig
    faults: _Faults = field(default_factory=_Faults)
    letters: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    calls: int = 0

    def take_fault(self) -> str:
        """The fault for this call, counting it down."""
        mode = self.faults.mode
        if mode != "ok" and self.faults.count is not None:
            self.faults.count -= 1
            if self.faults.count <= 0:
                self.faults.mode, self.faults.count = "ok", None
        return mode


STATE_KEY: Final = web.AppKey("digitalpost_simulator_state", _State)


def create_digitalpost_simulator(config: DigitalPostSimulatorConfig) -> web.Application:
    """The simulator's aiohttp app."""
    app = web.Application(client_max_size=MAX_BODY)
    app[STATE_KEY] = _State(config=config)
    app.router.add_post(KOMBI_PATH, _kombi)
    app.router.add_get("/_sim/faults", _get_faults)
    app.router.add_post("/_sim/faults", _set_faults)
    app.router.add_delete("/_sim/faults", _reset_faults)
    app.router.add_get("/_sim/letters", _list_letters)
    app.router.add_delete("/_sim/letters", _clear_letters)
    return app


def _error(status: int, code: str, detail: str) -> web.Response:
    return web.json_response({"errorCode": code, "detail": detail}, status=status)


def _check_call(request: web.Request, state: _State) -> web.Response | None:
    """The call's own headers: transaction id and time, and the token when one is required."""
    if not _UUID.fullmatch(request.headers.get("x-TransaktionsId", "")):
        return _error(400, "bad_transaction_id", "x-TransaktionsId must be a UUID")
    if not request.headers.get("x-TransaktionsTid", "").endswith("Z"):
        return _error(400, "bad_transaction_time", "x-TransaktionsTid must be a UTC time")
    token = state.config.access_token
    if token and request.headers.get("Authorization") != f"Holder-of-key {token}":
        return _error(401, "unauthorized", "a valid access token is required")
    if not request.content_type.endswith("xml"):
        return _error(415, "unsupported_media_type", "the request must be XML")
    return None


def _read_kombi(body: bytes, state: _State) -> tuple[Any, list[str]]:
    """The MeMo Message of a kombi_request, and what is wrong with it."""
    try:
        root = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError:
        return None, ["the request is not well-formed XML"]
    if root.tag != "kombi_request":
        return None, ["the root element must be kombi_request"]
    choice = root.findtext("KombiValgKode")
    if (choice or "").strip() != KOMBI_DIGITAL_POST:
        return None, ["KombiValgKode must be 'Digital Post'"]
    messages = root.findall(f"{{{MEMO_NS}}}Message")
    if len(messages) != 1:
        return None, ["the request must carry exactly one MeMo Message"]
    message = messages[0]
    problems = schema_errors(message) if state.config.validate_schema else []
    return message, problems + check_message(message)


async def _kombi(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.calls += 1
    refused = _check_call(request, state)
    if refused is not None:
        return refused
    mode = state.take_fault()
    if mode == "unavailable":
        return _error(503, "unavailable", "the service is temporarily unavailable")
    if mode == "reject":
        return _error(400, "rejected", "the message was rejected (simulated fault)")
    message, problems = _read_kombi(await request.read(), state)
    if problems:
        return _error(400, "invalid_memo", "; ".join(problems)[:500])
    if mode == "timeout":
        # The letter is not kept: the client gave up before the service decided.
        await asyncio.sleep(state.faults.delay)
        return _error(504, "timeout", "the call took too long")
    return _accept(request, state, message)


def _accept(request: web.Request, state: _State, message: Any) -> web.Response:
    message_uuid = header_text(message, "memo:messageUUID").lower()
    transaction_id = request.headers["x-TransaktionsId"]
    if message_uuid in state.seen:
        return _error(409, "duplicate_message", "this messageUUID was already received")
    if header_text(message, "memo:Recipient/memo:recipientID") in state.faults.unregistered:
        return _error(400, "recipient_not_registered", "the recipient is exempt from Digital Post")
    state.seen.add(message_uuid)
    state.letters.append(_letter_json(message, transaction_id))
    return web.json_response({"transaktionsId": transaction_id, "messageUUID": message_uuid})


def _letter_json(message: Any, transaction_id: str) -> dict[str, Any]:
    files = []
    for media_type, content in file_contents(message):
        entry: dict[str, Any] = {"media_type": media_type, "size": len(content)}
        if media_type == "text/plain":
            entry["text"] = content.decode("utf-8", "replace")
        else:
            entry["content"] = base64.b64encode(content).decode("ascii")
        files.append(entry)
    return {
        "transaction_id": transaction_id,
        "message_uuid": header_text(message, "memo:messageUUID").lower(),
        "label": header_text(message, "memo:label"),
        "legal_notification": header_text(message, "memo:legalNotification") == "true",
        "sender": header_text(message, "memo:Sender/memo:senderID"),
        "sender_label": header_text(message, "memo:Sender/memo:label"),
        "recipient": header_text(message, "memo:Recipient/memo:recipientID"),
        "case_id": header_text(message, "memo:ContentData/memo:CaseID/memo:caseID"),
        "files": files,
    }


# ---------------------------------------------------------------- faults and inspection


async def _get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].faults.as_json())


def _parse_faults(data: Any) -> _Faults | str:
    """Faults from a control request, or why they are wrong."""
    if not isinstance(data, dict):
        return "expected a JSON object"
    faults = _Faults()
    faults.mode = str(data.get("mode", "ok"))
    if faults.mode not in FAULT_MODES:
        return f"mode must be one of {sorted(FAULT_MODES)}"
    count = data.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        return "count must be a positive integer or null"
    faults.count = count
    delay = data.get("delay", 60.0)
    if not isinstance(delay, int | float) or delay < 0:
        return "delay must be a non-negative number"
    faults.delay = float(delay)
    unregistered = data.get("unregistered", [])
    if not isinstance(unregistered, list) or not all(isinstance(c, str) for c in unregistered):
        return "unregistered must be a list of CPR numbers"
    faults.unregistered = set(unregistered)
    return faults


async def _set_faults(request: web.Request) -> web.Response:
    try:
        data = await request.json()
    except ValueError:
        data = None
    faults = _parse_faults(data)
    if isinstance(faults, str):
        return _error(400, "bad_faults", faults)
    request.app[STATE_KEY].faults = faults
    return web.json_response(faults.as_json())


async def _reset_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults = _Faults()
    return web.Response(status=204)


async def _list_letters(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({"letters": state.letters, "calls": state.calls})


async def _clear_letters(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    state.letters.clear()
    state.seen.clear()
    state.calls = 0
    return web.Response(status=204)
