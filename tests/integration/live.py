"""Tovholder served from a background thread, for synchronous clients such as schemathesis."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import unused_port
from sqlalchemy import select, text

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.domain.inbound import receive_sms
from bot.domain.integration.credentials import SCOPES, issue_key
from bot.store.engine import make_engine, upgrade
from bot.store.schema.core import messages, metadata
from channels.base import InboundSms
from scheduler.store import add_task
from tests.fakes.clock import FakeClock
from tests.harness import MUNICIPALITY, World, make_config, seed_world


async def empty_database(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            names = [t.name for t in reversed(metadata.sorted_tables)]
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT tovholder_truncate_guard(false)"))
                await conn.execute(text("TRUNCATE " + ", ".join(names) + " CASCADE"))
                await conn.execute(text("SELECT tovholder_truncate_guard(true)"))
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
    # Ids the seeded world does not name: "conversations" and "messages" (inbound SMS).
    extra_ids: dict[str, list[str]] = field(default_factory=dict)
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
        # Two families have written in (one urgently), so threads and messages exist.
        received = [
            await receive_sms(
                svc,
                InboundSms(f"SMlive{n}", self.world.phones[who], MUNICIPALITY, body),
                provider="twilio",
            )
            for n, (who, body) in enumerate([("anna", "Hej, hvornår er mødet?"), ("bo", "Akut!")])
        ]
        ids = [r.message_id for r in received if r.message_id is not None]
        async with svc.read() as conn:
            rows = (
                await conn.execute(
                    select(messages.c.id, messages.c.conversation_id).where(messages.c.id.in_(ids))
                )
            ).all()
        by_id = {r.id: r.conversation_id for r in rows}
        # Anna's thread first: it is on Mette's case, so the seeding below may use it.
        self.extra_ids = {
            "conversation": [by_id[i] for i in ids if by_id.get(i)],
            "message": ids,
        }
        await self._seed_through_the_api(svc)

    async def _seed_through_the_api(self, svc: Any) -> None:
        """One of each thing a caseworker makes, so fuzzed requests can name real ids."""
        w = self.world
        case = w.cases["anna"]
        conv = self.extra_ids["conversation"][0]
        made = [
            ("absence", "/api/v1/absences", {"starts_on": "2025-04-01", "ends_on": "2025-04-02"}),
            (
                "appointment",
                f"/api/v1/cases/{case}/appointments",
                {"starts_at": "2025-03-04T10:00:00+01:00"},
            ),
            (
                "deadline",
                f"/api/v1/cases/{case}/deadlines",
                {"kind": "partshoering", "due_on": "2025-03-24"},
            ),
            ("entry", f"/api/v1/cases/{case}/notes", {"subject": "Telefon", "text": "Aftalt"}),
            (
                "scheduled",
                f"/api/v1/conversations/{conv}/scheduled",
                {"body": "Husk mødet", "send_at": "2025-03-03T10:00:00+01:00"},
            ),
            ("timeline", f"/api/v1/cases/{w.cases['carl']}/timeline", {}),
        ]
        headers = {"Authorization": f"Bearer {w.tokens['mette']}"}
        async with ClientSession(self.base_url, headers=headers) as http:
            for kind, path, body in made:
                async with http.post(path, json=body) as resp:
                    assert resp.status == 201, (path, resp.status, await resp.text())
                    self.extra_ids.setdefault(kind, []).append((await resp.json()).get("id", ""))
        async with svc.write() as conn:
            task = await add_task(
                conn,
                tenant_id=w.tenant_id,
                case_id=case,
                staff_id=w.mette,
                kind="nudge",
                title="Følg op",
                at=svc.clock.now(),
            )
        self.extra_ids["task"] = [task]

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            self._run(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
