"""The citizen's own copy is complete (#18 point 6): everything recorded about the person, other
people's data never, each exemption listed with its ground; JSON and PDF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.base.errors import BadInput
from bot.domain import consent
from bot.domain.integration.credentials import issue_key
from bot.store.schema.core import conversations, messages
from bot.store.schema.journal import access_copy_exemptions
from journal.access_copy import access_copy, access_copy_as_pdf, set_exemption
from tests.harness import Stack
from tests.journal.pdftext import lines

CARL_NOTE = "Carl ringede om sin ansøgning"
DORTE_NOTE = "Dorte har fået nyt job"


async def _shared_phone_family(stack: Stack) -> dict[str, Any]:
    """Carl and Dorte share one phone, each with their own case: the case system sends each an
    update, Carl answers in his thread (urgent); a note, an appointment and a consent word
    each; staff read Carl's thread."""
    w = stack.world
    async with stack.svc.write() as conn:
        _, key = await issue_key(
            conn,
            tenant_id=w.tenant_id,
            label="esdh",
            scopes=["messages:send"],
            at=stack.clock.now(),
        )
    for case, body in (("carl", "Carl: din sag er modtaget"), ("dorte", "Dorte: dit møde")):
        resp = await stack.client.post(
            f"/api/v1/cases/{w.cases[case]}/updates",
            json={"body": body},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": case},
        )
        assert resp.status in (200, 201, 202), await resp.text()
    await stack.sms(w.phones["shared_split"], "STOP")
    await stack.drain()
    await stack.settle()
    async with stack.svc.read() as conn:
        carl_conv = (
            await conn.execute(
                select(conversations.c.id).where(conversations.c.case_id == w.cases["carl"])
            )
        ).scalar_one()
        owner = {
            r.case_id: r.person_id
            for r in await conn.execute(
                select(messages.c.case_id, messages.c.person_id).where(
                    messages.c.case_id.is_not(None)
                )
            )
        }
    assert owner == {w.cases["carl"]: w.persons["carl"], w.cases["dorte"]: w.persons["dorte"]}
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{carl_conv}/replies",
        json={"body": "Carl, ring venligst til os", "urgent_reason": "Fristen er i morgen"},
    )
    assert resp.status in (200, 201), await resp.text()
    for case, who, note in (("carl", "mette", CARL_NOTE), ("dorte", "lars", DORTE_NOTE)):
        resp = await stack.api(
            "POST",
            f"/api/v1/cases/{w.cases[case]}/notes",
            who=who,
            json={"subject": "Telefonnotat", "text": note},
        )
        assert resp.status == 201, await resp.text()
        resp = await stack.api(
            "POST",
            f"/api/v1/cases/{w.cases[case]}/appointments",
            who=who,
            json={
                "starts_at": "2025-03-04T10:00:00+01:00",
                "place": f"Mødelokale {case}",
                "attendees": [w.persons[case]],
            },
        )
        assert resp.status == 201, await resp.text()
    async with stack.svc.write() as conn:
        await consent.record(
            conn,
            tenant_id=w.tenant_id,
            person_id=w.persons["dorte"],
            channel="email",
            state="given",
            scope="answers",
            source="page",
            at=stack.clock.now(),
            actor=f"staff:{w.lars}",
        )
    stack.clock.advance(hours=1)
    assert (await stack.api("GET", f"/api/v1/conversations/{carl_conv}")).status == 200
    await stack.drain()
    await stack.settle()
    return {"carl_conv": carl_conv}


async def test_the_copy_holds_every_kind_and_nothing_of_another_person(stack: Stack) -> None:
    """Carl's copy: his messages (urgent flagged), the note, routing and urgent records, his
    appointment, his consent, the look-up, and the exemptions with their grounds; nothing of
    Dorte's, who shares his phone; Dorte's copy likewise holds nothing of Carl's."""
    w = stack.world
    await _shared_phone_family(stack)
    copy = await access_copy(stack.svc, w.persons["carl"], staff_id=w.hanne, tenant_id=w.tenant_id)
    assert copy["cases"] == [{"case_number": "2025-004", "role": "party"}]
    texts = [m["text"] for m in copy["messages"]]
    assert "Carl: din sag er modtaget" in texts and "Carl, ring venligst til os" in texts
    assert [CARL_NOTE in (n["text"] or "") for n in copy["notes"]] == [True]
    kinds = {r["kind"] for r in copy["records"]}
    assert {"urgent_send", "appointment_created", "sms_out_update"} <= kinds
    assert "note" not in kinds  # notes have their own part
    assert [(a["place"], a["case_number"]) for a in copy["appointments"]] == [
        ("Mødelokale carl", "2025-004")
    ]
    assert [(c["channel"], c["state"], c["source"], c["by"]) for c in copy["consent"]] == [
        ("sms", "withdrawn", "sms_stop", "citizen")
    ]
    assert [(look["action"], look["case_number"]) for look in copy["lookups"]] == [
        ("read", "2025-004")
    ]
    rules = {e["rule"]: e for e in copy["exemptions"]}
    assert set(rules) == {"other_persons", "staff_identity"}
    assert all(e["ground"] for e in copy["exemptions"])
    dumped = json.dumps(copy, ensure_ascii=False)
    for foreign in (
        "Dorte",
        DORTE_NOTE,
        "Mødelokale dorte",
        "2025-005",
        w.persons["dorte"],
        w.mette,
        w.hanne,
    ):
        assert foreign not in dumped, foreign

    dorte = await access_copy(
        stack.svc, w.persons["dorte"], staff_id=w.hanne, tenant_id=w.tenant_id
    )
    assert [DORTE_NOTE in (n["text"] or "") for n in dorte["notes"]] == [True]
    assert {(c["channel"], c["state"], c["by"]) for c in dorte["consent"]} == {
        ("sms", "withdrawn", "citizen"),
        ("email", "given", "staff"),
    }
    dumped = json.dumps(dorte, ensure_ascii=False)
    for foreign in ("Carl: din", "Carl, ring", CARL_NOTE, "Mødelokale carl", "2025-004"):
        assert foreign not in dumped, foreign


async def test_a_chosen_exemption_withholds_notes_and_says_why(stack: Stack) -> None:
    """When the municipality exempts internal notes (offentlighedsloven § 23), the copy holds
    none, lists the rule with its ground and count, and the PDF says the same."""
    w = stack.world
    await _shared_phone_family(stack)
    with pytest.raises(BadInput) as bad:
        await set_exemption(stack.svc, w.tenant_id, "everything", True)
    assert bad.value.code == "bad_rule"
    assert await set_exemption(stack.svc, w.tenant_id, "internal_notes", True) == ["internal_notes"]
    copy = await access_copy(stack.svc, w.persons["carl"], staff_id=w.hanne, tenant_id=w.tenant_id)
    assert copy["notes"] == []
    rules = {e["rule"]: e for e in copy["exemptions"]}
    assert rules["internal_notes"]["withheld"] == 1
    assert "§ 23" in rules["internal_notes"]["ground"]
    assert CARL_NOTE not in json.dumps(copy, ensure_ascii=False)

    pdf = access_copy_as_pdf(copy)
    flat = " ".join(" ".join(lines(pdf)).split())
    for wanted in ("Carl, ring venligst", "Mødelokale carl", "Udeladt, og hvorfor", "§ 23"):
        assert wanted in flat, wanted
    for foreign in ("Dorte: dit møde", CARL_NOTE, DORTE_NOTE, "Mødelokale dorte"):
        assert foreign not in flat, foreign

    assert await set_exemption(stack.svc, w.tenant_id, "internal_notes", False) == []
    again = await access_copy(stack.svc, w.persons["carl"], staff_id=w.hanne, tenant_id=w.tenant_id)
    assert [CARL_NOTE in (n["text"] or "") for n in again["notes"]] == [True]


async def test_urgent_flags_and_routing_about_the_person_and_not_a_co_parent(
    stack: Stack,
) -> None:
    """Anna's urgent SMS while her caseworker is away: flagged, with its urgent and routing
    records. Eva and Frank share a
    phone on one case: the SMS is in exactly one parent's copy; the other's lists it withheld
    under the other-persons rule."""
    w = stack.world
    away = await stack.api(
        "POST",
        "/api/v1/absences",
        who="hanne",
        json={"staff_id": w.mette, "starts_on": "2025-02-21", "ends_on": "2025-02-21"},
    )
    assert away.status == 201, await away.text()
    await stack.sms(w.phones["anna"], "AKUT jeg har brug for hjælp")
    await stack.sms(w.phones["shared_same"], "Hej fra en af forældrene")
    await stack.drain()
    await stack.settle()
    anna = await access_copy(stack.svc, w.persons["anna"], staff_id=w.hanne, tenant_id=w.tenant_id)
    (sms,) = [m for m in anna["messages"] if m["direction"] == "in"]
    assert sms["urgent"] is True
    kinds = {r["kind"] for r in anna["records"]}
    assert {"urgent", "routed"} <= kinds, kinds
    assert w.mette not in json.dumps(anna) and w.hanne not in json.dumps(anna)
    assert {e["rule"]: e["withheld"] for e in anna["exemptions"]}["staff_identity"] >= 1
    parents = [
        await access_copy(stack.svc, w.persons[p], staff_id=w.hanne, tenant_id=w.tenant_id)
        for p in ("eva", "frank")
    ]
    holds = [any(m["text"] == "Hej fra en af forældrene" for m in c["messages"]) for c in parents]
    assert sorted(holds) == [False, True]
    other = parents[holds.index(False)]
    assert "Hej fra en af forældrene" not in json.dumps(other, ensure_ascii=False)
    withheld = {e["rule"]: e["withheld"] for e in other["exemptions"]}
    assert withheld["other_persons"] >= 1
    assert {e["rule"]: e["withheld"] for e in parents[holds.index(True)]["exemptions"]}[
        "other_persons"
    ] == 0


async def test_a_lead_chooses_the_notes_exemption_through_the_api(stack: Stack) -> None:
    """PUT by a lead turns the rule on and off; a caseworker is refused; an unknown rule or a
    body that is not a boolean is a 400 that changes nothing."""
    path = "/api/v1/access-copy-exemptions"
    notes = {"rule": "internal_notes"}
    assert (await stack.api("PUT", path, who="mette", json={**notes, "on": True})).status == 403
    bad = await stack.api("PUT", path, who="hanne", json={**notes, "on": "ja"})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_field"
    unknown = await stack.api("PUT", path, who="hanne", json={"rule": "everything", "on": True})
    assert unknown.status == 400 and (await unknown.json())["error"]["code"] == "bad_rule"
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(access_copy_exemptions))).first() is None
    on = await stack.api("PUT", path, who="hanne", json={**notes, "on": True})
    assert on.status == 200 and (await on.json()) == {"chosen": ["internal_notes"]}
    off = await stack.api("PUT", path, who="hanne", json={**notes, "on": False})
    assert (await off.json()) == {"chosen": []}
