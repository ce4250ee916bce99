"""The tamper matrix: every forgery the journal's guards and ``journal verify`` must catch."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from bot.base.config import ConfigError
from bot.cli.services import with_services
from bot.store.engine import make_engine
from bot.store.schema.core import journal_entries, journal_heads
from bot.store.schema.journal import journal_signed_heads
from journal.config import journal_config
from journal.journal import entry_hash
from journal.signing import HeadSigner, moves_of
from journal.sink import heads_tick
from journal.verify import COLUMNS, Problem, verify
from tests.harness import Stack, start_stack
from tests.journal.conftest import FRIDAY_MORNING, tamper
from tests.journal.test_verify import (
    SINK_KEY,
    _rewrite_from,
    chain_rows,
    notes,
    sink_config,
    traffic,
)


async def forge_append(
    stack: Stack, chain: str, *, back: timedelta, move_head: bool
) -> dict[str, Any]:
    """Append a correctly hashed "SMS til borger" entry, with no trigger switched off.

    Dated ``back`` before the chain's last entry; the head moved onto it when ``move_head``
    (the head trigger lets a head move along linked entries). Returns the forged row.
    """
    last = (await chain_rows(stack, chain))[-1]
    row: dict[str, Any] = {c: getattr(last, c) for c in COLUMNS[:15]}
    row |= {
        "id": str(uuid.uuid4()),
        "seq": last.seq + 1,
        "kind": "sms_out_reply",
        "direction": "out",
        "channel": "sms",
        "subject": "SMS til borger",
        "key_scope": None,
        "key_owner_id": None,
        "content_enc": None,
        "message_id": None,
        "actor": "system",
        "created_at": last.created_at - back,
    }
    row["prev_hash"] = last.hash
    row["hash"] = entry_hash(row, last.hash)
    engine = make_engine(stack.config.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(journal_entries).values(**row))
            if move_head:
                await conn.execute(
                    text("UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :chain"),
                    {"seq": row["seq"], "hash": row["hash"], "chain": chain},
                )
    finally:
        await engine.dispose()
    return row


async def test_a_backdated_forged_append_is_named_at_the_forged_entry(stack: Stack) -> None:
    """A hashed entry dated three days before the one it follows is named, head moved or not."""
    moved = await notes(stack, "anna", 3)
    left = await notes(stack, "carl", 2)
    rows = {
        moved: await forge_append(stack, moved, back=timedelta(days=3), move_head=True),
        left: await forge_append(stack, left, back=timedelta(days=3), move_head=False),
    }
    report = await verify(stack.config.database_url)
    found = {p.chain: p for p in report.problems}
    assert set(found) == {moved, left}, report.summary()
    for chain, row in rows.items():
        assert (found[chain].kind, found[chain].seq) == ("backdated", row["seq"])
        assert found[chain].entry_id == row["id"]
        assert "time runs backwards" in found[chain].detail


async def _forge_retention(stack: Stack, case_key: str) -> str:
    """Remove a case's chain and head behind the retention path and forge its record."""
    await notes(stack, case_key, 2)
    case_id = stack.world.cases[case_key]
    chain = f"case:{case_id}"
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
    return chain


async def test_a_forged_retention_record_is_not_counted_as_a_removal(
    stack: Stack, tmp_path: Path
) -> None:
    """A retention record without the sink's retired line is named and not counted as removed;
    without a sink to ask, it is counted as not proven."""
    cfg = sink_config(tmp_path)
    await notes(stack, "bo_children", 1)
    await heads_tick(stack.svc, cfg)  # the sink exists, but never saw the forged chain
    chain = await _forge_retention(stack, "carl")
    report = await verify(stack.config.database_url, sink=cfg.heads_sink, sink_key=SINK_KEY)
    assert report.retired == 0 and report.unproven == 1
    assert [(p.chain, p.kind, p.seq) for p in report.problems] == [(chain, "retention", 2)]
    assert "removed at the end of their retention period" not in report.summary()
    bare = await verify(stack.config.database_url)
    assert (bare.retired, bare.unproven) == (0, 1)
    assert "1 retention records not proven" in bare.summary()


# -- signed heads ---------------------------------------------------------------------


def signing_keys(stack: Stack) -> dict[str, bytes]:
    """The public keys the stack's heads are signed under."""
    return journal_config(stack.config).known_keys()


async def check(stack: Stack, **kwargs: Any) -> dict[str, Problem]:
    """Verify with signatures checked, alike in one process and in worker processes."""
    url = stack.config.database_url
    report = await verify(url, signing_keys=signing_keys(stack), workers=0, **kwargs)
    parallel = await verify(url, signing_keys=signing_keys(stack), workers=2, **kwargs)
    assert sorted(parallel.problems, key=str) == sorted(report.problems, key=str)
    found = {p.chain: p for p in report.problems}
    assert len(found) == len(report.problems), report.summary()
    return found


async def test_an_untouched_journal_verifies_with_its_signed_heads(stack: Stack) -> None:
    """Real traffic verifies with signatures checked: one signed row per commit, every
    chain's last signed head checked."""
    await traffic(stack)
    report = await verify(stack.config.database_url, signing_keys=signing_keys(stack))
    assert report.ok, report.summary()
    assert "signed heads" in report.signed and "signatures: " in report.summary()
    assert (await verify(stack.config.database_url, signing_keys={})).problems  # unknown key


async def test_a_forged_append_is_refused_past_the_last_signed_head(stack: Stack) -> None:
    """A correctly hashed, correctly dated entry appended without the key is named, head left
    or moved, and still when a genuine append follows it (the genuine one is signed)."""
    left = await notes(stack, "anna", 2)
    moved = await notes(stack, "carl", 2)
    laundered = await notes(stack, "eriksen", 2)
    forged = {
        c: await forge_append(stack, c, back=timedelta(0), move_head=c != left)
        for c in (left, moved, laundered)
    }
    assert (await verify(stack.config.database_url)).ok  # the chain alone cannot tell
    await notes(stack, "eriksen", 1)  # genuine, signed, on top of the forged entry
    found = await check(stack)
    assert set(found) == {left, moved, laundered}
    for chain, row in forged.items():
        assert (found[chain].kind, found[chain].seq) == ("unsigned", row["seq"])
        assert found[chain].entry_id == row["id"]


async def test_content_cleared_without_a_signed_redaction_is_named(stack: Stack) -> None:
    """An entry's content cleared behind the application's back, with no redaction record, is
    named as changed (lawful redaction at case removal: tests/journal/test_redaction.py)."""
    chain = await notes(stack, "anna", 3)
    [victim] = [r for r in await chain_rows(stack, chain) if r.seq == 2]
    await tamper(
        stack.config.database_url,
        ["UPDATE journal_entries SET content_enc = NULL WHERE id = :id"],
        {"id": victim.id},
    )
    found = await check(stack)
    assert (found[chain].kind, found[chain].seq, found[chain].entry_id) == ("changed", 2, victim.id)


async def test_a_cut_tail_and_a_head_moved_back_are_named(stack: Stack) -> None:
    """The last entry removed right after its commit (head rewound or not), and a head moved
    back over intact entries, are each named where the signed head says the chain goes on."""
    rewound = await notes(stack, "anna", 3)
    cut = await notes(stack, "carl", 3)
    back = await notes(stack, "eriksen", 3)
    r, c, b = [await chain_rows(stack, x) for x in (rewound, cut, back)]
    await tamper(
        stack.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id IN (:r, :c)",
            "DELETE FROM journal_entries WHERE id IN (:r, :c)",
            "UPDATE journal_heads SET seq = 2, hash = :rh WHERE chain = :rewound",
            "UPDATE journal_heads SET seq = 2, hash = :bh WHERE chain = :back",
        ],
        {"r": r[2].id, "c": c[2].id, "rh": r[1].hash, "bh": b[1].hash}
        | {"rewound": rewound, "back": back},
    )
    found = await check(stack)
    assert {k: (p.kind, p.seq) for k, p in found.items()} == {
        rewound: ("removed", 3),
        cut: ("removed", 3),
        back: ("head", 2),
    }
    assert "moved back" in found[back].detail


async def test_a_rehashed_rewrite_is_named_at_the_changed_entry(stack: Stack) -> None:
    """Entry #2 changed and it and every later entry re-sealed (head too): named at #2."""
    chain = await traffic(stack)
    rows = await chain_rows(stack, chain)
    await _rewrite_from(stack, chain, 2, "Ingen kvittering sendt")
    found = await check(stack)
    assert (found[chain].kind, found[chain].seq) == ("rewritten", 2)
    assert found[chain].entry_id == rows[1].id
    assert list(found) == [chain]


async def test_a_wrong_missing_or_removed_signature_is_named(stack: Stack) -> None:
    """A signed head with another signature, with none, or removed altogether is named."""
    wrong = await notes(stack, "anna", 2)
    missing = await notes(stack, "carl", 2)
    removed = await notes(stack, "eriksen", 2)
    last = {c: await _last_signed(stack, c) for c in (wrong, missing, removed)}
    await tamper(
        stack.config.database_url,
        [
            "UPDATE journal_signed_heads SET signature = :other WHERE id = :wrong",
            "UPDATE journal_signed_heads SET signature = '' WHERE id = :missing",
            "DELETE FROM journal_signed_heads WHERE id = :removed",
        ],
        {"other": last[missing][1], "wrong": last[wrong][0]}
        | {"missing": last[missing][0], "removed": last[removed][0]},
    )
    found = await check(stack)
    assert {k: (p.kind, p.seq) for k, p in found.items()} == {
        wrong: ("signature", 2),
        missing: ("signature", 2),
        removed: ("unsigned", 2),
    }


async def _last_signed(stack: Stack, chain: str) -> tuple[str, str]:
    """The id and signature of the signed-heads row that signed ``chain`` last."""
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(journal_signed_heads))).all()
    mine = [r for r in rows if any(h[0] == chain for h in moves_of(r.heads))]
    top = max(mine, key=lambda r: max(h[2] for h in moves_of(r.heads) if h[0] == chain))
    return top.id, top.signature


async def test_the_service_refuses_to_start_without_or_with_a_wrong_signing_key(
    stack: Stack,
) -> None:
    """No signing key, or one that did not sign the journal's heads: start-up refused with a
    clear message; a new key with the old public key listed (rotation) starts and verifies."""
    await notes(stack, "anna", 1)
    base = dict(stack.config.extra)
    old = HeadSigner.from_seed(bytes.fromhex(base[KEY]))
    new_seed = os.urandom(32)

    async def start(extra: dict[str, str]) -> None:
        await with_services(stack.config.with_(extra=extra), lambda svc: _noop())

    with pytest.raises(ConfigError, match="SIGNING_KEY .*is not set"):
        await start({k: v for k, v in base.items() if k != KEY})
    with pytest.raises(ConfigError, match="not the key that signed"):
        await start(base | {KEY: new_seed.hex()})
    rotated = base | {KEY: new_seed.hex(), "TOVHOLDER_JOURNAL_VERIFY_KEYS": old.public.hex()}
    await start(rotated)
    config = stack.config.with_(extra=rotated)

    async def file_note(svc: Any) -> None:
        await notes(stack, "carl", 1)

    await with_services(config, file_note)
    keys = journal_config(config).known_keys()
    assert set(keys) == {old.key_id, HeadSigner.from_seed(new_seed).key_id}
    assert (await verify(stack.config.database_url, signing_keys=keys)).ok


async def _noop() -> None:
    return None


KEY = "TOVHOLDER_JOURNAL_SIGNING_KEY"


# -- the heads sink receives every signed head ---------------------------------------


@pytest.fixture
async def sunk(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes], tmp_path: Path
) -> AsyncIterator[Stack]:
    """The stack with a heads sink configured: every signed head is written to it."""
    (tmp_path / "sink").mkdir()
    s = await start_stack(
        aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING,
        extra={"TOVHOLDER_JOURNAL_HEADS_SINK": str(tmp_path / "sink" / "heads.jsonl"),
               "TOVHOLDER_JOURNAL_HEADS_KEY": SINK_KEY.hex()},
    )  # fmt: skip
    try:
        yield s
    finally:
        await s.session.close()


def _sink(stack: Stack) -> Path:
    path = journal_config(stack.config).heads_sink
    assert path is not None
    return path


async def check_with_sink(stack: Stack) -> dict[str, Problem]:
    """Verify with signatures checked and against the heads sink."""
    return await check(stack, sink=_sink(stack), sink_key=SINK_KEY)


async def test_every_signed_head_reaches_the_sink_and_a_removed_line_is_named(
    sunk: Stack,
) -> None:
    """Each commit's signed heads are in the sink before it commits; a sink line removed, and
    a tail cut together with its signed row (head rewound), are both named."""
    chain = await notes(sunk, "anna", 3)
    other = await notes(sunk, "carl", 2)
    lines = _sink(sunk).read_text().splitlines()
    async with sunk.svc.read() as conn:
        signed = (await conn.execute(select(journal_signed_heads.c.id))).scalars().all()
    assert sorted(json.loads(x)["signed"] for x in lines) == sorted(signed)
    assert await check_with_sink(sunk) == {}
    rows = await chain_rows(sunk, chain)
    last_id, _ = await _last_signed(sunk, chain)
    await tamper(
        sunk.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id = :id",
            "DELETE FROM journal_entries WHERE id = :id",
            "DELETE FROM journal_signed_heads WHERE id = :signed",
            "UPDATE journal_heads SET seq = 2, hash = :hash WHERE chain = :chain",
        ],
        {"id": rows[2].id, "signed": last_id, "hash": rows[1].hash, "chain": chain},
    )
    assert (await verify(sunk.config.database_url, signing_keys=signing_keys(sunk))).ok
    other_last, _ = await _last_signed(sunk, other)
    kept = [x for x in lines if json.loads(x)["signed"] != other_last]
    _sink(sunk).write_text("\n".join(kept) + "\n")
    found = await check_with_sink(sunk)
    assert (found[chain].kind, found[chain].seq) == ("removed", 3)
    assert "sink signed #3" in found[chain].detail
    assert f"{other_last}" in found[str(_sink(sunk))].detail
    assert "a line was removed" in found[str(_sink(sunk))].detail


async def test_a_sink_that_cannot_be_written_fails_the_commit(sunk: Stack) -> None:
    """With the sink unwritable a note is refused 503 and nothing is filed; once it is back the
    retry files it, and the journal verifies."""
    chain = await notes(sunk, "anna", 1)
    sink = _sink(sunk)
    saved = sink.read_bytes()
    sink.unlink()
    sink.parent.rmdir()
    resp = await sunk.api(
        "POST",
        f"/api/v1/cases/{sunk.world.cases['anna']}/notes",
        json={"subject": "Notat", "text": "Indhold"},
    )
    assert resp.status == 503, await resp.text()
    assert len(await chain_rows(sunk, chain)) == 1
    sink.parent.mkdir()
    sink.write_bytes(saved)
    await notes(sunk, "anna", 1)
    assert len(await chain_rows(sunk, chain)) == 2
    assert await check_with_sink(sunk) == {}


async def test_a_small_step_back_in_time_is_honest_but_still_unsigned(stack: Stack) -> None:
    """An entry dated a minute before the one it follows is not called backdated (writers read
    the clock before they lock the head), yet a forged one is still named as unsigned."""
    chain = await notes(stack, "anna", 2)
    row = await forge_append(stack, chain, back=timedelta(minutes=1), move_head=True)
    assert (await verify(stack.config.database_url)).ok
    found = await check(stack)
    assert (found[chain].kind, found[chain].seq, found[chain].entry_id) == (
        "unsigned",
        row["seq"],
        row["id"],
    )
