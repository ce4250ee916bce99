"""The caseworkers' API keeps its declared contract: ids, bad input, Idempotency-Key."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.domain.integration import idempotency
from bot.http.integration import staff_gate
from bot.http.integration.openapi import Operation
from bot.store.schema.core import absences, closing_days, messages
from bot.store.schema.integration import staff_idempotency_keys
from tests.integration.conftest import Integ
from tests.integration.staffworld import (
    fill_path,
    our_ids,
    row_counts,
    staff_operations,
    their_ids,
)


def _minimal_body(op: Operation) -> Any:
    """A body of the right shape (required fields with plausible values), or None."""
    if op.body is None or op.body_type != "application/json":
        return None
    body: dict[str, Any] = {}
    for name in op.body.get("required", ()):
        schema = op.body["properties"][name]
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if schema.get("format") == "date":
            body[name] = "2025-03-24"
        elif schema.get("format") == "date-time":
            body[name] = "2025-03-04T10:00:00+01:00"
        elif "enum" in schema:
            body[name] = schema["enum"][0]
        else:
            body[name] = {
                "string": "x",
                "integer": 1,
                "boolean": True,
                "object": {},
                "array": [],
            }[kind]
    return body


def _valid_body(op: Operation, ids: dict[str, str]) -> Any:
    """A body the view would accept for the right ids, so a 404 is about the id alone."""
    tail = op.path.rsplit("}", 1)[-1]
    known: dict[tuple[str, str], Any] = {
        ("POST", "/replies"): {"body": "Hej"},
        ("POST", "/close"): {"note": "Ringet op"},
        ("POST", "/owner"): {"owner_id": ids["staff"]},
        ("PUT", "/work-phone"): {"phone": "+4520123499"},
        ("PUT", "/hours"): {"reply_days": 2},
        ("PUT", "/rotation"): {"rotation": {"0": ids["staff"]}},
        ("POST", "/overrides"): {"day": "2025-03-03", "staff_id": ids["staff"]},
        ("POST", "/notes"): {"subject": "Telefon", "text": "Aftalt"},
        ("POST", "/restriction"): {"reason": "Borgeren beder om sletning"},
        ("POST", "/timeline"): {},
        ("POST", "/timeline/moves"): {"step": "decision", "notify": False},
        ("POST", "/appointments"): {"starts_at": "2025-03-04T10:00:00+01:00"},
        ("PATCH", ""): {"place": "Rådhuset"},
        ("POST", "/deadlines"): {"kind": "partshoering", "due_on": "2025-03-24"},
        ("POST", "/promise"): {"due": "2025-03-24"},
        ("POST", "/scheduled"): {"body": "Hej", "send_at": "2025-03-03T10:00:00+01:00"},
        ("PUT", "/quiet-hours"): {"quiet_from": "21:00"},
    }
    if (op.method, tail) in known:
        return known[(op.method, tail)]
    return _minimal_body(op)


async def test_another_municipalitys_ids_are_404_on_every_staff_route(integ: Integ) -> None:
    """Every caseworker route that takes an id answers 404 for the second municipality's ids, to a caseworker and to a team lead, and writes nothing."""
    stack = integ.stack
    theirs = await their_ids(stack, integ.other)
    ops = [op for op in staff_operations(stack) if op.path_params]
    assert len(ops) >= 30
    before = await row_counts(stack)
    for who in ("mette", "hanne"):
        for op in ops:
            path = fill_path(op, theirs)
            kw: dict[str, Any] = {}
            body = _valid_body(op, theirs)
            if body is not None:
                kw["json"] = body
            elif op.body_type == "text/calendar":
                kw["data"] = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
                kw["headers"] = {"Content-Type": "text/calendar"}
            if op.method == "POST":
                kw.setdefault("headers", {})["Idempotency-Key"] = str(uuid.uuid4())
            resp = await stack.api(op.method, path, who=who, **kw)
            text = await resp.text()
            assert resp.status == 404, (who, op.method, op.path, resp.status, text)
            assert json.loads(text)["error"]["code"].endswith("_not_found"), (op.path, text)
    assert await row_counts(stack) == before


async def test_our_own_ids_reach_the_views(integ: Integ) -> None:
    """The same requests with our own ids are not refused as unknown (the 404s above are about the municipality, not the request)."""
    stack = integ.stack
    ours = await our_ids(stack)
    not_found = []
    for op in staff_operations(stack):
        if not op.path_params or op.method != "GET":
            continue
        resp = await stack.api(op.method, fill_path(op, ours), who="hanne")
        if resp.status == 404:
            not_found.append((op.path, (await resp.json())["error"]["code"]))
    # Hanne leads Mette's team: only the timeline (none started) may be missing.
    assert {code for _, code in not_found} <= {"timeline_not_found"}, not_found


def _wrong(schema: dict[str, Any]) -> Any:
    """A JSON value of a type the schema does not allow."""
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    for candidate in (12345, "x", True, [1], {"a": 1}):
        fits = {
            "integer": isinstance(candidate, int) and not isinstance(candidate, bool),
            "string": isinstance(candidate, str),
            "boolean": isinstance(candidate, bool),
            "array": isinstance(candidate, list),
            "object": isinstance(candidate, dict),
            "null": candidate is None,
        }
        if not any(fits[k] for k in kinds):
            return candidate
    raise AssertionError(schema)


async def test_bad_input_on_every_staff_route_is_a_precise_4xx_and_writes_nothing(
    integ: Integ,
) -> None:
    """Malformed JSON, duplicate keys, NaN, a non-object, unknown fields, wrong types, NUL characters, a wrong content type and a huge body are refused with a stable code on every caseworker route with a body; nothing is written."""
    stack = integ.stack
    ours = await our_ids(stack)
    limit = stack.config.max_request_bytes
    before = await row_counts(stack)
    ops = [op for op in staff_operations(stack) if op.body is not None]
    assert len(ops) >= 20
    for op in ops:
        assert op.body is not None
        path = fill_path(op, ours)
        json_headers = {"Content-Type": "application/json"}
        cases: list[tuple[dict[str, Any], int, set[str]]] = [
            (
                {"data": b"x" * (limit + 1), "headers": {"Content-Type": op.body_type}},
                413,
                {"body_too_large"},
            ),
        ]
        if op.body_type == "application/json":
            good = _minimal_body(op)
            assert good is not None
            cases += [
                ({"data": b"{not json", "headers": json_headers}, 400, {"malformed_json"}),
                ({"data": b'{"a": 1, "a": 2}', "headers": json_headers}, 400, {"malformed_json"}),
                ({"data": b'{"a": NaN}', "headers": json_headers}, 400, {"malformed_json"}),
                ({"data": b"[1, 2]", "headers": json_headers}, 400, {"malformed_json"}),
                ({"data": b"\xff\xfe", "headers": json_headers}, 400, {"malformed_json"}),
                ({"json": {**good, "zz_unknown": 1}}, 400, {"unknown_field"}),
                (
                    {"data": json.dumps(good).encode(), "headers": {"Content-Type": "text/plain"}},
                    415,
                    {"unsupported_media_type"},
                ),
            ]
            for name, schema in op.body["properties"].items():
                codes = {str(schema.get("x-code", "bad_field"))}
                cases.append(({"json": {**good, name: _wrong(schema)}}, 400, codes))
                if "string" in schema.get("type", ()):
                    cases.append(({"json": {**good, name: "a\x00b"}}, 400, codes))
        else:
            cases.append(({"json": {"a": 1}}, 415, {"unsupported_media_type"}))
        for kw, status, codes in cases:
            headers = {**kw.pop("headers", {}), "Idempotency-Key": str(uuid.uuid4())}
            resp = await stack.api(op.method, path, who="hanne", headers=headers, **kw)
            text = await resp.text()
            assert resp.status == status, (op.method, op.path, kw, resp.status, text)
            assert json.loads(text)["error"]["code"] in codes, (op.method, op.path, kw, text)
    assert await row_counts(stack) == before


async def test_non_ids_in_the_path_are_404_and_unknown_query_parameters_400(integ: Integ) -> None:
    """A path id that is not one of ours is 404 (never a 500 or a database error); an undeclared or malformed query parameter is a 400."""
    stack = integ.stack
    for op in staff_operations(stack):
        if not op.path_params:
            continue
        path = op.path
        for name in op.path_params:
            path = path.replace("{" + name + "}", "not-an-id%00")
        resp = await stack.api(op.method, path, who="hanne")
        assert resp.status == 404, (op.method, op.path, resp.status)
        if op.method == "GET":
            resp = await stack.api("HEAD", path, who="hanne")
            assert resp.status == 404, ("HEAD", op.path, resp.status)
    resp = await stack.api("PUT", "/api/v1/case-types/x/template", who="", json=[])
    assert resp.status == 401
    team = stack.world.team_children
    resp = await stack.api("GET", f"/api/v1/teams/{team}/roster?colour=red", who="hanne")
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "unknown_parameter")
    resp = await stack.api("GET", f"/api/v1/teams/{team}/roster?days=many", who="hanne")
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "bad_field")
    resp = await stack.api("GET", "/api/v1/tasks?days=1&days=2")
    assert resp.status == 400


# -- Idempotency-Key on caseworker POSTs ---------------------------------------------------


async def _count(integ: Integ, table: Any, *where: Any) -> int:
    async with integ.stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def test_same_key_twice_gives_one_effect_and_the_same_answer(integ: Integ) -> None:
    """A reply posted twice with one key sends one SMS; the second answer is the first, replayed."""
    stack = integ.stack
    ours = await our_ids(stack)
    path = f"/api/v1/conversations/{ours['conversation']}/replies"
    body = {"body": "Vi ringer dig op i morgen."}
    headers = {"Idempotency-Key": "reply-1"}
    first = await stack.api("POST", path, json=body, headers=headers)
    second = await stack.api("POST", path, json=body, headers=headers)
    assert first.status == second.status == 201
    assert await first.json() == await second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (
        await _count(integ, messages, messages.c.direction == "out", messages.c.kind == "reply")
        == 1
    )
    # The stored answer is sealed, not readable from a dump.
    async with stack.svc.read() as conn:
        stored = (await conn.execute(select(staff_idempotency_keys))).one()
    assert b"Vi ringer" not in stored.response_enc and stored.state == "done"


async def test_concurrent_duplicates_have_one_effect(integ: Integ) -> None:
    """Six identical POSTs at once with one key add one closing day (a second would be a 409) and all get the same 201 body."""
    stack = integ.stack
    body = {"day": "2025-05-02", "name": "Lukkedag"}
    resps = await asyncio.gather(
        *(
            stack.api(
                "POST",
                "/api/v1/closing-days",
                who="hanne",
                json=body,
                headers={"Idempotency-Key": "closing-1"},
            )
            for _ in range(6)
        )
    )
    answers = [(r.status, await r.json()) for r in resps]
    assert {s for s, _ in answers} == {201}, answers
    assert all(a == answers[0][1] for _, a in answers)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in resps) == 5
    assert await _count(integ, closing_days) == 1
    # Without a key, the same request is a new request: the day already exists.
    again = await stack.api("POST", "/api/v1/closing-days", who="hanne", json=body)
    assert again.status == 409
    # Four identical replies at once: one SMS to the family.
    ours = await our_ids(stack)
    path = f"/api/v1/conversations/{ours['conversation']}/replies"
    reply = {"body": "Vi ringer i morgen."}
    resps = await asyncio.gather(
        *(stack.api("POST", path, json=reply, headers={"Idempotency-Key": "r"}) for _ in range(4))
    )
    bodies = [(r.status, await r.json()) for r in resps]
    assert all(b == bodies[0] for b in bodies) and bodies[0][0] == 201, bodies
    sent = await _count(integ, messages, messages.c.direction == "out", messages.c.kind == "reply")
    assert sent == 1


async def test_the_key_is_optional_and_scoped_to_the_caseworker(integ: Integ) -> None:
    """Without a key every POST has its effect; one key used by two caseworkers, or by two municipalities, is two keys."""
    stack = integ.stack
    w = stack.world
    body = {"starts_on": "2025-04-01", "ends_on": "2025-04-02"}
    for _ in range(2):
        assert (await stack.api("POST", "/api/v1/absences", json=body)).status == 201
    assert await _count(integ, absences, absences.c.staff_id == w.mette) == 2
    headers = {"Idempotency-Key": "same"}
    for who in ("mette", "sofie"):
        resp = await stack.api("POST", "/api/v1/absences", who=who, json=body, headers=headers)
        assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers
    theirs = await their_ids(stack, integ.other)
    resp = await stack.client.post(
        "/api/v1/absences",
        json=body,
        headers={"Authorization": f"Bearer {theirs['token']}", **headers},
    )
    assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers
    assert await _count(integ, absences, absences.c.staff_id == w.mette) == 3
    assert await _count(integ, absences, absences.c.staff_id == w.sofie) == 1


async def test_key_rules(integ: Integ) -> None:
    """Same key with another body or path is 422 and writes nothing; a malformed key is 400; a refused request does not use the key up."""
    stack = integ.stack
    w = stack.world
    headers = {"Idempotency-Key": "k1"}
    body = {"starts_on": "2025-04-01", "ends_on": "2025-04-02"}
    assert (await stack.api("POST", "/api/v1/absences", json=body, headers=headers)).status == 201
    before = await row_counts(stack)
    other_body = {**body, "ends_on": "2025-04-03"}
    resp = await stack.api("POST", "/api/v1/absences", json=other_body, headers=headers)
    assert (resp.status, (await resp.json())["error"]["code"]) == (422, "idempotency_key_reused")
    resp = await stack.api(
        "POST",
        "/api/v1/triage-terms",
        who="mette",
        json={"kind": "risk", "term": "xx"},
        headers=headers,
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (422, "idempotency_key_reused")
    for bad in ("", "x" * 201, "ä"):
        resp = await stack.api(
            "POST", "/api/v1/absences", json=body, headers={"Idempotency-Key": bad}
        )
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, "bad_idempotency_key")
    assert await row_counts(stack) == before
    # A foreign substitute: 404 from the view; the key is given back and a fixed retry runs.
    foreign = {**body, "substitute_id": integ.other["staff"]}
    headers = {"Idempotency-Key": "k2"}
    resp = await stack.api("POST", "/api/v1/absences", json=foreign, headers=headers)
    assert resp.status == 404
    ok = {**body, "substitute_id": w.sofie}
    resp = await stack.api("POST", "/api/v1/absences", json=ok, headers=headers)
    assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers


async def test_an_unfinished_key_is_never_run_twice(
    integ: Integ, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first request holds the key a duplicate gets 409 in_progress; a claim whose server stopped is 409 in_doubt, never a second effect."""
    monkeypatch.setattr(staff_gate, "WAIT_SECONDS", 0.3)
    stack = integ.stack
    svc = stack.svc
    body = {"starts_on": "2025-04-01", "ends_on": "2025-04-02"}
    req_hash = idempotency.request_hash("POST", "/api/v1/absences", body)
    claim = await idempotency.claim(
        svc, idempotency.staff_owner(stack.world.tenant_id, stack.world.mette), "held", req_hash
    )
    assert claim is not None
    headers = {"Idempotency-Key": "held"}
    resp = await stack.api("POST", "/api/v1/absences", json=body, headers=headers)
    assert (resp.status, (await resp.json())["error"]["code"]) == (
        409,
        "idempotency_key_in_progress",
    )
    async with svc.write() as conn:
        await conn.execute(
            update(staff_idempotency_keys).values(
                created_at=svc.clock.now() - idempotency.LEASE * 2
            )
        )
    resp = await stack.api("POST", "/api/v1/absences", json=body, headers=headers)
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "idempotency_key_in_doubt")
    assert await _count(integ, absences) == 0
    # After the retention period the key is free again.
    stack.clock.advance(hours=24, seconds=1)
    resp = await stack.api("POST", "/api/v1/absences", json=body, headers=headers)
    assert resp.status == 201
    assert await idempotency.purge(svc) == 0
    stack.clock.advance(hours=48)
    assert await idempotency.purge(svc) == 1
