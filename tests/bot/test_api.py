"""The caseworker's JSON API: list, read (access-logged), reply through the outbox."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from bot.domain.conversations import issue_token
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.store.schema.core import access_log, cases, journal_entries, messages
from tests.harness import Stack


async def _open_thread(stack: Stack, who: str = "mette") -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, kan vi flytte mødet?")
    resp = await stack.api("GET", "/api/v1/conversations", who=who)
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert len(items) == 1
    return str(items[0]["id"])


async def test_caseworker_lists_only_their_open_threads(stack: Stack) -> None:
    """Mette sees Anna's open thread with name, case number and reply-by; Lars does not."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert [(i["case_number"], i["participant_name"], i["open_count"]) for i in items] == [
        ("2025-001", "Anna Andersen", 1)
    ]
    assert items[0]["reply_by"].startswith("2025-02-25T15:00:00")
    other = await stack.api("GET", "/api/v1/conversations", who="lars")
    assert (await other.json())["items"] == []


async def test_reading_a_thread_is_recorded_per_message(stack: Stack) -> None:
    """Each message shown to a caseworker gets an access-log row naming who, what and which case."""
    conv = await _open_thread(stack)
    resp = await stack.api("GET", f"/api/v1/conversations/{conv}")
    thread = await resp.json()
    assert [m["kind"] for m in thread["messages"]] == ["citizen", "receipt"]
    assert thread["messages"][0]["body"] == "Hej, kan vi flytte mødet?"
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(access_log))).all()
    assert {r.message_id for r in rows} == {m["id"] for m in thread["messages"]}
    assert {(r.staff_id, r.case_id, r.action) for r in rows} == {
        (stack.world.mette, stack.world.cases["anna"], "read")
    }


async def test_thread_of_someone_elses_case_is_not_found(stack: Stack) -> None:
    """Another caseworker, or another municipality, gets 404 and no access-log row."""
    conv = await _open_thread(stack)
    resp = await stack.api("GET", f"/api/v1/conversations/{conv}", who="lars")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "conversation_not_found"
    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(
            c, svc, slug="other", name="Anden Kommune", sms_number="+4533123456"
        )
        a = await create_administration(c, svc, tenant_id=t, name="X")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Y")
        s = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="Ole", full_name="Ole O", role="lead"
        )
        token = await issue_token(c, staff_id=s, tenant_id=t, label="t", at=svc.clock.now())
    resp = await stack.client.get(
        f"/api/v1/conversations/{conv}", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 404
    resp = await stack.client.post(
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 404
    async with svc.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(access_log))).scalar_one() == 0


async def test_reply_goes_out_and_closes_the_thread(stack: Stack) -> None:
    """A reply is sent through the outbox to the gateway, journalised, and the thread is answered."""
    conv = await _open_thread(stack)
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Ja, det kan vi. Jeg ringer i morgen."},
    )
    assert resp.status == 201
    await stack.drain()
    assert (await stack.sent_to(stack.world.phones["anna"]))[
        -1
    ] == "Ja, det kan vi. Jeg ringer i morgen."
    assert (await (await stack.api("GET", "/api/v1/conversations")).json())["items"] == []
    async with stack.svc.read() as conn:
        kinds = list(
            (
                await conn.execute(select(journal_entries.c.kind).order_by(journal_entries.c.seq))
            ).scalars()
        )
    assert kinds[:3] == ["sms_in", "sms_out_receipt", "sms_out_reply"]


async def test_status_callbacks_update_and_journalise_delivery(stack: Stack) -> None:
    """The gateway's signed status callbacks move the reply to delivered and file it."""
    conv = await _open_thread(stack)
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Hej Anna"})
    await stack.drain()
    for _ in range(100):
        async with stack.svc.read() as conn:
            statuses = set(
                (
                    await conn.execute(
                        select(messages.c.status).where(messages.c.direction == "out")
                    )
                ).scalars()
            )
        if statuses == {"delivered"}:
            break
        await asyncio.sleep(0.05)
    assert statuses == {"delivered"}
    async with stack.svc.read() as conn:
        delivered = (
            await conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.kind == "delivery_delivered")
            )
        ).scalar_one()
    assert delivered == 2  # the receipt and the reply


async def test_unsigned_status_callback_is_refused(stack: Stack) -> None:
    """A status callback without a valid signature is a 403 and changes nothing."""
    resp = await stack.client.post(
        "/webhooks/twilio/status?ref=x", data={"MessageSid": "SM1", "MessageStatus": "delivered"}
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "bad_signature"


async def test_api_bad_input_gets_precise_errors(stack: Stack) -> None:
    """No token, bad JSON, unknown fields, wrong types, wrong content type, huge bodies: 4xx codes."""
    conv = await _open_thread(stack)
    path = f"/api/v1/conversations/{conv}/replies"
    assert (await stack.api("GET", "/api/v1/conversations", who="")).status == 401
    resp = await stack.client.get("/api/v1/conversations", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
    cases_ = [
        (
            {"data": "{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "malformed_json",
        ),
        ({"json": {"body": "x", "extra": 1}}, 400, "unknown_field"),
        ({"json": {"body": 5}}, 400, "bad_field"),
        ({"json": {"body": "   "}}, 400, "empty_body"),
        ({"json": ["body"]}, 400, "malformed_json"),
        ({"data": "body=x"}, 415, "unsupported_media_type"),
        ({"json": {"body": "x" * 1601}}, 400, "body_too_long"),
        ({"json": {"body": "x" * 70_000}}, 413, "body_too_large"),
    ]
    for kwargs, status, code in cases_:
        resp = await stack.api("POST", path, **kwargs)
        assert resp.status == status, (kwargs, await resp.text())
        assert (await resp.json())["error"]["code"] == code
    resp = await stack.api(
        "POST", "/api/v1/conversations/does-not-exist/replies", json={"body": "x"}
    )
    assert resp.status == 404
    async with stack.svc.read() as conn:
        outs = (
            await conn.execute(
                select(func.count()).select_from(messages).where(messages.c.kind == "reply")
            )
        ).scalar_one()
    assert outs == 0


async def test_reply_on_closed_case_is_refused(stack: Stack) -> None:
    """A closed case takes no new replies: 400 case_closed, nothing queued."""
    conv = await _open_thread(stack)
    async with stack.svc.write() as conn:
        await conn.execute(update(cases).values(status="closed"))
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Hej"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "case_closed"


async def test_lead_sees_unassigned_queue(stack: Stack) -> None:
    """A message from an unknown number is visible to the team lead, not to caseworkers."""
    await stack.sms("+4531234599", "Hej, er det kommunen?")
    lead = (await (await stack.api("GET", "/api/v1/conversations", who="hanne")).json())["items"]
    assert [(i["case_number"], i["participant_name"]) for i in lead] == [(None, None)]
    assert (await (await stack.api("GET", "/api/v1/conversations")).json())["items"] == []


async def test_a_reply_can_carry_a_promise(stack: Stack) -> None:
    """A reply with promise_due records the promise; a bad date is a 400 and nothing is sent."""
    from bot.store.schema.scheduler import reply_promises as promises

    conv = await _open_thread(stack)
    bad = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Svar", "promise_due": "torsdag"},
    )
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_date"
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Jeg vender tilbage torsdag", "promise_due": "2025-02-27"},
    )
    assert resp.status == 201, await resp.text()
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(promises.c.due_on.label("due")))).all()
    assert [str(r.due) for r in rows] == ["2025-02-27"]


async def test_decisions_are_refused_and_guidance_says_so(stack: Stack) -> None:
    """A decision never goes by SMS (400, Digital Post); guidance gets its plain line."""
    conv = await _open_thread(stack)
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Du får afslag", "nature": "decision"},
    )
    body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == "decision_not_allowed"
    assert "Digital Post" in body["error"]["message"]
    resp = await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Du kan søge om hjælp til tandpleje.", "nature": "guidance"},
    )
    assert resp.status == 201
    await stack.drain()
    assert (
        "Du kan søge om hjælp til tandpleje.\nDette er vejledning. Der er ikke truffet en afgørelse."
        in await stack.sent_to(stack.world.phones["anna"])
    )
