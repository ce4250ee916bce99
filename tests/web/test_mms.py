"""MMS (#16 point 7): a family's photo or PDF by MMS is fetched, checked, sealed and journalised.

Through the real webhook: the Twilio simulator plays the phone, posts the signed
MMS webhook and serves the media behind basic auth and a redirect, as Twilio does.
What cannot be kept is never dropped silently: the journal says which and why,
and the family gets one SMS pointing to the secure inbox.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from typing import Any

from PIL import Image
from sqlalchemy import select

from bot.base.appkeys import TICKER
from bot.base.crypto import unseal
from bot.domain import mms
from bot.simulators.twilio import STATE_KEY
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import cases, journal_entries, messages
from bot.store.schema.mms import mms_media
from tests.harness import ACCOUNT_SID, MUNICIPALITY, Stack, start_stack
from tests.web.conftest import FRIDAY_MORNING, Login, staff_login
from tests.web.test_citizen_attachments import jpeg, pdf, png

NOT_KEPT = "vi kunne ikke gemme billedet eller filen"
RECEIPT = "Tak for din besked. Mette svarer dig senest"


def item(content: bytes, content_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "content_type": content_type,
        "content_b64": base64.b64encode(content).decode(),
        **extra,
    }


async def send_mms(
    stack: Stack, phone: str, body: str, *media: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """The simulated phone sends an MMS; the service's webhook answers it."""
    url = stack.sim.make_url(f"/_sim/phones/{phone}/send")
    payload = {"body": body, "to": MUNICIPALITY, "media": list(media), **extra}
    async with stack.session.post(url, json=payload) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == 200, data
    assert data["status"] == 200, data
    return data


def split(bodies: list[str]) -> tuple[str, str]:
    """The receipt and the "could not keep" SMS (queued at the same instant: either order)."""
    assert len(bodies) == 2, bodies
    receipt = next(b for b in bodies if b.startswith(RECEIPT))
    told = next(b for b in bodies if NOT_KEPT in b)
    return receipt, told


async def fetch(stack: Stack) -> None:
    """One pass of the ticker job that fetches media, as the running app does."""
    await stack.client.server.app[TICKER].run_once(mms.JOB)


async def media_rows(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(select(mms_media).order_by(mms_media.c.position))
        return list(rows)


async def stored_files(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(select(message_attachments).order_by(message_attachments.c.size))
        return list(rows)


async def entries(stack: Stack, kind: str) -> list[Any]:
    async with stack.svc.read() as conn:
        q = select(journal_entries).where(journal_entries.c.kind == kind)
        return list(await conn.execute(q.order_by(journal_entries.c.seq)))


async def inbound_body(stack: Stack) -> str:
    """The one citizen message's body, unsealed (it is stored encrypted)."""
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(messages).where(messages.c.direction == "in"))).one()
    assert row.key_scope == "case"
    async with stack.svc.read() as conn:
        wrapped = (
            await conn.execute(select(cases.c.dek).where(cases.c.id == row.case_id))
        ).scalar_one()
    dek = stack.svc.dek("cases", row.case_id, wrapped)
    return unseal(dek, row.body_enc, f"messages:{row.id}:body")


async def test_photos_and_a_pdf_by_mms_are_kept_sealed_journalised_and_shown_to_staff(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """JPEG, PNG and PDF in one MMS: fetched after the answer, sealed, checksummed, on the thread."""
    anna = stack.world.phones["anna"]
    files = {"image/jpeg": jpeg(), "image/png": png(), "application/pdf": pdf()}
    sent = await send_mms(
        stack,
        anna,
        "Her er brevet fra lægen",
        item(files["image/jpeg"], "image/jpeg"),
        item(files["image/png"], "image/png", redirect=False),
        item(files["application/pdf"], "application/pdf"),
    )
    assert sent["message_sid"].startswith("MM") and len(sent["media_urls"]) == 3
    # Answered and stored before any fetch: the to-do list is durable.
    assert [r.state for r in await media_rows(stack)] == ["pending"] * 3
    assert await stored_files(stack) == []

    await fetch(stack)
    rows = await media_rows(stack)
    assert [r.state for r in rows] == ["kept"] * 3
    stored = {f.media_type: f for f in await stored_files(stack)}
    assert set(stored) == set(files)
    for media_type, content in files.items():
        f = stored[media_type]
        assert f.sha256 == hashlib.sha256(content).hexdigest() and f.size == len(content)
        assert content[16:48] not in f.content_enc  # sealed, not stored in clear
    journal = await entries(stack, "attachment")
    assert len(journal) == 3 and {e.channel for e in journal} == {"sms"}
    for content in files.values():
        digest = hashlib.sha256(content).hexdigest()
        assert sum(digest in e.subject for e in journal) == 1

    # Credentials went to the Media URL only, never to the CDN it redirected to.
    seen = stack.sim.app[STATE_KEY].media_requests
    assert [r["authorized"] for r in seen if r["path"] != "/_sim/mms-cdn"] == [True] * 3
    assert [r["authorized"] for r in seen if r["path"] == "/_sim/mms-cdn"] == [False] * 2

    await stack.drain()
    to_anna = await stack.sent_to(anna)
    assert len(to_anna) == 1 and to_anna[0].startswith(RECEIPT)

    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    conv = items[0]["id"]
    await staff_login(stack, logins["mette"])
    html = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    for name in ("mms-1.jpg", "mms-2.png", "mms-3.pdf"):
        assert name in html
    got = await stack.client.get(f"/sagsbehandler/samtaler/{conv}/filer/{stored['image/png'].id}")
    assert got.status == 200 and await got.read() == files["image/png"]


async def test_a_refused_type_is_journalised_and_the_family_is_sent_to_the_secure_inbox(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A GIF, and a file that claims to be a JPEG but is not: not kept, said so, once."""
    anna = stack.world.phones["anna"]
    gif = b"GIF89a" + b"\x01\x00\x01\x00" + os.urandom(64)
    await send_mms(
        stack,
        anna,
        "se her",
        item(gif, "image/gif"),
        item(b"<html><script>alert(1)</script></html>", "image/jpeg"),
    )
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    await staff_login(stack, logins["mette"])
    page = f"/sagsbehandler/samtaler/{items[0]['id']}"
    assert "Fil nr. 2 fra MMS&#39;en hentes stadig" in await (await stack.client.get(page)).text()
    await fetch(stack)
    html = await (await stack.client.get(page)).text()
    assert "hentes stadig" not in html
    assert html.count("kunne ikke gemmes (filtypen modtages ikke") == 2
    rows = await media_rows(stack)
    assert [(r.state, r.reason) for r in rows] == [("refused", "file_type")] * 2
    assert await stored_files(stack) == []
    refused = await entries(stack, "attachment_refused")
    assert len(refused) == 2 and all("filtypen" in e.subject for e in refused)
    await stack.drain()
    to_anna = await stack.sent_to(anna)
    assert len(to_anna) == 2
    _, told = split(to_anna)
    assert f"{stack.base}/borger/" in told
    assert await inbound_body(stack) == "se her"


async def test_media_over_the_limit_is_not_kept(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """The web upload limit holds for MMS too (here 4 KiB), and the family is told."""
    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_UPLOAD_MAX_BYTES": "4096"},
    )
    try:
        buf = io.BytesIO()
        Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(buf, "JPEG", quality=95)
        big = buf.getvalue()
        assert len(big) > 4096
        anna = stack.world.phones["anna"]
        await send_mms(stack, anna, "", item(big, "image/jpeg"), item(png(), "image/png"))
        await fetch(stack)
        rows = await media_rows(stack)
        assert [(r.state, r.reason) for r in rows] == [("refused", "too_large"), ("kept", None)]
        assert [f.media_type for f in await stored_files(stack)] == ["image/png"]
        await stack.drain()
        to_anna = await stack.sent_to(anna)
        split(to_anna)
        assert await inbound_body(stack) == "[billede]"
    finally:
        await stack.session.close()


async def test_a_vanished_media_url_is_retried_then_given_up_and_said(stack: Stack) -> None:
    """404 (and 503) are retried with backoff; after the last try the family is told."""
    anna = stack.world.phones["anna"]
    await send_mms(
        stack,
        anna,
        "billede",
        item(jpeg(), "image/jpeg", status=404),
        item(jpeg(), "image/jpeg", status=503),
    )
    for attempt in range(1, mms.MAX_ATTEMPTS + 1):
        await fetch(stack)
        rows = await media_rows(stack)
        assert all(r.attempts == attempt for r in rows)
        await stack.drain()
        told = [b for b in await stack.sent_to(anna) if NOT_KEPT in b]
        assert len(told) == (1 if attempt == mms.MAX_ATTEMPTS else 0)
        stack.clock.advance(hours=2)
    rows = await media_rows(stack)
    assert [(r.state, r.reason) for r in rows] == [
        ("failed", "not_found"),
        ("failed", "unreachable"),
    ]
    await fetch(stack)  # nothing more to do
    assert all(r.attempts == mms.MAX_ATTEMPTS for r in await media_rows(stack))
    refused = await entries(stack, "attachment_refused")
    assert len(refused) == 2


async def test_foreign_or_broken_media_urls_are_refused_at_once_without_a_request(
    stack: Stack,
) -> None:
    """Our credentials never go to a URL that is not this account's Media URL."""
    anna = stack.world.phones["anna"]
    elsewhere = f"http://127.0.0.1:1/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MMx/Media/MEx"
    await send_mms(
        stack,
        anna,
        "",
        item(jpeg(), "image/jpeg", url=elsewhere),
        item(jpeg(), "image/jpeg", url="ikke en adresse"),
    )
    rows = await media_rows(stack)
    assert [(r.state, r.reason) for r in rows] == [("refused", "bad_url")] * 2
    await fetch(stack)
    assert stack.sim.app[STATE_KEY].media_requests == []
    await stack.drain()
    to_anna = await stack.sent_to(anna)
    split(to_anna)
    assert await inbound_body(stack) == "[billede]"


async def test_num_media_that_disagrees_with_the_fields(stack: Stack) -> None:
    """NumMedia 2 with one URL: the one is kept, the missing one is said; NumMedia 0 with a URL."""
    anna = stack.world.phones["anna"]
    await send_mms(stack, anna, "to billeder", item(jpeg(), "image/jpeg"), num_media=2)
    await fetch(stack)
    rows = await media_rows(stack)
    assert [(r.position, r.state, r.reason) for r in rows] == [
        (0, "kept", None),
        (1, "refused", "missing"),
    ]
    await stack.drain()
    assert sum(NOT_KEPT in b for b in await stack.sent_to(anna)) == 1

    bo = stack.world.phones["bo"]
    await send_mms(stack, bo, "", item(pdf(), "application/pdf"), num_media="0")
    await fetch(stack)
    kept = [r for r in await media_rows(stack) if r.state == "kept"]
    assert len(kept) == 2
    assert {f.media_type for f in await stored_files(stack)} == {"image/jpeg", "application/pdf"}


async def test_an_mms_without_words_is_a_message_and_only_emoji_stays_as_written(
    stack: Stack,
) -> None:
    """No text: filed as "[billede]" with the photo; emoji only: kept as sent; receipts normal."""
    anna = stack.world.phones["anna"]
    await send_mms(stack, anna, "", item(jpeg(), "image/jpeg"))
    assert await inbound_body(stack) == "[billede]"
    await fetch(stack)
    await stack.drain()
    to_anna = await stack.sent_to(anna)
    assert len(to_anna) == 1 and to_anna[0].startswith(RECEIPT)
    async with stack.svc.read() as conn:
        message_id = (
            await conn.execute(select(messages.c.id).where(messages.c.direction == "in"))
        ).scalar_one()
    assert [f.message_id for f in await stored_files(stack)] == [message_id]


async def test_emoji_only_mms_keeps_its_text(stack: Stack) -> None:
    anna = stack.world.phones["anna"]
    await send_mms(stack, anna, "📷🙂", item(png(), "image/png"))
    assert await inbound_body(stack) == "📷🙂"


async def test_a_retried_webhook_queues_the_media_once(stack: Stack) -> None:
    """Twilio retries a webhook: the message and its media rows are not doubled."""
    anna = stack.world.phones["anna"]
    sent = await send_mms(stack, anna, "brev", item(jpeg(), "image/jpeg"))
    fields = {
        "NumMedia": "1",
        "MediaUrl0": sent["media_urls"][0],
        "MediaContentType0": "image/jpeg",
    }
    again = await stack.sms(anna, "brev", sid=sent["message_sid"], extra=fields)
    assert again.status == 200
    assert len(await media_rows(stack)) == 1
    await fetch(stack)
    assert len(await stored_files(stack)) == 1


async def test_a_photo_held_for_which_case_follows_the_message_to_the_chosen_case(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Bo has two cases: the MMS waits for his choice, its photo moves with it to the case."""
    bo = stack.world.phones["bo"]
    photo = jpeg()
    await send_mms(stack, bo, "", item(photo, "image/jpeg"))
    await fetch(stack)
    (held,) = await stored_files(stack)
    assert held.key_scope == "person" and held.case_id is None
    await stack.drain()
    question = (await stack.sent_to(bo))[-1]
    line = next(x for x in question.splitlines() if "Børn og Familie" in x)
    await stack.sms(bo, line.split(":")[0])
    (moved,) = await stored_files(stack)
    assert moved.id == held.id and moved.key_scope == "case"
    assert moved.case_id == stack.world.cases["bo_children"]
    assert moved.conversation_id != held.conversation_id
    await staff_login(stack, logins["mette"])
    got = await stack.client.get(
        f"/sagsbehandler/samtaler/{moved.conversation_id}/filer/{moved.id}"
    )
    assert got.status == 200 and await got.read() == photo


async def test_a_fetch_cut_off_by_a_crash_is_tried_again_when_its_lease_ends(stack: Stack) -> None:
    """A worker that claimed an item and died: the item is fetched by the next pass after the lease."""
    await send_mms(stack, stack.world.phones["anna"], "x", item(jpeg(), "image/jpeg"))
    (row,) = await media_rows(stack)
    assert await mms._claim(stack.svc, row, stack.clock.now())  # ... and then the process died
    await fetch(stack)
    assert [(r.state, r.attempts) for r in await media_rows(stack)] == [("pending", 1)]
    stack.clock.advance(seconds=mms.LEASE.total_seconds() + 1)
    await fetch(stack)
    assert [(r.state, r.attempts) for r in await media_rows(stack)] == [("kept", 2)]
