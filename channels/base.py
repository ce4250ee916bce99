"""The channel contract every SMS gateway implements.

A gateway adapter does three things: send an outbound SMS, verify and parse an
inbound (mobile-originated) webhook, and verify and parse a delivery report.
Verification is done on the raw request so that each gateway's own signing
scheme (Twilio's HMAC-SHA1 over URL and sorted parameters, GatewayAPI's HS256
JWT) stays inside its adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class DeliveryState(StrEnum):
    """Our one delivery state machine: queued → sent → delivered | failed | expired."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.EXPIRED)

    @property
    def rank(self) -> int:
        return {"queued": 0, "sent": 1}.get(self.value, 2)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What an adapter needs of an incoming HTTP request to verify and parse it.

    ``url`` is the full public URL the gateway called (scheme, host, path and
    query), as the gateway saw it: behind a proxy it comes from configuration.
    """

    url: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    body: bytes = b""
    # Form fields sent more than once, with all their values: they are signed
    # (Twilio's validator covers every value) but never read as one value.
    repeated: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundMedia:
    """One media item of an MMS as the gateway announced it (not fetched yet).

    ``url`` is None when the gateway announced the item (a count) but sent no
    URL for it; ``content_type`` is what the gateway claims, never trusted.
    """

    position: int
    url: str | None
    content_type: str | None = None


class MediaUnavailable(Exception):
    """The media behind a URL could not be fetched (``reason``), now or (not transient) ever."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A mobile-originated SMS (or MMS) as the gateway reported it."""

    provider_id: str
    sender: str
    recipient: str
    body: str
    segments: int = 1
    raw: Mapping[str, str] = field(default_factory=dict)
    # An MMS's media items, in the gateway's order (empty for a plain SMS).
    media: tuple[InboundMedia, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A status update for one of our outbound messages."""

    provider_id: str
    state: DeliveryState
    provider_status: str
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One SMS to hand to a gateway. ``reference`` is our own idempotency key."""

    reference: str
    sender: str
    recipient: str
    body: str
    status_callback: str | None = None
    # The sender's preferred gateways in order (a municipality's primary, secondary).
    route: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_id: str
    state: DeliveryState
    # Which gateway took it, when several stand behind one (see channels.failover).
    gateway: str | None = None


class GatewayError(Exception):
    """Sending failed. ``transient`` failures (timeouts, 5xx) are retried; others are not."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


class SignatureError(Exception):
    """A webhook's signature is missing or wrong."""


class MalformedWebhook(Exception):
    """A signed webhook lacks a field we need or carries one we cannot read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SmsGateway(Protocol):
    """One SMS gateway (Twilio, GatewayAPI, …)."""

    name: str

    async def send(self, sms: OutboundSms) -> SendResult:
        """Hand one SMS to the gateway. Raises GatewayError."""
        ...

    def verify_inbound(self, request: WebhookRequest) -> InboundSms:
        """Verify the signature of an inbound webhook and parse it.

        Raises SignatureError or MalformedWebhook.
        """
        ...

    def verify_status(self, request: WebhookRequest) -> DeliveryReport:
        """Verify the signature of a delivery report and parse it.

        Raises SignatureError or MalformedWebhook.
        """
        ...
