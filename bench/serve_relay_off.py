"""``tovholder serve`` for one worker with the scheduler (and so the outbox relay) switched off.

A diagnostic for the inbound benchmark only: ``receive_sms`` wakes the relay
after every commit, so ``TOVHOLDER_OUTBOX_INTERVAL`` alone cannot keep the
relay out of a measurement. The configuration has no setting for
``scheduler_enabled``, so this launcher sets it and serves the same app the way
``bot.cli`` does (one process, access log off).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from aiohttp import web

from bot.app import create_app
from bot.base import config as config_mod
from bot.cli import settle_heap


async def serve() -> None:
    config = config_mod.load().with_(scheduler_enabled=False)
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    # The format `tovholder serve` logs in, so the benchmark reads both logs the same way.
    logging.basicConfig(
        level=os.environ.get("TOVHOLDER_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    asyncio.run(serve())


if __name__ == "__main__":
    main()
