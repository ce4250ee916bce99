"""The Twilio adapter reads an MMS webhook's media fields and fetches media as Twilio serves it.

The media server here is a small aiohttp app that plays Twilio's Media URL
(basic auth, a redirect to a signed CDN URL), so every fetch is real HTTP.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from channels.base import InboundMedia, MediaUnavailable, WebhookRequest
from channels.twilio import MAX_MEDIA, TwilioGateway, media_of

TOKEN = "12345678901234567890123456789012"
ACCOUNT = "AC" + "a" * 32
MEDIA = f"/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'1' * 32}/Media"
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 100


def test_media_fields_are_read_in_order() -> None:
    """NumMedia 2 with both fields: two items, URL and declared type each."""
    form = {
        "NumMedia": "2",
        "MediaUrl0": "https://a/0",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://a/1",
        "MediaContentType1": "application/pdf",
    }
    assert media_of(form) == (
        InboundMedia(0, "https://a/0", "image/jpeg"),
        InboundMedia(1, "https://a/1", "application/pdf"),
    )


@pytest.mark.parametrize(
    ("form", "urls"),
    [
        ({"NumMedia": "0"}, []),
        ({}, []),
        ({"NumMedia": "2", "MediaUrl0": "u0"}, ["u0", None]),  # counted, not sent
        ({"NumMedia": "0", "MediaUrl0": "u0"}, ["u0"]),  # sent, not counted
        ({"NumMedia": "1", "MediaUrl1": "u1"}, [None, "u1"]),  # a gap
        ({"NumMedia": "x", "MediaUrl0": "u0"}, ["u0"]),  # not a number
        ({"NumMedia": "²"}, []),  # a digit that int() refuses
        ({"NumMedia": "-3"}, []),
        ({"NumMedia": "9999"}, [None] * MAX_MEDIA),  # never more than Twilio's 10
        ({"NumMedia": "1", "MediaUrl0": ""}, [None]),
    ],
)
def test_num_media_and_fields_that_disagree(form: dict[str, str], urls: list[str | None]) -> None:
    """The larger of the count and the fields wins; a missing URL is an item without one."""
    assert [m.url for m in media_of(form)] == urls


@pytest.fixture
async def media_server(aiohttp_server: Any) -> AsyncIterator[dict[str, Any]]:
    """A Twilio-like Media URL: basic auth, then a redirect to an unauthenticated CDN."""
    seen: list[tuple[str, str | None]] = []
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()

    async def media(request: web.Request) -> web.StreamResponse:
        seen.append((request.path, request.headers.get("Authorization")))
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401)
        name = request.match_info["sid"]
        if name == "gone":
            return web.Response(status=404)
        if name == "big":
            return web.Response(body=b"\xff\xd8\xff" + b"0" * 5000, content_type="image/jpeg")
        if name == "stream":
            resp = web.StreamResponse()  # no Content-Length: the limit holds while reading
            await resp.prepare(request)
            for _ in range(10):
                await resp.write(b"1" * 1000)
            await resp.write_eof()
            return resp
        if name == "elsewhere":
            raise web.HTTPFound("http://example.invalid/cdn/x")
        if name == "loop":
            raise web.HTTPFound("/bounce")
        raise web.HTTPTemporaryRedirect(f"/cdn/{name}?Signature=abc")

    async def cdn(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization")))
        return web.Response(body=JPEG, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get(MEDIA + "/{sid}", media)
    app.router.add_get("/cdn/{sid}", cdn)

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound("/bounce")

    app.router.add_get("/bounce", bounce)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        base = str(server.make_url("")).rstrip("/")
        yield {
            "base": base,
            "seen": seen,
            "gateway": TwilioGateway(
                account_sid=ACCOUNT, auth_token=TOKEN, base_url=base, session=session
            ),
            "wrong": TwilioGateway(
                account_sid=ACCOUNT, auth_token="wrong", base_url=base, session=session
            ),
        }


async def test_media_is_fetched_with_credentials_and_the_redirect_without(
    media_server: dict[str, Any],
) -> None:
    gateway: TwilioGateway = media_server["gateway"]
    got = await gateway.fetch_media(media_server["base"] + MEDIA + "/ME1", limit=1000)
    assert got == JPEG
    (first, auth_first), (second, auth_second) = media_server["seen"]
    assert first.endswith("/ME1") and auth_first is not None
    assert second == "/cdn/ME1" and auth_second is None


@pytest.mark.parametrize(
    ("sid", "reason", "transient"),
    [
        ("gone", "not_found", True),
        ("big", "too_large", False),
        ("stream", "too_large", False),
        ("elsewhere", "bad_url", False),
        ("loop", "redirects", True),
    ],
)
async def test_media_that_cannot_be_fetched(
    media_server: dict[str, Any], sid: str, reason: str, transient: bool
) -> None:
    gateway: TwilioGateway = media_server["gateway"]
    with pytest.raises(MediaUnavailable) as caught:
        await gateway.fetch_media(media_server["base"] + MEDIA + f"/{sid}", limit=4096)
    assert (caught.value.reason, caught.value.transient) == (reason, transient)


async def test_wrong_credentials_are_refused(media_server: dict[str, Any]) -> None:
    with pytest.raises(MediaUnavailable) as caught:
        await media_server["wrong"].fetch_media(media_server["base"] + MEDIA + "/ME1", limit=999)
    assert caught.value.reason == "refused"


async def test_an_unreachable_host_is_transient() -> None:
    async with aiohttp.ClientSession() as session:
        gateway = TwilioGateway(
            account_sid=ACCOUNT, auth_token=TOKEN, base_url="http://127.0.0.1:1", session=session
        )
        with pytest.raises(MediaUnavailable) as caught:
            await gateway.fetch_media("http://127.0.0.1:1" + MEDIA + "/ME1", limit=999)
    assert (caught.value.reason, caught.value.transient) == ("unreachable", True)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example" + MEDIA + "/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/AC" + "b" * 32 + "/Messages/MM1/Media/ME1",
        "https://api.twilio.com" + MEDIA,  # no media sid
        "https://api.twilio.com" + MEDIA + "/ME1?redirect=https://evil.example",
        "https://api.twilio.com" + MEDIA + "/../../../Calls/CA1/Recordings/RE1",
        "https://api.twilio.com.evil.example" + MEDIA + "/ME1",
        "ikke en adresse",
    ],
)
async def test_credentials_go_to_this_accounts_media_urls_only(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        gateway = TwilioGateway(
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            base_url="https://api.twilio.com",
            session=session,
        )
        assert gateway.owns_media_url("https://api.twilio.com" + MEDIA + "/ME1")
        assert not gateway.owns_media_url(url)
        with pytest.raises(MediaUnavailable) as caught:
            await gateway.fetch_media(url, limit=999)
    assert caught.value.reason == "bad_url"


async def test_a_signed_mms_webhook_carries_its_media() -> None:
    """Signed by twilio-python's own validator, with the MMS fields Twilio documents."""
    url = "https://tovholder.example.dk/webhooks/twilio/sms"
    params = {
        "MessageSid": "MM" + "0" * 32,
        "AccountSid": ACCOUNT,
        "From": "+4520000001",
        "To": "+4570000000",
        "Body": "",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com" + MEDIA + "/ME1",
        "MediaContentType0": "image/jpeg",
    }
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    async with aiohttp.ClientSession() as session:
        gateway = TwilioGateway(
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            base_url="https://api.twilio.com",
            session=session,
        )
        sms = gateway.verify_inbound(
            WebhookRequest(url=url, headers={"X-Twilio-Signature": signature}, form=params)
        )
    assert sms.body == ""
    assert sms.media == (InboundMedia(0, params["MediaUrl0"], "image/jpeg"),)
