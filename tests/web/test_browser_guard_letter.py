"""The decision guard's letter offer in a real browser, with the Digital Post simulator.

A reply that reads as an afgørelse is refused; the page offers "Send som brev i
Digital Post" with a klagevejledning field; sent, the letter is queued and reaches
the SF1601 simulator. Chromium via Playwright with axe-core (WCAG 2.1 AA) at
1280 px and 390 px; SQLite only (test_guard_letter_pages.py covers both backends).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.domain.identity import set_person_cpr
from bot.domain.letters import relay_letters
from bot.simulators.digitalpost import DigitalPostSimulatorConfig, create_digitalpost_simulator
from channels.digitalpost import Sf1601Client, Sf1601Config
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in  # noqa: F401
from tests.web.conftest import Login, Tab, browser_stack, give_logins, open_tab

pytestmark = PYTESTMARK

CPR = "0101901234"
CVR = "29189846"
DECISION = "Hej Anna. Du har fået afslag på hjælp til ny vaskemaskine."
KLAGE = "Du kan klage til Ankestyrelsen inden fire uger."


@pytest_asyncio.fixture(loop_scope="module")
async def post_sim() -> AsyncIterator[TestServer]:
    srv = TestServer(create_digitalpost_simulator(DigitalPostSimulatorConfig()), host="127.0.0.1")
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


@pytest_asyncio.fixture(loop_scope="module")
async def stack(
    database_url: str, keys: dict[str, bytes], post_sim: TestServer
) -> AsyncIterator[Stack]:
    """The browser tests' stack (as ``bstack``) with Digital Post set up for kbh."""
    extra = {
        "TOVHOLDER_DIGITALPOST_URL": str(post_sim.make_url("")).rstrip("/"),
        "TOVHOLDER_DIGITALPOST_SENDERS": f"kbh={CVR}",
        "TOVHOLDER_DIGITALPOST_INTERVAL": "3600",
    }
    async with browser_stack(database_url, keys, extra) as s:
        await set_person_cpr(s.svc, person_id=s.world.persons["anna"], cpr=CPR)
        yield s


@pytest_asyncio.fixture(loop_scope="module")
async def logins(stack: Stack) -> dict[str, Login]:
    return await give_logins(stack)


async def _refused(tab: Tab, thread: str) -> None:
    page = tab.page
    await tab.goto(thread)
    await page.locator("#body").fill(DECISION)
    await page.get_by_role("button", name="Send svar").click()
    await page.get_by_role("heading", name="Send som brev i Digital Post").wait_for()
    assert "Teksten lyder som en afgørelse" in await page.get_by_role("alert").inner_text()
    assert await page.get_by_label("Afgørelsen").input_value() == DECISION


async def test_refused_reply_goes_as_a_letter_to_digital_post(
    stack: Stack, browser: Any, logins: dict[str, Login], post_sim: TestServer
) -> None:
    """At 1280 px: refused, the offer with the text and a klagevejledning; sent, the page
    confirms and the simulator gets one legal notification. At 390 px the offer fits."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvad med min ansøgning?")
    conv = str((await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"])
    thread = f"/sagsbehandler/samtaler/{conv}"

    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await _refused(tab, thread)
    await tab.check("guard-letter-offer")
    # The same page on a phone (one login: a TOTP code is good once).
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await tab.check("guard-letter-offer-phone")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.get_by_label("Klagevejledning").fill(KLAGE)
    await page.get_by_role("button", name="Send som brev i Digital Post").click()
    await page.wait_for_url("**/afgoerelse-brev?lagt_i_koe=1")
    status = page.get_by_role("status").filter(has_text="lagt i kø til Digital Post")
    await status.wait_for()
    await tab.check("guard-letter-queued")

    async with aiohttp.ClientSession() as session:
        sf1601 = Sf1601Client(
            Sf1601Config(base_url=str(post_sim.make_url("")), timeout=5.0),
            session,
            now=stack.clock.now,
        )
        await relay_letters(stack.svc, sf1601)
        async with session.get(str(post_sim.make_url("/_sim/letters"))) as resp:
            received = (await resp.json())["letters"]
    assert [(r["recipient"], r["legal_notification"]) for r in received] == [(CPR, True)]
    assert KLAGE in received[0]["files"][0]["text"]
