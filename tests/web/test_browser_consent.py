"""The consent page in a real browser, at 1280 px and at 390 px, with axe-core on every state.

From Anna's thread, Mette opens "Samtykke til SMS og e-mail", sends the form
empty (the server says what is missing), records "no reminders by SMS", and
sees it in the history. SQLite only (test_consent_page.py covers both
backends); screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK


async def _anna_thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, vil I stoppe påmindelserne?")
    await stack.drain()
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _no_sideways_scroll(tab: Tab) -> None:
    width = await tab.page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], width


async def test_consent_from_the_thread(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Desktop: thread → consent page; empty form refused with a message; "no SMS reminders" recorded."""
    conv = await _anna_thread(stack)
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await tab.goto(f"/sagsbehandler/samtaler/{conv}")
    await page.get_by_role("link", name="Samtykke til SMS og e-mail").click()
    await page.wait_for_url(f"**/sagsbehandler/samtaler/{conv}/samtykke")
    await page.get_by_text("Intet registreret: påmindelser og nyheder sendes på SMS.").wait_for()
    await tab.check("consent-page")

    await page.get_by_role("button", name="Gem").click()
    await page.get_by_role("alert").get_by_text("Vælg, hvad borgeren har sagt.").wait_for()
    await tab.check("consent-error")

    await page.get_by_label("Ingen påmindelser og nyheder på SMS (som STOP)").check()
    await page.get_by_role("button", name="Gem").click()
    await page.wait_for_url("**/samtykke?gemt=1")
    await page.get_by_role("status").get_by_text("Gemt og journaliseret på sagen.").wait_for()
    await page.locator("#consent-sms").get_by_text("frameldt påmindelser").wait_for()
    history = page.get_by_role("table")
    await history.get_by_role("cell", name="sagsbehandler", exact=True).wait_for()
    await tab.check("consent-saved")


async def test_consent_on_a_phone(stack: Stack, browser: Any, logins: dict[str, Login]) -> None:
    """390 px: the page and its history fit without sideways scrolling; the form works by keyboard."""
    conv = await _anna_thread(stack)
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await tab.goto(f"/sagsbehandler/samtaler/{conv}/samtykke")
    await _no_sideways_scroll(tab)
    await page.get_by_label("Ja til besked på e-mail").focus()
    await page.keyboard.press("Space")
    await page.get_by_role("button", name="Gem").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/samtykke?gemt=1")
    await page.locator("#consent-email").get_by_text("sagt ja til besked på e-mail").wait_for()
    await _no_sideways_scroll(tab)
    await tab.check("consent-saved-phone")
