"""Mine sager in a real browser: list, filters, search, case page; at 1280 px and 390 px.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) on every page;
SQLite only (test_staff_cases.py covers both backends); screenshots land in
artifacts/screenshots/. The search is posted: what was typed is in no URL the
browser asks for, is sent to, or keeps in its history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlencode

from sqlalchemy import select

from bot.store.schema.core import conversations, messages
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK


async def _no_sideways_scroll(tab: Tab) -> None:
    width = await tab.page.evaluate("document.documentElement.scrollWidth")
    inner = await tab.page.evaluate("window.innerWidth")
    assert width <= inner, (width, inner)


def _watch_urls(tab: Tab) -> list[str]:
    """Every URL the tab asks for, and every Location it is sent to, from now on."""
    seen: list[str] = []
    tab.page.on("request", lambda request: seen.append(request.url))
    tab.page.on("response", lambda response: seen.append(response.headers.get("location", "")))
    return seen


def _assert_not_in(urls: list[str], *typed: str) -> None:
    for text in typed:
        found = [u for u in urls if text.lower() in unquote_plus(u).lower()]
        assert found == [], (text, found)


async def test_find_a_case_and_open_its_thread(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """From the inbox to all my cases; filter, search, a too-short search; the case page and
    on to its thread."""
    await stack.sms(stack.world.phones["anna"], "Hej Mette, hvornår hører jeg om min ansøgning?")
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    urls = _watch_urls(tab)
    await page.get_by_role("link", name="Alle mine sager").click()
    await page.wait_for_url("**/sagsbehandler/sager")
    cases = page.get_by_role("region", name="Sager")
    assert await cases.get_by_role("listitem").count() == 4
    await tab.check("cases-list")

    await page.get_by_label("venter på svar fra os").check()
    await page.get_by_role("button", name="Vis sager").click()
    await page.wait_for_url("**venter=1*")
    assert await cases.get_by_role("listitem").count() == 1
    await cases.get_by_text("1 besked venter på svar i 1 samtale").wait_for()

    await page.get_by_role("link", name="Ryd søgning og filtre").click()
    await page.get_by_label("Søg efter navn, sagsnummer eller telefonnummer").fill("a")
    await page.get_by_role("button", name="Vis sager").click()
    await page.get_by_role("alert").get_by_text("Skriv mindst 2 tegn for at søge.").wait_for()
    await tab.check("cases-search-error")

    await page.get_by_label("Søg efter navn, sagsnummer eller telefonnummer").fill("anna andersen")
    await page.get_by_role("button", name="Vis sager").click()
    found = page.get_by_role("region", name="Fundne sager")
    assert await found.get_by_role("listitem").count() == 1
    assert page.url == tab.base + "/sagsbehandler/sager"
    await tab.check("cases-search")
    await found.get_by_role("link", name="Sag 2025-001: Anna Andersen").click()
    await page.wait_for_url("**/sagsbehandler/sager/*")
    await page.get_by_role("heading", name="Sag 2025-001", level=1).wait_for()
    threads = page.get_by_role("region", name="Samtaler")
    await threads.get_by_text("hvornår hører jeg om min ansøgning?").wait_for()
    await page.locator("dd.next-meeting").get_by_text("Intet møde booket").wait_for()
    assert await page.get_by_role("link", name="Ny besked").get_attribute("href") == (
        f"/sagsbehandler/sager/{stack.world.cases['anna']}/ny-besked"
    )
    await tab.check("cases-case")
    await threads.get_by_role("link", name="Anna Andersen").click()
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    # Back to the search page: the address holds no search, nor did any request or redirect.
    await page.go_back()
    await page.wait_for_url("**/sagsbehandler/sager/*")
    _assert_not_in(urls, "anna andersen", "anna+andersen")


async def test_cases_on_a_phone(stack: Stack, browser: Any, logins: dict[str, Login]) -> None:
    """At 390 px the list, the filters and the case page (with its next meeting) fit without
    sideways scrolling."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/appointments",
        json={"starts_at": "2025-02-25T10:00:00+01:00", "place": "Rådhuset, lokale 12"},
    )
    assert resp.status == 201, await resp.text()
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await log_in(tab, stack, logins["hanne"])
    urls = _watch_urls(tab)
    await tab.goto("/sagsbehandler/sager")
    cases = page.get_by_role("region", name="Sager")
    assert await cases.get_by_role("listitem").count() == 4
    await cases.get_by_text("Teamets sag · ansvarlig Mette Holm").first.wait_for()
    await _no_sideways_scroll(tab)
    await tab.check("cases-list-phone")
    # A search by phone number, posted: the list shows the case, the address stays bare.
    await page.get_by_label("Søg efter navn, sagsnummer eller telefonnummer").fill("20 12 34 01")
    await page.get_by_role("button", name="Vis sager").click()
    found = page.get_by_role("region", name="Fundne sager")
    assert await found.get_by_role("listitem").count() == 1
    assert page.url == tab.base + "/sagsbehandler/sager"
    _assert_not_in(urls, "20 12 34 01", "20123401")
    await _no_sideways_scroll(tab)
    await tab.check("cases-search-phone")
    await page.get_by_role("link", name="Ryd søgning og filtre").click()
    await page.wait_for_url("**/sagsbehandler/sager")
    cases = page.get_by_role("region", name="Sager")
    await cases.get_by_role("link", name="Sag 2025-001: Anna Andersen").click()
    await page.wait_for_url("**/sagsbehandler/sager/*")
    await page.get_by_role("heading", name="Om sagen").wait_for()
    meeting = page.locator("dd.next-meeting")
    await meeting.get_by_text("tirsdag den 25. februar kl. 10:00–11:00").wait_for()
    await meeting.get_by_text("Rådhuset, lokale 12").wait_for()
    await _no_sideways_scroll(tab)
    await tab.check("cases-case-phone")


async def _statuses(stack: Stack, case: str) -> list[str]:
    """The statuses of the messages on the case."""
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(messages.c.status)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(conversations.c.case_id == case)
        )
        return sorted(r.status for r in rows)


async def _compose(tab: Tab, case: str, to: str, text: str) -> None:
    """Ny besked from the case to one participant, sent now."""
    page = tab.page
    await tab.goto(f"/sagsbehandler/sager/{case}/ny-besked")
    await page.get_by_label(to).check()
    await page.locator("#body").fill(text)
    await page.get_by_role("button", name="Send besked").click()
    await page.wait_for_url("**/ny-besked?sendt=*")


async def test_a_thread_the_caseworker_started_says_what_became_of_the_message(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Ny besked to a family that has not written: the case page says the message could not be
    delivered, or is still queued, never "Besvaret"; a family's message answered still is."""
    case = stack.world.cases["eriksen"]
    await stack.faults(undeliverable=[stack.world.phones["shared_same"]])
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await _compose(tab, case, "Eva Eriksen", "Hej Eva. Mødet er flyttet til tirsdag. Hilsen Mette")
    await stack.drain()
    await stack.settle()
    assert await _statuses(stack, case) == ["failed"]
    stack.clock.advance(minutes=1)
    await _compose(tab, case, "Frank Eriksen", "Hej Frank. Ring gerne til mig. Hilsen Mette")
    assert await _statuses(stack, case) == ["failed", "queued"]

    await tab.goto(f"/sagsbehandler/sager/{case}")
    threads = page.get_by_role("region", name="Samtaler")
    eva = threads.get_by_role("listitem").filter(has_text="Eva Eriksen")
    frank = threads.get_by_role("listitem").filter(has_text="Frank Eriksen")
    await eva.locator(".badge").get_by_text("Kunne ikke leveres", exact=True).wait_for()
    await frank.locator(".badge").get_by_text("I kø", exact=True).wait_for()
    assert await threads.get_by_text("Besvaret").count() == 0
    await tab.check("cases-case-started-by-us")

    # Anna wrote and Mette answered: that thread is "Besvaret".
    await stack.sms(stack.world.phones["anna"], "Hej Mette, hvornår hører jeg noget?")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Hej Anna. I morgen."}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()  # the answer is out ("Svar i kø" until then)
    await stack.settle()
    await tab.goto(f"/sagsbehandler/sager/{stack.world.cases['anna']}")
    answered = page.get_by_role("region", name="Samtaler").get_by_role("listitem")
    await answered.locator(".badge").get_by_text("Besvaret", exact=True).wait_for()


async def test_a_thread_opened_from_its_case_goes_back_to_the_case(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """From the case page to a thread: the back link goes to the case, after a refused and a
    sent reply too; from the inbox, or with a "fra" that is not the thread's case page (another
    site, another case, a path trick), it goes to the inbox."""
    await stack.sms(stack.world.phones["anna"], "Hej Mette, hvornår hører jeg noget?")
    case = stack.world.cases["anna"]
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await tab.goto(f"/sagsbehandler/sager/{case}")
    await (
        page.get_by_role("region", name="Samtaler")
        .get_by_role("link", name="Anna Andersen")
        .click()
    )
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    conv = page.url.split("/samtaler/")[1].split("?")[0]
    back = page.get_by_role("link", name="Tilbage til sag 2025-001")
    assert await back.get_attribute("href") == f"/sagsbehandler/sager/{case}"
    # A reply the server refuses (only spaces), then one it sends: the way back stays.
    box = page.get_by_label("Dit svar (sendes som SMS)")
    await box.fill("   ")
    await page.get_by_role("button", name="Send svar").click()
    await page.get_by_role("alert").get_by_text("Skriv et svar, før du sender.").wait_for()
    assert await back.get_attribute("href") == f"/sagsbehandler/sager/{case}"
    await box.fill("Hej Anna. Jeg ringer i morgen.")
    await page.get_by_role("button", name="Send svar").click()
    await page.wait_for_url("**sendt=1*")
    await tab.check("cases-thread-from-case")
    await back.click()
    await page.wait_for_url(f"**/sagsbehandler/sager/{case}")
    await page.get_by_role("heading", name="Sag 2025-001", level=1).wait_for()

    inbox = "/sagsbehandler/"
    for fra in (
        None,
        "https://example.org/",
        "//example.org/sagsbehandler/sager/" + case,
        f"/sagsbehandler/sager/{stack.world.cases['bo_children']}",
        f"/sagsbehandler/sager/{case}/../../../borger/",
        f"/sagsbehandler/sager/{case}?x=1",
        "javascript:alert(1)",
    ):
        query = "" if fra is None else "?" + urlencode({"fra": fra})
        await tab.goto(f"/sagsbehandler/samtaler/{conv}{query}")
        link = page.locator("a.back-link")
        assert (await link.get_attribute("href"), await link.inner_text()) == (
            inbox,
            "Tilbage til indbakken",
        ), fra
