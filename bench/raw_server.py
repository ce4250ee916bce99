"""The raw ceiling: a bare aiohttp handler doing one asyncpg INSERT per request.

No signature check, no encryption, no routing, no ORM: what the web framework
and one committed row cost on this machine. ``python -m bench.raw_server``
with ``BENCH_RAW_DSN`` and ``BENCH_RAW_PORT`` set; it creates its own table.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

POOL = web.AppKey("pool", asyncpg.Pool)

DDL = """
CREATE TABLE IF NOT EXISTS raw_inbound (
    id bigserial PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    sender text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = "INSERT INTO raw_inbound (sid, sender, body) VALUES ($1, $2, $3)"


async def inbound(request: web.Request) -> web.Response:
    form = await request.post()
    async with request.app[POOL].acquire() as conn:
        await conn.execute(INSERT, str(form["MessageSid"]), str(form["From"]), str(form["Body"]))
    return web.Response(
        text='<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml"
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(dsn: str) -> web.Application:
    app = web.Application()

    async def pool(app: web.Application) -> AsyncIterator[None]:
        # The same ceiling on connections as the service's engine (a pool of 20).
        p = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
        async with p.acquire() as conn:
            await conn.execute(DDL)
        app[POOL] = p
        yield
        await p.close()

    app.cleanup_ctx.append(pool)
    app.router.add_post("/webhooks/twilio/sms", inbound)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    web.run_app(
        create_app(os.environ["BENCH_RAW_DSN"]),
        host="127.0.0.1",
        port=int(os.environ["BENCH_RAW_PORT"]),
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
