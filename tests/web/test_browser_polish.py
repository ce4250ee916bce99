"""Phones and polish in a real browser: the header menu and logout at 390 px, no sideways
scrolling at 320 px, one focus ring, focus on the confirmation after sending, and the
family's one inbox across administrations (and a bisidder's share of it).

Chromium via Playwright, axe-core (WCAG 2.1 AA) at 1280, 390 and 320 px; SQLite only
(the storage paths run on both backends in test_citizen_inbox.py and test_tenant_logo.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import tenant_logo
from bot.domain.integration import participants
from bot.store.schema.core import messages
from bot.wiring.demo import DEMO_LOGO
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, code_from_sms, open_tab
from tests.web.test_citizen_inbox import HELPER_PHONE, _helper, _update

pytestmark = PYTESTMARK

NARROW = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 900}


async def _family_login(tab: Tab, stack: Stack, phone: str, typed: str | None = None) -> None:
    page = tab.page
    await tab.goto("/borger/log-ind")
    await page.get_by_label("Mobilnummer").fill(typed or phone)
    await page.get_by_role("button", name="Send mig en kode").click()
    await page.wait_for_url("**/borger/log-ind/kode")
    await page.get_by_label("Kode (6 cifre)").fill(await code_from_sms(stack, phone))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/borger/")


async def _fits(page: Any) -> None:
    """Nothing on the page is wider than the screen (WCAG 1.4.10 reflow)."""
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, "
        "[...document.querySelectorAll('body *')].filter(e => "
        "e.getBoundingClientRect().right > window.innerWidth + 1 && "
        "!e.closest('.table-scroll, .sr-only, .skipnav')).map(e => e.outerHTML.slice(0, 80))]"
    )
    assert widths[0] <= widths[1], widths


async def _outline(page: Any) -> str:
    return str(
        await page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); "
            "return s.outlineStyle + ' ' + s.outlineWidth; })()"
        )
    )


# For each control Tab reaches: its focus ring (a checkbox's is drawn on its label's box).
_RING = """() => {
  const e = document.activeElement;
  const target = e.matches('.form-checkbox, .form-radio') ? e.nextElementSibling : e;
  const s = getComputedStyle(target, target === e ? null : '::before');
  return [e.outerHTML.slice(0, 60), s.outlineStyle + ' ' + s.outlineWidth];
}"""


async def _rings(page: Any, stops: int = 80) -> set[str]:
    """Tab through the page: every control that shows anything but dkfds' 3 px ring."""
    odd: set[str] = set()
    for _ in range(stops):
        await page.keyboard.press("Tab")
        element, ring = await page.evaluate(_RING)
        if element.startswith("<body"):
            break
        if ring != "solid 3px":
            odd.add(f"{element} {ring}")
    return odd


async def _focused_text(page: Any) -> str:
    return str(
        await page.evaluate(
            "document.activeElement.getAttribute('role') + ': ' + document.activeElement.innerText"
        )
    )


async def test_staff_menu_logout_reflow_and_focus_on_phones(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 390 px Mette opens the menu (nav and "Log ud"), answers Anna and lands on the
    confirmation; at 320 px the thread and the duty roster fit; the menu logs her out."""
    await stack.sms(stack.world.phones["anna"], "Hej Mette, hvornår kommer afgørelsen?")
    for day in range(3):  # a long thread: three days
        stack.clock.advance(days=1)
        await stack.sms(stack.world.phones["anna"], f"Dag {day + 2}: har du set min besked?")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await page.set_viewport_size(NARROW)
    await tab.goto("/sagsbehandler/log-ind")
    await _fits(page)
    await tab.check("polish-staff-login-320")
    await page.set_viewport_size({"width": 390, "height": 844})
    await log_in(tab, stack, logins["mette"])
    log_out = page.get_by_role("button", name="Log ud")
    assert not await log_out.is_visible()
    menu = page.get_by_text("Menu", exact=True)
    await menu.focus()
    assert await _outline(page) == "solid 3px"
    await page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Sagsbehandler")
    for name in ("Sager", "Opgaver", "Mit fravær", "Vagtplan"):
        assert await nav.get_by_role("link", name=name).is_visible()
    assert await log_out.is_visible()
    await tab.check("polish-staff-menu-390")
    await _fits(page)
    # Esc closes the menu and puts focus back on its button.
    await page.keyboard.press("Escape")
    assert not await log_out.is_visible()
    assert await page.evaluate("document.activeElement.textContent") == "Menu"
    await page.set_viewport_size(NARROW)
    await _fits(page)
    await tab.check("polish-staff-inbox-320")
    await page.set_viewport_size({"width": 390, "height": 844})

    await page.get_by_role("link", name="Anna Andersen").first.click()
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    days = page.locator(".message-day-heading")
    assert await days.all_inner_texts() == [
        "fredag den 21. februar",
        "lørdag den 22. februar",
        "søndag den 23. februar",
        "mandag den 24. februar",
    ]
    last = await page.locator(".message--in .message-meta").last.inner_text()
    assert last.startswith("Anna Andersen · 10:00"), last  # the day is the heading above
    await page.get_by_text("Flere valg").click()
    assert await _outline(page) == "solid 3px"  # the summary had the browser's 1 px
    assert await _rings(page) == set()
    await page.get_by_text("Flere valg").click()
    await page.get_by_label("Dit svar (sendes som SMS)").fill("Hej Anna. Jeg ringer i morgen.")
    await page.get_by_role("button", name="Send svar").click()
    await page.wait_for_url("**?sendt=1")
    assert (await _focused_text(page)).startswith("status: Dit svar er lagt i kø")
    assert await _outline(page) == "solid 3px"
    await tab.check("polish-staff-sent-390")
    await page.set_viewport_size(NARROW)
    await _fits(page)
    await tab.check("polish-staff-thread-320")
    await tab.goto("/sagsbehandler/vagtplan")
    await _fits(page)
    await tab.check("polish-staff-roster-320")

    await page.get_by_text("Menu", exact=True).click()
    await page.get_by_role("button", name="Log ud").click()
    await page.wait_for_url("**/sagsbehandler/log-ind*")
    resp = await page.goto(stack.base + "/sagsbehandler/")
    assert resp is not None and "/sagsbehandler/log-ind" in page.url


async def test_staff_header_at_1280(stack: Stack, browser: Any, logins: dict[str, Login]) -> None:
    """On a wide screen the nav and "Log ud" sit in the header and the menu is not shown."""
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["hanne"])
    nav = page.get_by_role("navigation", name="Sagsbehandler")
    for name in ("Sager", "Opgaver", "Mit fravær", "Vagtplan", "Ledelse", "Svarskabeloner"):
        assert await nav.get_by_role("link", name=name).is_visible()
    assert await page.get_by_role("button", name="Log ud").is_visible()
    assert not await page.get_by_text("Menu", exact=True).is_visible()
    await _fits(page)
    await tab.check("polish-staff-header-1280")


async def test_family_one_inbox_on_a_phone(stack: Stack, browser: Any) -> None:
    """Bo (390 px) sees his Børn og Familie and Jobcenter threads, each with its caseworker and
    reply-by, and the municipality's name and logo; answers one and lands on the confirmation;
    at 320 px the thread with its file field fits, and at 1280 px the inbox and a thread;
    "Log ud" is on the screen and works."""
    async with stack.svc.write() as conn:
        logo = tenant_logo.check(DEMO_LOGO)
        await tenant_logo.set_logo(conn, stack.svc, stack.world.tenant_id, logo)
    await _update(stack, "bo_children", "Vi har modtaget din ansøgning om støtte.")
    await _update(stack, "bo_jobs", "Husk samtalen på jobcentret tirsdag.")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await page.set_viewport_size(NARROW)
    await tab.goto("/borger/log-ind")
    await _fits(page)
    await tab.check("polish-family-login-320")
    await page.set_viewport_size({"width": 390, "height": 844})
    await _family_login(tab, stack, stack.world.phones["bo"], "20 12 34 02")
    await page.get_by_text("Københavns Kommune").wait_for()
    shown = page.get_by_role("img", name="Københavns Kommune")
    assert await shown.is_visible()
    assert await shown.evaluate("i => i.complete && i.naturalWidth > 0")  # loaded, not broken
    assert await page.get_by_role("button", name="Log ud").is_visible()
    await tab.check("polish-family-inbox-390")

    for link, who, by in (
        ("Jobcenter – Lars", "Lars", "onsdag den 26. februar"),
        ("Børn og Familie – Mette", "Mette", "tirsdag den 25. februar"),
    ):
        await page.get_by_role("link", name=link).click()
        await page.wait_for_url("**/borger/samtaler/*")
        await page.get_by_text(f"Din sagsbehandler er {who}.").wait_for()
        assert await _rings(page) == set()
        await page.get_by_label("Din besked").fill(f"Hej {who}, tak for beskeden.")
        await page.get_by_role("button", name="Send").click()
        await page.wait_for_url("**?sendt=1")
        focused = await _focused_text(page)
        assert focused.startswith("status: Tak for din besked."), focused
        assert f"{who} svarer dig senest {by}." in focused
        assert await _outline(page) == "solid 3px"
        await tab.check(f"polish-family-sent-{who.lower()}-390")
        await page.set_viewport_size(NARROW)
        await _fits(page)
        await tab.check(f"polish-family-thread-{who.lower()}-320")
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_role("link", name="Tilbage til dine beskeder").click()
        await page.wait_for_url("**/borger/")

    items = page.locator(".inbox-item")
    texts = await items.all_inner_texts()
    assert len(texts) == 2
    assert "Mette svarer dig senest tirsdag den 25. februar." in texts[0] + texts[1]
    assert "Lars svarer dig senest onsdag den 26. februar." in texts[0] + texts[1]
    await page.set_viewport_size(NARROW)
    await _fits(page)
    await tab.check("polish-family-inbox-320")
    await tab.goto("/borger/?lang=ar")  # right to left, at 320 px too
    await _fits(page)
    await tab.check("polish-family-inbox-ar-320")
    await tab.goto("/borger/?lang=da")
    await page.set_viewport_size(WIDE)
    assert await page.locator(".inbox-item").count() == 2
    assert await page.get_by_role("img", name="Københavns Kommune").is_visible()
    await _fits(page)
    await tab.check("polish-family-inbox-1280")
    for link, who in (("Jobcenter – Lars", "Lars"), ("Børn og Familie – Mette", "Mette")):
        await page.get_by_role("link", name=link).click()
        await page.wait_for_url("**/borger/samtaler/*")
        await page.get_by_text(f"Din sagsbehandler er {who}.").wait_for()
        await page.get_by_text(f"Hej {who}, tak for beskeden.").wait_for()
        await _fits(page)
        await tab.check(f"polish-family-thread-{who.lower()}-1280")
        await page.get_by_role("link", name="Tilbage til dine beskeder").click()
        await page.wait_for_url("**/borger/")
    await page.get_by_role("button", name="Log ud").click()
    await page.wait_for_url("**/borger/log-ind?logget_ud=1")
    resp = await page.goto(stack.base + "/borger/")
    assert resp is not None and page.url.endswith("/borger/log-ind")


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_bisidder_sees_their_share_in_the_browser(
    stack: Stack, browser: Any, width: int
) -> None:
    """Søs, bisidder on Anna's case with consent, sees the update meant for her, nothing of
    Anna's own thread, and Anna's thread address is "not found" for her (1280 and 390 px)."""
    await _helper(stack, "bisidder", consent={"web": True})
    await stack.sms(stack.world.phones["anna"], "Hej Mette, det her er kun til dig.")
    await _update(stack, "anna", "Mødet er flyttet til torsdag kl. 10.")
    anna_conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    tab = await open_tab(browser, stack, mobile=width == 390)
    page = tab.page
    await _family_login(tab, stack, HELPER_PHONE)
    assert await page.locator(".inbox-item").count() == 1
    await tab.check(f"polish-bisidder-inbox-{width}")
    await page.get_by_role("link", name="Børn og Familie – Mette").click()
    await page.get_by_text("Mødet er flyttet til torsdag kl. 10.").wait_for()
    assert await page.get_by_text("kun til dig").count() == 0
    await _fits(page)
    await tab.check(f"polish-bisidder-thread-{width}")
    resp = await page.goto(f"{stack.base}/borger/samtaler/{anna_conv}")
    assert resp is not None and resp.status == 404
    assert await page.get_by_text("kun til dig").count() == 0
    await tab.check(f"polish-bisidder-not-found-{width}")


# What ends a helper's share: the fuldmagt's last day passed, or the web consent withdrawn.
LAPSES = {
    "representative": (
        {"authority_from": "2025-02-21"},
        {"authority_from": "2025-01-01", "authority_to": "2025-02-20"},
    ),
    "bisidder": ({"consent": {"web": True}}, {"consent": {"web": False}}),
}


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("role", sorted(LAPSES))
async def test_a_lapsed_authority_or_withdrawn_consent_hides_the_thread_in_the_browser(
    stack: Stack, browser: Any, role: str, width: int
) -> None:
    """Søs, representative (fuldmagt) or bisidder (consent) on Anna's case, reads the update;
    once the fuldmagt has ended or the consent is withdrawn her inbox is empty and the
    thread's address she had open is "not found", its words nowhere."""
    in_force, lapsed = LAPSES[role]
    part = await _helper(stack, role, **in_force)
    await _update(stack, "anna", "Vi har brug for en underskrift.")
    tab = await open_tab(browser, stack, mobile=width == 390)
    page = tab.page
    await _family_login(tab, stack, HELPER_PHONE)
    assert await page.locator(".inbox-item").count() == 1
    await page.get_by_role("link", name="Børn og Familie – Mette").click()
    await page.wait_for_url("**/borger/samtaler/*")
    await page.get_by_text("Vi har brug for en underskrift.").wait_for()
    thread_url = page.url
    await tab.check(f"polish-{role}-thread-{width}")

    async with stack.svc.write() as conn:
        await participants.update_participant(conn, stack.svc, stack.world.tenant_id, part, lapsed)
    await tab.goto("/borger/")
    assert await page.locator(".inbox-item").count() == 0
    await page.get_by_text("Du har ingen beskeder endnu.").wait_for()
    assert await page.get_by_text("underskrift").count() == 0
    await _fits(page)
    await tab.check(f"polish-{role}-lapsed-inbox-{width}")
    resp = await page.goto(thread_url)
    assert resp is not None and resp.status == 404
    assert await page.get_by_text("underskrift").count() == 0
    await tab.check(f"polish-{role}-lapsed-not-found-{width}")


async def test_the_demo_phone_speaks_danish_marks_urgent_and_explains_quiet_hours(
    stack: Stack, browser: Any
) -> None:
    """On the simulator's demo page a family sends an urgent SMS ("Haster"); the caseworker
    panel names kinds in Danish, and an answer written at 21:00 says it waits for nattero."""
    from bot.simulators import SimCaseworker, SimPhone
    from bot.simulators.twilio import STATE_KEY

    config = stack.sim.app[STATE_KEY].config
    config.phones.append(SimPhone(stack.world.phones["anna"], "Anna Andersen"))
    config.caseworker_tokens.append(
        SimCaseworker("Mette Holm (sagsbehandler)", stack.world.tokens["mette"])
    )
    config.caseworker_api_base = stack.base
    config.service_number = "+4533663366"
    stack.clock.advance(hours=11)  # Friday 21:00: nattero
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await page.goto(str(stack.sim.make_url("/")))
    await page.get_by_role("button", name="Skriv en hastebesked for mig").click()
    assert await page.get_by_label("Haster").is_checked()
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.locator("#phone-chat .bubble.out").get_by_text("HASTER: Det haster.").wait_for()
    await _fits(page)

    await page.locator("#cw-list button").first.click()
    chat = page.locator("#cw-chat")
    await chat.get_by_text("fra borgeren · haster").wait_for()
    await chat.get_by_text("automatisk kvittering").first.wait_for()
    assert "receipt" not in await chat.inner_text() and "citizen" not in await chat.inner_text()
    await page.get_by_label("Svar", exact=True).fill("Jeg ringer dig i morgen tidlig.")
    await page.get_by_role("button", name="Send svar").click()
    await chat.get_by_text("i kø – nattero, sendes").wait_for()
    reply_meta = await chat.locator(".bubble", has_text="Jeg ringer dig").inner_text()
    assert "sendes 22. feb." in reply_meta and "08.00" in reply_meta, reply_meta
    receipt = await chat.locator(".bubble", has_text="automatisk kvittering").inner_text()
    assert "nattero" not in receipt  # automatic answers go at any hour
    await page.get_by_text("Svaret er i kø, fordi det er nattero").wait_for()
    await _fits(page)
    await tab.check("polish-demo-phone-390")
    async with stack.svc.read() as conn:
        urgent = (
            await conn.execute(select(messages.c.urgent).where(messages.c.direction == "in"))
        ).scalars()
        assert list(urgent) == [True]
