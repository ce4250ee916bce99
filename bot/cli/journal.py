"""``tovholder journal verify | reconcile | export-copy | retention | retention-rule``.

Wire into the main parser with ``bot.cli.journal.register(subparsers)``.

- ``verify`` recomputes every hash chain, checks the signed heads and compares
  them with the heads sink; with ``--against-exports [DIR]`` it also compares
  the database with what the case system received (the exported metadata in
  DIR, by default the file exporter's drop folder: :mod:`journal.witness`);
  exit 0 when the journal is intact, 1 when it names a problem.
- ``prove ENTRY_ID`` prints, as JSON, the walk from an entry to the newest signed
  head of its chain with that head's signature (an inclusion proof); ``prove
  --consistency SIGNED_HEAD_ID`` the walk from an older signed head to today's
  (a consistency proof). Anyone with the public key checks them
  (:func:`journal.proof.check_proof`); exit 1 when the journal cannot prove it.
- ``signing-key`` prints the id and public key of the key that signs heads
  (list it in ``TOVHOLDER_JOURNAL_VERIFY_KEYS`` when rotating to a new key).
- ``reconcile`` lists exchanges without a journal entry and entries not
  exported to the case system within 60 s; exit 0 when there are none, 1 otherwise.
- ``export-copy`` writes a citizen's own copy (aktindsigt, GDPR art. 15) as
  JSON or PDF, on behalf of a lead or admin, and records that it was made.
- ``retention --dry-run | --apply`` lists (or removes) the journals of closed
  cases whose retention period has passed; ``retention-rule`` sets a
  municipality's period for a case type.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TypeVar

from bot.base import config as config_mod
from bot.base.config import Config, ConfigError
from bot.base.errors import NotFound
from bot.base.services import Services
from bot.cli.services import with_services
from journal.config import JournalConfig, journal_config

T = TypeVar("T")


def register(subparsers: Any) -> None:
    """Add the ``journal`` command and its subcommands to the ``tovholder`` parser."""
    journal = subparsers.add_parser("journal", help="the case journal: verify, reconcile, copy")
    sub = journal.add_subparsers(dest="journal_cmd", required=True)

    p = sub.add_parser("verify", help="prove every hash chain intact (and against the heads sink)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: by size)")
    p.add_argument(
        "--against-exports",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="also compare with what the case system received: the exported *.json in DIR "
        "(default: TOVHOLDER_JOURNAL_DROP_DIR)",
    )
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "prove", help="an inclusion proof for an entry, or a consistency proof for a signed head"
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("entry_id", nargs="?", help="the journal entry to prove included")
    what.add_argument(
        "--consistency", metavar="SIGNED_HEAD_ID", help="prove an older signed head a prefix"
    )
    p.set_defaults(func=cmd_prove)

    p = sub.add_parser(
        "signing-key",
        help="the key id and public key of TOVHOLDER_JOURNAL_SIGNING_KEY (for VERIFY_KEYS)",
    )
    p.set_defaults(func=cmd_signing_key)

    p = sub.add_parser(
        "reconcile", help="exchanges without a journal entry; entries not exported within 60 s"
    )
    p.add_argument("--limit", type=int, default=100, help="list at most this many entries")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("export-copy", help="a citizen's own copy (aktindsigt, GDPR art. 15)")
    p.add_argument("--person-id", required=True)
    p.add_argument("--staff-id", required=True, help="the lead or admin who hands it out")
    p.add_argument("--format", choices=("json", "pdf"), default="json")
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export_copy)

    p = sub.add_parser(
        "retention", help="remove the journals of closed cases whose retention period has passed"
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
    mode.add_argument("--apply", action="store_true", help="remove what is due")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("retention-rule", help="a municipality's retention period for a case type")
    p.add_argument("--tenant-id", required=True)
    p.add_argument("--case-type", required=True, help='a case type, or "*" for every other type')
    p.add_argument("--days", type=int, required=True)
    p.add_argument(
        "--action",
        choices=("remove", "archive"),
        default="remove",
        help="remove the whole case when the period ends, or (archive law) restrict it",
    )
    p.set_defaults(func=cmd_retention_rule)


def _configs() -> tuple[Config, JournalConfig]:
    config = config_mod.load()
    return config, journal_config(config)


async def run_verify(
    config: Config, jconfig: JournalConfig, workers: int | None, exports: Path | None = None
) -> int:
    from journal.verify import verify
    from journal.witness import against_exports

    # The signed heads are checked whenever a key is known (the signing key, or only the
    # public keys in TOVHOLDER_JOURNAL_VERIFY_KEYS, for an auditor without the secret).
    keys = jconfig.known_keys() or None
    report = await verify(
        config.database_url,
        sink=jconfig.heads_sink,
        sink_key=jconfig.heads_key,
        workers=workers,
        signing_keys=keys,
    )
    print(report.summary())
    if exports is None:
        return 0 if report.ok else 1
    witness = await against_exports(config.database_url, exports, keys)
    print(witness.summary())
    return 0 if report.ok and witness.ok else 1


def cmd_verify(args: argparse.Namespace) -> int:
    config, jconfig = _configs()
    exports: Path | None = None
    if args.against_exports is not None:
        exports = Path(args.against_exports) if args.against_exports else jconfig.drop_dir
        if exports is None or not exports.is_dir():
            print(
                "error: --against-exports needs a folder of exported documents "
                f"({exports or 'TOVHOLDER_JOURNAL_DROP_DIR is not set'})",
                file=sys.stderr,
            )
            return 2
    return asyncio.run(run_verify(config, jconfig, args.workers, exports))


async def run_prove(
    config: Config, jconfig: JournalConfig, entry_id: str | None, signed_id: str | None
) -> int:
    from journal.proof import check_proof, consistency_proof, inclusion_proof

    keys = jconfig.known_keys()

    async def job(svc: Services) -> dict[str, Any]:
        async with svc.read() as conn:
            if signed_id is not None:
                return await consistency_proof(conn, signed_id, keys)
            return await inclusion_proof(conn, entry_id or "", keys)

    try:
        proof = await with_services(config, job)
    except NotFound as exc:
        print(f"tovholder: {exc}", file=sys.stderr)
        return 1
    problems = check_proof(proof, keys)
    if problems:
        print("tovholder: the journal cannot prove it: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(json.dumps(proof, ensure_ascii=False, indent=2))
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    config, jconfig = _configs()
    return asyncio.run(run_prove(config, jconfig, args.entry_id, args.consistency))


def cmd_signing_key(args: argparse.Namespace) -> int:
    """Print the signing key's id and public key: what an auditor or a rotation needs."""
    _, jconfig = _configs()
    try:
        signer = jconfig.signer()
    except ConfigError as exc:
        print(f"tovholder: {exc}", file=sys.stderr)
        return 2
    print(f"key id {signer.key_id}; public key {signer.public.hex()}")
    return 0


async def run_reconcile(config: Config, jconfig: JournalConfig, limit: int) -> int:
    from journal.export import reconcile

    report = await with_services(config, lambda svc: reconcile(svc, jconfig, limit=limit))
    print(report.summary())
    return 0 if report.ok else 1


def cmd_reconcile(args: argparse.Namespace) -> int:
    config, jconfig = _configs()
    return asyncio.run(run_reconcile(config, jconfig, args.limit))


async def run_export_copy(
    config: Config, person_id: str, staff_id: str, fmt: str, out: Path | None
) -> int:
    from journal.access_copy import access_copy, access_copy_as_pdf

    async def job(svc: Services) -> bytes:
        copy = await access_copy(svc, person_id, staff_id=staff_id)
        if fmt == "pdf":
            font = journal_config(svc.config).pdf_font
            return await asyncio.to_thread(access_copy_as_pdf, copy, font)
        return (json.dumps(copy, ensure_ascii=False, indent=2) + "\n").encode()

    try:
        data = await with_services(config, job)
    except NotFound:
        print(
            "tovholder: no such person, or that staff member is not a lead or admin there",
            file=sys.stderr,
        )
        return 1
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        await asyncio.to_thread(out.write_bytes, data)
        print(f"wrote {out} ({len(data)} bytes)", file=sys.stderr)
    return 0


def cmd_export_copy(args: argparse.Namespace) -> int:
    config, _ = _configs()
    return asyncio.run(
        run_export_copy(config, args.person_id, args.staff_id, args.format, args.out)
    )


async def run_retention(config: Config, jconfig: JournalConfig, apply: bool) -> int:
    from journal.retention import apply_retention

    report = await with_services(
        config, lambda svc: apply_retention(svc, jconfig, apply=apply, actor="cli")
    )
    print(report.summary())
    return 1 if report.refused else 0


def cmd_retention(args: argparse.Namespace) -> int:
    config, jconfig = _configs()
    return asyncio.run(run_retention(config, jconfig, bool(args.apply)))


async def run_retention_rule(
    config: Config, tenant_id: str, case_type: str, days: int, action: str = "remove"
) -> int:
    from sqlalchemy import select

    from bot.base.errors import BadInput
    from bot.store.schema.core import tenants
    from journal.retention import set_rule

    async def job(svc: Services) -> None:
        async with svc.read() as conn:
            known = (
                await conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id))
            ).first()
        if known is None:
            raise NotFound("No such municipality", code="tenant_not_found")
        await set_rule(svc, tenant_id, case_type, days, action)

    try:
        await with_services(config, job)
    except (NotFound, BadInput) as exc:
        print(f"tovholder: {exc}", file=sys.stderr)
        return 2
    print(f"retention for {case_type} cases: {days} days, then {action}")
    return 0


def cmd_retention_rule(args: argparse.Namespace) -> int:
    config, _ = _configs()
    return asyncio.run(
        run_retention_rule(config, args.tenant_id, args.case_type, args.days, args.action)
    )
