"""`tovholder demo` sets up Digital Post: a simulator to send to and a sender for the demo."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import aiohttp

from bot.base.config import demo_env, load
from bot.cli import demo_letters_env, start_digitalpost_simulator
from bot.domain.guard.letter import sender_cvr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_letters_go_to_a_running_simulator_for_the_demo_municipality() -> None:
    """The demo's config names a Digital Post sender for lyngby-demo and its URL answers."""
    port = _free_port()
    config = load(demo_letters_env(demo_env("sqlite+aiosqlite:///demo.db"), port))
    assert sender_cvr(SimpleNamespace(config=config), "lyngby-demo") is not None  # type: ignore[arg-type]
    runner = await start_digitalpost_simulator(port)
    try:
        url = config.extra["TOVHOLDER_DIGITALPOST_URL"]
        async with aiohttp.ClientSession() as http, http.get(f"{url}/_sim/faults") as resp:
            assert resp.status == 200
            assert (await resp.json())["mode"] == "ok"
    finally:
        await runner.cleanup()
