"""`tovholder journal verify | reconcile | export-copy`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.cli.journal import (
    cmd_export_copy,
    cmd_reconcile,
    cmd_retention,
    cmd_retention_rule,
    cmd_verify,
    register,
    run_export_copy,
    run_reconcile,
    run_retention,
    run_retention_rule,
    run_verify,
)
from journal.config import JournalConfig
from journal.retention import retention_states
from journal.sink import heads_tick
from tests.harness import Stack
from tests.journal.conftest import tamper


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tovholder")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_the_journal_commands_are_registered() -> None:
    """register() adds journal verify, reconcile and export-copy with their options."""
    p = parser()
    args = p.parse_args(["journal", "verify", "--workers", "2"])
    assert (args.func, args.workers) == (cmd_verify, 2)
    assert p.parse_args(["journal", "reconcile"]).func is cmd_reconcile
    args = p.parse_args(
        ["journal", "export-copy", "--person-id", "p", "--staff-id", "s", "--format", "pdf"]
    )
    assert (args.func, args.person_id, args.staff_id, args.format) == (
        cmd_export_copy,
        "p",
        "s",
        "pdf",
    )
    with pytest.raises(SystemExit):
        p.parse_args(["journal", "export-copy", "--person-id", "p"])  # whose request?


async def test_verify_reconcile_and_export_copy(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify exits 0 on an intact journal and 1 naming a changed entry; reconcile exits 1 while
    entries are unexported; export-copy writes JSON and PDF for a lead, not for a caseworker."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    jcfg = JournalConfig(heads_sink=tmp_path / "heads.jsonl", heads_key=b"k" * 32)
    await heads_tick(stack.svc, jcfg)
    assert await run_verify(stack.config, jcfg, None) == 0
    assert "journal OK: 2 entries in 1 chains; heads sink: 1 lines" in capsys.readouterr().out
    await tamper(stack.config.database_url, ["UPDATE journal_entries SET subject = 'x'"])
    assert await run_verify(stack.config, jcfg, 0) == 1
    out = capsys.readouterr().out
    assert "journal NOT OK" in out and "#1" in out and "changed" in out
    stack.clock.advance(minutes=5)
    assert await run_reconcile(stack.config, JournalConfig(), 10) == 1
    assert "no exporter is configured: 2 case entries" in capsys.readouterr().out

    anna, hanne = stack.world.persons["anna"], stack.world.hanne
    out = tmp_path / "copy.json"
    assert await run_export_copy(stack.config, anna, hanne, "json", out) == 0
    copy = json.loads(out.read_text())
    assert copy["person"]["name"] == "Anna Andersen" and len(copy["messages"]) == 2
    pdf = tmp_path / "copy.pdf"
    assert await run_export_copy(stack.config, anna, hanne, "pdf", pdf) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    # A caseworker may not hand out a citizen's copy.
    assert await run_export_copy(stack.config, anna, stack.world.mette, "json", None) == 1


def test_the_retention_commands_are_registered() -> None:
    """journal retention needs --dry-run or --apply (not both); retention-rule needs its three."""
    p = parser()
    assert p.parse_args(["journal", "retention", "--dry-run"]).func is cmd_retention
    args = p.parse_args(["journal", "retention", "--apply"])
    assert (args.func, args.apply, args.dry_run) == (cmd_retention, True, False)
    for bad in (
        ["journal", "retention"],
        ["journal", "retention", "--dry-run", "--apply"],
        ["journal", "retention-rule", "--tenant-id", "t", "--case-type", "general"],
    ):
        with pytest.raises(SystemExit):
            p.parse_args(bad)
    args = p.parse_args(
        ["journal", "retention-rule", "--tenant-id", "t", "--case-type", "*", "--days", "90"]
    )
    assert (args.func, args.case_type, args.days) == (cmd_retention_rule, "*", 90)


async def test_retention_dry_run_and_rules(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dry run lists nothing due in a fresh world; a rule for an unknown municipality or with
    a bad period is refused with exit 2; a good one is stored."""
    assert await run_retention(stack.config, JournalConfig(), False) == 0
    assert "retention: 0 closed case journal(s) due" in capsys.readouterr().out
    assert await run_retention_rule(stack.config, "no-such-tenant", "general", 30) == 2
    assert await run_retention_rule(stack.config, stack.world.tenant_id, "general", 0) == 2
    capsys.readouterr()
    assert await run_retention_rule(stack.config, stack.world.tenant_id, "boernesag", 4000) == 0
    assert "boernesag cases: 4000 days" in capsys.readouterr().out
    async with stack.svc.read() as conn:
        states = await retention_states(conn)
    assert states == []


async def test_verify_checks_the_signed_heads_with_the_configured_keys(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify checks signatures with the service's keys and names a forged signature."""
    from journal.config import journal_config

    await stack.sms(stack.world.phones["anna"], "Hej")
    jcfg = journal_config(stack.config)
    assert await run_verify(stack.config, jcfg, None) == 0
    out = capsys.readouterr().out
    assert "signatures: 2 signed heads, 1 checked" in out, out  # SMS, receipt; last checked
    await tamper(stack.config.database_url, ["UPDATE journal_signed_heads SET signature = 'AAAA'"])
    assert await run_verify(stack.config, jcfg, None) == 1
    assert "signature: the head signed at #2" in capsys.readouterr().out


def test_signing_key_prints_the_public_key_for_rotation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: dict[str, bytes]
) -> None:
    """signing-key prints the key id and public key of the configured key; none: exit 2."""
    from journal.signing import HeadSigner

    base = {
        "TOVHOLDER_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "TOVHOLDER_PUBLIC_BASE_URL": "https://sms.example.dk",
        "TOVHOLDER_KEKS": keys["kek"].hex(),
        "TOVHOLDER_INDEX_KEY": keys["index"].hex(),
        "TOVHOLDER_TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": "a-real-looking-token",
    }
    for name, value in base.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TOVHOLDER_JOURNAL_SIGNING_KEY", raising=False)
    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    args = p.parse_args(["journal", "signing-key"])
    assert args.func(args) == 2
    assert "SIGNING_KEY" in capsys.readouterr().err
    monkeypatch.setenv("TOVHOLDER_JOURNAL_SIGNING_KEY", keys["kek2"].hex())
    assert args.func(args) == 0
    signer = HeadSigner.from_seed(keys["kek2"])
    assert capsys.readouterr().out.strip() == (
        f"key id {signer.key_id}; public key {signer.public.hex()}"
    )
