"""Bulk import: every kind from JSON or CSV, one transaction per row, a report of rejects."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli import integration as integration_cli
from bot.store.schema.core import cases, participants, persons, staff, teams
from bot.store.schema.integration import external_refs
from bot.wiring.importer import import_all, read_file, write_rejects
from tests.harness import Stack
from tests.integration.live import LiveServer

DATA: dict[str, list[dict[str, Any]]] = {
    "teams": [
        {"administration": "Børn og Unge", "name": "Team Vest", "reply_days": 3},
        {"administration": "Børn og Unge", "name": "Team Øst"},
        {"administration": "", "name": "Uden forvaltning"},
    ],
    "staff": [
        {"ref": "KJ", "team": "Team Vest", "first_name": "Karen", "full_name": "Karen Juhl"},
        {
            "ref": "PL",
            "team": "Team Øst",
            "first_name": "Per",
            "full_name": "Per Lind",
            "role": "lead",
        },
        {"ref": "XX", "team": "Team Nowhere", "first_name": "X", "full_name": "X Y"},
        {"ref": "010190-1234", "team": "Team Vest", "first_name": "C", "full_name": "C P"},
    ],
    "persons": [
        {"ref": "P-1", "name": "Maja Mortensen", "phone": "+4521212121"},
        {"ref": "P-2", "name": "Niels Mortensen", "phone": "21 21 21 22", "language": "uk"},
        {"ref": "P-3", "name": "Forkert Nummer", "phone": "12"},
        {"ref": "0101901234", "name": "Cpr Ref", "phone": "+4521212123"},
    ],
    "cases": [
        {"number": "B-1", "team": "Team Vest", "owner": "KJ", "kle_code": "27.24.00"},
        {"number": "B-2", "team": "Team Vest", "owner": "NOBODY"},
        {"number": "B-3", "team": "Team Vest", "owner": "KJ", "kle_code": "bad"},
    ],
    "participants": [
        {"case": "B-1", "person": "P-1", "role": "party", "consent_sms": True},
        {
            "case": "B-1",
            "person": "P-2",
            "role": "representative",
            "authority_from": "2025-01-01",
            "authority_to": "2025-12-31",
        },
        {"case": "B-1", "person": "P-3", "role": "parent"},
        {"case": "B-9", "person": "P-1", "role": "party"},
        {"case": "B-1", "person": "P-1", "role": "party", "extra": "x"},
    ],
}


async def _count(stack: Stack, table: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table)
        return int((await conn.execute(q)).scalar_one())


async def test_import_reports_rejects_and_leaves_no_half_records(
    stack: Stack, tmp_path: Path
) -> None:
    """Good rows are imported, each bad row is rejected with its reason and leaves nothing behind, and a second run changes nothing."""
    path = tmp_path / "import.json"
    path.write_text(json.dumps(DATA), encoding="utf-8")
    tenant = stack.world.tenant_id
    counts = {t.name: await _count(stack, t) for t in (teams, staff, persons, cases, participants)}
    bars: list[tuple[str, int]] = []

    class Bar:
        def __init__(self, kind: str, total: int) -> None:
            bars.append((kind, total))

        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass

    report = await import_all(stack.svc, tenant, read_file(path), progress=Bar)
    assert bars == [(k, len(v)) for k, v in DATA.items()]
    assert dict(report.created) == {
        "teams": 2,
        "staff": 2,
        "persons": 2,
        "cases": 1,
        "participants": 2,
    }
    reasons = {(r.kind, r.line): r.reason for r in report.rejected}
    assert reasons == {
        ("teams", 3): "Missing field: administration",
        ("staff", 3): "No team named 'Team Nowhere'",
        ("staff", 4): "A reference must not be a CPR number",
        ("persons", 3): "phone is not a valid phone number",
        ("persons", 4): "A reference must not be a CPR number",
        ("cases", 2): "No staff with ref 'NOBODY'",
        ("cases", 3): "kle_code: has the wrong form",
        ("participants", 3): "No person with ref 'P-3'",
        ("participants", 4): "No case numbered 'B-9'",
        ("participants", 5): "Unknown field: extra",
    }
    for r in report.rejected:
        assert "Maja" not in r.reason and "2121" not in r.reason
    after = {t.name: await _count(stack, t) for t in (teams, staff, persons, cases, participants)}
    assert {k: after[k] - counts[k] for k in after} == {
        "teams": 2,
        "staff": 2,  # the CPR-ref staff row was rolled back with its ref
        "persons": 2,  # so was the CPR-ref person
        "cases": 1,
        "participants": 2,
    }
    assert await _count(stack, external_refs) == 4

    again = await import_all(stack.svc, tenant, read_file(path))
    assert sum(again.created.values()) == 0
    assert dict(again.skipped) == {
        "teams": 2,
        "staff": 2,
        "persons": 2,
        "cases": 1,
        "participants": 2,
    }
    rejects = tmp_path / "rejects.csv"
    write_rejects(again, rejects)
    with rejects.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(again.rejected) == 10
    assert {"kind", "line", "reason", "ref", "number"} <= set(rows[0])


def test_cli_imports_a_semicolon_csv_and_manages_keys(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`tovholder import staff.csv --tenant kbh` imports a Danish Excel CSV, prints the rejects and exits 1; `integration key create` prints a key once. (SQLite only: the CLI owns its event loop.)"""
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    from tests.integration.conftest import FRIDAY_MORNING

    server = LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start()
    server.stop()
    from bot.base.crypto import new_key_text

    kek = keys["kek"].hex()
    monkeypatch.setenv("TOVHOLDER_DATABASE_URL", url)
    monkeypatch.setenv("TOVHOLDER_KEKS", kek)
    monkeypatch.setenv("TOVHOLDER_JOURNAL_SIGNING_KEY", kek)
    monkeypatch.setenv("TOVHOLDER_INDEX_KEY", keys["index"].hex())
    monkeypatch.setenv("TOVHOLDER_TWILIO_ACCOUNT_SID", "AC" + "2" * 32)
    monkeypatch.setenv("TOVHOLDER_TWILIO_AUTH_TOKEN", new_key_text())
    csv_path = tmp_path / "staff.csv"
    csv_path.write_text(
        "ref;team;first_name;full_name;role\n"
        "AB;Team Nord;Anne;Anne Bach;caseworker\n"
        "CD;Team Nord;Carl;Carl Dam;boss\n",
        encoding="utf-8-sig",
    )
    parser = argparse.ArgumentParser(prog="tovholder")
    sub = parser.add_subparsers(dest="command", required=True)
    integration_cli.register(sub)

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))

    rejects = tmp_path / "rejects.csv"
    assert run("import", str(csv_path), "--tenant", "kbh", "--rejects", str(rejects)) == 1
    out = capsys.readouterr()
    assert "staff: 1 created, 0 already there, 1 rejected" in out.out
    assert "rejected staff line 3: role: must be one of caseworker, lead, admin" in out.out
    assert rejects.exists()
    assert (
        run(
            "integration",
            "key",
            "create",
            "--tenant",
            "kbh",
            "--label",
            "esdh",
            "--scope",
            "cases:read",
        )
        == 0
    )
    key = capsys.readouterr().out.strip()
    assert key.startswith("tvk_")
    assert run("integration", "key", "list", "--tenant", "kbh") == 0
    listing = capsys.readouterr().out
    assert "cases:read" in listing and key not in listing
    key_id = listing.split()[0]
    assert run("integration", "key", "revoke", key_id) == 0
    assert run("integration", "key", "revoke", key_id) == 1
    # A staff member is named by the reference the import file gave them.
    from bot.cli import build_parser

    main_args = build_parser()
    token_args = main_args.parse_args(["staff", "token", "--ref", "AB", "--tenant", "kbh"])
    capsys.readouterr()
    assert token_args.func(token_args) == 0
    assert capsys.readouterr().out.strip().startswith("tvh_")
    unknown = main_args.parse_args(["staff", "token", "--ref", "ZZ", "--tenant", "kbh"])
    with pytest.raises(SystemExit, match="no staff member with reference ZZ"):
        unknown.func(unknown)
    # Key rotation says what it did, table by table, and that it is complete.
    rotate_args = main_args.parse_args(["keys", "rotate"])
    assert rotate_args.func(rotate_args) == 0
    out = capsys.readouterr().out
    assert "staff: " in out and "is complete:" in out and "RotationReport(" not in out
