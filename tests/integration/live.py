"""Tovholder served from a background thread, for synchronous clients such as schemathesis."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import unused_port
from sqlalchemy import text

from bot.app import create_app
from bot.db.engine import make_engine, upgrade
from bot.db.schema import metadata
from bot.integration.credentials import SCOPES, issue_key
from bot.web.keys import SERVICES
from tests.fakes.clock import FakeClock
from tests.harness import World, make_config, seed_world


async def empty_database(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            names = [t.name for t in reversed(metadata.sorted_tables)]
            if conn.dialect.name == "postgresql":
                await conn.execute(text("TRUNCATE " + ", ".join(names) + " CASCADE"))
            else:
                for name in names:
                    await conn.execute(text(f"DELETE FROM {name}"))
    finally:
        await engine.dispose()


@dataclass
class LiveServer:
    """A seeded Tovholder on 127.0.0.1, its own event loop in its own thread."""

    database_url: str
    keys: dict[str, bytes]
    start_at: datetime
    migrate: bool = False
    port: int = field(default_factory=unused_port)
    world: World = field(default_factory=World)
    key: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, coro: Any) -> Any:
        assert self._loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=60)

    def start(self) -> LiveServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._run(self._setup())
        return self

    async def _setup(self) -> None:
        if self.migrate:
            engine = make_engine(self.database_url)
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()
        await empty_database(self.database_url)
        config = make_config(
            self.database_url,
            self.keys,
            port=self.port,
            sim_url="http://127.0.0.1:9",
            extra={"TOVHOLDER_WEBHOOK_ALLOW_HTTP": "1"},
        )
        options = {"pool_size": 4} if "postgres" in self.database_url else None
        app = create_app(config, clock=FakeClock(self.start_at), engine_options=options)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        svc = app[SERVICES]
        self.world = await seed_world(svc)
        async with svc.write() as conn:
            _, self.key = await issue_key(
                conn,
                tenant_id=self.world.tenant_id,
                label="fuzz",
                scopes=SCOPES,
                at=svc.clock.now(),
            )

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            self._run(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
