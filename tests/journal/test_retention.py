"""Retention: transient data is purged; an erasure request becomes a restriction, not a deletion."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.base.errors import BadInput
from bot.domain.consent import proactive_allowed
from bot.domain.integration.service import update_case
from bot.store.engine import make_engine
from bot.store.schema.core import (
    inbox_links,
    journal_entries,
    journal_heads,
    messages,
    outbox,
    restrictions,
)
from bot.store.schema.journal import journal_retention
from journal.config import JournalConfig
from journal.export import export_tick
from journal.exporters.file_drop import FileDropExporter
from journal.retention import (
    NotDue,
    RetentionState,
    apply_retention,
    default_days,
    purge_transient,
    remove_case_journal,
    retention_states,
    set_rule,
)
from journal.sink import heads_tick
from journal.sinkfile import Anchor
from journal.verify import retire_anchors, verify
from tests.harness import Stack
from tests.journal.conftest import tamper


async def _count(stack: Stack, table) -> int:  # type: ignore[no-untyped-def]
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_transient_data_is_purged_after_the_period_and_the_journal_stays(
    stack: Stack,
) -> None:
    """Spent links and sent-message bookkeeping go after 30 days; messages and journal stay."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await stack.api(
        "POST",
        f"/api/v1/conversations/{conv}/replies",
        json={"body": "Følsomt svar", "sensitive": True},
    )
    await stack.drain()
    assert await _count(stack, inbox_links) == 1
    sent = await _count(stack, outbox)
    journal_before = await _count(stack, journal_entries)
    messages_before = await _count(stack, messages)
    assert await purge_transient(stack.svc) == {
        "inbox_links": 0,
        "outbox": 0,
        "staff_notices": 0,
        "login_codes": 0,
    }
    stack.clock.advance(days=45)
    counts = await purge_transient(stack.svc)
    assert counts["inbox_links"] == 1 and counts["outbox"] == sent
    assert await _count(stack, messages) == messages_before
    assert await _count(stack, journal_entries) >= journal_before  # nothing filed is removed


async def test_erasure_request_becomes_a_journalised_restriction(stack: Stack) -> None:
    """A lead records the request with a reason: no deletion, journalised, no proactive SMS after."""
    anna = stack.world.persons["anna"]
    path = f"/api/v1/persons/{anna}/restriction"
    assert (
        await stack.api("POST", path, who="mette", json={"reason": "Borgeren beder om sletning"})
    ).status == 404
    bad = await stack.api("POST", path, who="hanne", json={"reason": ""})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_reason"
    resp = await stack.api("POST", path, who="hanne", json={"reason": "Borgeren beder om sletning"})
    assert resp.status == 201 and (await resp.json())["cases"] == 1
    async with stack.svc.read() as conn:
        assert not await proactive_allowed(conn, anna)
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
    assert kinds == ["restriction"]
    assert await _count(stack, restrictions) == 1
    other = await stack.api(
        "POST", "/api/v1/persons/not-a-person/restriction", who="hanne", json={"reason": "x y z"}
    )
    assert other.status == 404


# -- retention per case type ----------------------------------------------------------------


def _sink_config(tmp_path: Path) -> JournalConfig:
    return JournalConfig(heads_sink=tmp_path / "heads.jsonl", heads_key=b"k" * 32)


async def _close_and_export(stack: Stack, case_key: str, tmp_path: Path) -> str:
    """A case with a few entries, closed, and every entry exported to a drop folder."""
    case_id = stack.world.cases[case_key]
    await stack.sms(stack.world.phones["anna"], "Hej, jeg har et spørgsmål")
    async with stack.svc.write() as conn:
        await update_case(
            conn, stack.svc, stack.world.tenant_id, case_id, {"status": "closed"}, actor="system"
        )
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    while (await export_tick(stack.svc, JournalConfig(), [FileDropExporter(drop)])).claimed:
        pass
    return case_id


async def _chain_entries(stack: Stack, case_id: str) -> int:
    async with stack.svc.read() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(journal_entries)
                    .where(journal_entries.c.chain == f"case:{case_id}")
                )
            ).scalar_one()
        )


async def test_a_closed_case_journal_goes_when_its_period_has_passed(
    stack: Stack, tmp_path: Path
) -> None:
    """Kept within the municipality's period for the type; removed after it, with a record,
    through the one path; verify (with the heads sink) stays green; other cases untouched."""
    await set_rule(stack.svc, stack.world.tenant_id, "general", 30)
    cfg = _sink_config(tmp_path)
    case_id = await _close_and_export(stack, "anna", tmp_path)
    entries = await _chain_entries(stack, case_id)
    assert entries >= 2
    assert await heads_tick(stack.svc, cfg) >= 1  # the chain is anchored in the sink
    total_before = await _count(stack, journal_entries)

    stack.clock.advance(days=29)
    report = await apply_retention(stack.svc, cfg)
    assert report.due == [] and report.waiting == 1
    with pytest.raises(NotDue, match="kept until"):
        await remove_case_journal(stack.svc, case_id)
    assert await _chain_entries(stack, case_id) == entries

    stack.clock.advance(days=2)
    dry = await apply_retention(stack.svc, cfg, apply=False)
    assert [s.case_id for s in dry.due] == [case_id] and dry.removed == []
    assert dry.due[0].rule == "general: 30 days (municipality)"
    assert await _chain_entries(stack, case_id) == entries
    done = await apply_retention(stack.svc, cfg, actor="cli")
    assert done.removed == [(case_id, entries)] and done.refused == []
    assert await _chain_entries(stack, case_id) == 0
    assert await _count(stack, journal_entries) == total_before - entries
    async with stack.svc.read() as conn:
        rec = (await conn.execute(select(journal_retention))).one()
        heads = (
            await conn.execute(
                select(func.count())
                .select_from(journal_heads)
                .where(journal_heads.c.chain == f"case:{case_id}")
            )
        ).scalar_one()
    assert (rec.case_id, rec.entries, rec.final_seq, rec.actor) == (
        case_id,
        entries,
        entries,
        "cli",
    )
    assert rec.rule == "general: 30 days (municipality)" and heads == 0

    report_ = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=cfg.heads_key)
    assert report_.ok, report_.summary()
    assert (
        report_.retired == 1 and "removed at the end of their retention period" in report_.summary()
    )
    # Nothing more is due; a second run changes nothing.
    assert (await apply_retention(stack.svc, cfg)).removed == []


async def test_an_open_or_unexported_case_is_kept(stack: Stack, tmp_path: Path) -> None:
    """Open cases, and closed cases with an entry not yet exported, stay whatever the date."""
    await set_rule(stack.svc, stack.world.tenant_id, "*", 1)
    await stack.sms(stack.world.phones["anna"], "Hej")
    anna = stack.world.cases["anna"]
    stack.clock.advance(days=400)
    assert (await apply_retention(stack.svc)).due == []  # open
    with pytest.raises(NotDue):
        await remove_case_journal(stack.svc, anna)
    async with stack.svc.write() as conn:
        await update_case(
            conn, stack.svc, stack.world.tenant_id, anna, {"status": "closed"}, actor="system"
        )
    stack.clock.advance(days=400)
    states = await _states(stack)
    assert [s.blocked for s in states] == ["entries are not yet exported to the case system"]
    with pytest.raises(NotDue, match="not yet exported"):
        await remove_case_journal(stack.svc, anna)
    assert await _chain_entries(stack, anna) > 0


async def _states(stack: Stack) -> list[RetentionState]:
    async with stack.svc.read() as conn:
        return await retention_states(conn)


async def test_defaults_per_case_type_and_the_database_agree(stack: Stack) -> None:
    """Five years by default, ten for a children's case; a municipality's rule wins; on
    PostgreSQL the database computes the same periods."""
    tenant = stack.world.tenant_id
    assert (default_days("general"), default_days("boernesag")) == (1826, 3653)
    with pytest.raises(BadInput):
        await set_rule(stack.svc, tenant, "general", 0)
    await set_rule(stack.svc, tenant, "kontanthjaelp", 400)
    await set_rule(stack.svc, tenant, "kontanthjaelp", 500)  # replaces
    if not stack.svc.sqlite:
        async with stack.svc.read() as conn:
            for case_type, days in (("general", 1826), ("boernesag", 3653), ("kontanthjaelp", 500)):
                got = (
                    await conn.execute(
                        text("SELECT tovholder_retention_days(:t, :c)"),
                        {"t": tenant, "c": case_type},
                    )
                ).scalar_one()
                assert got == days, case_type
    await set_rule(stack.svc, tenant, "*", 90)
    if not stack.svc.sqlite:
        async with stack.svc.read() as conn:
            got = (
                await conn.execute(
                    text("SELECT tovholder_retention_days(:t, 'boernesag')"), {"t": tenant}
                )
            ).scalar_one()
            assert got == 90


async def test_the_database_refuses_every_other_removal(
    stack: Stack, tmp_path: Path, db_url: str
) -> None:
    """PostgreSQL: a direct DELETE, a forged setting, a retention record for a case not due,
    and the sanctioned function itself for a case not due are all refused, even as a replica."""
    if db_url.startswith("sqlite"):
        pytest.skip("the database's own guard is PostgreSQL's; SQLite keeps the rules in code")
    # Not due by the database's own clock: a century.
    await set_rule(stack.svc, stack.world.tenant_id, "general", 36_500)
    case_id = await _close_and_export(stack, "anna", tmp_path)
    chain = f"case:{case_id}"
    async with stack.svc.read() as conn:
        head = (
            await conn.execute(select(journal_heads).where(journal_heads.c.chain == chain))
        ).one()
    attempts = [
        [f"DELETE FROM journal_entries WHERE chain = '{chain}'"],
        [
            f"SELECT set_config('tovholder.retention', '{chain}', true)",
            f"DELETE FROM journal_entries WHERE chain = '{chain}'",
        ],
        [
            f"SELECT set_config('tovholder.retention', '{chain}', true)",
            f"DELETE FROM journal_heads WHERE chain = '{chain}'",
        ],
        [
            f"INSERT INTO journal_retention VALUES ('r1', '{stack.world.tenant_id}', '{case_id}', "
            f"'{chain}', {head.seq}, {head.seq}, '{head.hash}', now(), now(), 'x', 'x', now())"
        ],
        [f"SELECT tovholder_retention_remove('{case_id}', '2200-01-01T00:00:00Z', 'r2', 'x')"],
        ["UPDATE journal_entries SET subject = 'x'"],
    ]
    engine = make_engine(db_url)
    try:
        for replica in (False, True):
            for statements in attempts:
                with pytest.raises(DBAPIError, match="append-only|not due"):
                    async with engine.begin() as conn:
                        if replica:
                            await conn.execute(text("SET session_replication_role = replica"))
                        for sql in statements:
                            await conn.execute(text(sql))
    finally:
        await engine.dispose()
    assert await _chain_entries(stack, case_id) == head.seq
    with pytest.raises(NotDue):
        await remove_case_journal(stack.svc, case_id)
    # The retention record is append-only too, once written.
    await set_rule(stack.svc, stack.world.tenant_id, "general", 30)
    stack.clock.advance(days=31)
    assert (await apply_retention(stack.svc)).removed == [(case_id, head.seq)]
    engine = make_engine(db_url)
    try:
        for sql in ("UPDATE journal_retention SET entries = 0", "DELETE FROM journal_retention"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def test_verify_still_finds_a_chain_removed_behind_the_retention_path(
    stack: Stack, tmp_path: Path
) -> None:
    """A chain deleted by someone with DDL rights, even with a forged retention record, is
    reported: the heads sink has no retired line for it."""
    cfg = _sink_config(tmp_path)
    case_id = await _close_and_export(stack, "anna", tmp_path)
    assert await heads_tick(stack.svc, cfg) >= 1
    chain = f"case:{case_id}"
    async with stack.svc.read() as conn:
        head = (
            await conn.execute(select(journal_heads).where(journal_heads.c.chain == chain))
        ).one()
    at = stack.clock.now()
    await tamper(
        stack.config.database_url,
        [
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
            "case_id": case_id,
            "seq": head.seq,
            "hash": head.hash,
            "at": at,
        },
    )
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=cfg.heads_key)
    assert not report.ok
    assert [(p.chain, p.kind) for p in report.problems] == [(chain, "removed")]
    assert "no matching retired line" in report.problems[0].detail


def test_a_retired_line_sets_aside_only_its_own_chain_up_to_itself() -> None:
    """Anchors of a retired chain before its retired line go; a restarted chain's later
    anchors, other chains' anchors and retired lines without a record stay."""
    a = [
        Anchor("case:1", 3, "h3", "t", 1),
        Anchor("case:2", 1, "x1", "t", 2),
        Anchor("case:1", 5, "h5", "t", 3, retired=True),
        Anchor("case:1", 5, "h5", "t", 4),  # a heads tick racing the removal
        Anchor("case:1", 1, "n1", "t", 5),  # the case filed anew after removal
        Anchor("case:2", 1, "x1", "t", 6, retired=True),  # no record: not retired
    ]
    kept = retire_anchors(a, {"case:1": {(5, "h5")}})
    assert [x.line for x in kept] == [2, 5]
