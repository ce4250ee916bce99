"""The lead's page and the data-protection page in a real browser, at 1280 px and 390 px.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) on every page;
SQLite only (test_lead_desk.py covers both backends). At phone width the
tables scroll inside their own container, never the page.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.base.clock import COPENHAGEN
from bot.domain.accounts import set_credentials
from bot.domain.directory import create_staff
from bot.domain.escalation import escalate_due
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import PASSWORD, Login, Tab, open_tab

pytestmark = PYTESTMARK

WEDNESDAY = datetime(2025, 2, 26, 10, 0, tzinfo=COPENHAGEN)


async def _admin(stack: Stack) -> Login:
    w = stack.world
    async with stack.svc.write() as c:
        ida = await create_staff(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Ida",
            full_name="Ida Admin",
            role="admin",
        )
    secret = await set_credentials(
        stack.svc, staff_id=ida, username="ida@kbh.example", password=PASSWORD
    )
    return Login("ida@kbh.example", PASSWORD, secret)


async def _traffic(stack: Stack) -> None:
    """Friday: Anna answered in 3 h, the Eriksens never, Anna's urgent one with Hanne;
    Mette reads Anna's thread. Then Wednesday."""
    w = stack.world
    await stack.sms(w.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    stack.clock.advance(hours=3)
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svar"})
    assert resp.status == 201
    await stack.sms(w.phones["shared_same"], "Hej")
    await stack.sms(w.phones["anna"], "Det haster, min søn er væk")
    assert (await stack.api("GET", f"/api/v1/conversations/{conv}")).status == 200
    stack.clock.advance(minutes=16)
    assert await escalate_due(stack.svc) == 1
    stack.clock.set(WEDNESDAY)


async def _fits(tab: Tab) -> None:
    """Nothing scrolls the page sideways; a wide table scrolls in its own box."""
    page = tab.page
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )


async def test_admin_watches_the_teams_and_audits_a_read(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Ida (admin) sees both teams, the urgent message and the breaches, picks last week,
    gets a clear message for a bad week, finds Anna and downloads her access log."""
    await _traffic(stack)
    ida = await _admin(stack)
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, ida)
    nav = page.get_by_role("navigation", name="Sagsbehandler")
    await nav.get_by_role("link", name="Ledelse").click()
    await page.wait_for_url("**/sagsbehandler/ledelse")
    urgent = page.get_by_role("region", name="Akutte beskeder (kan rulles vandret)")
    await urgent.get_by_role("row", name="2025-001").get_by_text("2: Teamleder").wait_for()
    breaches = page.get_by_role("region", name="Overskredne svarfrister (kan rulles vandret)")
    # The urgent one was due the day it came (the week before): one breach this week.
    assert await breaches.get_by_text("Ikke besvaret").count() == 1
    await page.get_by_role("heading", name="Team Ydelse", level=2).wait_for()
    figures = page.get_by_role("region", name="Team Nord Tilbagemeldingsgaranti pr. uge")
    await figures.get_by_role("row", name="2025-W08 3 1 33 % (1)").wait_for()
    await tab.check("lead-desktop")

    # Last week, for one team, with the form.
    await page.get_by_label("Team", exact=True).select_option(label="Team Nord")
    await page.get_by_label("Uge", exact=True).fill("2025-W08")
    await page.get_by_role("button", name="Vis").click()
    await page.wait_for_url("**/sagsbehandler/ledelse?team=*&uge=2025-W08")
    await page.get_by_role("heading", name="Overskredne svarfrister i uge 8 2025").wait_for()
    breaches = page.get_by_role("region", name="Overskredne svarfrister (kan rulles vandret)")
    assert await breaches.get_by_text("Ikke besvaret").count() == 1  # the urgent one
    assert await page.get_by_role("heading", name="Team Ydelse").count() == 0

    # A week that does not exist: said plainly, nothing else shown.
    resp = await page.goto(stack.base + "/sagsbehandler/ledelse?uge=2025-W60")
    assert resp is not None and resp.status == 400
    await page.get_by_role("alert").get_by_text("Ugen findes ikke").wait_for()
    assert await page.get_by_text("2025-001").count() == 0
    await tab.check("lead-bad-week")

    # Databeskyttelse: find Anna by case number; Mette's read is there; the CSV too.
    await nav.get_by_role("link", name="Databeskyttelse").click()
    await page.wait_for_url("**/sagsbehandler/databeskyttelse")
    await tab.check("dpo-search")
    await page.get_by_label("Sagsnummer eller telefonnummer").fill("ab")
    await page.get_by_role("button", name="Find").click()
    await page.get_by_role("alert").get_by_text("3 til 40 tegn").wait_for()
    await tab.check("dpo-search-error")
    await page.get_by_label("Sagsnummer eller telefonnummer").fill("2025-001")
    await page.get_by_role("button", name="Find").click()
    await page.wait_for_url("**/sagsbehandler/databeskyttelse/*")
    await page.get_by_role("heading", name="Adgangslog for Anna Andersen").wait_for()
    log = page.get_by_role("region", name="Adgangslog (kan rulles vandret)")
    await log.get_by_role("row", name="Mette Holm Læst sagsbehandling").wait_for()
    await tab.check("dpo-person")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Hent som CSV").click()
    download = await info.value
    text = (await asyncio.to_thread(Path(await download.path()).read_bytes)).decode("utf-8")
    assert text.startswith("tidspunkt,medarbejder,medarbejder_id,handling,formaal")
    assert ",Mette Holm," in text and ",audit,databeskyttelse," in text
    await page.reload()
    await log.get_by_role("row", name="Ida Admin Udleveret (eksport)").wait_for()

    # A shared phone: both people to choose from.
    await page.goto(stack.base + "/sagsbehandler/databeskyttelse")
    await page.get_by_label("Sagsnummer eller telefonnummer").fill("20 12 34 04")
    await page.get_by_role("button", name="Find").click()
    await page.get_by_role("link", name="Eva Eriksen").wait_for()
    await page.get_by_role("link", name="Frank Eriksen").wait_for()
    await tab.check("dpo-choose")


async def test_on_a_phone_the_tables_scroll_in_their_box(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 390 px the lead's and the officer's tables scroll inside their own region;
    the page itself does not scroll sideways, and axe finds nothing."""
    await _traffic(stack)
    ida = await _admin(stack)
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await log_in(tab, stack, ida)
    await tab.goto("/sagsbehandler/ledelse")
    await page.get_by_text("2: Teamleder").wait_for()
    await _fits(tab)
    wide = await page.evaluate(
        "[...document.querySelectorAll('.table--responsive-scroll')]"
        ".filter(b => b.scrollWidth > b.clientWidth).length"
    )
    assert wide >= 1, "no table is wider than the phone: the test proves nothing"
    await tab.check("lead-phone")
    await tab.goto(f"/sagsbehandler/databeskyttelse/{stack.world.persons['anna']}")
    await page.get_by_text("Mette Holm").first.wait_for()
    await _fits(tab)
    await tab.check("dpo-person-phone")
    await tab.goto("/sagsbehandler/databeskyttelse")
    await _fits(tab)
    await tab.check("dpo-search-phone")


async def test_a_lead_sees_her_team_and_no_access_log(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Hanne (lead): her team only; no Databeskyttelse link, and its address is "not found"."""
    await _traffic(stack)
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["hanne"])
    nav = page.get_by_role("navigation", name="Sagsbehandler")
    assert await nav.get_by_role("link", name="Databeskyttelse").count() == 0
    await nav.get_by_role("link", name="Ledelse").click()
    await page.wait_for_url("**/sagsbehandler/ledelse")
    await page.get_by_role("heading", name="Team Nord", level=2).wait_for()
    assert await page.get_by_role("heading", name="Team Ydelse").count() == 0
    assert await page.get_by_label("Team", exact=True).count() == 0  # one team: nothing to pick
    await tab.check("lead-hanne")
    resp = await page.goto(stack.base + "/sagsbehandler/databeskyttelse")
    assert resp is not None and resp.status == 404
    await page.get_by_role("heading", name="Siden findes ikke").wait_for()
