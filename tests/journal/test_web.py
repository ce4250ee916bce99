"""The journal's API: notes, the case journal, the citizen's own copy; nothing can be altered."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.base.crypto import unseal
from bot.domain.conversations import issue_token
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.store.schema.core import access_log, cases, journal_entries
from tests.harness import Stack


async def test_a_note_is_filed_encrypted_under_the_case_key(stack: Stack) -> None:
    """POST notes files a 'note' entry by staff:<id>, its text sealed with the case's key."""
    case_id = stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{case_id}/notes",
        json={"subject": " Telefonsamtale med mor ", "text": "Mor oplyser at Anna er syg."},
    )
    assert resp.status == 201
    body = await resp.json()
    assert (body["kind"], body["title"], body["seq"], body["case_number"]) == (
        "note",
        "Telefonsamtale med mor",
        1,
        "2025-001",
    )
    assert body["subject"] == "Notat fra sagsbehandler"  # the caseworker's line is sealed
    assert body["actor"] == f"staff:{stack.world.mette}"
    assert body["export"]["state"] == "queued"
    async with stack.svc.read() as conn:
        row = (
            await conn.execute(select(journal_entries).where(journal_entries.c.id == body["id"]))
        ).one()
        case_dek = (
            await conn.execute(select(cases.c.dek).where(cases.c.id == case_id))
        ).scalar_one()
    assert (row.kind, row.direction, row.channel, row.key_scope) == (
        "note",
        "internal",
        "api",
        "case",
    )
    assert b"syg" not in row.content_enc
    assert "mor" not in row.subject.lower()
    dek = stack.svc.dek("cases", case_id, case_dek)
    text = unseal(dek, row.content_enc, f"journal_entries:{row.id}:content")
    assert text == "Telefonsamtale med mor\n\nMor oplyser at Anna er syg."


async def test_only_the_owner_and_the_team_lead_may_write_notes(stack: Stack) -> None:
    """The owner and her team lead may; another caseworker, another municipality or an unknown
    case get 404 and nothing is filed."""
    case_id = stack.world.cases["anna"]
    note = {"subject": "Notat", "text": "Tekst"}
    assert (await stack.api("POST", f"/api/v1/cases/{case_id}/notes", json=note)).status == 201
    resp = await stack.api("POST", f"/api/v1/cases/{case_id}/notes", who="hanne", json=note)
    assert resp.status == 201
    resp = await stack.api("POST", f"/api/v1/cases/{case_id}/notes", who="lars", json=note)
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "case_not_found"
    resp = await stack.api("POST", "/api/v1/cases/no-such-case/notes", json=note)
    assert resp.status == 404
    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(c, svc, slug="x", name="Anden Kommune", sms_number="+4533123456")
        a = await create_administration(c, svc, tenant_id=t, name="A")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="T")
        s = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="O", full_name="O O", role="admin"
        )
        token = await issue_token(c, staff_id=s, tenant_id=t, label="t", at=svc.clock.now())
    resp = await stack.client.post(
        f"/api/v1/cases/{case_id}/notes", json=note, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 404
    resp = await stack.client.get(
        f"/api/v1/cases/{case_id}/journal", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 404
    assert (await stack.api("GET", f"/api/v1/cases/{case_id}/journal", who="lars")).status == 404
    items = (await (await stack.api("GET", f"/api/v1/cases/{case_id}/journal")).json())["items"]
    assert [(i["seq"], i["actor"]) for i in items] == [
        (1, f"staff:{stack.world.mette}"),
        (2, f"staff:{stack.world.hanne}"),
    ]


async def test_bad_notes_get_precise_errors(stack: Stack) -> None:
    """No token, wrong types, empty or overlong fields and unknown fields are refused."""
    path = f"/api/v1/cases/{stack.world.cases['anna']}/notes"
    assert (await stack.api("POST", path, who="", json={"subject": "a", "text": "b"})).status == 401
    for payload, code in [
        ({"subject": "a"}, "bad_field"),
        ({"subject": 1, "text": "b"}, "bad_field"),
        ({"subject": "  ", "text": "b"}, "empty_field"),
        ({"subject": "a" * 201, "text": "b"}, "field_too_long"),
        ({"subject": "a", "text": "b", "author": "x"}, "unknown_field"),
    ]:
        resp = await stack.api("POST", path, json=payload)
        assert resp.status == 400, payload
        assert (await resp.json())["error"]["code"] == code
    resp = await stack.api("POST", path, data="subject=a", headers={"Content-Type": "text/plain"})
    assert resp.status == 415
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(journal_entries))).first() is None


async def test_the_journal_cannot_be_altered_through_the_api(stack: Stack) -> None:
    """PUT, PATCH and DELETE on the journal and its entries answer 405; the entry is unchanged."""
    case_id = stack.world.cases["anna"]
    created = await (
        await stack.api(
            "POST", f"/api/v1/cases/{case_id}/notes", json={"subject": "Notat", "text": "Tekst"}
        )
    ).json()
    entry_path = f"/api/v1/cases/{case_id}/journal/{created['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        for path in (entry_path, f"/api/v1/cases/{case_id}/journal"):
            resp = await stack.api(method, path, json={"subject": "Ændret"})
            assert resp.status == 405, (method, path)
            assert (await resp.json())["error"]["code"] == "method_not_allowed"
    resp = await stack.api("GET", entry_path)
    assert resp.status == 200
    assert (await resp.json())["subject"] == "Notat fra sagsbehandler"
    other = stack.world.cases["carl"]
    resp = await stack.api("GET", f"/api/v1/cases/{other}/journal/{created['id']}")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "entry_not_found"


async def _conversation_read(stack: Stack) -> None:
    await stack.sms(stack.world.phones["anna"], "Hej, jeg er syg i dag")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    stack.clock.advance(hours=1)
    assert (await stack.api("GET", f"/api/v1/conversations/{items[0]['id']}")).status == 200


async def test_the_citizens_copy_has_messages_and_lookups_without_staff_names(stack: Stack) -> None:
    """A lead gets Anna's messages and when and why staff read them, with no staff identity;
    handing the copy out is itself logged and shows in the next copy."""
    await _conversation_read(stack)
    read_at = stack.clock.now()
    stack.clock.advance(days=3)
    anna = stack.world.persons["anna"]
    resp = await stack.api("GET", f"/api/v1/persons/{anna}/access-copy", who="hanne")
    assert resp.status == 200
    copy = await resp.json()
    assert copy["person"]["name"] == "Anna Andersen"
    assert copy["person"]["phone"] == stack.world.phones["anna"]
    assert copy["cases"] == [{"case_number": "2025-001", "role": "party"}]
    assert [(m["direction"], m["kind"]) for m in copy["messages"]] == [
        ("in", "citizen"),
        ("out", "receipt"),
    ]
    assert copy["messages"][0]["text"] == "Hej, jeg er syg i dag"
    assert copy["lookups"] == [
        {
            "at": read_at.isoformat(),
            "action": "read",
            "purpose": "sagsbehandling",
            "case_number": "2025-001",
            "messages": 2,
        }
    ]
    text = await resp.text()
    assert stack.world.mette not in text and stack.world.hanne not in text
    assert "Mette" not in json.dumps(copy["lookups"])  # (the receipt itself names her)
    async with stack.svc.read() as conn:
        logged = (
            await conn.execute(select(access_log).where(access_log.c.action == "export"))
        ).all()
    assert {(r.staff_id, r.purpose) for r in logged} == {(stack.world.hanne, "aktindsigt")}
    again = await (
        await stack.api("GET", f"/api/v1/persons/{anna}/access-copy?format=json", who="hanne")
    ).json()
    assert [look["action"] for look in again["lookups"]] == ["read", "export"]


async def test_the_citizens_copy_as_pdf(stack: Stack) -> None:
    """format=pdf answers a PDF document, not cached."""
    await _conversation_read(stack)
    anna = stack.world.persons["anna"]
    resp = await stack.api("GET", f"/api/v1/persons/{anna}/access-copy?format=pdf", who="hanne")
    assert resp.status == 200
    assert resp.content_type == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert (await resp.read()).startswith(b"%PDF-")


async def test_only_leads_of_the_municipality_get_a_citizens_copy(stack: Stack) -> None:
    """A caseworker, an unknown person, or a bad format get 404/400 and nothing is logged."""
    anna = stack.world.persons["anna"]
    resp = await stack.api("GET", f"/api/v1/persons/{anna}/access-copy")  # mette: caseworker
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "person_not_found"
    resp = await stack.api("GET", "/api/v1/persons/nobody/access-copy", who="hanne")
    assert resp.status == 404
    resp = await stack.api("GET", f"/api/v1/persons/{anna}/access-copy?format=xml", who="hanne")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_format"
    assert (await stack.api("GET", f"/api/v1/persons/{anna}/access-copy", who="")).status == 401
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(access_log))).first() is None
