"""The case system's REST API: directory, cases, participants, updates, errors and isolation."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.domain import consent
from bot.domain.integration.credentials import hash_key, revoke_key
from bot.http.integration.api import api
from bot.store.schema.consent import consent_records
from bot.store.schema.core import (
    administrations,
    cases,
    journal_entries,
    messages,
    persons,
    staff,
)
from bot.store.schema.integration import external_refs, integration_keys
from tests.integration.conftest import Integ

ALL_TABLES = (administrations, cases, persons, staff, messages, external_refs, consent_records)


async def _counts(integ: Integ) -> dict[str, int]:
    async with integ.stack.svc.read() as conn:
        return {
            t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in ALL_TABLES
        }


async def _person(integ: Integ, name: str, phone: str | None, ref: str | None = None) -> str:
    body: dict[str, Any] = {"name": name, "phone": phone}
    if ref:
        body["ref"] = ref
    return str((await integ.ok("POST", "/api/v1/persons", 201, json=body))["id"])


async def test_directory_round_trip_never_echoes_personal_data(integ: Integ) -> None:
    """Administrations, teams, staff and persons are created, read back and listed; names and numbers never come back and are sealed at rest."""
    adm = await integ.ok(
        "POST", "/api/v1/administrations", 201, json={"name": "Socialforvaltningen"}
    )
    team = await integ.ok(
        "POST",
        "/api/v1/teams",
        201,
        json={"administration_id": adm["id"], "name": "Team Syd", "reply_days": 3},
    )
    assert team["reply_days"] == 3 and team["administration_id"] == adm["id"]
    resp = await integ.call(
        "POST",
        "/api/v1/staff",
        json={"team_id": team["id"], "first_name": "Sofie", "full_name": "Sofie Dahl", "ref": "SD"},
    )
    member = await resp.json()
    assert resp.status == 201 and "Sofie" not in await resp.text()
    assert member["role"] == "caseworker" and member["ref"] == "SD"
    resp = await integ.call(
        "POST",
        "/api/v1/persons",
        json={"name": "Gitte Gram", "phone": "20 12 99 88", "ref": "P-77"},
    )
    text = await resp.text()
    assert resp.status == 201 and "Gitte" not in text and "20129988" not in text
    person = await resp.json()
    assert person["has_phone"] is True
    assert await integ.ok("GET", f"/api/v1/persons/{person['id']}") == person
    assert await integ.ok("GET", f"/api/v1/staff/{member['id']}") == member
    assert await integ.ok("GET", f"/api/v1/teams/{team['id']}") == team
    assert await integ.ok("GET", f"/api/v1/administrations/{adm['id']}") == adm
    by_ref = await integ.ok("GET", "/api/v1/persons?ref=P-77")
    assert [p["id"] for p in by_ref["items"]] == [person["id"]]
    in_team = await integ.ok("GET", f"/api/v1/staff?team_id={team['id']}")
    assert [s["id"] for s in in_team["items"]] == [member["id"]]
    async with integ.stack.svc.read() as conn:
        row = (await conn.execute(select(persons).where(persons.c.id == person["id"]))).one()
    assert b"Gitte" not in row.name_enc and b"20129988" not in (row.phone_enc or b"")


async def test_case_with_kle_owner_and_participants(integ: Integ) -> None:
    """A case is created with KLE code and participants (a representative with a period and consent); a new owner is journalised; participant rules give precise 400/409s."""
    w = integ.stack.world
    anna = w.persons["anna"]
    rep = await _person(integ, "Rikke Advokat", "+4540404040")
    case = await integ.ok(
        "POST",
        "/api/v1/cases",
        201,
        json={
            "number": "2025-100",
            "team_id": w.team_children,
            "owner_id": w.mette,
            "case_type": "child_support",
            "kle_code": "27.24.00 G01",
            "participants": [
                {"person_id": anna, "role": "party", "consent": {"sms": True, "web": None}},
                {
                    "person_id": rep,
                    "role": "representative",
                    "authority_from": "2025-01-01",
                    "authority_to": "2025-12-31",
                },
            ],
        },
    )
    assert case["kle_code"] == "27.24.00 G01" and case["administration_id"] == w.admin_children
    roles = {p["role"]: p for p in case["participants"]}
    assert roles["party"]["consent"] == {"sms": True, "web": None}
    assert roles["representative"]["authority_to"] == "2025-12-31"
    assert await integ.ok("GET", f"/api/v1/cases/{case['id']}") == case
    listed = await integ.ok("GET", "/api/v1/cases?number=2025-100")
    assert listed["items"] == [case]
    parts = await integ.ok("GET", f"/api/v1/cases/{case['id']}/participants")
    assert {p["id"] for p in parts["items"]} == {p["id"] for p in case["participants"]}

    changed = await integ.ok(
        "PATCH",
        f"/api/v1/cases/{case['id']}",
        json={"owner_id": w.hanne, "kle_code": None, "status": "closed"},
    )
    assert (changed["owner_id"], changed["kle_code"], changed["status"]) == (
        w.hanne,
        None,
        "closed",
    )
    async with integ.stack.svc.read() as conn:
        kinds = set(
            (
                await conn.execute(
                    select(journal_entries.c.kind, journal_entries.c.actor).where(
                        journal_entries.c.case_id == case["id"]
                    )
                )
            ).all()
        )
    assert kinds == {
        ("consent_case_system", f"integration:{integ.key_id}"),  # the party's "yes" to SMS
        ("case_owner_changed", f"integration:{integ.key_id}"),
        ("case_closed", f"integration:{integ.key_id}"),
    }
    rep_part = roles["representative"]["id"]
    patched = await integ.ok(
        "PATCH",
        f"/api/v1/participants/{rep_part}",
        json={"authority_to": "2025-06-30", "consent": {"sms": False}, "entitled": False},
    )
    assert patched["authority_to"] == "2025-06-30" and patched["consent"]["sms"] is False
    assert patched["entitled"] is False and patched["authority_from"] == "2025-01-01"

    w = integ.stack.world
    case_id = w.cases["anna"]
    bo = w.persons["bo"]
    path = f"/api/v1/cases/{case_id}/participants"
    for body, code in (
        ({"person_id": bo, "role": "representative"}, "authority_required"),
        (
            {"person_id": bo, "role": "bisidder", "authority_from": "2025-01-01"},
            "authority_not_allowed",
        ),
        (
            {
                "person_id": bo,
                "role": "representative",
                "authority_from": "2025-02-01",
                "authority_to": "2025-01-01",
            },
            "bad_date_range",
        ),
        ({"person_id": w.persons["anna"], "role": "party"}, "participant_exists"),
        ({"person_id": bo, "role": "uncle"}, "bad_field"),
    ):
        resp = await integ.call("POST", path, json=body)
        assert resp.status in (400, 409), await resp.text()
        assert (await resp.json())["error"]["code"] == code
    created = await integ.ok("POST", path, 201, json={"person_id": bo, "role": "bisidder"})
    assert created["authority_from"] is None and created["consent"] == {"sms": None, "web": None}


async def test_lists_are_paginated_with_opaque_cursors(integ: Integ) -> None:
    """Following next_cursor visits every administration once; a forged cursor is 400 bad_cursor."""
    for n in range(5):
        await integ.ok("POST", "/api/v1/administrations", 201, json={"name": f"Forvaltning {n}"})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/api/v1/administrations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await integ.ok("GET", url)
        seen += [a["id"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7  # the seeded two and five new
    assert pages == 4
    for bad in ("nope", "eyJ2IjoxLCJhZnRlciI6IngifQ"):
        resp = await integ.call("GET", f"/api/v1/administrations?cursor={bad}")
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_cursor"
    for query, code in (
        ("limit=0", "bad_parameter"),
        ("limit=x", "bad_parameter"),
        ("cursor=%00", "bad_parameter"),
        ("limit=1&limit=2", "bad_parameter"),
        ("foo=1", "unknown_parameter"),
    ):
        resp = await integ.call("GET", f"/api/v1/administrations?{query}")
        assert resp.status == 400 and (await resp.json())["error"]["code"] == code


async def test_update_reaches_only_entitled_participants(integ: Integ) -> None:
    """An update goes by SMS to participants who are entitled, consent (and did not text STOP), have a phone and (representatives) hold authority today, each journalised; nobody to reach, a blank text or a closed case are refused with nothing queued."""
    w = integ.stack.world
    stack = integ.stack
    no_phone = await _person(integ, "Uden Telefon", None)
    refused = await _person(integ, "Nej Tak", "+4541414141")
    expired_rep = await _person(integ, "Gammel Fuldmagt", "+4542424242")
    rep = await _person(integ, "Ny Fuldmagt", "+4543434343")
    helper = await _person(integ, "Bi Sidder", "+4544444444")
    stopped = await _person(integ, "Stop Sms", "+4545454545")
    async with stack.svc.write() as conn:
        await conn.execute(
            consent_records.insert().values(
                consent.stop_rows(w.tenant_id, [stopped], "stop", stack.clock.now())
            )
        )
    case = await integ.ok(
        "POST",
        "/api/v1/cases",
        201,
        json={
            "number": "2025-200",
            "team_id": w.team_children,
            "owner_id": w.mette,
            "participants": [
                {"person_id": w.persons["anna"], "role": "party"},
                {"person_id": no_phone, "role": "parent"},
                {"person_id": refused, "role": "parent", "consent": {"sms": False}},
                {
                    "person_id": expired_rep,
                    "role": "representative",
                    "authority_from": "2024-01-01",
                    "authority_to": "2025-02-20",
                },
                {"person_id": rep, "role": "representative", "authority_from": "2025-02-21"},
                {"person_id": helper, "role": "bisidder", "entitled": False},
                {"person_id": stopped, "role": "parent"},
            ],
        },
    )
    result = await integ.ok(
        "POST",
        f"/api/v1/cases/{case['id']}/updates",
        201,
        json={"body": "Vi venter på lægens udtalelse. Du hører fra os senest fredag."},
    )
    by_person = {p["id"]: p["person_id"] for p in case["participants"]}
    sent = {by_person[m["participant_id"]] for m in result["messages"]}
    assert sent == {w.persons["anna"], rep}
    assert {by_person[s["participant_id"]]: s["reason"] for s in result["skipped"]} == {
        no_phone: "no_phone",
        refused: "no_consent",
        expired_rep: "authority_not_in_force",
        helper: "not_entitled",
        stopped: "opted_out",
    }
    await stack.drain()
    update = "Vi venter på lægens udtalelse. Du hører fra os senest fredag."
    assert update in await stack.sent_to(w.phones["anna"])
    assert update in await stack.sent_to("+4543434343")
    assert await stack.sent_to("+4541414141") == []
    async with stack.svc.read() as conn:
        filed = (
            await conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(
                    journal_entries.c.case_id == case["id"],
                    journal_entries.c.kind == "sms_out_update",
                )
            )
        ).scalar_one()
    assert filed == 2

    w = integ.stack.world
    before = await _counts(integ)
    nobody = await integ.ok(
        "POST",
        "/api/v1/cases",
        201,
        json={"number": "2025-300", "team_id": w.team_children, "owner_id": w.mette},
    )
    resp = await integ.call("POST", f"/api/v1/cases/{nobody['id']}/updates", json={"body": "Hej"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "no_recipients"
    resp = await integ.call("POST", f"/api/v1/cases/{w.cases['anna']}/updates", json={"body": "  "})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_field"
    await integ.ok("PATCH", f"/api/v1/cases/{w.cases['anna']}", json={"status": "closed"})
    resp = await integ.call(
        "POST", f"/api/v1/cases/{w.cases['anna']}/updates", json={"body": "Hej"}
    )
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "case_closed"
    after = await _counts(integ)
    assert after["messages"] == before["messages"]


async def test_bad_input_is_refused_precisely_and_writes_nothing(integ: Integ) -> None:
    """Malformed JSON, wrong types, unknown or missing fields, NaN, duplicate keys, NUL, huge bodies, wrong content type, duplicates and CPR-shaped refs: 4xx with a stable code and nothing written."""
    before = await _counts(integ)
    json_type = {"Content-Type": "application/json"}
    cases_: list[tuple[dict[str, Any], int, str]] = [
        ({"data": "{not json", "headers": json_type}, 400, "malformed_json"),
        ({"data": "", "headers": json_type}, 400, "malformed_json"),
        ({"json": ["name"]}, 400, "malformed_json"),
        ({"data": '{"name": NaN}', "headers": json_type}, 400, "malformed_json"),
        ({"data": '{"name": "a", "name": "b"}', "headers": json_type}, 400, "malformed_json"),
        ({"json": {"name": 5}}, 400, "bad_field"),
        ({"json": {"name": "   "}}, 400, "bad_field"),
        ({"json": {"name": "a\u0000b"}}, 400, "bad_field"),
        ({"data": '{"name": "\\ud800"}', "headers": json_type}, 400, "bad_field"),
        ({"json": {"name": "x" * 201}}, 400, "bad_field"),
        ({"json": {"name": "ok", "extra": 1}}, 400, "unknown_field"),
        ({"json": {}}, 400, "missing_field"),
        ({"data": "name=x"}, 415, "unsupported_media_type"),
        ({"json": {"name": "x" * 70_000}}, 413, "body_too_large"),
    ]
    for kwargs, status, code in cases_:
        resp = await integ.call("POST", "/api/v1/administrations", **kwargs)
        assert resp.status == status, (kwargs, await resp.text())
        assert (await resp.json())["error"]["code"] == code, kwargs
    nested = {
        "number": "2025-900",
        "team_id": integ.stack.world.team_children,
        "owner_id": integ.stack.world.mette,
        "participants": [{"person_id": integ.stack.world.persons["bo"], "role": "party", "x": 1}],
    }
    resp = await integ.call("POST", "/api/v1/cases", json=nested)
    assert resp.status == 400
    assert (await resp.json())["error"] == {
        "code": "unknown_field",
        "message": "Unknown field: participants[0].x",
    }
    resp = await integ.call(
        "PATCH", f"/api/v1/cases/{integ.stack.world.cases['anna']}", json={"status": "lost"}
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_field"
    assert await _counts(integ) == before

    w = integ.stack.world
    body = {"number": "2025-001", "team_id": w.team_children, "owner_id": w.mette}
    resp = await integ.call("POST", "/api/v1/cases", json=body)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "case_number_taken"
    await _person(integ, "Et Navn", None, ref="X1")
    resp = await integ.call("POST", "/api/v1/persons", json={"name": "Andet Navn", "ref": "X1"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "ref_taken"
    before = await _counts(integ)
    resp = await integ.call(
        "POST", "/api/v1/persons", json={"name": "Cpr Navn", "ref": "0101901234"}
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "ref_looks_like_cpr"
    resp = await integ.call("POST", "/api/v1/persons", json={"name": "Bad Phone", "phone": "1234"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_number"
    assert await _counts(integ) == before  # the person rows were rolled back with the ref


async def test_keys_are_checked_precisely(integ: Integ) -> None:
    """No key, an unknown key, a staff token, a revoked or expired key: 401 with its code; a missing scope: 403."""
    stack = integ.stack
    path = "/api/v1/administrations"
    expiring = await integ.new_key(
        "directory:read", expires_at=stack.clock.now().replace(year=2025, month=3, day=1)
    )
    revoked = await integ.new_key("directory:read")
    read_only = await integ.new_key("directory:read")
    async with stack.svc.write() as conn:
        revoked_id = (
            await conn.execute(
                select(integration_keys.c.id).where(
                    integration_keys.c.key_hash == hash_key(revoked)
                )
            )
        ).scalar_one()
        assert await revoke_key(conn, key_id=revoked_id, at=stack.clock.now())
    assert (await integ.ok("GET", path, key=expiring))["items"]
    stack.clock.advance(days=9)
    for key, code in (
        ("", "unauthorized"),
        ("tvk_nonsense", "invalid_key"),
        ("garbage", "invalid_key"),
        (stack.world.tokens["mette"], "invalid_key"),
        (revoked, "key_revoked"),
        (expiring, "key_expired"),
    ):
        resp = await integ.call("GET", path, key=key)
        assert resp.status == 401, key
        assert (await resp.json())["error"]["code"] == code
    resp = await integ.call("POST", path, key=read_only, json={"name": "X"})
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "insufficient_scope"
    write = await integ.new_key("cases:write")
    assert (await integ.call("GET", "/api/v1/cases", key=write)).status == 200
    assert (await integ.call("GET", "/api/v1/teams", key=write)).status == 403


def _integration_paths() -> list[tuple[str, str]]:
    return sorted(
        (op.method, op.path)
        for op in api.operations.values()
        if op.security == "integration" and "{id}" in op.path
    )


async def test_every_endpoint_refuses_another_municipalitys_ids(integ: Integ) -> None:
    """Every endpoint with an id answers 404 for the other municipality's ids, body references too, and nothing is written."""
    o = integ.other
    kind_of = {
        "administrations": "administration",
        "teams": "team",
        "staff": "staff",
        "persons": "person",
        "cases": "case",
        "participants": "participant",
        "webhooks": "webhook",
    }
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/cases/{id}/participants"): {
            "person_id": integ.stack.world.persons["anna"],
            "role": "party",
        },
        ("POST", "/api/v1/cases/{id}/updates"): {"body": "Hej"},
        ("PATCH", "/api/v1/cases/{id}"): {"status": "closed"},
        ("PATCH", "/api/v1/participants/{id}"): {"entitled": False},
        ("PATCH", "/api/v1/persons/{id}"): {"language": "en"},
    }
    before = await _counts(integ)
    checked = 0
    for method, template in _integration_paths():
        resource = kind_of[template.split("/")[3]]
        path = template.replace("{id}", o[resource])
        resp = await integ.call(method, path, json=bodies.get((method, template)))
        assert resp.status == 404, (method, path, await resp.text())
        assert re.fullmatch(r"[a-z_]+_not_found", (await resp.json())["error"]["code"])
        checked += 1
    assert checked >= 12
    w = integ.stack.world
    references = [
        ("/api/v1/teams", {"administration_id": o["administration"], "name": "T"}),
        ("/api/v1/staff", {"team_id": o["team"], "first_name": "A", "full_name": "A B"}),
        ("/api/v1/cases", {"number": "Z-1", "team_id": o["team"], "owner_id": w.mette}),
        ("/api/v1/cases", {"number": "Z-2", "team_id": w.team_children, "owner_id": o["staff"]}),
        (
            f"/api/v1/cases/{w.cases['anna']}/participants",
            {"person_id": o["person"], "role": "parent"},
        ),
    ]
    for path, body in references:
        resp = await integ.call("POST", path, json=body)
        assert resp.status == 404, (path, await resp.text())
    resp = await integ.call(
        "PATCH", f"/api/v1/cases/{w.cases['anna']}", json={"owner_id": o["staff"]}
    )
    assert resp.status == 404
    for path in ("/api/v1/cases", "/api/v1/persons", "/api/v1/staff", "/api/v1/webhooks"):
        ours = await integ.ok("GET", path)
        theirs = await integ.ok("GET", path, key=integ.other_key)
        assert not {i["id"] for i in ours["items"]} & {i["id"] for i in theirs["items"]}
    resp = await integ.call("GET", f"/api/v1/cases/{w.cases['anna']}", key=integ.other_key)
    assert resp.status == 404
    assert await _counts(integ) == before
