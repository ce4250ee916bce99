"""A multipart upload trickled slower than the body deadline is cut off and stores nothing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from yarl import URL

from bot.app import create_app
from bot.base.config import ConfigError
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import messages
from tests.harness import Stack, make_config, start_stack
from tests.web.conftest import FRIDAY_MORNING, citizen_login, csrf_of

DEADLINE = 0.8
BOUNDARY = "----tovholderdeadline"


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_BODY_DEADLINE": str(DEADLINE)},
    )
    try:
        yield s
    finally:
        await s.session.close()


def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def multipart(csrf: str) -> bytes:
    """The reply form as a browser sends it: CSRF, the text, one photo."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode(),
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body"\r\n\r\nHer er billedet\r\n'.encode(),
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo()
        + b"\r\n",
        f"--{BOUNDARY}--\r\n".encode(),
    ]
    return b"".join(parts)


async def thread_and_form(stack: Stack) -> tuple[str, bytes, str]:
    """Anna's thread, a reply form with its CSRF token, and her session cookie header."""
    await stack.sms(stack.world.phones["anna"], "Hej, her kommer papirerne.")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    conv = str(items[0]["id"])
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    jar = stack.client.session.cookie_jar.filter_cookies(URL(str(stack.client.make_url("/"))))
    cookie = "; ".join(f"{k}={v.value}" for k, v in jar.items())
    return conv, multipart(csrf_of(html)), cookie


async def trickle(
    port: int, path: str, body: bytes, cookie: str, *, held: int, every: float
) -> tuple[bytes, bool, float]:
    """Send all but ``held`` bytes at once, then one byte each ``every`` seconds.

    Returns the answer, whether the server closed the connection, and the time taken.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body[:-held]
    )
    answer = b""
    try:
        for i in range(len(body) - held, len(body)):
            try:
                writer.write(body[i : i + 1])
                await writer.drain()
            except (ConnectionResetError, BrokenPipeError):
                break  # the server closed the connection: its answer is in the reader
            try:
                answer = await asyncio.wait_for(reader.read(65536), every)
            except TimeoutError:
                continue
            if answer:
                break
        closed = False
        try:
            async with asyncio.timeout(0.5):
                while chunk := await reader.read(65536):
                    answer += chunk
                closed = True
        except TimeoutError:
            pass  # kept alive: the server keeps the connection after an answer
        except OSError:
            closed = True  # closed while a byte of ours was on its way
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return answer, closed, time.monotonic() - started


async def stored(stack: Stack) -> tuple[int, int]:
    async with stack.svc.read() as conn:
        citizen = (
            await conn.execute(
                select(func.count()).select_from(messages).where(messages.c.kind == "citizen")
            )
        ).scalar_one()
        files = (
            await conn.execute(select(func.count()).select_from(message_attachments))
        ).scalar_one()
    return int(citizen), int(files)


async def test_a_trickled_upload_is_cut_at_the_deadline_and_nothing_is_stored(
    stack: Stack,
) -> None:
    """The family's reply with a photo, its last 40 bytes a byte every 0.1 s: 408, the
    connection closed at the deadline, and neither the message nor the photo stored."""
    conv, body, cookie = await thread_and_form(stack)
    before = await stored(stack)
    answer, _closed, took = await trickle(
        stack.client.port or 0, f"/borger/samtaler/{conv}/svar", body, cookie, held=40, every=0.1
    )
    assert answer.startswith(b"HTTP/1.1 408"), answer[:120]
    assert b'"request_timeout"' in answer and b"Connection: close" in answer
    assert took < 4.0 - 0.1  # not when the client is done (40 × 0.1 s)
    assert await stored(stack) == before


async def test_an_upload_in_time_is_stored(stack: Stack) -> None:
    """The same form, its last bytes a little late but within the deadline, is filed."""
    conv, body, cookie = await thread_and_form(stack)
    citizen, files = await stored(stack)
    answer, _closed, _took = await trickle(
        stack.client.port or 0, f"/borger/samtaler/{conv}/svar", body, cookie, held=2, every=0.05
    )
    assert answer.startswith(b"HTTP/1.1 303"), answer[:120]
    assert await stored(stack) == (citizen + 1, files + 1)


def test_a_body_deadline_that_is_not_seconds_is_refused(keys: dict[str, bytes]) -> None:
    """TOVHOLDER_BODY_DEADLINE must be a number of seconds: the error names the setting."""
    for bad in ("soon", "0", "9999"):
        config = make_config(
            "sqlite+aiosqlite:///:memory:",
            keys,
            port=1,
            sim_url="http://127.0.0.1:2",
            extra={"TOVHOLDER_BODY_DEADLINE": bad},
        )
        with pytest.raises(ConfigError, match="TOVHOLDER_BODY_DEADLINE"):
            create_app(config)
