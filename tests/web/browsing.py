"""What every browser test module shares: its stack and logins in the module's event loop.

Import the fixtures by name (pytest finds them in the module's namespace) and
use ``PYTESTMARK``:

    from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
    pytestmark = PYTESTMARK

and log a caseworker in with :func:`log_in`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.harness import Stack
from tests.web.conftest import Login, Tab

# SQLite only: the storage paths behind the pages run on both backends in the page tests.
PYTESTMARK = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module")
async def stack(bstack: Stack) -> Stack:
    """Here the stack runs in the module's event loop, beside the shared browser."""
    return bstack


@pytest_asyncio.fixture(loop_scope="module")
async def logins(blogins: dict[str, Login]) -> dict[str, Login]:
    return blogins


@pytest_asyncio.fixture(loop_scope="module", autouse=True)
async def close_tabs(stack: Stack, browser: Any) -> AsyncIterator[None]:
    """Each test's browser contexts close before its servers do."""
    yield
    for context in browser.contexts:
        await context.close()


async def log_in(tab: Tab, stack: Stack, login: Login) -> None:
    """A caseworker logs in on the pages: name and password, then the TOTP code; the inbox."""
    page = tab.page
    await tab.goto("/sagsbehandler/log-ind")
    await page.get_by_label("Brugernavn").fill(login.username)
    await page.get_by_label("Adgangskode").fill(login.password)
    await page.get_by_role("button", name="Fortsæt").click()
    await page.wait_for_url("**/sagsbehandler/log-ind/kode*")
    await page.get_by_label("Kode (6 cifre)").fill(login.code(stack))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/sagsbehandler/")
