"""QA run (December 2026): words and badges on the desk's lines kept apart.

On SQLite and PostgreSQL through the real app. The templates are rendered with
``trim_blocks``, which eats the newline after a block tag: a badge on its own line
ran into the next word ("HasterSag BF-…") and "på svar" into its "·" ("på svar· 2
beskeder").
"""

from __future__ import annotations

import html as htmllib
import re

from tests.harness import Stack
from tests.web.conftest import Login, staff_login


def _text(page: str) -> str:
    """The page's visible words, as a reader sees them: tags gone, whitespace one space."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", page)))


async def _page(stack: Stack, path: str) -> str:
    resp = await stack.client.get(path, allow_redirects=False)
    assert resp.status == 200, (path, resp.status)
    return await resp.text()


async def test_badges_and_dots_stand_apart_on_the_inbox_the_list_and_the_case(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """An urgent message: "Haster Sag 2025-001" on the inbox, "Haster" apart from the next word
    on Mine sager, and "på svar · 2 beskeder" on the case page."""
    await stack.sms(stack.world.phones["anna"], "Det haster, min søn er væk")
    await staff_login(stack, logins["mette"])
    inbox = _text(await _page(stack, "/sagsbehandler/"))
    assert "Haster Sag 2025-001" in inbox, inbox
    cases = await _page(stack, "/sagsbehandler/sager")
    assert "Haster</strong>" in cases
    assert not re.search(r"Haster</strong>\S", cases)
    case = _text(await _page(stack, f"/sagsbehandler/sager/{stack.world.cases['anna']}"))
    assert re.search(r"på svar · \d+ beskeder?", case), case
    assert "svar·" not in case
