"""Signed heads, version 2: one signature per commit, yet an export shows only its own chain's
move; rows signed in version 1 (before) still verify, in the database and in exports."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import select, update

from bot.base.ids import new_id
from bot.store.schema.core import journal_entries, journal_heads
from bot.store.schema.journal import journal_export_intake, journal_signed_heads
from journal.config import journal_config
from journal.journal import NewEntry, append_many, case_chain, entry_hash
from journal.signing import (
    HeadSigner,
    head_view,
    moves_of,
    payload,
    signature_ok,
    signed_row,
    view_matches,
    view_moves,
    view_ok,
)
from journal.verify import verify
from journal.witness import against_exports
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.journal.test_witness import _export


def _signer(stack: Stack) -> HeadSigner:
    return HeadSigner.from_seed(bytes.fromhex(stack.config.extra["TOVHOLDER_JOURNAL_SIGNING_KEY"]))


async def test_an_export_of_a_commit_over_two_cases_shows_nothing_of_the_other(
    stack: Stack, tmp_path: Path
) -> None:
    """One commit files on Anna's and Carl's cases under one signature; each case's export holds
    its own move and digests only, verifies, and names neither the other chain nor its hash."""
    w = stack.world
    now = stack.clock.now()
    entries = [
        NewEntry(tenant_id=w.tenant_id, case_id=w.cases[c], kind="note", direction="internal",
                 channel="api", subject="Notat", actor="system", at=now)
        for c in ("anna", "carl")
    ]  # fmt: skip
    async with stack.svc.write() as conn:
        await append_many(conn, entries, lock_first=True)
        rows = (await conn.execute(select(journal_signed_heads))).all()
    [both] = [r for r in rows if len(moves_of(r.heads)) == 2]
    metas = await _export(stack, tmp_path / "drop")
    keys = journal_config(stack.config).known_keys()
    seen = 0
    for m in metas:
        head = m["signed_head"]
        if head["id"] != both.id:
            continue
        seen += 1
        own = m["chain"]["name"]
        [other] = [mv for mv in moves_of(both.heads) if mv[0] != own]
        text = json.dumps(m)
        assert other[0] not in text and other[3] not in text
        assert view_ok(keys, head) and [mv[0] for mv in view_moves(head)] == [own]
        assert len(head["digests"]) == 2
    assert seen == 2
    report = await against_exports(stack.config.database_url, tmp_path / "drop", keys)
    assert report.ok, report.summary()


async def test_a_view_with_another_chains_move_does_not_verify(stack: Stack) -> None:
    """A view whose clear move is swapped for another chain's, or whose digests are cut, fails."""
    signer = _signer(stack)
    moves = [("case:a", 0, 1, "a" * 64), ("case:b", 3, 4, "b" * 64)]
    row = signed_row(signer, "r1", moves, stack.clock.now())
    keys = {signer.key_id: signer.public}
    assert signature_ok(keys, [row[c] for c in ("id", "key_id", "at", "heads", "signature")])
    view = head_view(row, "case:a")
    assert view_ok(keys, view) and "case:b" not in json.dumps(view)
    assert view_matches(view, [row[c] for c in ("id", "key_id", "at", "heads", "signature")])
    assert not view_ok(keys, view | {"move": ["case:a", 0, 1, "c" * 64]})
    assert not view_ok(keys, view | {"digests": view["digests"][:1]})
    assert not view_ok(keys, view | {"at": "2020-01-01T00:00:00+00:00"})


async def test_a_row_signed_in_version_1_still_verifies(stack: Stack, tmp_path: Path) -> None:
    """A commit signed the old way (heads in clear under the signature) verifies in the database,
    and its export (the whole row) checks against the database; a changed old row is caught."""
    w = stack.world
    chain = case_chain(w.cases["anna"])
    signer = _signer(stack)
    now = stack.clock.now()
    async with stack.svc.write() as conn:
        await append_many(
            conn,
            [NewEntry(tenant_id=w.tenant_id, case_id=w.cases["anna"], kind="note",
                      direction="internal", channel="api", subject="Notat", actor="system",
                      at=now)],
        )  # fmt: skip
        head = (
            await conn.execute(select(journal_heads).where(journal_heads.c.chain == chain))
        ).one()
        row = {
            "id": new_id(), "tenant_id": w.tenant_id, "chain": chain, "seq": head.seq + 1,
            "case_id": w.cases["anna"], "kind": "note", "direction": "internal",
            "channel": "api", "subject": "Notat fra før version 2", "key_scope": None,
            "key_owner_id": None, "content_enc": None, "message_id": None, "actor": "system",
            "created_at": now, "prev_hash": head.hash,
        }  # fmt: skip
        row["hash"] = entry_hash(row, head.hash)
        await conn.execute(journal_entries.insert().values(**row))
        await conn.execute(
            journal_export_intake.insert().values(
                entry_id=row["id"], tenant_id=w.tenant_id, created_at=now
            )
        )
        await conn.execute(
            update(journal_heads)
            .where(journal_heads.c.chain == chain)
            .values(seq=row["seq"], hash=row["hash"])
        )
        heads = json.dumps([[chain, head.seq, row["seq"], row["hash"]]], separators=(",", ":"))
        rid, at = str(uuid.uuid4()), now.isoformat()
        await conn.execute(
            journal_signed_heads.insert().values(
                id=rid, key_id=signer.key_id, at=at, heads=heads,
                signature=signer.sign(payload(rid, at, signer.key_id, heads)),
            )
        )  # fmt: skip
    keys = journal_config(stack.config).known_keys()
    report = await verify(stack.config.database_url, signing_keys=keys)
    assert report.ok, report.summary()
    metas = await _export(stack, tmp_path / "drop")
    [old] = [m for m in metas if m["signed_head"]["id"] == rid]
    assert old["signed_head"]["heads"] == heads and view_ok(keys, old["signed_head"])
    assert (await against_exports(stack.config.database_url, tmp_path / "drop", keys)).ok
    await tamper(
        stack.config.database_url,
        ["UPDATE journal_signed_heads SET at = :at WHERE id = :id"],
        {"at": "2000-01-01T00:00:00+00:00", "id": rid},
    )
    broken = await verify(stack.config.database_url, signing_keys=keys)
    assert {(p.chain, p.kind) for p in broken.problems} == {(chain, "signature")}
