"""GatewayAPI (gatewayapi.com, OnlineCity, Denmark) adapter.

Speaks GatewayAPI's documented REST wire formats:

* Outbound: ``POST {base}/rest/mtsms`` with a JSON body ``{"sender",
  "message", "recipients": [{"msisdn"}], "userref", "encoding", "max_parts",
  "validity_period", "callback_url", "class"}`` and the API token in
  ``Authorization: Token <token>``. GatewayAPI answers 200 with
  ``{"ids": [<int>], "usage": {...}}``, or an error object
  ``{"code": "0x0213", "incident_uuid", "message", "variables"}`` with HTTP
  400/401/403/422/500. The root element may also be a *list* of such
  messages ("The root element can be either a dict with a single SMS or a list
  of SMS'es"; the ``class`` must be the same for all); ``ids`` then holds one
  id per recipient, in order. ``send_many`` uses that, one recipient per
  message, so each SMS keeps its own ``userref``, id and status callbacks.
* Delivery status notifications and MO (incoming) SMS: JSON POSTs whose
  payload is repeated as the claims of an HS256 JWT in the
  ``X-Gwapi-Signature`` header, signed with the webhook's authentication token.
  The claims are authoritative; the body is never read.

MSISDNs travel as bare digits with the country code (``4520000001``); this
adapter turns them into and out of E.164 (``+4520000001``) at the edge.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import jwt

from channels import transport
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
from channels.smstext import TooManySegments, analyse, check_fits

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Gwapi-Signature"
SEND_PATH: Final = "/rest/mtsms"
ALGORITHM: Final = "HS256"
DEFAULT_VALIDITY_SECONDS: Final = 2 * 24 * 3600
MIN_SECRET_BYTES: Final = 32
"""RFC 7518 § 3.2: an HS256 key must be at least as long as the hash (32 bytes)."""

_MSISDN: Final = re.compile(r"^[1-9][0-9]{6,14}$")
_DIGITS_SENDER: Final = re.compile(r"^\+?[0-9]{1,15}$")

# Every documented delivery state, mapped onto our own state machine.
# SCHEDULED and BUFFERED are still with GatewayAPI; ENROUTE has reached the
# mobile network. ACCEPTED is final at GatewayAPI ("the network accepted it on
# the end user's behalf") but confirms no delivery, so it stays SENT, as does
# UNKNOWN, the state every message starts in. DELETED means cancelled.
_STATUS_MAP: dict[str, DeliveryState] = {
    "UNKNOWN": DeliveryState.SENT,
    "SCHEDULED": DeliveryState.QUEUED,
    "BUFFERED": DeliveryState.QUEUED,
    "ENROUTE": DeliveryState.SENT,
    "ACCEPTED": DeliveryState.SENT,
    "DELIVERED": DeliveryState.DELIVERED,
    "READ": DeliveryState.DELIVERED,
    "EXPIRED": DeliveryState.EXPIRED,
    "UNDELIVERABLE": DeliveryState.FAILED,
    "REJECTED": DeliveryState.FAILED,
    "SKIPPED": DeliveryState.FAILED,
    "DELETED": DeliveryState.FAILED,
}

GATEWAYAPI_STATUSES: frozenset[str] = frozenset(_STATUS_MAP)
"""Every GatewayAPI delivery status that ``map_status`` understands."""


def map_status(status: str) -> DeliveryState:
    """Map a GatewayAPI delivery status onto our delivery state machine.

    Args:
        status: GatewayAPI's ``status`` claim, e.g. ``"DELIVERED"``.

    Returns:
        The matching ``DeliveryState``.

    Raises:
        ValueError: GatewayAPI documents no such status.
    """
    try:
        return _STATUS_MAP[status.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown GatewayAPI status {status!r}") from None


@dataclass(frozen=True, slots=True)
class GatewayApiDeliveryReport(DeliveryReport):
    """A delivery report that also carries our own reference (GatewayAPI's ``userref``)."""

    reference: str | None = None


def reference_of(report: DeliveryReport) -> str | None:
    """Our ``OutboundSms.reference`` as a gateway echoed it in a delivery report.

    Args:
        report: A report from any gateway's ``verify_status``.

    Returns:
        The reference, or None if the gateway does not echo one (Twilio) or
        the message was sent without.
    """
    return report.reference if isinstance(report, GatewayApiDeliveryReport) else None


def to_msisdn(number: str) -> int:
    """Turn an E.164 number (``+4520000001``) into GatewayAPI's MSISDN (``4520000001``).

    Raises:
        ValueError: The number is not E.164.
    """
    digits = number[1:] if number.startswith("+") else ""
    if not _MSISDN.match(digits):
        raise ValueError("not an E.164 phone number")
    return int(digits)


def from_msisdn(value: object) -> str:
    """Turn a GatewayAPI MSISDN (integer or digit string) into E.164.

    Raises:
        ValueError: The value is not an MSISDN.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("MSISDN is neither integer nor string")
    digits = str(value).strip().removeprefix("+")
    if not _MSISDN.match(digits):
        raise ValueError("not an MSISDN")
    return "+" + digits


def wire_sender(sender: str) -> str:
    """GatewayAPI's ``sender``: up to 15 digits without ``+``, or up to 11 characters."""
    return sender.removeprefix("+") if _DIGITS_SENDER.match(sender) else sender


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up case-insensitively in any mapping."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def decode_claims(token: str, secret: str) -> dict[str, Any]:
    """Verify a GatewayAPI webhook JWT and return its claims.

    Only HS256 is accepted: ``none``, other HMAC sizes and public-key
    algorithms are refused whatever the token's header says. Registered
    claims (``exp``, ``nbf``, ``iat``) are checked if present; GatewayAPI
    sends none.

    Args:
        token: The ``X-Gwapi-Signature`` header value.
        secret: The webhook's authentication token.

    Returns:
        The claims.

    Raises:
        SignatureError: The token is malformed, uses another algorithm, was
            signed with another secret, was altered or has expired.
    """
    try:
        claims: dict[str, Any] = jwt.decode(token.strip(), key=secret, algorithms=[ALGORITHM])
    except jwt.PyJWTError as exc:
        raise SignatureError(f"{SIGNATURE_HEADER} is not valid: {type(exc).__name__}") from None
    return claims


def encode_claims(claims: Mapping[str, Any], secret: str) -> str:
    """Sign claims as GatewayAPI does (HS256, ``typ: JWT``); used by the simulator and tests."""
    return jwt.encode(dict(claims), secret, algorithm=ALGORITHM)


class GatewayApiGateway:
    """GatewayAPI as an ``SmsGateway``.

    Args:
        token: The API token; sent as ``Authorization: Token <token>``.
        webhook_secret: The webhooks' authentication token, the JWT's HS256
            key; at least 32 bytes.
        base_url: ``https://gatewayapi.com`` (or ``https://gatewayapi.eu``) in
            production, a simulator's address in tests and demos.
        session: A shared ``aiohttp.ClientSession``; the gateway does not close it.
        timeout: Seconds allowed for one send, connect to last byte.
        sender_max_parts: The most SMS segments one message may take; longer
            texts are refused before sending, never cut short.
        validity_period: Seconds GatewayAPI keeps trying before the message
            expires (an ``EXPIRED`` report).

    Raises:
        ValueError: A credential is empty or the secret too short, or a limit
            is out of range.
    """

    name: str = "gatewayapi"

    def __init__(
        self,
        *,
        token: str,
        webhook_secret: str,
        base_url: str,
        session: aiohttp.ClientSession,
        timeout: float = 10.0,
        sender_max_parts: int = 3,
        validity_period: int = DEFAULT_VALIDITY_SECONDS,
    ) -> None:
        if not token.strip():
            raise ValueError("GatewayAPI token must not be empty")
        if len(webhook_secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(f"GatewayAPI webhook secret must be at least {MIN_SECRET_BYTES} bytes")
        if not 1 <= sender_max_parts <= 255:
            raise ValueError("sender_max_parts must be between 1 and 255")
        if validity_period < 60:
            raise ValueError("validity_period must be at least 60 seconds")
        self._secret = webhook_secret
        self._send_url = base_url.rstrip("/") + SEND_PATH
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self._max_parts = sender_max_parts
        self._validity = validity_period

    def _payload(self, sms: OutboundSms) -> dict[str, Any]:
        try:
            msisdn = to_msisdn(sms.recipient)
        except ValueError:
            raise GatewayError("recipient is not an E.164 number", transient=False) from None
        try:
            text = check_fits(sms.body, self._max_parts)
        except TooManySegments as exc:
            raise GatewayError(str(exc), transient=False) from None
        payload: dict[str, Any] = {
            "class": "standard",
            "sender": wire_sender(sms.sender),
            "message": sms.body,
            "recipients": [{"msisdn": msisdn}],
            "userref": sms.reference,
            "max_parts": self._max_parts,
            "validity_period": self._validity,
        }
        if text.encoding == "UCS-2":
            payload["encoding"] = "UCS2"
        if sms.status_callback:
            payload["callback_url"] = sms.status_callback
        return payload

    async def send(self, sms: OutboundSms) -> SendResult:
        """Hand one SMS to GatewayAPI.

        Args:
            sms: The message to send; ``reference`` travels as ``userref``.

        Returns:
            GatewayAPI's message id, queued.

        Raises:
            GatewayError: ``transient`` for timeouts, connection errors, 429, 5xx and
                unreadable 2xx answers; permanent for other 4xx answers, a
                recipient that is not E.164 and a text longer than
                ``sender_max_parts`` segments.
        """
        payload = self._payload(sms)
        status, body = await transport.post(
            self._session,
            self._send_url,
            gateway="GatewayAPI",
            reference=sms.reference,
            headers=self._headers,
            deadline=self._timeout,
            json=payload,
        )

        if 200 <= status < 300:
            return self._parse_accepted(sms, status, body)

        code, incident = _error_details(body)
        # The error's "message" and "variables" may quote the MSISDN: keep code and incident only.
        transient = status == 429 or status >= 500
        logger.warning(
            "GatewayAPI refused send (reference %s): HTTP %s, code %s, incident %s, transient=%s",
            sms.reference,
            status,
            code,
            incident,
            transient,
        )
        raise GatewayError(
            f"GatewayAPI answered HTTP {status} (code {code}, incident {incident})",
            transient=transient,
            status=status,
        )

    async def send_many(self, batch: list[OutboundSms]) -> list[SendResult | GatewayError]:
        """Hand several SMS to GatewayAPI in one request (a JSON list of messages).

        A message that cannot be sent at all (not E.164, too long) is refused
        on its own and the rest still go. When GatewayAPI refuses the request
        with a permanent 4xx, the messages are sent one by one so that only
        the bad one fails; a transient failure fails them all transiently
        (GatewayAPI accepts a request whole or not at all).

        Returns:
            One result per SMS, in order: a ``SendResult`` or the ``GatewayError``.
        """
        results: list[SendResult | GatewayError | None] = [None] * len(batch)
        payloads: list[dict[str, Any]] = []
        where: list[int] = []
        for i, sms in enumerate(batch):
            try:
                payloads.append(self._payload(sms))
                where.append(i)
            except GatewayError as exc:
                results[i] = exc
        if len(payloads) == 1:
            try:
                results[where[0]] = await self.send(batch[where[0]])
            except GatewayError as exc:
                results[where[0]] = exc
        elif payloads:
            try:
                ids = await self._post_many(payloads)
            except GatewayError as exc:
                if exc.transient:
                    for i in where:
                        results[i] = exc
                else:
                    for i in where:
                        try:
                            results[i] = await self.send(batch[i])
                        except GatewayError as one:
                            results[i] = one
            else:
                for i, provider_id in zip(where, ids, strict=True):
                    results[i] = SendResult(provider_id=provider_id, state=DeliveryState.QUEUED)
        done = [r for r in results if r is not None]
        assert len(done) == len(batch)
        return done

    async def _post_many(self, payloads: list[dict[str, Any]]) -> list[str]:
        """POST a list of messages; return one id per message, in order."""
        try:
            async with self._session.post(
                self._send_url, json=payloads, headers=self._headers, timeout=self._timeout
            ) as response:
                status = response.status
                body = await response.read()
        except TimeoutError:
            logger.warning("GatewayAPI batch of %d timed out", len(payloads))
            raise GatewayError("GatewayAPI did not answer in time", transient=True) from None
        except aiohttp.ClientError as exc:
            logger.warning(
                "GatewayAPI batch of %d failed to connect: %s", len(payloads), type(exc).__name__
            )
            raise GatewayError(
                f"could not reach GatewayAPI ({type(exc).__name__})", transient=True
            ) from exc
        if not 200 <= status < 300:
            code, incident = _error_details(body)
            transient = status == 429 or status >= 500
            logger.warning(
                "GatewayAPI refused a batch of %d: HTTP %s, code %s, incident %s, transient=%s",
                len(payloads),
                status,
                code,
                incident,
                transient,
            )
            raise GatewayError(
                f"GatewayAPI answered HTTP {status} (code {code}, incident {incident})",
                transient=transient,
                status=status,
            )
        try:
            answer: Any = json.loads(body)
        except ValueError:
            answer = None
        ids = answer.get("ids") if isinstance(answer, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) != len(payloads)
            or not all(
                not isinstance(i, bool) and isinstance(i, int | str) and str(i).strip() for i in ids
            )
        ):
            logger.warning(
                "GatewayAPI answered HTTP %s to a batch of %d without one id each",
                status,
                len(payloads),
            )
            raise GatewayError(
                f"GatewayAPI answered HTTP {status} without one message id per message",
                transient=True,
                status=status,
            )
        return [str(i).strip() for i in ids]

    def _parse_accepted(self, sms: OutboundSms, status: int, body: bytes) -> SendResult:
        """Read the message id from a 2xx answer."""
        try:
            answer: Any = json.loads(body)
        except ValueError:
            answer = None
        ids = answer.get("ids") if isinstance(answer, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) != 1
            or isinstance(ids[0], bool)
            or not isinstance(ids[0], int | str)
            or not str(ids[0]).strip()
        ):
            logger.warning(
                "GatewayAPI answered HTTP %s with an unreadable body (reference %s)",
                status,
                sms.reference,
            )
            raise GatewayError(
                f"GatewayAPI answered HTTP {status} without one message id",
                transient=True,
                status=status,
            )
        provider_id = str(ids[0]).strip()
        logger.info("GatewayAPI accepted reference %s as %s", sms.reference, provider_id)
        return SendResult(provider_id=provider_id, state=DeliveryState.QUEUED)

    def _claims(self, request: WebhookRequest) -> dict[str, Any]:
        """Verify the request's JWT and return its claims; the body is ignored."""
        token = _header(request.headers, SIGNATURE_HEADER)
        if not token:
            logger.warning("GatewayAPI webhook without %s header rejected", SIGNATURE_HEADER)
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        try:
            return decode_claims(token, self._secret)
        except SignatureError as exc:
            logger.warning("GatewayAPI webhook with a bad signature rejected: %s", exc)
            raise

    def verify_inbound(self, request: WebhookRequest) -> InboundSms:
        """Verify and parse GatewayAPI's MO SMS webhook.

        Args:
            request: The webhook as received.

        Returns:
            The SMS the family sent, its fields taken from the JWT claims.

        Raises:
            SignatureError: The JWT is missing, not HS256, wrongly signed or altered.
            MalformedWebhook: ``missing_field`` or ``bad_field``.
        """
        claims = self._claims(request)
        _require(claims, ("id", "msisdn", "receiver", "message"))
        message = claims["message"]
        if not isinstance(message, str):
            raise MalformedWebhook("bad_field", "message is not a string")
        return InboundSms(
            provider_id=_id_claim(claims),
            sender=_msisdn_claim(claims, "msisdn"),
            recipient=_msisdn_claim(claims, "receiver"),
            body=message,
            segments=analyse(message).segments,
            raw=_flat(claims),
        )

    def verify_status(self, request: WebhookRequest) -> GatewayApiDeliveryReport:
        """Verify and parse a GatewayAPI delivery status notification.

        Args:
            request: The webhook as received.

        Returns:
            The report, with our reference (``userref``) when the message had one.

        Raises:
            SignatureError: The JWT is missing, not HS256, wrongly signed or altered.
            MalformedWebhook: ``missing_field`` or ``bad_field``.
        """
        claims = self._claims(request)
        _require(claims, ("id", "status"))
        provider_status = claims["status"]
        if not isinstance(provider_status, str):
            raise MalformedWebhook("bad_field", "status is not a string")
        try:
            state = map_status(provider_status)
        except ValueError:
            raise MalformedWebhook(
                "bad_field", f"status {provider_status[:40]!r} is not a known status"
            ) from None
        code = claims.get("code")
        if code is not None and not isinstance(code, str | int):
            raise MalformedWebhook("bad_field", "code is not a string")
        userref = claims.get("userref")
        if userref is not None and not isinstance(userref, str):
            raise MalformedWebhook("bad_field", "userref is not a string")
        return GatewayApiDeliveryReport(
            provider_id=_id_claim(claims),
            state=state,
            provider_status=provider_status,
            error_code=str(code) if code not in (None, "") else None,
            reference=userref or None,
        )


def _require(claims: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Raise MalformedWebhook(missing_field) naming every absent or null claim."""
    missing = [name for name in names if claims.get(name) is None]
    if missing:
        raise MalformedWebhook("missing_field", f"webhook lacks {', '.join(missing)}")


def _id_claim(claims: Mapping[str, Any]) -> str:
    value = claims["id"]
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise MalformedWebhook("bad_field", "id is not an integer or string")
    return str(value).strip()


def _msisdn_claim(claims: Mapping[str, Any], name: str) -> str:
    try:
        return from_msisdn(claims[name])
    except ValueError:
        raise MalformedWebhook("bad_field", f"{name} is not an MSISDN") from None


def _flat(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as strings, for ``InboundSms.raw``; nulls are left out."""
    flat = {}
    for key, value in claims.items():
        if value is None:
            continue
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat


def _error_details(body: bytes) -> tuple[str | None, str | None]:
    """GatewayAPI's error ``code`` and ``incident_uuid``, if the body has them."""
    try:
        error: Any = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(error, dict):
        return None, None
    code, incident = error.get("code"), error.get("incident_uuid")
    return (
        code if isinstance(code, str) else None,
        incident if isinstance(incident, str) else None,
    )
