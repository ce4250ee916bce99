"""The case system as a witness: every export carries its signed head, and
``journal verify --against-exports`` names any difference between the database and the exports."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.journal import register, run_verify
from journal.config import JournalConfig, journal_config
from journal.export import export_tick
from journal.exporters.file_drop import FileDropExporter
from journal.signing import view_moves, view_ok
from journal.witness import against_exports
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.journal.test_verify import _rewrite_from, chain_rows, traffic

CONFIG = JournalConfig(export_timeout=5.0)


def _read(folder: Path) -> list[dict[str, Any]]:
    metas = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return sorted(metas, key=lambda m: (m["chain"]["name"], m["chain"]["seq"]))


async def _export(stack: Stack, folder: Path) -> list[dict[str, Any]]:
    """Export every case entry to a file drop in ``folder``; the metadata, in chain order."""
    await asyncio.to_thread(folder.mkdir, exist_ok=True)
    stats = await export_tick(stack.svc, CONFIG, [FileDropExporter(folder)])
    assert stats.failed == 0
    return await asyncio.to_thread(_read, folder)


def _keys(stack: Stack) -> dict[str, bytes]:
    return journal_config(stack.config).known_keys()


async def test_each_export_carries_a_valid_signed_head_covering_its_entry(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every exported document holds the signed head of the commit that filed it: its signature
    verifies under the journal's public key and its heads cover the entry; the clean database
    matches the exports, also through the CLI."""
    chain = await traffic(stack)
    metas = await _export(stack, tmp_path / "drop")
    assert {m["chain"]["name"] for m in metas} == {chain}  # Bo's "which case?" is not exported
    rows = {r.seq: r for r in await chain_rows(stack, chain)}
    assert [m["chain"]["seq"] for m in metas] == sorted(rows)
    for m in metas:
        head = m["signed_head"]
        assert head is not None
        assert head["v"] == 2 and "heads" not in head
        assert view_ok(_keys(stack), head)
        seq = m["chain"]["seq"]
        [(c, start, top, top_hash)] = view_moves(head)
        assert c == chain and start < seq <= top and rows[top].hash == top_hash
        assert m["chain"]["entry_hash"] == rows[seq].hash
    report = await against_exports(stack.config.database_url, tmp_path / "drop", _keys(stack))
    assert report.ok and report.documents == len(rows), report.summary()

    jcfg = JournalConfig(signing_key=journal_config(stack.config).signing_key)
    assert await run_verify(stack.config, jcfg, 0, tmp_path / "drop") == 0
    out = capsys.readouterr().out
    assert "journal OK" in out and "exports OK" in out
    p = register_parser()
    assert p.parse_args(["journal", "verify", "--against-exports"]).against_exports == ""
    args = p.parse_args(["journal", "verify", "--against-exports", "/x"])
    assert args.against_exports == "/x"


def register_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tovholder")
    register(p.add_subparsers(dest="command", required=True))
    return p


async def test_a_rehashed_rewrite_is_named_against_the_exports(
    stack: Stack, tmp_path: Path
) -> None:
    """Entry #2 changed and every later entry re-sealed after export: the witness names #2
    (what the case system received) and the seq the exported signed heads vouch for."""
    chain = await traffic(stack)
    await _export(stack, tmp_path / "drop")
    rows = await chain_rows(stack, chain)
    await _rewrite_from(stack, chain, 2, "Ingen kvittering sendt")
    report = await against_exports(stack.config.database_url, tmp_path / "drop", _keys(stack))
    assert not report.ok
    found = {(p.chain, p.kind, p.seq) for p in report.problems}
    assert (chain, "rewritten", 2) in found
    assert all(p.seq is not None and p.seq >= 2 for p in report.problems)
    assert [p.entry_id for p in report.problems if p.seq == 2][0] == rows[1].id
    assert "NOT OK" in report.summary()


async def test_an_entry_cut_after_export_is_named(stack: Stack, tmp_path: Path) -> None:
    """The chain's last entry removed (and its head moved back) after export: named removed."""
    chain = await traffic(stack)
    await _export(stack, tmp_path / "drop")
    rows = await chain_rows(stack, chain)
    last = rows[-1]
    await tamper(
        stack.config.database_url,
        [
            "DELETE FROM journal_export_intake WHERE entry_id = :id",
            "DELETE FROM journal_exports WHERE entry_id = :id",
            "DELETE FROM journal_entries WHERE id = :id",
            "UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :chain",
        ],
        {"id": last.id, "seq": rows[-2].seq, "hash": rows[-2].hash, "chain": chain},
    )
    report = await against_exports(stack.config.database_url, tmp_path / "drop", _keys(stack))
    assert (chain, "removed", last.seq, last.id) in {
        (p.chain, p.kind, p.seq, p.entry_id) for p in report.problems
    }, report.summary()


async def test_a_tampered_export_is_named(stack: Stack, tmp_path: Path) -> None:
    """An export whose hash, signed head or PDF was changed in the case system is named."""
    chain = await traffic(stack)
    folder = tmp_path / "drop"
    metas = await _export(stack, folder)
    first, second, third = (folder / f"{Path(m['document']['file_name']).stem}.json"
                            for m in metas[:3])  # fmt: skip
    meta = json.loads(first.read_text())
    meta["chain"]["entry_hash"] = "0" * 64
    first.write_text(json.dumps(meta))
    meta = json.loads(second.read_text())
    meta["signed_head"]["move"][0] = meta["signed_head"]["move"][0].replace("case", "kase")
    second.write_text(json.dumps(meta))
    pdf = folder / json.loads(third.read_text())["document"]["file_name"]
    pdf.write_bytes(pdf.read_bytes() + b"\n% changed\n")
    report = await against_exports(stack.config.database_url, folder, _keys(stack))
    found = {(p.kind, p.seq) for p in report.problems}
    assert found == {("rewritten", 1), ("signature", 2), ("export", 3)}, report.summary()
    # Without the public keys the forged signed head still fails to cover its entry.
    unkeyed = await against_exports(stack.config.database_url, folder, None)
    assert ("signature", 2) in {(p.kind, p.seq) for p in unkeyed.problems}
    assert chain in {p.chain for p in unkeyed.problems}
