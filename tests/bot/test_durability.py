"""Nothing lost, nothing twice: crashes, restarts and database outages."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import distinct, func, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.config import Config
from bot.simulators import SimulatorConfig, create_simulator_app
from bot.store.engine import make_engine
from bot.store.schema.core import messages, outbox
from tests.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MUNICIPALITY,
    Stack,
    World,
    free_port,
    make_config,
    message_sid,
    seed_families,
    seed_world,
)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


class Service:
    """`tovholder serve` in a child process, as production runs it."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, *, relay: bool = True, **overrides: str) -> None:
        """Start serving; with ``relay=False`` the outbox relay never runs in this life.

        A stored SMS wakes the relay at once, so a long TOVHOLDER_OUTBOX_INTERVAL
        alone does not keep a receipt from going out before a kill.
        """
        env = {**os.environ, **self.env, **overrides}
        command = ["bot.cli", "serve"] if relay else ["bench.serve", "--relay-off"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        async with aiohttp.ClientSession() as s:
            for _ in range(600):
                try:
                    async with s.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.proc.poll() is not None:
                    raise AssertionError(
                        self.proc.stderr.read().decode() if self.proc.stderr else ""
                    )
                await asyncio.sleep(0.05)
        raise AssertionError("service did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
async def sim(aiohttp_server: Any) -> AsyncIterator[Any]:
    server = await aiohttp_server(
        create_simulator_app(
            SimulatorConfig(
                account_sid=ACCOUNT_SID,
                auth_token=AUTH_TOKEN,
                inbound_webhook_url=None,
                status_delay=0.01,
            )
        )
    )
    yield server


def _service_env(db_url: str, keys: dict[str, bytes], config: Config, port: int) -> dict[str, str]:
    assert config.twilio is not None
    return {
        "TOVHOLDER_DATABASE_URL": db_url,
        "TOVHOLDER_PORT": str(port),
        "TOVHOLDER_PUBLIC_BASE_URL": config.public_base_url,
        "TOVHOLDER_KEKS": _b64(keys["kek"]),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": keys["kek"].hex(),
        "TOVHOLDER_INDEX_KEY": _b64(keys["index"]),
        "TOVHOLDER_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TOVHOLDER_TWILIO_BASE_URL": config.twilio.base_url,
        "TOVHOLDER_LOG_LEVEL": "WARNING",
    }


def _params(sender: str, body: str) -> dict[str, str]:
    """An inbound webhook's form, as Twilio posts it."""
    sid = message_sid()
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": MUNICIPALITY,
        "Body": body,
        "NumSegments": "1",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


async def _seeded(
    sim: Any, db_url: str, keys: dict[str, bytes], *, families: int = 0
) -> tuple[Config, int, World, list[str]]:
    """The seeded world (and ``families`` more citizens) in the database; the service's config."""
    port = free_port()
    config = make_config(db_url, keys, port=port, sim_url=str(sim.make_url("")).rstrip("/"))
    app = create_app(config)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    try:
        svc = app[SERVICES]
        world = await seed_world(svc)
        phones = await seed_families(svc, world, families) if families else []
    finally:
        await runner.cleanup()
    return config, port, world, phones


async def _sim_count(sim: Any) -> int:
    async with aiohttp.ClientSession() as s, s.get(str(sim.make_url("/_sim/messages"))) as r:
        return len(await r.json())


async def test_crash_after_store_before_send_sends_receipt_exactly_once(
    sim: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """kill -9 after the SMS is stored and answered, before the receipt is sent: after restart it goes out once."""
    config, port, world, _ = await _seeded(sim, db_url, keys)

    service = Service(_service_env(db_url, keys, config, port), port)
    await service.start(relay=False)  # the relay never runs in this life
    try:
        url = f"{config.public_base_url}/webhooks/twilio/sms"
        params = _params(world.phones["anna"], "Hej")
        sig = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        async with (
            aiohttp.ClientSession() as s,
            s.post(url, data=params, headers={"X-Twilio-Signature": sig}) as r,
        ):
            assert r.status == 200
    finally:
        service.kill()
    assert await _sim_count(sim) == 0

    await service.start(TOVHOLDER_OUTBOX_INTERVAL="0.1")
    try:
        for _ in range(400):  # up to 20 s on a loaded machine
            if await _sim_count(sim) >= 1:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # several more ticks: nothing more may go out
        assert await _sim_count(sim) == 1
    finally:
        service.kill(signal.SIGTERM)


async def test_crash_after_a_batch_is_stored_sends_each_receipt_exactly_once(
    sim: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """kill -9 after a burst of SMS is answered (filed in batches on PostgreSQL): all stored with receipts queued; after restart each goes out once."""
    config, port, _, phones = await _seeded(sim, db_url, keys, families=16)
    service = Service(_service_env(db_url, keys, config, port), port)
    # In this life the gateway is unreachable: receipts the relay claims go back, to retry.
    nowhere = f"http://127.0.0.1:{free_port()}"
    await service.start(TOVHOLDER_OUTBOX_INTERVAL="3600", TOVHOLDER_TWILIO_BASE_URL=nowhere)
    try:
        url = f"{config.public_base_url}/webhooks/twilio/sms"
        async with aiohttp.ClientSession() as s:

            async def send(phone: str) -> int:
                params = _params(phone, "Hej")
                sig = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
                async with s.post(url, data=params, headers={"X-Twilio-Signature": sig}) as r:
                    return r.status

            assert await asyncio.gather(*(send(p) for p in phones)) == [200] * len(phones)
    finally:
        service.kill()
    assert await _sim_count(sim) == 0
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            stored, times = (
                await conn.execute(
                    select(func.count(), func.count(distinct(messages.c.created_at))).where(
                        messages.c.direction == "in"
                    )
                )
            ).one()
            states: dict[str, int] = {
                state: n
                for state, n in await conn.execute(
                    select(outbox.c.state, func.count()).group_by(outbox.c.state)
                )
            }
    finally:
        await engine.dispose()
    assert stored == len(phones) and sum(states.values()) == len(phones)  # nothing lost
    if db_url.startswith("postgresql"):
        assert times < len(phones)  # several SMS were filed at one time: in one batch
    # A receipt the dead relay held ("sending") waits for its lease to run out: it may
    # have reached the gateway. Every other one goes now, once.
    due = len(phones) - states.get("sending", 0)
    await service.start(TOVHOLDER_OUTBOX_INTERVAL="0.1")
    try:
        # On PostgreSQL the gateway's breaker is shared and outlives the worker: if the
        # first life opened it, this one waits out its 30 s cooldown before sending.
        # The held leases (60 s) run out well after that.
        for _ in range(1000):
            if await _sim_count(sim) >= due:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        async with aiohttp.ClientSession() as s, s.get(str(sim.make_url("/_sim/messages"))) as r:
            sent = [m["to"] for m in await r.json()]
        assert len(sent) == len(set(sent)) == due and set(sent) <= set(phones)
    finally:
        service.kill(signal.SIGTERM)


async def test_receipt_survives_app_restart_in_process(stack: Stack, aiohttp_client: Any) -> None:
    """A receipt queued by one app instance is sent exactly once by the next, even if relayed twice."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.client.close()
    app2 = create_app(stack.config, clock=stack.clock)
    runner = aiohttp.web.AppRunner(app2)
    await runner.setup()
    try:
        svc2 = app2[SERVICES]
        from bot.domain.outbox import drain

        assert await drain(svc2) == 1
        assert await drain(svc2) == 0
    finally:
        await runner.cleanup()
    assert len(await stack.sent_to(stack.world.phones["anna"])) == 1


async def test_database_outage_answers_503_to_every_webhook_of_a_burst(
    aiohttp_client: Any, keys: dict[str, bytes]
) -> None:
    """PostgreSQL unreachable while a burst is batched: every webhook gets 503, none a trace."""
    port = free_port()
    config = make_config(
        "postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
        keys,
        port=port,
        sim_url="http://127.0.0.1:9",
    )
    client = await aiohttp_client(aiohttp.test_utils.TestServer(create_app(config), port=port))
    url = f"{config.public_base_url}/webhooks/twilio/sms"

    async def send(i: int) -> tuple[int, str]:
        params = _params(f"+45201234{10 + i:02d}", "Hej")
        sig = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        resp = await client.post(
            "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}
        )
        return resp.status, await resp.text()

    answers = await asyncio.gather(*(send(i) for i in range(8)))
    assert [status for status, _ in answers] == [503] * 8
    assert all("storage_unavailable" in text and "Traceback" not in text for _, text in answers)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_database_outage_answers_503_so_the_gateway_retries(
    aiohttp_client: Any, backend: str, keys: dict[str, bytes], tmp_path: Any
) -> None:
    """With the database unreachable, a valid signed webhook gets 503 storage_unavailable, no trace."""
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db"
        if backend == "sqlite"
        else "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    )
    port = free_port()
    config = make_config(url, keys, port=port, sim_url="http://127.0.0.1:9")
    server = aiohttp.test_utils.TestServer(create_app(config), port=port)
    client = await aiohttp_client(server)
    params = {
        "MessageSid": message_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": "+4520123401",
        "To": MUNICIPALITY,
        "Body": "Hej",
    }
    sig = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{config.public_base_url}/webhooks/twilio/sms", params
    )
    resp = await client.post(
        "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}
    )
    assert resp.status == 503
    body = await resp.json()
    assert body["error"]["code"] == "storage_unavailable"
    assert "Traceback" not in await resp.text()
    await _aiosqlite_threads_settled()


async def _aiosqlite_threads_settled() -> None:
    """Let aiosqlite's worker threads finish before the loop closes.

    A failed aiosqlite connect queues its own stop without awaiting it; if the test's loop
    closes first, the thread's ``call_soon_threadsafe`` raises in that thread.
    """
    deadline = asyncio.get_running_loop().time() + 5.0
    while any(
        t.is_alive() and "_connection_worker_thread" in t.name for t in threading.enumerate()
    ):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.01)


async def test_scheduler_ticks_the_relay(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """With the scheduler on, a receipt goes out without anyone calling the relay."""
    from tests.harness import start_stack

    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=datetime(2025, 2, 21, 9, 0, tzinfo=UTC),
        scheduler_enabled=True,
        outbox_interval=0.1,
    )
    try:
        await s.sms(s.world.phones["anna"], "Hej")
        for _ in range(100):
            if await s.sent_to(s.world.phones["anna"]):
                break
            await asyncio.sleep(0.05)
        assert len(await s.sent_to(s.world.phones["anna"])) == 1
        for _ in range(100):  # the relay commits "done" just after the gateway answered
            async with s.svc.read() as conn:
                states = set((await conn.execute(select(outbox.c.state))).scalars())
            if states == {"done"}:
                break
            await asyncio.sleep(0.02)
        assert states == {"done"}
    finally:
        await s.session.close()
