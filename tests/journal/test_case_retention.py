"""Retention covers the whole case (#18 point 5): the case goes whole, or is restricted under
archive law; a municipality that exports nowhere sets its own rule; rules are set in the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text

from bot.base.crypto import DecryptionError
from bot.base.staff import StaffUser
from bot.domain import triage_teach
from bot.domain.integration.credentials import issue_key
from bot.domain.integration.service import update_case
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import (
    cases,
    conversations,
    journal_entries,
    journal_heads,
    messages,
    outbox,
    participants,
    restrictions,
)
from bot.store.schema.journal import journal_export_intake, journal_retention
from bot.store.schema.mms import mms_media
from bot.store.schema.triage import triage_examples
from journal.config import JournalConfig
from journal.export import export_tick
from journal.exporters.file_drop import FileDropExporter
from journal.retention import (
    NotDue,
    apply_retention,
    remove_case_journal,
    retention_states,
    set_rule,
)
from journal.sink import heads_tick
from journal.verify import verify
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.web.test_citizen_attachments import png
from tests.web.test_mms import fetch, item, send_mms


def _sink(tmp_path: Path, *exporters: str) -> JournalConfig:
    return JournalConfig(
        exporters=exporters, heads_sink=tmp_path / "heads.jsonl", heads_key=b"k" * 32
    )


async def _count(stack: Stack, table: Table, **where: Any) -> int:
    q = select(func.count()).select_from(table)
    for col, value in where.items():
        q = q.where(table.c[col] == value)
    async with stack.svc.read() as conn:
        return int((await conn.execute(q)).scalar_one())


async def _close(stack: Stack, case_id: str) -> None:
    async with stack.svc.write() as conn:
        await update_case(
            conn, stack.svc, stack.world.tenant_id, case_id, {"status": "closed"}, actor="system"
        )


async def _export_all(stack: Stack, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    while (await export_tick(stack.svc, JournalConfig(), [FileDropExporter(drop)])).claimed:
        pass


async def _a_full_case(stack: Stack, who: str) -> str:
    """A case with an SMS, an MMS photo (media row and sealed attachment), a reply with its
    outbox row, a consent word for its party, all journalised."""
    phone = stack.world.phones[who]
    await stack.sms(phone, "Hej, jeg har et spørgsmål")
    await send_mms(stack, phone, "Her er billedet", item(png(), "image/png"))
    await fetch(stack)
    async with stack.svc.read() as conn:
        conv = (
            await conn.execute(
                select(conversations.c.id).where(conversations.c.case_id == stack.world.cases[who])
            )
        ).scalar_one()
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svar"})
    assert resp.status in (200, 201), await resp.text()
    await stack.drain()
    await stack.settle()
    return stack.world.cases[who]


async def _leftovers(stack: Stack, case_id: str) -> dict[str, int]:
    return {
        "messages": await _count(stack, messages, case_id=case_id),
        "conversations": await _count(stack, conversations, case_id=case_id),
        "attachments": await _count(stack, message_attachments, case_id=case_id),
        "participants": await _count(stack, participants, case_id=case_id),
        "journal": await _count(stack, journal_entries, chain=f"case:{case_id}"),
        "heads": await _count(stack, journal_heads, chain=f"case:{case_id}"),
    }


async def test_retention_removes_the_whole_case_and_shreds_its_key(
    stack: Stack, tmp_path: Path
) -> None:
    """Messages, conversations, attachments, MMS media, parties, outbox rows, journal and key
    go together; verify stays OK; a forged removal of another case is still caught."""
    await set_rule(stack.svc, stack.world.tenant_id, "*", 30)
    cfg = _sink(tmp_path, "file")
    anna = await _a_full_case(stack, "anna")
    await stack.sms(stack.world.phones["shared_same"], "Hej fra Eva")  # another family's, kept
    await stack.drain()
    await stack.settle()
    async with stack.svc.read() as conn:
        msg_ids = list(
            (await conn.execute(select(messages.c.id).where(messages.c.case_id == anna))).scalars()
        )
        media_before = await conn.execute(
            select(func.count()).select_from(mms_media).where(mms_media.c.message_id.in_(msg_ids))
        )
        assert media_before.scalar_one() == 1
    # A caseworker taught triage with one of them: the example goes with the message.
    async with stack.svc.read() as conn:
        citizen_msg = (
            await conn.execute(
                select(messages.c.id, messages.c.conversation_id).where(
                    messages.c.case_id == anna, messages.c.direction == "in"
                )
            )
        ).first()
    assert citizen_msg is not None
    mette = StaffUser(
        stack.world.mette, stack.world.tenant_id, stack.world.team_children, "caseworker"
    )
    await triage_teach.teach(
        stack.svc, mette, citizen_msg.id, "none", conversation_id=citizen_msg.conversation_id
    )
    before = await _leftovers(stack, anna)
    assert all(before[k] > 0 for k in ("messages", "conversations", "attachments", "journal"))
    others = await _count(stack, messages) - before["messages"]
    await _close(stack, anna)
    await _export_all(stack, tmp_path)
    assert await heads_tick(stack.svc, cfg) >= 1

    stack.clock.advance(days=31)
    at0 = stack.clock.now()
    report = await apply_retention(stack.svc, cfg, actor="cli")
    assert [c for c, _ in report.removed] == [anna] and report.refused == []
    assert await _leftovers(stack, anna) == {
        "messages": 0,
        "conversations": 0,
        "attachments": 0,
        "participants": 0,
        "journal": 0,
        "heads": 0,
    }
    async with stack.svc.read() as conn:
        left_media = await conn.execute(
            select(func.count()).select_from(mms_media).where(mms_media.c.message_id.in_(msg_ids))
        )
        assert left_media.scalar_one() == 0
        left_outbox = await conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.message_id.in_(msg_ids))
        )
        assert left_outbox.scalar_one() == 0
        left_examples = await conn.execute(select(func.count()).select_from(triage_examples))
        assert left_examples.scalar_one() == 0
        case = (await conn.execute(select(cases).where(cases.c.id == anna))).one()
        record = (await conn.execute(select(journal_retention))).one()
    assert case.status == "removed" and case.dek == b""
    with pytest.raises(DecryptionError):
        stack.svc.dek("cases", anna, case.dek)
    assert record.case_id == anna and record.actor == "cli"
    assert others > 0 and await _count(stack, messages) == others  # the Eriksens' are kept
    # The tombstone is no one's to see: staff and the case system get 404 as for no case.
    for who in ("mette", "hanne"):
        gone = await stack.api("GET", f"/api/v1/cases/{anna}/journal", who=who)
        assert gone.status == 404 and (await gone.json())["error"]["code"] == "case_not_found"
    async with stack.svc.write() as conn:
        _, key = await issue_key(
            conn, tenant_id=stack.world.tenant_id, label="t", scopes=["cases:write"], at=at0
        )
    auth = {"Authorization": f"Bearer {key}"}
    assert (await stack.client.get(f"/api/v1/cases/{anna}", headers=auth)).status == 404
    reopen = await stack.client.patch(
        f"/api/v1/cases/{anna}", json={"status": "open"}, headers=auth
    )
    assert reopen.status == 404
    listed = await (await stack.client.get("/api/v1/cases", headers=auth)).json()
    assert anna not in {c["id"] for c in listed["items"]}

    ok = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=cfg.heads_key)
    assert ok.ok, ok.summary()
    assert ok.retired == 1

    # The Eriksens' case removed behind the path, with a forged retention record: caught.
    bo = stack.world.cases["eriksen"]
    chain = f"case:{bo}"
    await heads_tick(stack.svc, cfg)
    async with stack.svc.read() as conn:
        head = (
            await conn.execute(select(journal_heads).where(journal_heads.c.chain == chain))
        ).one()
    at = stack.clock.now()
    await tamper(
        stack.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id IN "
            "(SELECT id FROM journal_entries WHERE chain = :chain)",
            "DELETE FROM journal_exports WHERE entry_id IN "
            "(SELECT id FROM journal_entries WHERE chain = :chain)",
            "DELETE FROM journal_entries WHERE chain = :chain",
            "DELETE FROM journal_heads WHERE chain = :chain",
            "INSERT INTO journal_retention (id, tenant_id, case_id, chain, entries, final_seq, "
            "final_hash, closed_at, due_at, rule, actor, removed_at) VALUES ('forged', :tenant, "
            ":case_id, :chain, :seq, :seq, :hash, :at, :at, 'x', 'x', :at)",
        ],
        {
            "chain": chain,
            "tenant": stack.world.tenant_id,
            "case_id": bo,
            "seq": head.seq,
            "hash": head.hash,
            "at": at,
        },
    )
    forged = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=cfg.heads_key)
    assert not forged.ok
    assert [(p.chain, p.kind) for p in forged.problems] == [(chain, "removed")]


async def test_a_case_archive_law_keeps_is_restricted_instead(stack: Stack, tmp_path: Path) -> None:
    """Under an archive rule a due case is restricted (recorded, journalised) and kept whole;
    it is never removed later, not even when the rule changes (the database refuses too)."""
    await set_rule(stack.svc, stack.world.tenant_id, "general", 30, "archive")
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    await stack.settle()
    anna = stack.world.cases["anna"]
    await _close(stack, anna)
    await _export_all(stack, tmp_path)
    kept = await _leftovers(stack, anna)
    stack.clock.advance(days=31)
    dry = await apply_retention(stack.svc, _sink(tmp_path, "file"), apply=False)
    assert "would restrict case" in dry.summary()
    report = await apply_retention(stack.svc, _sink(tmp_path, "file"))
    assert report.restricted == [anna] and report.removed == []
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(restrictions))).all()
        kinds = list(
            (
                await conn.execute(
                    select(journal_entries.c.kind).where(journal_entries.c.case_id == anna)
                )
            ).scalars()
        )
    assert [(r.case_id, r.person_id, r.staff_id) for r in rows] == [(anna, None, None)]
    assert kinds[-1] == "restriction"
    after = await _leftovers(stack, anna)
    assert after["messages"] == kept["messages"] and after["journal"] == kept["journal"] + 1

    await _export_all(stack, tmp_path)
    await set_rule(stack.svc, stack.world.tenant_id, "general", 30, "remove")
    stack.clock.advance(days=60)
    again = await apply_retention(stack.svc, _sink(tmp_path, "file"))
    assert again.removed == [] and again.restricted == []
    with pytest.raises(NotDue, match="restricted"):
        await remove_case_journal(stack.svc, anna)
    if not stack.svc.sqlite:
        with pytest.raises(Exception, match="not due"):
            async with stack.svc.write() as conn:
                await conn.execute(
                    text("SELECT tovholder_retention_remove(:c, now(), 'x', 'x', true)"),
                    {"c": anna},
                )
    assert (await _leftovers(stack, anna))["messages"] == kept["messages"]


async def test_a_municipality_that_exports_nowhere_sets_its_own_rule(
    stack: Stack, tmp_path: Path
) -> None:
    """No exporter: without a rule of its own nothing goes (and the report says why); with
    one, the unexported case goes whole when its period ends, and verify stays OK."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    await stack.settle()
    anna = stack.world.cases["anna"]
    await _close(stack, anna)
    assert await _count(stack, journal_export_intake) > 0  # nothing ever left
    nowhere = _sink(tmp_path)
    await heads_tick(stack.svc, nowhere)
    stack.clock.advance(days=4000)
    async with stack.svc.read() as conn:
        (state,) = await retention_states(conn, exports_nowhere=True)
    assert state.blocked is not None and "no retention rule of its own" in state.blocked
    assert (await apply_retention(stack.svc, nowhere)).removed == []
    # With an exporter configured, the same case waits for its export.
    async with stack.svc.read() as conn:
        (state,) = await retention_states(conn, exports_nowhere=False)
    assert state.blocked == "entries are not yet exported to the case system"

    await set_rule(stack.svc, stack.world.tenant_id, "*", 365)
    assert (await apply_retention(stack.svc, _sink(tmp_path, "file"))).removed == []
    report = await apply_retention(stack.svc, nowhere)
    assert [c for c, _ in report.removed] == [anna]
    assert (await _leftovers(stack, anna))["messages"] == 0
    assert await _count(stack, journal_export_intake) == 0
    ok = await verify(
        stack.config.database_url, sink=nowhere.heads_sink, sink_key=nowhere.heads_key
    )
    assert ok.ok, ok.summary()


async def test_rules_are_set_and_read_through_the_api(stack: Stack) -> None:
    """A team lead sets a rule (in OpenAPI); a caseworker may read but not set; bad input is a
    400 with a stable code and changes nothing."""
    path = "/api/v1/retention-rules/boernesag"
    good = await stack.api("PUT", path, who="hanne", json={"days": 4000, "action": "archive"})
    assert good.status == 200, await good.text()
    body = await good.json()
    assert (body["case_type"], body["days"], body["action"]) == ("boernesag", 4000, "archive")
    assert (await stack.api("PUT", path, who="mette", json={"days": 10})).status == 403
    for bad, code in (
        ({"days": 0}, "bad_days"),
        ({"days": "ti"}, "bad_days"),
        ({"days": 10, "action": "shred"}, "bad_action"),
        ({}, "bad_days"),
    ):
        resp = await stack.api("PUT", path, who="hanne", json=bad)
        assert resp.status == 400, bad
        assert (await resp.json())["error"]["code"] == code, bad
    listed = await stack.api("GET", "/api/v1/retention-rules", who="mette")
    assert listed.status == 200
    items = (await listed.json())["items"]
    assert [(r["case_type"], r["days"], r["action"]) for r in items] == [
        ("boernesag", 4000, "archive")
    ]
    star = await stack.api("PUT", "/api/v1/retention-rules/*", who="hanne", json={"days": 90})
    assert star.status == 200 and (await star.json())["action"] == "remove"
    doc = await (await stack.client.get("/api/openapi.json")).json()
    assert "put" in doc["paths"]["/api/v1/retention-rules/{case_type}"]


async def test_a_lead_sets_a_rule_on_the_lead_pages(stack: Stack) -> None:
    """The lead's page links to the rules; a lead sets one with the form (a bad number is a
    400 that keeps the form and changes nothing); a caseworker gets 404."""
    from tests.web.conftest import form_post, give_logins, staff_login

    logins = await give_logins(stack)
    await staff_login(stack, logins["hanne"])
    lead = await (await stack.client.get("/sagsbehandler/ledelse")).text()
    assert 'href="/sagsbehandler/ledelse/bevaring"' in lead
    page = "/sagsbehandler/ledelse/bevaring"
    assert "Kommunen har ingen egne regler" in await (await stack.client.get(page)).text()
    bad = await form_post(stack, page, case_type="boernesag", days="ti", then="archive")
    assert bad.status == 400
    text = await bad.text()
    assert "Skriv antal dage" in text and 'value="boernesag"' in text
    assert await retention_rules_of(stack) == []
    good = await form_post(stack, page, case_type="boernesag", days="4000", then="archive")
    assert good.status == 303
    shown = await (await stack.client.get(good.headers["Location"])).text()
    assert "Reglen for boernesag er gemt" in shown and "Bevares (arkivloven)" in shown
    assert await retention_rules_of(stack) == [("boernesag", 4000, "archive")]
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["mette"])
    assert (await stack.client.get(page)).status == 404


async def retention_rules_of(stack: Stack) -> list[tuple[str, int, str]]:
    from journal.retention import list_rules

    return [
        (r["case_type"], r["days"], r["action"])
        for r in await list_rules(stack.svc, stack.world.tenant_id)
    ]
