"""CLI commands: ``tovholder import`` and ``tovholder integration key …``.

Wired into :mod:`bot.cli` with ``register(sub)`` on its subparsers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.base import config as config_mod
from bot.base.errors import ApiError
from bot.base.services import Services
from bot.cli.services import tenant_by_slug, with_services

T = TypeVar("T")


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.wiring.importer import import_all, read_file, write_rejects

    try:
        data = read_file(Path(args.file), args.kind)
    except (ApiError, ValueError, OSError) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        print(f"tovholder: cannot read {args.file}: {message}", file=sys.stderr)
        return 2

    def bar(kind: str, total: int) -> Any:
        return tqdm(
            total=total,
            desc=kind,
            unit="row",
            file=sys.stderr,
            disable=args.no_progress or None,
        )

    async def job(svc: Services) -> Any:
        tenant_id = await tenant_by_slug(svc, args.tenant)
        return await import_all(svc, tenant_id, data, progress=bar)

    report = asyncio.run(with_services(config_mod.load(), job))
    print(report.summary())
    for r in report.rejected:
        print(f"rejected {r.kind} line {r.line}: {r.reason}")
    if report.rejected and args.rejects:
        write_rejects(report, Path(args.rejects))
        print(f"rejected rows written to {args.rejects}")
    return 1 if report.rejected else 0


def cmd_key_create(args: argparse.Namespace) -> int:
    from bot.domain.integration.credentials import issue_key

    async def job(svc: Services) -> tuple[str, str]:
        tenant_id = await tenant_by_slug(svc, args.tenant)
        now = svc.clock.now()
        expires = now + timedelta(days=args.expires_days) if args.expires_days else None
        async with svc.write() as conn:
            return await issue_key(
                conn,
                tenant_id=tenant_id,
                label=args.label,
                scopes=args.scope,
                at=now,
                expires_at=expires,
            )

    try:
        key_id, key = asyncio.run(with_services(config_mod.load(), job))
    except ApiError as exc:
        print(f"tovholder: {exc.message}", file=sys.stderr)
        return 2
    print(f"key id: {key_id}", file=sys.stderr)
    print("the key is shown only now; store it in the case system's secret store:", file=sys.stderr)
    print(key)
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    from bot.domain.integration.credentials import revoke_key

    async def job(svc: Services) -> bool:
        async with svc.write() as conn:
            return await revoke_key(conn, key_id=args.key_id, at=svc.clock.now())

    if not asyncio.run(with_services(config_mod.load(), job)):
        print("tovholder: no such unrevoked key", file=sys.stderr)
        return 1
    print("revoked")
    return 0


def cmd_key_list(args: argparse.Namespace) -> int:
    from bot.domain.integration.credentials import list_keys

    async def job(svc: Services) -> list[dict[str, Any]]:
        tenant_id = await tenant_by_slug(svc, args.tenant) if args.tenant else None
        async with svc.read() as conn:
            return await list_keys(conn, tenant_id)

    for k in asyncio.run(with_services(config_mod.load(), job)):
        state = "revoked" if k["revoked_at"] else "active"
        expires = k["expires_at"].date().isoformat() if k["expires_at"] else "never"
        print(
            f"{k['id']}  {k['prefix']}…  {state:7}  expires {expires:10}  "
            f"{' '.join(k['scopes'])}  {k['label']}"
        )
    return 0


def register(sub: Any) -> None:
    """Add ``import`` and ``integration`` to the ``tovholder`` command's subparsers."""
    from bot.domain.integration.credentials import SCOPES
    from bot.wiring.importer import KINDS

    p = sub.add_parser(
        "import", help="bulk import teams, staff, persons, cases, participants (CSV or JSON)"
    )
    p.add_argument("file", help="a .json file, or a .csv file of one kind")
    p.add_argument("--tenant", required=True, help="the municipality's slug")
    p.add_argument("--kind", choices=KINDS, help="what a CSV holds (default: its file name)")
    p.add_argument("--rejects", help="write rejected rows with their reasons to this CSV")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    integ = sub.add_parser("integration", help="integration keys for the case system")
    keys = integ.add_subparsers(dest="integration_cmd", required=True)
    key = keys.add_parser("key", help="integration API keys").add_subparsers(
        dest="key_cmd", required=True
    )
    p = key.add_parser("create", help="issue a key (shown once)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--scope", action="append", required=True, choices=SCOPES)
    p.add_argument("--expires-days", type=int, default=0, help="0: never")
    p.set_defaults(func=cmd_key_create)
    p = key.add_parser("revoke", help="revoke a key at once")
    p.add_argument("key_id")
    p.set_defaults(func=cmd_key_revoke)
    p = key.add_parser("list", help="list keys (never the keys themselves)")
    p.add_argument("--tenant")
    p.set_defaults(func=cmd_key_list)
