"""The task list in a real browser, at 1280 px and at 390 px, with axe-core on every state.

A FLYT request with its appointment and a call task (an undeliverable reply, whom to
call at "+45 20 12 34 01", a tel: link) on Mette's list; the inbox's "Opgaver (2)" leads there; a call task refuses to
close without a word on what happened, then closes with one. SQLite only
(test_tasks_pages.py covers both backends); screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.store.schema.scheduler import followup_tasks
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
from tests.web.browsing import log_in as _login
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK


async def _tasks(stack: Stack) -> dict[str, str]:
    """kind -> id of the open tasks."""
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(followup_tasks.c.kind, followup_tasks.c.id).where(
                followup_tasks.c.state == "open"
            )
        )
        return {r.kind: r.id for r in rows}


async def _two_tasks(stack: Stack) -> dict[str, str]:
    """Anna asks to move her meeting (FLYT); Mette's answer cannot be delivered: a call task."""
    anna = stack.world.phones["anna"]
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": "2025-02-25T09:00:00+01:00", "place": "Rådhuset, lokale 3"},
    )
    assert resp.status == 201, await resp.text()
    await stack.sms(anna, "FLYT")
    await stack.drain()
    await stack.faults(undeliverable=[anna])
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Jeg ringer dig op"}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    for _ in range(200):
        found = await _tasks(stack)
        if "call" in found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("no call task")


async def _no_sideways_scroll(tab: Tab) -> None:
    width = await tab.page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], width


async def test_tasks_from_the_inbox_to_a_closed_call_task(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Desktop: inbox → task list; the call task needs an outcome; FLYT shows the meeting."""
    ids = await _two_tasks(stack)
    tab = await open_tab(browser, stack)
    page = tab.page
    await _login(tab, stack, logins["mette"])
    summary = page.get_by_role("region", name="Opgaver (2)")
    await summary.get_by_text("Ingen har nået fristen endnu.").wait_for()
    await tab.check("tasks-inbox")
    await summary.get_by_role("link", name="Opgaver (2)").click()
    await page.wait_for_url("**/sagsbehandler/opgaver")
    flyt = page.locator(f"#opgave-{ids['appointment_move']}")
    await flyt.get_by_text("Mødet: tirsdag den 25. februar 09:00, Rådhuset, lokale 3").wait_for()
    call = page.locator(f"#opgave-{ids['call']}")
    await call.get_by_text("Frist mandag den 24. februar 08:00").wait_for()
    # The number the Danish way, and a link that dials it.
    phone = call.get_by_role("link", name="+45 20 12 34 01", exact=True)
    assert await phone.get_attribute("href") == "tel:+4520123401"
    await tab.check("tasks-list")

    # Blank (spaces pass the browser's "required"): the server says what is missing.
    await call.get_by_label("Hvad skete der?").fill("   ")
    await call.get_by_role("button", name="Afslut opgaven").click()
    alert = page.locator(f"#opgave-{ids['call']}").get_by_role("alert")
    await alert.get_by_text("før du afslutter en ringeopgave").wait_for()
    await tab.check("tasks-error")
    call = page.locator(f"#opgave-{ids['call']}")
    await call.get_by_label("Hvad skete der?").fill("ringede, talte med mor")
    await call.get_by_role("button", name="Afslut opgaven").click()
    await page.wait_for_url("**/sagsbehandler/opgaver?afsluttet=1")
    await page.get_by_role("status").get_by_text("Opgaven er afsluttet").wait_for()
    assert await page.locator(f"#opgave-{ids['call']}").count() == 0
    await tab.check("tasks-closed")
    assert set(await _tasks(stack)) == {"appointment_move"}


async def test_tasks_on_a_phone(stack: Stack, browser: Any, logins: dict[str, Login]) -> None:
    """390 px: the list fits without sideways scrolling; the FLYT task closes by keyboard."""
    ids = await _two_tasks(stack)
    stack.clock.advance(seconds=30)  # a TOTP code is accepted once
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await _login(tab, stack, logins["mette"])
    await _no_sideways_scroll(tab)
    await tab.goto("/sagsbehandler/opgaver")
    await _no_sideways_scroll(tab)
    await tab.check("tasks-list-phone")
    flyt = page.locator(f"#opgave-{ids['appointment_move']}")
    field = flyt.get_by_label("Hvad skete der? (valgfrit)")
    await field.focus()
    await page.keyboard.type("Ny tid aftalt i telefonen")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused.strip().startswith("Afslut opgaven"), focused
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/sagsbehandler/opgaver?afsluttet=1")
    await _no_sideways_scroll(tab)
    await tab.check("tasks-closed-phone")
    assert set(await _tasks(stack)) == {"call"}
