"""A request body must arrive within a deadline: trickling it holds nothing for long."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.http.middleware import BODY_DEADLINE, body_deadline, errors
from tests.harness import make_config


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"length": len(await request.read())})


async def _trickle(port: int, *, every: float, length: int = 100) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )
    answer = b""
    try:
        for _ in range(length):
            writer.write(b" ")
            await writer.drain()
            try:
                answer = await asyncio.wait_for(reader.read(4096), every)
            except TimeoutError:
                continue
            if answer:
                break
    finally:
        writer.close()
    return answer, time.monotonic() - started


async def test_a_trickled_body_is_cut_at_the_deadline(aiohttp_server: Any) -> None:
    """A body sent a byte every 0.1 s is answered 408 request_timeout at the deadline, not when the client is done."""
    app = web.Application(middlewares=[errors, body_deadline])
    app[BODY_DEADLINE] = 0.5
    app.router.add_post("/echo", _echo)
    server = await aiohttp_server(app)
    answer, took = await _trickle(server.port, every=0.1)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'"request_timeout"' in answer
    assert took < 3.0


async def test_a_body_in_time_reaches_the_view(aiohttp_server: Any, aiohttp_client: Any) -> None:
    """A body that arrives in time is read once and the view reads the same bytes."""
    app = web.Application(middlewares=[errors, body_deadline])
    app.router.add_post("/echo", _echo)
    client = await aiohttp_client(app)
    resp = await client.post("/echo", data=b"x" * 1000)
    assert resp.status == 200 and (await resp.json()) == {"length": 1000}


def test_the_service_reads_every_body_under_the_deadline(keys: dict[str, bytes]) -> None:
    """The app factory puts the deadline on every route."""
    config = make_config("sqlite+aiosqlite:///:memory:", keys, port=1, sim_url="http://127.0.0.1:2")
    assert body_deadline in create_app(config).middlewares
