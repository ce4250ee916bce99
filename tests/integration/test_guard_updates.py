"""The case system's updates go through the decision guard (#17 bad input; both databases).

A decision flagged as guidance by the case system is refused with a stable code, nothing
is queued and nothing reaches the gateway simulator; guidance and plain updates still go.
"""

from __future__ import annotations

from sqlalchemy import func, select, true

from bot.domain.guard import GUIDANCE_LINE
from bot.store.schema.core import journal_entries, messages, outbox
from tests.integration.conftest import Integ


async def _rows(integ: Integ) -> tuple[int, ...]:
    async with integ.stack.svc.read() as conn:
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


async def test_a_decision_flagged_as_guidance_is_refused_and_nothing_goes(integ: Integ) -> None:
    """nature=guidance (or message, or decision) on a text that reads as an afgørelse: 400
    decision_not_allowed, no row, no journal entry, nothing at the gateway."""
    stack, w = integ.stack, integ.stack.world
    await stack.drain()
    seen = len(await stack.sent())
    before = await _rows(integ)
    path = f"/api/v1/cases/{w.cases['anna']}/updates"
    texts = [
        "Du har fået afslag på din ansøgning om enkeltydelse.",
        "Vi har besluttet at standse din kontanthjælp fra 1. marts",
        "Your application for housing benefit has been refused",
    ]
    for text in texts:
        for nature in ("guidance", "message", "decision"):
            resp = await integ.call("POST", path, json={"body": text, "nature": nature})
            err = (await resp.json())["error"]
            assert resp.status == 400, (text, nature)
            assert err["code"] == "decision_not_allowed"
            assert "Digital Post" in err["message"]
    assert await _rows(integ) == before
    await stack.drain()
    assert len(await stack.sent()) == seen


async def test_guidance_and_plain_updates_still_go(integ: Integ) -> None:
    """Guidance gets the plain line that no decision was made; a plain update goes as written."""
    stack, w = integ.stack, integ.stack.world
    await stack.drain()
    seen = len(await stack.sent())
    path = f"/api/v1/cases/{w.cases['anna']}/updates"
    guidance = "Du kan søge om hjælp til tandbehandling på borger.dk"
    await integ.ok("POST", path, 201, json={"body": guidance, "nature": "guidance"})
    plain = "Vi har fået lægens udtalelse. Du hører fra os inden fredag."
    await integ.ok("POST", path, 201, json={"body": plain})
    await stack.drain()
    to_anna = [m["body"] for m in (await stack.sent())[seen:] if m["to"] == w.phones["anna"]]
    assert to_anna == [f"{guidance}\n{GUIDANCE_LINE}", plain]


async def test_an_unknown_nature_is_bad_field(integ: Integ) -> None:
    """nature must be message, guidance or decision: 400 bad_field, nothing written."""
    before = await _rows(integ)
    resp = await integ.call(
        "POST",
        f"/api/v1/cases/{integ.stack.world.cases['anna']}/updates",
        json={"body": "Hej", "nature": "vejledning"},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_field"
    assert await _rows(integ) == before
