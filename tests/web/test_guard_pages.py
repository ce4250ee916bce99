"""The decision guard on the staff pages: the thread reply and Ny besked (both databases).

A text that reads as an afgørelse is refused on the page with a Danish message that
points to Digital Post; nothing is queued and nothing reaches the gateway simulator.
The plain quick update still goes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from sqlalchemy import func, select, true

from bot.store.schema.core import journal_entries, messages, outbox
from tests.harness import Stack
from tests.web.conftest import Login, csrf_of, form_post, staff_login

DECISION = "Hej Anna. Du har fået afslag på hjælp til ny vaskemaskine."


async def _rows(stack: Stack) -> tuple[int, ...]:
    async with stack.svc.read() as conn:
        return tuple(
            [
                int((await conn.execute(select(func.count()).select_from(t).where(w))).scalar_one())
                for t, w in (
                    (messages, true()),
                    (outbox, true()),
                    # Outbound SMS filed; delivery receipts may land at any time.
                    (journal_entries, journal_entries.c.kind.like("sms_out_%")),
                )
            ]
        )


async def _compose(stack: Stack, case: str, **fields: str) -> Any:
    url = f"/sagsbehandler/sager/{case}/ny-besked"
    html = await (await stack.client.get(url)).text()
    data = FormData(default_to_multipart=True)
    data.add_field("csrf", csrf_of(html))
    for name, value in {"to": "alle", **fields}.items():
        data.add_field(name, value)
    return await stack.client.post(url, data=data, allow_redirects=False)


async def test_compose_refuses_a_decision_and_sends_the_quick_update(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Ny besked: the decision is refused (400, the form kept, Digital Post named), nothing
    queued or sent; the plain quick update goes to Anna's phone."""
    await stack.drain()
    seen = len(await stack.sent())
    await staff_login(stack, logins["mette"])
    case = stack.world.cases["anna"]
    before = await _rows(stack)
    resp = await _compose(stack, case, body=DECISION)
    page = await resp.text()
    assert resp.status == 400
    assert "Teksten lyder som en afgørelse" in page and "Digital Post" in page
    assert "vaskemaskine" in page  # the caseworker's text is kept in the form
    assert await _rows(stack) == before
    await stack.drain()
    assert len(await stack.sent()) == seen
    plain = "Hej Anna. Mødet på fredag er flyttet til kl. 10. Hilsen Mette"
    resp = await _compose(stack, case, body=plain)
    assert resp.status == 303, (await resp.text())[:500]
    await stack.drain()
    assert [m["body"] for m in (await stack.sent())[seen:]] == [plain]


async def test_thread_reply_refuses_a_decision_ticked_as_guidance(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Svar: a decision ticked "vejledning" or sent later is refused on the page; nothing goes."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvad med min ansøgning?")
    conv = str((await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"])
    await stack.drain()
    seen = len(await stack.sent())
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    before = await _rows(stack)
    for fields in (
        {"guidance": "1"},
        {},
        {"send_date": "2025-02-24", "send_time": "09:00"},
    ):
        resp = await form_post(stack, thread, f"{thread}/svar", body=DECISION, **fields)
        page = await resp.text()
        assert resp.status == 400, fields
        assert "Teksten lyder som en afgørelse" in page and "Digital Post" in page
    assert await _rows(stack) == before
    await stack.drain()
    assert len(await stack.sent()) == seen
    resp = await form_post(stack, thread, f"{thread}/svar", body="Vi ser på den i dag.")
    assert resp.status == 303
    await stack.drain()
    assert [m["body"] for m in (await stack.sent())[seen:]] == ["Vi ser på den i dag."]
