"""Webhook bodies that cannot be read are refused before anything else reads them."""

from __future__ import annotations

from urllib.parse import urlencode

from multidict import MultiDict
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.store.schema.core import messages
from tests.harness import ACCOUNT_SID, AUTH_TOKEN, MUNICIPALITY, Stack


async def _stored(stack: Stack) -> int:
    """Inbound messages stored."""
    async with stack.svc.read() as conn:
        query = select(func.count()).select_from(messages).where(messages.c.direction == "in")
        return int((await conn.execute(query)).scalar_one())


async def test_a_body_that_is_not_utf8_is_a_400_before_the_signature(stack: Stack) -> None:
    """Latin-1 bytes in a Twilio webhook: 400 bad_encoding (not a 500), nothing stored, nothing sent."""
    resp = await stack.client.post(
        "/webhooks/twilio/sms",
        data=b"From=%2B4520000001&Body=caf\xe9",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "not-even-checked",
        },
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_encoding"
    resp = await stack.client.post(
        "/webhooks/twilio/sms",
        data=b"From=%2B4520000001&Body=caf%E9",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_encoding"
    assert await _stored(stack) == 0
    assert await stack.drain() == 0


async def test_a_nul_after_a_signed_number_is_refused(stack: Stack) -> None:
    """A NUL (or another control character) after a validly signed From number is a 400, never read as that number."""
    anna = stack.world.phones["anna"]
    for sender in (anna + "\x00", anna + "\x00evil", anna + "\x1b"):
        resp = await stack.sms(sender, "Hej")
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["code"] == "bad_field"
    assert await _stored(stack) == 0
    assert (await stack.sms(anna, "Hej\nhvordan går det?\ttak")).status == 200


async def _signed_post(stack: Stack, pairs: list[tuple[str, str]]) -> int:
    url = f"{stack.base}/webhooks/twilio/sms"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(pairs))
    resp = await stack.client.post(
        "/webhooks/twilio/sms",
        data=urlencode(pairs),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    return resp.status


async def test_repeated_parameters_are_signed_as_twilio_signs_them(stack: Stack) -> None:
    """A parameter Twilio sends twice is covered by its signature and accepted; a repeated field we read (From) is a 400."""
    base = [
        ("MessageSid", "SM" + "1" * 32),
        ("AccountSid", ACCOUNT_SID),
        ("From", stack.world.phones["anna"]),
        ("To", MUNICIPALITY),
        ("Body", "Hej"),
    ]
    assert await _signed_post(stack, [*base, ("Extra", "b"), ("Extra", "a")]) == 200
    assert await _signed_post(stack, [*base, ("From", "+4520000099")]) == 400
    assert await _stored(stack) == 1
