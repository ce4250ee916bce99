"""`journal verify`: an intact journal passes; every kind of tampering is named."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.store.schema.core import journal_entries, journal_heads
from journal.config import JournalConfig
from journal.journal import GENESIS, case_chain, entry_hash
from journal.sink import heads_tick
from journal.verify import COLUMNS, Head, iso_utc, judge_head, row_hash, verify
from tests.harness import Stack
from tests.journal.conftest import tamper

SINK_KEY = b"k" * 32


async def traffic(stack: Stack) -> str:
    """Five entries on Anna's case (SMS, receipt, SMS, two notes) and two on Bo's. Returns Anna's
    chain."""
    w = stack.world
    await stack.sms(w.phones["anna"], "Hej, kan vi flytte mødet?")
    stack.clock.advance(minutes=5)
    await stack.sms(w.phones["anna"], 'Det er "vigtigt" \\ tak\nAnna')
    for subject in ("Telefonsamtale", "Møde aftalt"):
        stack.clock.advance(minutes=1, microseconds=123)
        resp = await stack.api(
            "POST",
            f"/api/v1/cases/{w.cases['anna']}/notes",
            json={"subject": subject, "text": "Borgeren ringede. Привіт."},
        )
        assert resp.status == 201, await resp.text()
    await stack.sms(w.phones["bo"], "Hej fra Bo")  # Bo has two cases: asks which
    return case_chain(w.cases["anna"])


def sink_config(tmp_path: Path) -> JournalConfig:
    return JournalConfig(heads_sink=tmp_path / "heads.jsonl", heads_key=SINK_KEY)


async def chain_rows(stack: Stack, chain: str) -> list[Any]:
    async with stack.svc.read() as conn:
        return list(
            (
                await conn.execute(
                    select(journal_entries)
                    .where(journal_entries.c.chain == chain)
                    .order_by(journal_entries.c.seq)
                )
            ).all()
        )


async def test_an_untouched_journal_verifies(stack: Stack, tmp_path: Path) -> None:
    """Real traffic (SMS, receipts, notes, the unassigned queue) verifies, also against the sink."""
    await traffic(stack)
    cfg = sink_config(tmp_path)
    assert await heads_tick(stack.svc, cfg) >= 2
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    async with stack.svc.read() as conn:
        total = len((await conn.execute(select(journal_entries.c.id))).all())
        chains = len((await conn.execute(select(journal_heads.c.chain))).all())
    assert report.ok, report.summary()
    assert (report.entries, report.chains) == (total, chains)
    assert report.anchors_checked == chains
    assert "journal OK" in report.summary()


async def notes(stack: Stack, case: str, count: int, who: str = "mette") -> str:
    """File ``count`` notes on one of the world's cases; returns its chain."""
    for i in range(count):
        resp = await stack.api(
            "POST",
            f"/api/v1/cases/{stack.world.cases[case]}/notes",
            who=who,
            json={"subject": f"Notat {i + 1}", "text": f"Indhold {i + 1}"},
        )
        assert resp.status == 201, await resp.text()
    return case_chain(stack.world.cases[case])


async def test_each_damaged_chain_is_named_at_its_first_problem(stack: Stack) -> None:
    """Changed, removed, swapped, relinked and cut-off entries and a lost head are each named,
    one per chain, alike in one process and in worker processes."""
    changed = await traffic(stack)  # five entries on Anna's case
    removed = await notes(stack, "carl", 5)
    swapped = await notes(stack, "eriksen", 5)
    relinked = await notes(stack, "bo_children", 5)
    cut = await notes(stack, "dorte", 4, who="lars")
    headless = await notes(stack, "bo_jobs", 2, who="lars")
    rows = {c: await chain_rows(stack, c) for c in (changed, removed, swapped, relinked, cut)}
    # #3 of `relinked` re-sealed as if it followed #1 directly (as after cutting #2 out).
    fields = {c: getattr(rows[relinked][2], c) for c in COLUMNS[:15]}
    forged = entry_hash(fields, rows[relinked][0].hash)
    await tamper(
        stack.config.database_url,
        [
            "UPDATE journal_entries SET subject = 'Intet at bemærke' WHERE id = :changed",
            "DELETE FROM journal_export_intake WHERE entry_id IN (:removed, :cut)",
            "DELETE FROM journal_entries WHERE id IN (:removed, :cut)",
            "UPDATE journal_entries SET seq = -1 WHERE id = :b",
            "UPDATE journal_entries SET seq = 2 WHERE id = :c",
            "UPDATE journal_entries SET seq = 3 WHERE id = :b",
            "UPDATE journal_entries SET prev_hash = :p, hash = :h WHERE id = :relinked",
            "DELETE FROM journal_heads WHERE chain = :headless",
        ],
        {
            "changed": rows[changed][2].id,
            "removed": rows[removed][2].id,
            "cut": rows[cut][-1].id,
            "b": rows[swapped][1].id,
            "c": rows[swapped][2].id,
            "p": rows[relinked][0].hash,
            "h": forged,
            "relinked": rows[relinked][2].id,
            "headless": headless,
        },
    )
    report = await verify(stack.config.database_url, workers=0)
    found = {p.chain: p for p in report.problems}
    assert len(report.problems) == 6, report.summary()
    parallel = await verify(stack.config.database_url, workers=2)  # worker processes agree
    assert sorted(parallel.problems, key=str) == sorted(report.problems, key=str)
    assert (parallel.entries, parallel.chains) == (report.entries, report.chains)
    assert (found[changed].kind, found[changed].seq) == ("changed", 3)
    assert found[changed].entry_id == rows[changed][2].id
    assert (found[removed].kind, found[removed].seq) == ("removed", 3)
    assert "#3 is missing" in str(found[removed])
    assert (found[swapped].seq, found[swapped].entry_id) == (2, rows[swapped][2].id)
    assert "does not follow #1" in found[swapped].detail
    assert (found[relinked].kind, found[relinked].seq) == ("reordered", 3)
    assert found[relinked].entry_id == rows[relinked][2].id
    assert (found[cut].kind, found[cut].seq) == ("removed", 4)
    assert (found[headless].kind, found[headless].detail) == ("head", "the chain has no head row")
    assert "NOT OK" in report.summary()


async def _rewrite_from(stack: Stack, chain: str, seq: int, subject: str) -> None:
    """Change entry #seq and re-seal it and every later entry, and the head: a careful forger."""
    rows = await chain_rows(stack, chain)
    prev = rows[seq - 2].hash if seq > 1 else GENESIS
    statements, params = [], {}
    for i, r in enumerate(rows[seq - 1 :]):
        fields = {c: getattr(r, c) for c in COLUMNS[:15]}
        if i == 0:
            fields["subject"] = subject
        new = entry_hash(fields, prev)
        statements.append(
            f"UPDATE journal_entries SET subject = :s{i}, prev_hash = :p{i}, hash = :h{i} "
            f"WHERE id = :id{i}"
        )
        params |= {f"s{i}": fields["subject"], f"p{i}": prev, f"h{i}": new, f"id{i}": r.id}
        prev = new
    statements.append("UPDATE journal_heads SET hash = :head WHERE chain = :chain")
    params |= {"head": prev, "chain": chain}
    await tamper(stack.config.database_url, statements, params)


async def test_a_rewritten_or_shortened_chain_is_caught_only_by_the_sink(
    stack: Stack, tmp_path: Path
) -> None:
    """Re-sealing a changed chain, or cutting one and rewinding its head, fools the chain check;
    the heads sink catches both, and a tampered or missing sink is reported itself."""
    rewritten = await traffic(stack)
    shortened = await notes(stack, "carl", 3)
    cfg = sink_config(tmp_path)
    await heads_tick(stack.svc, cfg)
    await _rewrite_from(stack, rewritten, 2, "Ingen kvittering sendt")
    rows = await chain_rows(stack, shortened)
    await tamper(
        stack.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id = :id",
            "DELETE FROM journal_entries WHERE id = :id",
            "UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :chain",
        ],
        {"id": rows[-1].id, "seq": rows[-2].seq, "hash": rows[-2].hash, "chain": shortened},
    )
    assert (await verify(stack.config.database_url)).ok
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    assert sorted((p.chain, p.kind, p.seq) for p in report.problems) == sorted(
        [(rewritten, "rewritten", 5), (shortened, "removed", 3)]
    )
    assert all("line" in p.detail for p in report.problems)
    # A sink line altered (or added) without the key fails its HMAC and is named …
    assert cfg.heads_sink is not None
    lines = cfg.heads_sink.read_text().splitlines()
    first = json.loads(lines[0])
    first["seq"] += 1
    lines[0] = json.dumps(first)
    lines.append("not json")
    cfg.heads_sink.write_text("\n".join(lines) + "\n")
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    assert [p.detail.split(":")[0] for p in report.problems if p.kind == "sink"] == [
        "line 1",
        f"line {len(lines)}",
    ]
    # … and a sink that vanished is reported too.
    cfg.heads_sink.unlink()
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    assert report.sink == "missing" and "sink" in [p.kind for p in report.problems]


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=_text,
    actor=_text,
    kind=_text,
    optional=st.lists(st.one_of(st.none(), _text), min_size=4, max_size=4),
    content=st.one_of(st.none(), st.binary(max_size=40)),
    seq=st.integers(min_value=1, max_value=2**31),
    micro=st.sampled_from([0, 1, 999_999]),
)
def test_the_fast_hash_equals_entry_hash(
    subject: str,
    actor: str,
    kind: str,
    optional: list[str | None],
    content: bytes | None,
    seq: int,
    micro: int,
) -> None:
    """row_hash reproduces entry_hash byte for byte, whatever the text holds."""
    when = datetime(2025, 2, 21, 9, 0, 1, micro, tzinfo=UTC)
    row = {
        "id": str(uuid.uuid4()),
        "tenant_id": "t",
        "chain": "case:c",
        "seq": seq,
        "case_id": optional[0],
        "kind": kind,
        "direction": "in",
        "channel": "sms",
        "subject": subject,
        "key_scope": optional[1],
        "key_owner_id": optional[2],
        "content_enc": content,
        "message_id": optional[3],
        "actor": actor,
        "created_at": when,
    }
    stored = when.strftime("%Y-%m-%d %H:%M:%S.%f")
    values = [row[c] for c in COLUMNS[:14]]
    assert iso_utc(stored) == when.isoformat()
    assert row_hash("p" * 64, values, iso_utc(stored)) == entry_hash(row, "p" * 64)


def test_verify_starts_chains_where_append_does() -> None:
    """verify's genesis hash is the journal's (it keeps a copy to stay import-light)."""
    from journal import verify as verify_module

    assert verify_module.GENESIS == GENESIS


def test_a_chain_may_run_past_the_head_read_before_it() -> None:
    """Entries appended while verify reads are fine; a head past the end, or not matching, is not."""
    head = Head(seq=2, hash="h2")
    assert judge_head("c", head, 3, "e3", "h2", {}) == []  # #3 appended since
    [short] = judge_head("c", head, 1, "e1", None, {})
    assert (short.kind, short.seq) == ("removed", 2)
    [odd] = judge_head("c", head, 2, "e2", "other", {})
    assert (odd.kind, odd.seq, odd.entry_id) == ("head", 2, "e2")
