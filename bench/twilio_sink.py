"""A stand-in for Twilio's Messages API that accepts every send at once.

The outbox relay of the service under test sends receipts here, so it does
what it does in production without a network in the way. ``python -m
bench.twilio_sink`` with ``BENCH_SINK_PORT`` set.
"""

from __future__ import annotations

import itertools
import os

from aiohttp import web

_sids = itertools.count(1)


async def create_message(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"sid": f"SM{next(_sids):032x}", "status": "queued"}, status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", create_message)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    web.run_app(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["BENCH_SINK_PORT"]),
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
