"""The caseworker's desk in a real browser: templates, send later, urgent, absence, roster.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) on every page;
SQLite only (test_staff_desk.py covers both backends); screenshots land in
artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

from bot.base.staff import StaffUser
from bot.domain import staffing
from bot.domain.accounts import set_credentials
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import PASSWORD, Login, open_tab

pytestmark = PYTESTMARK

THANKS = (
    "Hej Anna. Tak for din besked. Jeg ser på det og svarer dig senest "
    "tirsdag den 25. februar. Hilsen Mette"
)


async def _sofie(stack: Stack) -> Login:
    secret = await set_credentials(
        stack.svc, staff_id=stack.world.sofie, username="sofie@kbh.example", password=PASSWORD
    )
    return Login("sofie@kbh.example", PASSWORD, secret)


async def test_caseworker_desk_from_template_to_absence(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Mette answers with a template, schedules an SMS, takes an urgent one, sets an absence;
    Anna's next message goes to Sofie, who sees it under "covering"."""
    anna = stack.world.phones["anna"]
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    assert resp.status == 201
    w = stack.world
    await staffing.set_rotation(
        stack.svc,
        StaffUser(w.hanne, w.tenant_id, w.team_children, "lead"),
        w.team_children,
        {"rotation": {"0": w.sofie, "1": w.mette, "2": w.sofie, "3": w.hanne}},
    )
    await stack.sms(anna, "Hej Mette, hvornår hører jeg om min ansøgning?")
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await (
        page.get_by_role("region", name="Mine sager")
        .get_by_role("link", name="Anna Andersen")
        .click()
    )
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    thread_url = page.url
    await (
        page.get_by_role("region", name="Sagens forløb")
        .get_by_text("Forventet fredag den 21. marts")
        .wait_for()
    )
    await tab.check("staff-desk-thread")

    # A template, filled in for Anna, without a reload; the SMS count follows.
    await page.get_by_label("Skabelon").select_option(label="Tak, jeg vender tilbage")
    await page.get_by_role("button", name="Indsæt skabelon").click()
    box = page.get_by_label("Dit svar (sendes som SMS)")
    assert await box.input_value() == THANKS
    assert page.url == thread_url
    assert await page.locator("#body-count").inner_text() == f"{len(THANKS)} tegn · 1 SMS"
    assert await page.evaluate("document.activeElement.id") == "body"
    await page.get_by_role("button", name="Send svar").click()
    await page.wait_for_url("**?sendt=1")
    await stack.drain()
    assert THANKS in await stack.sent_to(anna)

    # Send later: Monday 09:30; listed beside the thread until it goes.
    await box.fill("Husk mødet mandag kl. 13 på rådhuset. Hilsen Mette")
    await page.get_by_text("Flere valg").click()
    await tab.check("staff-desk-reply-options")
    await page.get_by_label("Dato", exact=True).fill("2025-02-24")
    await page.get_by_label("Klokkeslæt").fill("09:30")
    await page.get_by_role("button", name="Send med valgene").click()
    await page.wait_for_url("**?planlagt=1")
    planned = page.get_by_role("region", name="Planlagte SMS'er")
    await planned.get_by_text("Sendes mandag den 24. februar 09:30").wait_for()
    await tab.check("staff-desk-planned")

    # A date in the past is a plain error, and the text is kept.
    await box.fill("Vi ses")
    await page.get_by_text("Flere valg").click()
    await page.get_by_label("Dato", exact=True).fill("2025-02-20")
    await page.get_by_label("Klokkeslæt").fill("09:30")
    await page.get_by_role("button", name="Send med valgene").click()
    await page.get_by_role("alert").get_by_text("overskredet").wait_for()
    assert await box.input_value() == "Vi ses"
    await tab.check("staff-desk-error")

    # An urgent message: "Jeg tager den".
    await stack.sms(anna, "Det haster, min søn er væk")
    await page.goto(thread_url)
    await page.get_by_role("button", name="Jeg tager den").click()
    await page.wait_for_url("**?kvitteret=1")
    await page.get_by_role("status").get_by_text("Eskaleringen er stoppet").wait_for()

    # A phone-call note.
    await page.get_by_label("Hvad talte I om?").fill("Anna ringede. Sønnen er fundet.")
    await page.get_by_role("button", name="Gem notat").click()
    await page.wait_for_url("**?notat=1")

    # Absence with Sofie as substitute.
    await (
        page.get_by_role("navigation", name="Sagsbehandler")
        .get_by_role("link", name="Mit fravær")
        .click()
    )
    await page.wait_for_url("**/sagsbehandler/fravaer")
    await tab.check("staff-absence")
    await page.get_by_label("Fra og med").fill("2025-02-21")
    await page.get_by_label("Til og med").fill("2025-02-28")
    await page.get_by_label("Stedfortræder").select_option(label="Sofie Dahl")
    await page.get_by_role("button", name="Gem fravær").click()
    await page.wait_for_url("**?gemt=1&flyttet=1")
    await (
        page.get_by_role("status")
        .get_by_text("Én ubesvaret besked er flyttet videre nu.")
        .wait_for()
    )
    await page.get_by_role("cell", name="Sofie Dahl").wait_for()
    await tab.check("staff-absence-saved")
    await page.get_by_role("link", name="Tovholder · Sagsbehandler").click()
    await page.get_by_text("Nye beskeder fra dine sager går til Sofie Dahl").wait_for()
    await tab.check("staff-inbox-away")
    await page.get_by_role("link", name="Vagtplan").click()
    await page.wait_for_url("**/sagsbehandler/vagtplan")
    await page.get_by_role("row", name="mandag den 24. februar Sofie Dahl").wait_for()
    # Mette is away on her own duty day: a gap.
    await (
        page.get_by_role("row", name="tirsdag den 25. februar")
        .get_by_text("Hul: den på vagt er væk")
        .wait_for()
    )
    await tab.check("staff-roster")

    # Anna writes again: it goes to Sofie, who sees it under "covering".
    await stack.sms(anna, "Tak. Hvornår kan vi mødes?")
    sofie = await open_tab(browser, stack)
    await log_in(sofie, stack, await _sofie(stack))
    covering = sofie.page.get_by_role("region", name="Jeg dækker for en kollega")
    await covering.get_by_role("link", name="Anna Andersen").click()
    await sofie.page.wait_for_url("**/sagsbehandler/samtaler/*")
    await sofie.page.get_by_text("Tak. Hvornår kan vi mødes?").wait_for()
    await sofie.check("staff-desk-covering-thread")


async def test_lead_manages_templates(stack: Stack, browser: Any, logins: dict[str, Login]) -> None:
    """Hanne adds a template; a wrong variable is explained; the list and form pass axe."""
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["hanne"])
    await page.get_by_role("link", name="Svarskabeloner").click()
    await page.wait_for_url("**/sagsbehandler/skabeloner")
    await tab.check("staff-templates")
    await page.get_by_role("link", name="Ny skabelon").click()
    await page.wait_for_url("**/skabeloner/ny")
    await tab.check("staff-template-new")
    await page.get_by_label("Titel").fill("Ferie")
    await page.get_by_label("Tekst").fill("Hej {navn}. Jeg er tilbage {dato}.")
    await page.get_by_role("button", name="Gem skabelon").click()
    await page.get_by_role("alert").get_by_text("ukendt variabel").wait_for()
    await tab.check("staff-template-error")
    await page.get_by_label("Tekst").fill(
        "Hej {fornavn}. Jeg er tilbage {dato}. Hilsen {sagsbehandler}"
    )
    await page.get_by_role("button", name="Gem skabelon").click()
    await page.wait_for_url("**/skabeloner?gemt=1")
    await page.get_by_role("link", name="Ferie").wait_for()


async def test_keyboard_only_template_reply(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Pick a template, insert it and send it with the keyboard alone."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej")
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])

    async def tab_to(selector: str, limit: int = 30) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            if await page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    await tab_to("a.inbox-link")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/samtaler/*")
    await tab_to("#skabelon")
    await page.keyboard.press("ArrowDown")  # the first template
    assert await page.evaluate("document.activeElement.selectedIndex") == 1
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Indsæt skabelon"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "body"
    assert await page.locator("#body").input_value() == THANKS
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Send svar"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**?sendt=1")
    await stack.drain()
    assert THANKS in await stack.sent_to(anna)
