"""The staff thread page says why triage flagged a message and lets staff teach it
(#16 points 2 and 8): "Ikke akut", "Er akut", "Bekymring". Both databases, real app."""

from __future__ import annotations

import html as htmllib
from typing import Any

from sqlalchemy import func, select

from bot.store.schema.core import journal_entries, messages
from bot.store.schema.triage import triage_examples
from tests.harness import Stack
from tests.web.conftest import Login, csrf_of, staff_login

URGENT = "Det haster!"
CONCERN = "jeg er så bekymret for min datter hun spiser ikke"


async def _thread(stack: Stack, body: str) -> tuple[str, str]:
    """Anna writes; (thread id, message id)."""
    assert (await stack.sms(stack.world.phones["anna"], body)).status == 200
    async with stack.svc.read() as conn:
        row = (
            await conn.execute(
                select(messages.c.conversation_id, messages.c.id)
                .where(messages.c.direction == "in")
                .order_by(messages.c.created_at.desc())
                .limit(1)
            )
        ).one()
    return str(row.conversation_id), str(row.id)


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:300])
    return htmllib.unescape(text)


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def _teach(stack: Stack, conv: str, mid: str, level: str) -> Any:
    page = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    return await stack.client.post(
        f"/sagsbehandler/samtaler/{conv}/beskeder/{mid}/triage",
        data={"csrf": csrf_of(page), "niveau": level},
        allow_redirects=False,
    )


async def test_the_thread_page_says_why_and_ikke_akut_stops_the_escalation(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Akut: why on the page; 'Ikke akut' stores an example, journalises, stops escalating."""
    conv, mid = await _thread(stack, URGENT)
    await staff_login(stack, logins["mette"])
    page = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert "Akut, udløst af:" in page and "haster, det haster" in page
    assert f'/beskeder/{mid}/triage"' in page
    for label in ("Ikke akut", "Er akut", "Bekymring"):
        assert f">{label}</button>" in page
    resp = await _teach(stack, conv, mid, "none")
    assert resp.status == 303
    assert resp.headers["Location"] == f"/sagsbehandler/samtaler/{conv}?laert=none&kvitteret=1"
    after = await _page(stack, resp.headers["Location"])
    assert "gemt som eksempel på „ikke akut“" in after and "Eskaleringen er stoppet" in after
    assert "Hastende: ingen har taget beskeden endnu" not in after
    assert await _count(stack, triage_examples, triage_examples.c.message_id == mid) == 1
    assert (
        await _count(
            stack,
            journal_entries,
            journal_entries.c.message_id == mid,
            journal_entries.c.kind.in_(["triage_example", "acknowledged"]),
        )
        == 2
    )


async def test_a_concern_shows_its_badge_and_why_in_the_inbox_and_thread(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Bekymring: 'Bekymring: svar i dag' in the inbox, the badge and why on the thread."""
    conv, _ = await _thread(stack, CONCERN)
    await staff_login(stack, logins["mette"])
    inbox = await _page(stack, "/sagsbehandler/")
    assert "Bekymring: svar i dag" in inbox
    page = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert '<strong class="badge badge-warning">Bekymring</strong>' in page
    assert "Bekymring, udløst af:" in page and "trivsel: bekymret" in page


async def test_bad_labels_and_other_teams_change_nothing(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A made-up label is a 400; another thread's address or Lars (another team): 404;
    no example, no entry."""
    conv, mid = await _thread(stack, URGENT)
    await staff_login(stack, logins["mette"])
    assert (await _teach(stack, conv, mid, "maybe")).status == 400
    # The message under another thread's address: 404 (the page's thread must hold it).
    csrf = csrf_of(await _page(stack, f"/sagsbehandler/samtaler/{conv}"))
    resp = await stack.client.post(
        f"/sagsbehandler/samtaler/{'0' * 8}-0000-0000-0000-{'0' * 12}/beskeder/{mid}/triage",
        data={"csrf": csrf, "niveau": "none"},
        allow_redirects=False,
    )
    assert resp.status == 404
    await stack.client.post(
        "/sagsbehandler/log-ud", data={"csrf": csrf_of(await _page(stack, "/sagsbehandler/"))}
    )
    await staff_login(stack, logins["lars"])
    page = await (await stack.client.get("/sagsbehandler/")).text()
    resp = await stack.client.post(
        f"/sagsbehandler/samtaler/{conv}/beskeder/{mid}/triage",
        data={"csrf": csrf_of(page), "niveau": "none"},
        allow_redirects=False,
    )
    assert resp.status == 404
    assert await _count(stack, triage_examples) == 0
    async with stack.svc.read() as conn:
        assert (
            await conn.scalar(select(messages.c.acknowledged_at).where(messages.c.id == mid))
            is None
        )
