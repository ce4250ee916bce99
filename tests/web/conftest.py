"""Fixtures for the web pages: the running stack, staff logins and page helpers."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
import pytest_asyncio
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.base.clock import COPENHAGEN
from bot.domain.accounts import set_credentials
from bot.store.engine import make_engine
from bot.store.schema import metadata
from tests.harness import Stack, start_stack

# Friday 21 February 2025, 10:00 in Copenhagen (as in tests/bot).
FRIDAY_MORNING = datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN)
PASSWORD = "korrekt-hest-batteri-47"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Login:
    username: str
    password: str
    totp_secret: str

    def code(self, stack: Stack, *, offset: int = 0) -> str:
        """The TOTP code for the stack's (fake) clock, ``offset`` steps away."""
        step = int(stack.clock.now().timestamp()) // 30 + offset
        return pyotp.TOTP(self.totp_secret).generate_otp(step)


async def give_logins(stack: Stack) -> dict[str, Login]:
    """Password + TOTP for Mette (caseworker), Lars (other team) and Hanne (lead)."""
    logins = {}
    for who in ("mette", "lars", "hanne"):
        username = f"{who}@kbh.example"
        secret = await set_credentials(
            stack.svc,
            staff_id=getattr(stack.world, who),
            username=username,
            password=PASSWORD,
        )
        logins[who] = Login(username, PASSWORD, secret)
    return logins


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_WEB_LIVE_POLL": "0.2"},
    )
    try:
        yield s
    finally:
        await s.session.close()


@pytest.fixture
async def logins(stack: Stack) -> dict[str, Login]:
    return await give_logins(stack)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def form_post(
    stack: Stack, page: str, action: str | None = None, **fields: str
) -> ClientResponse:
    """GET ``page``, then POST its form (with the page's CSRF token) to ``action``."""
    html = await (await stack.client.get(page)).text()
    data = {"csrf": csrf_of(html), **fields}
    return await stack.client.post(action or page, data=data, allow_redirects=False)


async def staff_login(stack: Stack, login: Login) -> None:
    """Log the stack's HTTP client in as a staff member (both factors)."""
    resp = await form_post(
        stack, "/sagsbehandler/log-ind", username=login.username, password=login.password
    )
    assert resp.status == 303, await resp.text()
    resp = await form_post(stack, "/sagsbehandler/log-ind/kode", code=login.code(stack))
    assert resp.status == 303, await resp.text()


async def code_from_sms(stack: Stack, phone: str) -> str:
    """The last one-time code the simulated gateway delivered to ``phone``."""
    await stack.drain()
    bodies = [b for b in await stack.sent_to(phone) if re.search(r"\b\d{6}\b", b)]
    assert bodies, "no code SMS was sent"
    found = re.search(r"\b(\d{6})\b", bodies[-1])
    assert found
    return found.group(1)


async def citizen_login(stack: Stack, phone: str, municipality: str = "kbh") -> None:
    """Log the stack's HTTP client in as the holder of ``phone`` (SMS code)."""
    resp = await form_post(stack, "/borger/log-ind", phone=phone, municipality=municipality)
    assert resp.status == 303, await resp.text()
    code = await code_from_sms(stack, phone)
    resp = await form_post(stack, "/borger/log-ind/kode", code=code)
    assert resp.status == 303, await resp.text()


# -- the browser: Debian's Chromium driven by Playwright ------------------------

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TOVHOLDER_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _require_browser() -> None:
    """Skip without Chromium on a developer's machine; in CI (CI=true) it must be there."""
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not Path(CHROMIUM).exists():
        if in_ci:
            pytest.fail(f"{CHROMIUM} is missing in CI: `make browser` installs it")
        pytest.skip(f"{CHROMIUM} is not installed (run `make browser`)")
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make web-assets` (npm ci)")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One Chromium for a whole test module (it takes seconds to start); a context per test."""
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def _empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
    finally:
        await engine.dispose()


@asynccontextmanager
async def browser_stack(
    database_url: str, keys: dict[str, bytes], extra: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    """A stack on an emptied database whose servers run in the caller's event loop.

    ``extra``: settings beside the browser tests' own (the live inbox polls fast).
    """
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

    s = await start_stack(
        client,
        server,
        database_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_WEB_LIVE_POLL": "0.2", **(extra or {})},
    )
    try:
        yield s
    finally:
        await s.session.close()
        for c in clients:
            await c.close()
        for srv in reversed(servers):
            await srv.close()


@pytest_asyncio.fixture(loop_scope="module")
async def bstack(database_url: str, keys: dict[str, bytes]) -> AsyncIterator[Stack]:
    """The stack for browser tests: like ``stack``, but in the module's event loop.

    (pytest-aiohttp's server fixtures live in each test's own loop; the shared
    browser lives in the module's, so this fixture starts the servers itself.)
    """
    async with browser_stack(database_url, keys) as s:
        yield s


@pytest_asyncio.fixture(loop_scope="module")
async def blogins(bstack: Stack) -> dict[str, Login]:
    return await give_logins(bstack)


@dataclass
class Tab:
    """A browser page with what the tests check on every page."""

    page: Any
    base: str
    csp_errors: list[str]

    async def goto(self, path: str) -> None:
        resp = await self.page.goto(self.base + path)
        assert resp is not None and resp.ok, (path, resp and resp.status)

    async def check(self, name: str) -> None:
        """Screenshot the page, and have axe-core find no WCAG 2.1 AA violations."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        result = await self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
        )
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"]
        ]
        assert problems == [], f"{name}: " + "\n".join(problems)
        assert self.csp_errors == [], self.csp_errors


async def open_tab(browser: Any, stack: Stack, *, mobile: bool = False) -> Tab:
    """A fresh browser context (own cookies) with axe-core injected on every page."""
    size = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900}
    context = await browser.new_context(viewport=size, locale="da-DK")
    # An init script is injected by the browser itself, so our strict CSP stays on.
    await context.add_init_script(path=str(AXE))
    page = await context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            errors.append(msg.text)

    page.on("console", on_console)
    return Tab(page=page, base=stack.base, csp_errors=errors)
