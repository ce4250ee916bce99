"""The Twilio adapter's signatures, webhook parsing and status mapping.

Signatures are checked against twilio-python's own ``RequestValidator``, so a
mistake in our HMAC would show up as a disagreement with Twilio's code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from channels.base import (
    DeliveryReport,
    DeliveryState,
    InboundSms,
    MalformedWebhook,
    SignatureError,
    WebhookRequest,
)
from channels.twilio import (
    TWILIO_STATUSES,
    TwilioGateway,
    compute_signature,
    map_status,
    signature_valid,
)

TOKEN = "12345678901234567890123456789012"
ACCOUNT = "AC" + "a" * 32
URL = "https://tovholder.example.dk/webhooks/twilio/inbound?kommune=0101"
PARAMS = {
    "MessageSid": "SM" + "0" * 32,
    "AccountSid": ACCOUNT,
    "From": "+4520000001",
    "To": "+4570000000",
    "Body": "Hej, vi kommer kl. 10 æøå",
    "NumSegments": "1",
}


def official(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """Signature as Twilio's own library computes it."""
    return str(RequestValidator(token).compute_signature(url, params))


def inbound_request(
    params: dict[str, str],
    *,
    url: str = URL,
    signature: str | None = "auto",
    header: str | None = None,
) -> WebhookRequest:
    """A webhook request signed by the official library unless told otherwise."""
    headers: dict[str, str] = {}
    if signature == "auto":
        signature = official(url, params)
    if signature is not None:
        headers[header or "X-Twilio-Signature"] = signature
    return WebhookRequest(url=url, headers=headers, form=params)


@pytest.fixture
async def gateway() -> AsyncIterator[TwilioGateway]:
    """A gateway whose HTTP session these tests never use."""
    async with aiohttp.ClientSession() as session:
        yield TwilioGateway(
            account_sid=ACCOUNT, auth_token=TOKEN, base_url="http://unused", session=session
        )


# ---------------------------------------------------------------- signatures


def test_official_signature_is_accepted() -> None:
    """A signature made by twilio-python's RequestValidator passes signature_valid."""
    assert signature_valid(TOKEN, URL, PARAMS, official(URL, PARAMS))


def test_compute_signature_matches_known_vector() -> None:
    """compute_signature reproduces the example from Twilio's security documentation."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert compute_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_changed_param_value_is_rejected(name: str) -> None:
    """Changing any one parameter's value invalidates the signature."""
    tampered = {**PARAMS, name: PARAMS[name] + "x"}
    assert not signature_valid(TOKEN, URL, tampered, official(URL, PARAMS))


def test_added_param_is_rejected() -> None:
    """Adding a parameter the signer did not see invalidates the signature."""
    tampered = {**PARAMS, "Extra": ""}
    assert not signature_valid(TOKEN, URL, tampered, official(URL, PARAMS))


def test_removed_param_is_rejected() -> None:
    """Dropping a signed parameter invalidates the signature."""
    tampered = {k: v for k, v in PARAMS.items() if k != "Body"}
    assert not signature_valid(TOKEN, URL, tampered, official(URL, PARAMS))


@pytest.mark.parametrize(
    "other_url",
    [
        "https://tovholder.example.dk/webhooks/twilio/status?kommune=0101",
        "https://tovholder.example.dk/webhooks/twilio/inbound?kommune=0102",
        "https://tovholder.example.dk/webhooks/twilio/inbound",
        "https://evil.example.dk/webhooks/twilio/inbound?kommune=0101",
        "http://tovholder.example.dk/webhooks/twilio/inbound?kommune=0101",
    ],
)
def test_changed_url_is_rejected(other_url: str) -> None:
    """A signature for one URL does not cover another path, query, host or scheme.

    (Ports follow Twilio's own validator, which accepts a URL with or without
    its port: see test_twilio_signature.py.)
    """
    assert not signature_valid(TOKEN, other_url, PARAMS, official(URL, PARAMS))


def test_wrong_token_is_rejected() -> None:
    """A signature made with another account's token is rejected."""
    assert not signature_valid(TOKEN, URL, PARAMS, official(URL, PARAMS, token="other-token"))


@pytest.mark.parametrize("signature", [None, "", "not-base64", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="])
def test_missing_or_wrong_header_is_rejected(signature: str | None) -> None:
    """A missing, empty or foreign signature header is invalid."""
    assert not signature_valid(TOKEN, URL, PARAMS, signature)


def test_non_ascii_signature_is_rejected_not_raised() -> None:
    """A header with non-ASCII characters is simply invalid."""
    assert not signature_valid(TOKEN, URL, PARAMS, "ææææ")


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://h.example.dk:443/x?a=1", "https://h.example.dk/x?a=1"),
        ("https://h.example.dk/x?a=1", "https://h.example.dk:443/x?a=1"),
        ("http://h.example.dk:80/x", "http://h.example.dk/x"),
        ("http://h.example.dk/x", "http://h.example.dk:80/x"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ],
)
def test_default_port_variants_accepted_like_official(signed_url: str, received_url: str) -> None:
    """With or without the default port, we agree with the official validator."""
    signature = official(signed_url, PARAMS)
    assert RequestValidator(TOKEN).validate(received_url, PARAMS, signature)
    assert signature_valid(TOKEN, received_url, PARAMS, signature)


_text = st.text(st.characters(codec="utf-8"), max_size=30)


@given(
    url=st.sampled_from([URL, "http://127.0.0.1:8080/in", "https://x.dk/æ?q=%20&r=1"]),
    params=st.dictionaries(_text, _text, max_size=12),
)
def test_signature_equals_official_for_any_params(url: str, params: dict[str, str]) -> None:
    """For arbitrary parameters our signature equals twilio-python's, and validates."""
    signature = compute_signature(TOKEN, url, params)
    assert signature == official(url, params)
    assert signature_valid(TOKEN, url, params, signature)


# ---------------------------------------------------------------- inbound


async def test_verify_inbound_parses_fields(gateway: TwilioGateway) -> None:
    """A signed inbound webhook becomes an InboundSms with every field carried over."""
    params = {**PARAMS, "NumSegments": "3", "SmsStatus": "received"}
    sms = gateway.verify_inbound(inbound_request(params))
    assert sms == InboundSms(
        provider_id=PARAMS["MessageSid"],
        sender="+4520000001",
        recipient="+4570000000",
        body=PARAMS["Body"],
        segments=3,
        raw=params,
    )


async def test_verify_inbound_header_is_case_insensitive(gateway: TwilioGateway) -> None:
    """The signature header is found whatever its capitalisation."""
    request = inbound_request(PARAMS, header="x-twilio-signature")
    assert gateway.verify_inbound(request).provider_id == PARAMS["MessageSid"]


async def test_verify_inbound_accepts_empty_body(gateway: TwilioGateway) -> None:
    """An empty Body is allowed as long as the parameter is present."""
    params = {**PARAMS, "Body": ""}
    assert gateway.verify_inbound(inbound_request(params)).body == ""


async def test_verify_inbound_defaults_segments(gateway: TwilioGateway) -> None:
    """Without NumSegments the SMS counts as one segment."""
    params = {k: v for k, v in PARAMS.items() if k != "NumSegments"}
    assert gateway.verify_inbound(inbound_request(params)).segments == 1


async def test_verify_inbound_rejects_missing_signature(gateway: TwilioGateway) -> None:
    """An unsigned inbound webhook raises SignatureError."""
    with pytest.raises(SignatureError):
        gateway.verify_inbound(inbound_request(PARAMS, signature=None))


async def test_verify_inbound_rejects_tampered_body(gateway: TwilioGateway) -> None:
    """A webhook whose Body changed after signing raises SignatureError."""
    request = inbound_request(PARAMS)
    tampered = WebhookRequest(
        url=request.url, headers=request.headers, form={**PARAMS, "Body": "Andet"}
    )
    with pytest.raises(SignatureError):
        gateway.verify_inbound(tampered)


@pytest.mark.parametrize("field", ["MessageSid", "From", "To", "Body"])
async def test_verify_inbound_requires_fields(gateway: TwilioGateway, field: str) -> None:
    """A signed webhook without a required field raises MalformedWebhook(missing_field)."""
    params = {k: v for k, v in PARAMS.items() if k != field}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(inbound_request(params))
    assert caught.value.code == "missing_field"


@pytest.mark.parametrize("account", [None, "AC" + "b" * 32])
async def test_verify_inbound_rejects_other_account(
    gateway: TwilioGateway, account: str | None
) -> None:
    """A webhook for another (or no) AccountSid raises MalformedWebhook(wrong_account)."""
    params = {k: v for k, v in PARAMS.items() if k != "AccountSid"}
    if account is not None:
        params["AccountSid"] = account
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(inbound_request(params))
    assert caught.value.code == "wrong_account"


@pytest.mark.parametrize("segments", ["two", "", "1.5", "0", "-1"])
async def test_verify_inbound_rejects_bad_segments(gateway: TwilioGateway, segments: str) -> None:
    """A NumSegments that is not a positive integer raises MalformedWebhook(bad_field)."""
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(inbound_request({**PARAMS, "NumSegments": segments}))
    assert caught.value.code == "bad_field"


async def test_malformed_webhook_message_names_no_number(gateway: TwilioGateway) -> None:
    """Error messages name fields, never phone numbers or message text."""
    params = {k: v for k, v in PARAMS.items() if k != "To"}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_inbound(inbound_request(params))
    assert "+45" not in str(caught.value) and "Hej" not in str(caught.value)


# ---------------------------------------------------------------- status callbacks

STATUS_PARAMS = {
    "MessageSid": "SM" + "1" * 32,
    "SmsSid": "SM" + "1" * 32,
    "MessageStatus": "delivered",
    "SmsStatus": "delivered",
    "AccountSid": ACCOUNT,
    "From": "+4570000000",
    "To": "+4520000001",
    "ApiVersion": "2010-04-01",
}
STATUS_URL = "https://tovholder.example.dk/webhooks/twilio/status"


async def test_verify_status_parses_report(gateway: TwilioGateway) -> None:
    """A signed delivered callback becomes a DELIVERED report without error code."""
    report = gateway.verify_status(inbound_request(STATUS_PARAMS, url=STATUS_URL))
    assert report == DeliveryReport(
        provider_id=STATUS_PARAMS["MessageSid"],
        state=DeliveryState.DELIVERED,
        provider_status="delivered",
        error_code=None,
    )


async def test_verify_status_carries_error_code(gateway: TwilioGateway) -> None:
    """An undelivered callback is FAILED and keeps Twilio's ErrorCode."""
    params = {**STATUS_PARAMS, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    report = gateway.verify_status(inbound_request(params, url=STATUS_URL))
    assert (report.state, report.error_code) == (DeliveryState.FAILED, "30003")


@pytest.mark.parametrize("field", ["MessageSid", "MessageStatus"])
async def test_verify_status_requires_fields(gateway: TwilioGateway, field: str) -> None:
    """A signed callback without MessageSid or MessageStatus is missing_field."""
    params = {k: v for k, v in STATUS_PARAMS.items() if k != field}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_status(inbound_request(params, url=STATUS_URL))
    assert caught.value.code == "missing_field"


async def test_verify_status_rejects_unknown_status(gateway: TwilioGateway) -> None:
    """A status Twilio never sends for outbound messages is bad_field."""
    params = {**STATUS_PARAMS, "MessageStatus": "teleported"}
    with pytest.raises(MalformedWebhook) as caught:
        gateway.verify_status(inbound_request(params, url=STATUS_URL))
    assert caught.value.code == "bad_field"


async def test_verify_status_rejects_bad_signature(gateway: TwilioGateway) -> None:
    """A callback signed for another URL raises SignatureError."""
    request = inbound_request(STATUS_PARAMS, url=STATUS_URL, signature=official(URL, STATUS_PARAMS))
    with pytest.raises(SignatureError):
        gateway.verify_status(request)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("accepted", DeliveryState.QUEUED),
        ("scheduled", DeliveryState.QUEUED),
        ("queued", DeliveryState.QUEUED),
        ("sending", DeliveryState.QUEUED),
        ("sent", DeliveryState.SENT),
        ("delivered", DeliveryState.DELIVERED),
        ("read", DeliveryState.DELIVERED),
        ("partially_delivered", DeliveryState.DELIVERED),
        ("undelivered", DeliveryState.FAILED),
        ("failed", DeliveryState.FAILED),
        ("canceled", DeliveryState.FAILED),
    ],
)
def test_map_status(status: str, state: DeliveryState) -> None:
    """Each Twilio outbound status maps onto our state machine."""
    assert map_status(status) is state


def test_map_status_covers_every_known_status() -> None:
    """TWILIO_STATUSES lists exactly the statuses map_status understands."""
    assert {s for s in TWILIO_STATUSES if map_status(s)} == TWILIO_STATUSES
    assert {"queued", "sending", "sent", "delivered", "undelivered", "failed"} <= TWILIO_STATUSES
    assert {"accepted", "scheduled", "canceled", "read"} <= TWILIO_STATUSES


@pytest.mark.parametrize("status", ["received", "receiving", "", "unknown"])
def test_map_status_rejects_unknown(status: str) -> None:
    """Inbound-only or unknown statuses raise ValueError."""
    with pytest.raises(ValueError):
        map_status(status)
