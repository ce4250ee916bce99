"""Twilio Programmable Messaging adapter.

Speaks Twilio's documented wire formats:

* Outbound: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``,
  form-encoded ``To``, ``From``, ``Body`` and ``StatusCallback``, HTTP basic
  auth ``AccountSid:AuthToken``. Twilio answers 201 with the Message resource
  as JSON (``sid`` is ``"SM"`` + 32 hex digits), or an error object
  ``{"code", "message", "more_info", "status"}``.
* Inbound SMS and status callbacks: form-encoded POSTs signed with the
  ``X-Twilio-Signature`` header, which is
  ``base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...))``
  with the POST parameters in sorted name order.
* Inbound MMS: the same webhook with ``NumMedia`` > 0 and, per item from 0,
  ``MediaUrl{N}`` and ``MediaContentType{N}`` (at most 10 items). Each URL is
  a Media resource, ``{base}/2010-04-01/Accounts/{AccountSid}/Messages/
  {MessageSid}/Media/{MediaSid}``, fetched with HTTP basic auth (SID and
  token); Twilio answers with a redirect to a short-lived CDN URL, followed
  here without our credentials.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp

from channels import transport
from channels.base import (
    DeliveryReport,
    DeliveryState,
    GatewayError,
    InboundMedia,
    InboundSms,
    MalformedWebhook,
    MediaUnavailable,
    OutboundSms,
    SendResult,
    SignatureError,
    WebhookRequest,
)

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_MEDIA = 10  # Twilio's own limit on media items in one message
_MEDIA_FIELD = re.compile(r"^Media(?:Url|ContentType)([0-9]{1,2})$")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


# Every Message status Twilio documents, mapped onto our own state machine.
# "receiving"/"received" belong to inbound messages and never describe ours.
_STATUS_MAP: dict[str, DeliveryState] = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.DELIVERED,
    "partially_delivered": DeliveryState.DELIVERED,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}

TWILIO_STATUSES: frozenset[str] = frozenset(_STATUS_MAP)
"""Every Twilio message status that ``map_status`` understands."""


def map_status(twilio_status: str) -> DeliveryState:
    """Map a Twilio message status onto our delivery state machine.

    Args:
        twilio_status: Twilio's ``status``/``MessageStatus`` value, e.g. ``"sent"``.

    Returns:
        The matching ``DeliveryState``.

    Raises:
        ValueError: The status is not one Twilio documents for outbound messages.
    """
    try:
        return _STATUS_MAP[twilio_status.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Twilio message status {twilio_status!r}") from None


Params = Mapping[str, str | Sequence[str]]
"""Form parameters: one value each, or every value of a parameter sent more than once."""


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """Compute the ``X-Twilio-Signature`` value for a request, as Twilio does.

    The URL, then each parameter name in sorted order followed by each of its
    distinct values in sorted order, HMAC-SHA1 with the auth token.

    Args:
        auth_token: The account's auth token (the HMAC key).
        url: The full URL Twilio requested, including scheme, host, port as
            written, path and query.
        params: The form-encoded POST parameters (all values of a repeated one).

    Returns:
        The base64-encoded HMAC-SHA1 signature.
    """
    parts = [url]
    for name in sorted(params):
        given = params[name]
        if isinstance(given, str):  # the usual case: one value
            parts.append(name + given)
        else:
            parts.extend(name + value for value in sorted(set(given)))
    mac = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


@functools.lru_cache(maxsize=4096)
def _url_variants(url: str) -> tuple[str, str]:
    """``url`` with its port (the scheme's default added when none is written) and without any.

    Twilio is inconsistent about whether the port is part of the signed URL,
    so its own validator accepts a signature for either form: so do we.
    """
    parts = urlsplit(url)
    host = parts.netloc.split(":")[0]
    try:
        port = parts.port
    except ValueError:
        return url, url
    if port is None:
        default = 443 if parts.scheme == "https" else 80
        with_port = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))
    else:
        with_port = url
    without_port = urlunsplit(parts._replace(netloc=host)) if port is not None else url
    return with_port, without_port


def signature_valid(
    auth_token: str,
    url: str,
    params: Params,
    signature: str | None,
    *,
    body: str | None = None,
) -> bool:
    """Check an ``X-Twilio-Signature`` header exactly as Twilio's ``RequestValidator`` does.

    The URL is tried with and without its port; a request whose URL carries
    ``bodySHA256`` (a JSON webhook) is signed over the URL alone, and its
    ``body`` must hash to that value. Comparisons take constant time.

    Args:
        auth_token: The account's auth token.
        url: The full public URL Twilio called.
        params: The form-encoded POST parameters (every value of a repeated one).
        signature: The header value; ``None`` or empty means unsigned.
        body: The raw body of a JSON webhook (None for a form).

    Returns:
        True if the signature matches one of the URL variants (and the body its hash).
    """
    if not signature:
        return False
    body_ok = True
    wanted = parse_qs(urlsplit(url).query).get("bodySHA256") if "bodySHA256" in url else None
    if wanted and body is not None:
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        body_ok = hmac.compare_digest(digest.encode(), wanted[0].encode())
        params = {}
    given = signature.strip().encode("utf-8")
    valid = False
    for candidate in _url_variants(url):
        expected = compute_signature(auth_token, candidate, params).encode("ascii")
        # No short-circuit: every variant is compared.
        valid = hmac.compare_digest(expected, given) | valid
    return body_ok and valid


def basic_auth_header(login: str, password: str) -> str:
    """Build an HTTP basic ``Authorization`` header value (RFC 7617, UTF-8).

    Args:
        login: The user name; here the account SID.
        password: The password; here the auth token.

    Returns:
        ``"Basic "`` followed by base64 of ``login:password``.
    """
    credentials = f"{login}:{password}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up case-insensitively in any mapping."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class TwilioGateway:
    """Twilio as an ``SmsGateway``.

    Args:
        account_sid: The Twilio account SID (``AC…``).
        auth_token: The account's auth token; signs webhooks and authenticates sends.
        base_url: The REST API base, ``https://api.twilio.com`` in production or a
            simulator's address in tests and demos.
        session: A shared ``aiohttp.ClientSession``; the gateway does not close it.
        timeout: Seconds allowed for one send, connect to last byte.
    """

    name: str = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str,
        session: aiohttp.ClientSession,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._messages_url = (
            f"{base_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        )
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._base = urlsplit(base_url)
        self._media_prefix = (
            f"{base_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages/"
        )
        self._headers = {
            "Authorization": basic_auth_header(account_sid, auth_token),
            "Content-Type": "application/x-www-form-urlencoded",
        }

    async def send(self, sms: OutboundSms) -> SendResult:
        """Create a Message resource at Twilio.

        Args:
            sms: The message to send.

        Returns:
            Twilio's message SID and the state its initial status maps to.

        Raises:
            GatewayError: ``transient`` for timeouts, connection errors, 429, 5xx and
                unreadable 2xx answers; permanent for other 4xx answers.
        """
        form = {"To": sms.recipient, "From": sms.sender, "Body": sms.body}
        if sms.status_callback:
            form["StatusCallback"] = sms.status_callback
        status, payload = await transport.post(
            self._session,
            self._messages_url,
            gateway="Twilio",
            reference=sms.reference,
            headers=self._headers,
            # Encoded here, not by aiohttp's FormData: the same bytes at a fraction of the cost.
            data=urlencode(form).encode(),
            deadline=self._timeout,
        )

        if 200 <= status < 300:
            return self._parse_created(sms, status, payload)

        code = _error_code(payload)
        # Twilio's error "message" may quote the phone number, so only the code is kept.
        transient = status == 429 or status >= 500
        logger.warning(
            "Twilio refused send (reference %s): HTTP %s, error code %s, transient=%s",
            sms.reference,
            status,
            code,
            transient,
        )
        raise GatewayError(
            f"Twilio answered HTTP {status} (error code {code})", transient=transient, status=status
        )

    def _parse_created(self, sms: OutboundSms, status: int, payload: bytes) -> SendResult:
        """Read the Message resource from a 2xx answer."""
        try:
            resource: Any = json.loads(payload)
        except ValueError:
            resource = None
        sid = resource.get("sid") if isinstance(resource, dict) else None
        twilio_status = resource.get("status") if isinstance(resource, dict) else None
        if not isinstance(sid, str) or not sid or not isinstance(twilio_status, str):
            logger.warning(
                "Twilio answered HTTP %s with an unreadable body (reference %s)",
                status,
                sms.reference,
            )
            raise GatewayError(
                f"Twilio answered HTTP {status} without a Message resource",
                transient=True,
                status=status,
            )
        try:
            state = map_status(twilio_status)
        except ValueError:
            # Twilio has the message; retrying would send it twice.
            logger.warning(
                "Twilio message %s has unexpected status %r; treating it as queued",
                sid,
                twilio_status,
            )
            state = DeliveryState.QUEUED
        logger.info("Twilio accepted reference %s as %s (%s)", sms.reference, sid, twilio_status)
        return SendResult(provider_id=sid, state=state)

    def _check_signature(self, request: WebhookRequest) -> None:
        """Raise SignatureError unless the request carries our valid signature."""
        signature = _header(request.headers, SIGNATURE_HEADER)
        if signature is None:
            logger.warning("Twilio webhook without %s header rejected", SIGNATURE_HEADER)
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        params: dict[str, str | Sequence[str]] = {**request.form, **request.repeated}
        if not signature_valid(self._auth_token, request.url, params, signature):
            logger.warning("Twilio webhook with a wrong signature rejected")
            raise SignatureError(f"{SIGNATURE_HEADER} does not match")

    def _check_account(self, form: Mapping[str, str]) -> None:
        if form.get("AccountSid") != self._account_sid:
            raise MalformedWebhook("wrong_account", "AccountSid is not this gateway's account")

    def verify_inbound(self, request: WebhookRequest) -> InboundSms:
        """Verify and parse Twilio's incoming-message webhook.

        Args:
            request: The webhook as received.

        Returns:
            The SMS the family sent.

        Raises:
            SignatureError: The signature is missing or wrong.
            MalformedWebhook: ``missing_field``, ``wrong_account`` or ``bad_field``.
        """
        self._check_signature(request)
        _read_once(request, (*_INBOUND_FIELDS, "AccountSid", "NumSegments"))
        form = request.form
        _require(form, _INBOUND_FIELDS)
        self._check_account(form)
        raw_segments = form.get("NumSegments", "1")
        try:
            segments = int(raw_segments)
        except ValueError:
            raise MalformedWebhook("bad_field", "NumSegments is not an integer") from None
        if segments < 1:
            raise MalformedWebhook("bad_field", "NumSegments is below 1")
        return InboundSms(
            provider_id=form["MessageSid"],
            sender=form["From"],
            recipient=form["To"],
            body=form["Body"],
            segments=segments,
            raw=dict(form),
            media=media_of(form),
        )

    def owns_media_url(self, url: str) -> bool:
        """True for a Media URL under this account: the only URLs our credentials go to."""
        if (
            not url.startswith(self._media_prefix)
            or "/Media/" not in url[len(self._media_prefix) :]
        ):
            return False
        parts = urlsplit(url)
        return not (parts.query or parts.fragment or ".." in parts.path)

    async def fetch_media(self, url: str, *, limit: int) -> bytes:
        """Fetch one media item of an inbound MMS, with basic auth, following Twilio's redirect.

        The account's credentials go only to this account's Media URL, never
        along a redirect: the CDN URL Twilio redirects to is signed by itself.

        Args:
            url: the ``MediaUrl{N}`` of the webhook.
            limit: the most bytes to accept; more is refused without reading it all.

        Returns:
            The content.

        Raises:
            MediaUnavailable: ``bad_url`` or ``too_large`` (final); ``not_found``,
                ``refused``, ``unreachable`` or ``redirects`` (transient: worth a retry).
        """
        if not self.owns_media_url(url):
            raise MediaUnavailable("bad_url", transient=False)
        target, credentials = url, True
        for _ in range(4):
            headers = {"Authorization": self._headers["Authorization"]} if credentials else {}
            try:
                async with self._session.get(
                    target, headers=headers, allow_redirects=False, timeout=self._timeout
                ) as resp:
                    if resp.status in _REDIRECTS:
                        target, credentials = self._redirect(target, resp), False
                        continue
                    _check_media_status(resp.status)
                    return await _read_limited(resp, limit)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("Twilio media fetch failed: %s", type(exc).__name__)
                raise MediaUnavailable("unreachable", transient=True) from None
        raise MediaUnavailable("redirects", transient=True)

    def _redirect(self, current: str, resp: aiohttp.ClientResponse) -> str:
        """Where a redirect leads: an https URL, or (a simulator) this gateway's own origin."""
        location = resp.headers.get("Location")
        if not location:
            raise MediaUnavailable("redirects", transient=True)
        target = urljoin(current, location)
        parts = urlsplit(target)
        same_origin = (parts.scheme, parts.netloc) == (self._base.scheme, self._base.netloc)
        if parts.scheme != "https" and not same_origin:
            raise MediaUnavailable("bad_url", transient=False)
        return target

    def verify_status(self, request: WebhookRequest) -> DeliveryReport:
        """Verify and parse a Twilio status callback.

        Args:
            request: The webhook as received.

        Returns:
            The delivery report for one of our messages.

        Raises:
            SignatureError: The signature is missing or wrong.
            MalformedWebhook: ``missing_field``, ``wrong_account`` or ``bad_field``.
        """
        self._check_signature(request)
        _read_once(request, ("MessageSid", "MessageStatus", "AccountSid", "ErrorCode"))
        form = request.form
        _require(form, ("MessageSid", "MessageStatus"))
        self._check_account(form)
        provider_status = form["MessageStatus"]
        try:
            state = map_status(provider_status)
        except ValueError:
            raise MalformedWebhook(
                "bad_field", f"MessageStatus {provider_status[:40]!r} is not a known status"
            ) from None
        return DeliveryReport(
            provider_id=form["MessageSid"],
            state=state,
            provider_status=provider_status,
            error_code=form.get("ErrorCode") or None,
        )


_INBOUND_FIELDS = ("MessageSid", "From", "To", "Body")


def media_of(form: Mapping[str, str]) -> tuple[InboundMedia, ...]:
    """The media items an inbound webhook announces, as many as ``NumMedia`` or the fields say.

    When the count and the ``MediaUrl{N}`` fields disagree, the larger wins: an
    item counted without a URL is kept as one that cannot be fetched (so the
    family is told), and a URL beyond the count is fetched all the same. A
    ``NumMedia`` that is not a number counts as 0; at most ``MAX_MEDIA`` items.
    """
    raw = form.get("NumMedia", "0").strip()
    counted = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0
    indices = [int(m.group(1)) for m in map(_MEDIA_FIELD.match, form) if m is not None]
    count = min(max([counted, *(i + 1 for i in indices)]), MAX_MEDIA)
    return tuple(
        InboundMedia(
            position=n,
            url=form.get(f"MediaUrl{n}") or None,
            content_type=form.get(f"MediaContentType{n}") or None,
        )
        for n in range(count)
    )


def _check_media_status(status: int) -> None:
    """Raise MediaUnavailable unless a media fetch answered 2xx."""
    if 200 <= status < 300:
        return
    if status in (404, 410):
        # Twilio may not have the media ready the instant the webhook arrives.
        raise MediaUnavailable("not_found", transient=True)
    raise MediaUnavailable(
        "refused" if status < 500 and status != 429 else "unreachable", transient=True
    )


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, unless it is longer than ``limit`` (then MediaUnavailable ``too_large``)."""
    if resp.content_length is not None and resp.content_length > limit:
        raise MediaUnavailable("too_large", transient=False)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise MediaUnavailable("too_large", transient=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_once(request: WebhookRequest, names: tuple[str, ...]) -> None:
    """Raise MalformedWebhook(bad_field) when a field we read was sent more than once."""
    twice = sorted(set(names) & set(request.repeated))
    if twice:
        raise MalformedWebhook("bad_field", f"webhook repeats {', '.join(twice)}")


def _require(form: Mapping[str, str], names: tuple[str, ...]) -> None:
    """Raise MalformedWebhook(missing_field) naming every absent parameter."""
    missing = [name for name in names if name not in form]
    if missing:
        raise MalformedWebhook("missing_field", f"webhook lacks {', '.join(missing)}")


def _error_code(payload: bytes) -> int | str | None:
    """Pull Twilio's numeric error code out of an error body, if it has one."""
    try:
        error: Any = json.loads(payload)
    except ValueError:
        return None
    if isinstance(error, dict):
        code = error.get("code")
        if isinstance(code, int | str):
            return code
    return None
