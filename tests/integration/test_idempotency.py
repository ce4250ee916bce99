"""Idempotency-Key: one effect and the same answer, even for concurrent duplicates."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.store.schema.core import cases, messages
from bot.store.schema.integration import idempotency_keys
from tests.integration.conftest import Integ


async def _count(integ: Integ, table: object, *where: object) -> int:
    async with integ.stack.svc.read() as conn:
        q = select(func.count()).select_from(table)  # type: ignore[arg-type]
        return int((await conn.execute(q.where(*where))).scalar_one())  # type: ignore[arg-type]


async def test_concurrent_duplicates_have_one_effect_and_one_answer(integ: Integ) -> None:
    """Six identical POSTs at once with one key create one case and one SMS per recipient, and all get the same answer."""
    w = integ.stack.world
    body = {
        "number": "2025-500",
        "team_id": w.team_children,
        "owner_id": w.mette,
        "participants": [{"person_id": w.persons["anna"], "role": "party"}],
    }
    resps = await asyncio.gather(
        *(integ.call("POST", "/api/v1/cases", json=body, idem="case-500") for _ in range(6))
    )
    answers = [(r.status, await r.json()) for r in resps]
    assert {s for s, _ in answers} == {201}
    assert all(a == answers[0][1] for _, a in answers)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in resps) == 5
    assert await _count(integ, cases, cases.c.number == "2025-500") == 1
    case_id = answers[0][1]["id"]

    update = {"body": "Vi har modtaget dine papirer."}
    path = f"/api/v1/cases/{case_id}/updates"
    resps = await asyncio.gather(
        *(integ.call("POST", path, json=update, idem="update-1") for _ in range(5))
    )
    bodies = [await r.json() for r in resps]
    assert {r.status for r in resps} == {201} and all(b == bodies[0] for b in bodies)
    assert await _count(integ, messages, messages.c.kind == "update") == 1
    later = await integ.call("POST", path, json=update, idem="update-1")
    assert later.status == 201 and await later.json() == bodies[0]
    assert await _count(integ, messages, messages.c.kind == "update") == 1


async def test_key_rules(integ: Integ) -> None:
    """A reused key with another body is 422; a missing or malformed key is 400; a failed request does not use the key up; keys are per integration and expire."""
    path = "/api/v1/administrations"
    first = await integ.call("POST", path, json={"name": "A"}, idem="k1")
    assert first.status == 201
    again = await integ.call("POST", path, json={"name": "B"}, idem="k1")
    assert again.status == 422
    assert (await again.json())["error"]["code"] == "idempotency_key_reused"
    other_path = await integ.call("POST", "/api/v1/teams", json={"name": "A"}, idem="k1")
    assert other_path.status in (400, 422)
    resp = await integ.stack.client.post(
        path, json={"name": "C"}, headers={"Authorization": f"Bearer {integ.key}"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "idempotency_key_required"
    for bad in ("", "x" * 201, "ä"):
        resp = await integ.call("POST", path, json={"name": "C"}, headers={"Idempotency-Key": bad})
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] in (
            "bad_idempotency_key",
            "idempotency_key_required",
        )
    w = integ.stack.world
    bad_team = {"administration_id": integ.other["administration"], "name": "T"}
    assert (await integ.call("POST", "/api/v1/teams", json=bad_team, idem="k2")).status == 404
    good_team = {"administration_id": w.admin_children, "name": "T"}
    assert (await integ.call("POST", "/api/v1/teams", json=good_team, idem="k2")).status == 201

    other_key = await integ.new_key("directory:write")
    mine = await integ.call("POST", path, json={"name": "A"}, idem="k1", key=other_key)
    assert mine.status == 201 and (await mine.json())["id"] != (await first.json())["id"]

    integ.stack.clock.advance(hours=25)
    fresh = await integ.call("POST", path, json={"name": "B"}, idem="k1")
    assert fresh.status == 201 and "Idempotent-Replayed" not in fresh.headers
    async with integ.stack.svc.read() as conn:
        stored = (await conn.execute(select(idempotency_keys.c.response_enc))).scalars().all()
    assert stored and all(b'"name"' not in blob for blob in stored)  # answers are sealed
