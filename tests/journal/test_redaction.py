"""A removed case takes its content out of the unassigned chain: the entries about its messages
are redacted under a signed record, verify stays OK, and a forged redaction is still caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from bot.domain import filing
from bot.domain.filing import Recipient
from bot.store.schema.core import journal_entries
from bot.store.schema.journal import journal_redactions
from journal.config import journal_config
from journal.journal import unassigned_chain
from journal.proof import check_proof, inclusion_proof
from journal.retention import apply_retention, set_rule
from journal.sink import heads_tick
from journal.verify import verify
from tests.bot.test_filing import UNKNOWN, _unknown_thread, _user
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.journal.test_case_retention import _close, _export_all, _sink


async def _unassigned(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        chain = unassigned_chain(stack.world.tenant_id)
        q = select(journal_entries).where(journal_entries.c.chain == chain)
        return list((await conn.execute(q.order_by(journal_entries.c.seq))).all())


async def _remove_anna_after_filing(stack: Stack, tmp_path: Path) -> list[Any]:
    """An unknown number's SMS filed on Anna's case, another left unassigned; Anna's case
    removed by retention. Returns the unassigned chain before the removal."""
    w = stack.world
    await set_rule(stack.svc, w.tenant_id, "*", 30)
    conv = await _unknown_thread(stack)
    await filing.file_thread(
        stack.svc,
        _user(stack, "hanne"),
        conv,
        case_id=w.cases["anna"],
        to=Recipient(person_id=w.persons["anna"], replace_number=True),
    )
    assert (await stack.sms("+4520999002", "Hvem skal jeg skrive til?")).status == 200
    await stack.drain()
    await stack.settle()
    before = await _unassigned(stack)
    await _close(stack, w.cases["anna"])
    await _export_all(stack, tmp_path)
    cfg = _sink(tmp_path, "file")
    await heads_tick(stack.svc, cfg)
    stack.clock.advance(days=31)
    report = await apply_retention(stack.svc, cfg)
    assert [c for c, _ in report.removed] == [w.cases["anna"]], report
    return before


async def _verify(stack: Stack, tmp_path: Path) -> Any:
    cfg = _sink(tmp_path, "file")
    keys = journal_config(stack.config).known_keys()
    return await verify(
        stack.config.database_url, sink=cfg.heads_sink, sink_key=cfg.heads_key, signing_keys=keys
    )


async def test_removal_redacts_the_unassigned_entries_about_the_case(
    stack: Stack, tmp_path: Path
) -> None:
    """The SMS, its receipt and the two filed_out notes lose their content with signed records;
    the other number's entries keep theirs; the chain verifies, counting the redactions."""
    before = await _remove_anna_after_filing(stack, tmp_path)
    after = await _unassigned(stack)
    assert [(e.id, e.seq, e.hash) for e in after] == [(e.id, e.seq, e.hash) for e in before]
    filed = {e.message_id for e in before if e.kind == "filed_out"}
    assert len(filed) == 2
    gone = [e for e in after if e.message_id in filed]
    assert {e.kind for e in gone} == {"sms_in", "sms_out_receipt", "filed_out"}
    assert all(e.content_enc is None for e in gone)
    kept = [e for e in after if e.message_id not in filed and e.content_enc is not None]
    assert kept and all(
        b.content_enc == a.content_enc for a in kept for b in before if b.id == a.id
    )
    async with stack.svc.read() as conn:
        records = (await conn.execute(select(journal_redactions))).all()
    assert sorted(r.entry_id for r in records) == sorted(e.id for e in gone)
    assert {r.case_id for r in records} == {stack.world.cases["anna"]}
    report = await _verify(stack, tmp_path)
    assert report.ok and report.redacted == len(gone), report.summary()
    assert report.retired == 1
    plain = await verify(stack.config.database_url)  # without keys or sink: still OK
    assert plain.ok and plain.redacted == len(gone), plain.summary()
    parallel = await verify(stack.config.database_url, workers=2)  # in worker processes too
    assert parallel.ok and parallel.redacted == len(gone), parallel.summary()


async def test_a_forged_redaction_is_caught(stack: Stack, tmp_path: Path) -> None:
    """Content cleared with a copied signature, or a redacted entry's other fields changed: both
    named in the unassigned chain; the database refuses a redaction outside a removal."""
    await _remove_anna_after_filing(stack, tmp_path)
    rows = await _unassigned(stack)
    chain = unassigned_chain(stack.world.tenant_id)
    async with stack.svc.read() as conn:
        real = (await conn.execute(select(journal_redactions))).first()
    assert real is not None
    victim = next(e for e in rows if e.content_enc is not None and e.kind == "sms_in")
    forged = {c: getattr(real, c) for c in real._fields} | {
        "id": "forged",
        "seq": victim.seq,
        "entry_id": victim.id,
        "entry_hash": victim.hash,
    }
    cols = ", ".join(forged)
    await tamper(
        stack.config.database_url,
        [
            f"INSERT INTO journal_redactions ({cols}) VALUES ({', '.join(':' + c for c in forged)})",
            "UPDATE journal_entries SET content_enc = NULL WHERE id = :entry_id",
        ],
        forged,
    )
    report = await _verify(stack, tmp_path)
    assert not report.ok
    assert {(p.chain, p.kind, p.seq) for p in report.problems} == {
        (chain, "signature", victim.seq)
    }, report.summary()
    # Without the keys the signature is not checked, but the record does not pin this entry.
    unkeyed = await verify(stack.config.database_url)
    assert not unkeyed.ok and {p.kind for p in unkeyed.problems} == {"changed"}


async def test_a_redacted_entry_keeps_its_other_fields(stack: Stack, tmp_path: Path) -> None:
    """A redacted entry whose subject is changed afterwards is named as changed: the signed
    record pins every field it keeps."""
    await _remove_anna_after_filing(stack, tmp_path)
    victim = next(e for e in await _unassigned(stack) if e.content_enc is None and e.seq > 1)
    await tamper(
        stack.config.database_url,
        ["UPDATE journal_entries SET subject = 'Noget andet' WHERE id = :id"],
        {"id": victim.id},
    )
    report = await _verify(stack, tmp_path)
    found = {(p.chain, p.kind, p.seq) for p in report.problems}
    assert found == {(victim.chain, "changed", victim.seq)}, report.summary()


async def test_the_database_refuses_a_redaction_outside_a_removal(stack: Stack) -> None:
    """PostgreSQL: clearing an entry's content without a redaction of a removal in the same
    transaction is refused (SQLite keeps the rule in code)."""
    if stack.svc.sqlite:
        pytest.skip("the database's own guard is PostgreSQL's; SQLite keeps the rules in code")
    assert (await stack.sms(UNKNOWN, "Hej")).status == 200
    entry = (await _unassigned(stack))[0]
    try:
        async with stack.svc.write() as conn:
            await conn.execute(
                update(journal_entries)
                .where(journal_entries.c.id == entry.id)
                .values(content_enc=None)
            )
    except DBAPIError as exc:
        assert "append-only" in str(exc)
    else:
        raise AssertionError("the update went through")


async def test_a_proof_walks_through_redacted_entries(stack: Stack, tmp_path: Path) -> None:
    """An inclusion proof from the unassigned chain's first entry crosses the redacted ones on
    their signed redactions and checks; a redaction changed in the proof does not."""
    await _remove_anna_after_filing(stack, tmp_path)
    rows = await _unassigned(stack)
    assert any(e.content_enc is None for e in rows)
    keys = journal_config(stack.config).known_keys()
    async with stack.svc.read() as conn:
        proof = await inclusion_proof(conn, rows[0].id, keys)
    steps = [s for s in proof["entries"] if "redaction" in s]
    assert steps and check_proof(proof, keys) == []
    steps[0]["redaction"]["case_id"] = "another"
    assert check_proof(proof, keys) == [
        f"{proof['chain']}: entry #{steps[0]['seq']} does not hash to its recorded hash"
    ]


async def test_what_another_case_still_names_stays(stack: Stack, tmp_path: Path) -> None:
    """Bo (two cases) sends STOP, then a message answered "which case?" with the Jobcenter
    case; removing that case redacts the waiting message and the question, not the STOP
    confirmation, which his children's case still names; the journal verifies."""
    w = stack.world
    bo = w.phones["bo"]
    await set_rule(stack.svc, w.tenant_id, "*", 30)
    assert (await stack.sms(bo, "STOP")).status == 200
    stack.clock.advance(minutes=1)
    assert (await stack.sms(bo, "Hvornår er mødet?")).status == 200
    stack.clock.advance(minutes=2)
    assert (await stack.sms(bo, "2")).status == 200
    await stack.drain()
    await stack.settle()
    before = {e.id: e for e in await _unassigned(stack)}
    with_content = {e.id for e in before.values() if e.content_enc is not None}
    await _close(stack, w.cases["bo_jobs"])
    await _export_all(stack, tmp_path)
    cfg = _sink(tmp_path, "file")
    await heads_tick(stack.svc, cfg)
    stack.clock.advance(days=31)
    report = await apply_retention(stack.svc, cfg)
    assert w.cases["bo_jobs"] in [c for c, _ in report.removed], report
    assert w.cases["bo_children"] not in [c for c, _ in report.removed]
    after = await _unassigned(stack)
    redacted = {e.kind for e in after if e.id in with_content and e.content_enc is None}
    assert redacted == {"sms_in", "sms_out_clarify"}
    kept = {e.kind for e in after if e.id in with_content and e.content_enc is not None}
    assert kept == {"sms_out_auto"}  # the STOP confirmation as sent
    checked = await _verify(stack, tmp_path)
    assert checked.ok and checked.redacted == 2, checked.summary()
