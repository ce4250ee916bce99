"""The per-address limit on login starts is shared by every worker on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import create_app
from bot.store.schema.oidc import web_oidc_flows
from tests.web.test_oidc_brokers import Factory, _count, make_stack  # noqa: F401


async def test_two_workers_count_one_address_together(
    make_stack: Factory,  # noqa: F811
    aiohttp_client: Any,
) -> None:
    """A limit of 3: two starts at worker A and one at worker B use it up; the fourth is
    429 at either worker and writes no flow row. (SQLite is one process: not shared.)"""
    b = await make_stack(TOVHOLDER_OIDC_START_LIMIT="3/300")
    stack = b.stack
    if stack.svc.sqlite:
        pytest.skip("SQLite is one process: the start limiter stays in its memory")
    other = await aiohttp_client(create_app(stack.config, clock=stack.clock))
    for client in (stack.client, other, stack.client):
        resp = await client.get("/borger/log-ind/mitid", allow_redirects=False)
        assert resp.status == 303, await resp.text()
    for client in (other, stack.client):
        resp = await client.get("/sagsbehandler/log-ind/oidc", allow_redirects=False)
        assert resp.status == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= 301
    assert await _count(stack, web_oidc_flows) == 3
    stack.clock.advance(seconds=301)
    resp = await other.get("/borger/log-ind/mitid", allow_redirects=False)
    assert resp.status == 303
