"""OpenID Connect logins in a real browser: Chromium via Playwright, axe-core on every page.

The SMS notice link → the citizen login → the MitID broker simulator → the
sensitive message; a caseworker through the municipality's identity
provider; and logging out there again (RP-initiated logout). SQLite only (the flows run on both backends in test_oidc.py);
screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from tests.harness import Stack, free_port, start_stack
from tests.web.conftest import FRIDAY_MORNING, _empty, open_tab
from tests.web.test_oidc import _sensitive_reply, idp_apps, oidc_extra, seed_identities

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module")
async def ostack(
    database_url: str, keys: dict[str, bytes], tmp_path: Path, browser: Any
) -> AsyncIterator[Stack]:
    """The stack with both identity providers, in the module's event loop (beside the browser)."""
    await _empty(database_url)
    servers: list[TestServer] = []
    clients: list[TestClient[Any, Any]] = []

    async def server(app: Any, *, port: int | None = None) -> TestServer:
        srv = TestServer(app, host="127.0.0.1", port=port)
        await srv.start_server()
        servers.append(srv)
        return srv

    async def client(srv: TestServer) -> TestClient[Any, Any]:
        c: TestClient[Any, Any] = TestClient(srv)
        await c.start_server()
        clients.append(c)
        return c

    app_port, staff_port, mitid_port = free_port(), free_port(), free_port()
    box: dict[str, Any] = {}
    staff_app, mitid_app = idp_apps(
        app_port, staff_port, mitid_port, lambda: box["clock"].now().timestamp()
    )
    await server(staff_app, port=staff_port)
    await server(mitid_app, port=mitid_port)
    s = await start_stack(
        client,
        server,
        database_url,
        keys,
        start=FRIDAY_MORNING,
        port=app_port,
        extra=oidc_extra(tmp_path, app_port, staff_port, mitid_port),
    )
    box["clock"] = s.clock
    await seed_identities(s)
    try:
        yield s
    finally:
        for context in browser.contexts:
            await context.close()
        await s.session.close()
        for c in clients:
            await c.close()
        for srv in reversed(servers):
            await srv.close()


async def test_notice_link_to_mitid_login_shows_the_message(ostack: Stack, browser: Any) -> None:
    """From the SMS link, through MitID at "substantial", to the sensitive message; axe-clean."""
    stack = ostack
    conv, link = await _sensitive_reply(stack, "Lægens udtalelse om din søns diagnose er kommet.")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await tab.goto(link)
    assert "/borger/log-ind" in page.url
    await page.get_by_text("følsomme oplysninger, så du skal logge ind med MitID").wait_for()
    await tab.check("oidc-citizen-login")
    await page.get_by_role("link", name="Log ind med MitID").click()
    await page.get_by_role("heading", name="MitID (simulator)").wait_for()
    await tab.check("oidc-mitid-simulator")
    await page.get_by_label("Anna Andersen").check()
    await page.get_by_label("Betydelig (MitID-app)").check()
    await page.get_by_role("button", name="Log ind", exact=True).click()
    await page.wait_for_url(re.compile(rf"/borger/samtaler/{conv}$"))
    await page.get_by_text("diagnose er kommet").wait_for()
    await tab.check("oidc-citizen-sensitive-message")


async def test_caseworker_logs_in_at_the_municipality_idp(ostack: Stack, browser: Any) -> None:
    """A caseworker chooses the municipality's login and lands on the inbox; axe-clean."""
    tab = await open_tab(browser, ostack)
    page = tab.page
    await tab.goto("/sagsbehandler/log-ind")
    await tab.check("oidc-staff-login")
    await page.get_by_role("link", name="Log ind med kommunens login").click()
    await page.get_by_role("heading", name="Kommunens login (simulator)").wait_for()
    await tab.check("oidc-staff-simulator")
    await page.get_by_label("Mette Holm (Familieteam)").check()
    await page.get_by_role("button", name="Log ind", exact=True).click()
    await page.wait_for_url(re.compile(r"/sagsbehandler/$"))
    await tab.check("oidc-staff-inbox")
    # An unknown identity gets the plain refusal page.
    other = await open_tab(browser, ostack)
    await other.goto("/sagsbehandler/log-ind/oidc")
    await other.page.get_by_label("Ukendt medarbejder").check()
    await other.page.get_by_role("button", name="Log ind", exact=True).click()
    await other.page.get_by_role("heading", name="Du blev ikke logget ind").wait_for()
    await other.check("oidc-staff-refused")


async def test_logout_goes_through_the_provider_and_back(ostack: Stack, browser: Any) -> None:
    """ "Log ud" ends the session here, passes the provider's logout and lands on our login page."""
    tab = await open_tab(browser, ostack)
    page = tab.page
    await tab.goto("/sagsbehandler/log-ind/oidc")
    await page.get_by_label("Mette Holm (Familieteam)").check()
    await page.get_by_role("button", name="Log ind", exact=True).click()
    await page.wait_for_url(re.compile(r"/sagsbehandler/$"))
    await page.get_by_role("button", name="Log ud").click()
    await page.wait_for_url(re.compile(r"/sagsbehandler/log-ind\?logget_ud=1$"))
    await tab.check("oidc-staff-logged-out")
    await tab.goto("/sagsbehandler/")
    assert "/sagsbehandler/log-ind" in page.url
