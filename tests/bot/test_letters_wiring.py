"""Digital Post in the running app: the letters relay is on the ticker when SF1601 is set up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.base.appkeys import TICKER
from bot.domain.letters import queue_letter
from bot.simulators.digitalpost import (
    STATE_KEY,
    DigitalPostSimulatorConfig,
    create_digitalpost_simulator,
)
from bot.store.schema.core import journal_entries
from tests.harness import start_stack
from tests.scheduler.conftest import FRIDAY_MORNING

TOKEN = "holder-of-key-test-token"


async def test_a_queued_letter_reaches_the_simulator_through_the_ticker(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """With TOVHOLDER_DIGITALPOST_URL set, the app's 'letters' job sends a queued letter (token and all) and journalises it."""
    sim = await aiohttp_server(
        create_digitalpost_simulator(DigitalPostSimulatorConfig(access_token=TOKEN))
    )
    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={
            "TOVHOLDER_DIGITALPOST_URL": str(sim.make_url("")).rstrip("/"),
            "TOVHOLDER_DIGITALPOST_TOKEN": TOKEN,
        },
    )
    try:
        ticker = stack.client.server.app[TICKER]
        assert "letters" in ticker.names
        case_id = stack.world.cases["anna"]
        async with stack.svc.write() as conn:
            await queue_letter(
                conn,
                stack.svc,
                tenant_id=stack.world.tenant_id,
                case_id=case_id,
                cpr="0101901234",
                title="Mødeplan",
                sender_cvr="29189838",
                text="Her er planen for mødet tirsdag.",
            )
        await ticker.run_once("letters")
        assert len(sim.app[STATE_KEY].letters) == 1
        async with stack.svc.read() as conn:
            subjects = list(
                (
                    await conn.execute(
                        select(journal_entries.c.subject).where(
                            journal_entries.c.case_id == case_id
                        )
                    )
                ).scalars()
            )
        assert any(s.startswith("Brev sendt via Digital Post") for s in subjects)
    finally:
        await stack.session.close()


async def test_without_a_url_no_letters_job_runs(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """Without TOVHOLDER_DIGITALPOST_URL the app has no letters job (nothing leaves for Digital Post)."""
    stack = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    try:
        assert "letters" not in stack.client.server.app[TICKER].names
    finally:
        await stack.session.close()
