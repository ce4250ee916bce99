"""CLI commands: ``tovholder tenant create``, ``list`` and ``logo``, for the operations team.

Wired into :mod:`bot.cli` with ``register(sub)`` on its subparsers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from sqlalchemy import select

from bot.base import config as config_mod
from bot.base.config import KNOWN_GATEWAYS
from bot.base.errors import ApiError
from bot.base.i18n import LANGUAGES
from bot.base.services import Services
from bot.cli.services import with_services
from bot.domain import tenant_logo
from bot.domain.directory import NewTenant, TenantSetup, set_up_tenant
from bot.store.schema.core import tenants


def _gateways(raw: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in raw.split(",") if g.strip())


def _read_logo(path: str | None) -> bytes | None:
    """The logo file's bytes (at most one byte over the limit: enough to refuse it)."""
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read(tenant_logo.MAX_BYTES + 1)


def cmd_tenant_create(args: argparse.Namespace) -> int:
    try:
        logo = _read_logo(args.logo)
    except OSError as exc:
        print(f"tovholder: cannot read the logo: {exc.strerror} ({args.logo})", file=sys.stderr)
        return 2
    setup = TenantSetup(
        slug=args.slug,
        name=args.name,
        sms_number=args.sms_number,
        language=args.language,
        gateways=_gateways(args.gateways or ""),
        administration=args.administration,
        team=args.team,
        opens_at=args.opens_at,
        closes_at=args.closes_at,
        reply_days=args.reply_days,
        logo=logo,
    )

    async def job(svc: Services) -> NewTenant:
        async with svc.write() as conn:
            return await set_up_tenant(conn, svc, setup)

    try:
        made = asyncio.run(with_services(config_mod.load(), job))
    except ApiError as exc:
        print(f"tovholder: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    print(f"Created municipality {setup.slug} ({setup.name}): id {made.tenant_id}")
    if made.team_id is not None:
        print(
            f"  administration {setup.administration}: id {made.administration_id}\n"
            f"  team {setup.team} ({setup.opens_at}-{setup.closes_at}): id {made.team_id}"
        )
    if logo is not None:
        print("  logo: on file (shown on the family's pages)")
    print(f"Next: tovholder import staff.csv --tenant {setup.slug}")
    return 0


def cmd_tenant_logo(args: argparse.Namespace) -> int:
    """Put a logo on file for a municipality (in place of any it had), or take it off."""
    if (args.file is None) == (not args.remove):
        print("tovholder: give a logo file, or --remove", file=sys.stderr)
        return 2
    try:
        body = _read_logo(args.file)
    except OSError as exc:
        print(f"tovholder: cannot read the logo: {exc.strerror} ({args.file})", file=sys.stderr)
        return 2

    async def job(svc: Services) -> bool:
        async with svc.write() as conn:
            tenant_id = await tenant_logo.tenant_by_slug(conn, args.slug)
            if body is None:
                return await tenant_logo.remove_logo(conn, tenant_id)
            await tenant_logo.set_logo(conn, svc, tenant_id, tenant_logo.check(body))
            return True

    try:
        done = asyncio.run(with_services(config_mod.load(), job))
    except ApiError as exc:
        print(f"tovholder: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    if body is not None:
        print(f"Logo of {args.slug}: on file, shown on the family's pages")
    elif done:
        print(f"Logo of {args.slug}: removed (the pages show the name alone)")
    else:
        print(f"Logo of {args.slug}: there was none")
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    async def job(svc: Services) -> list[Any]:
        async with svc.read() as conn:
            query = select(tenants.c.slug, tenants.c.name, tenants.c.sms_number)
            return list((await conn.execute(query.order_by(tenants.c.slug))).all())

    for row in asyncio.run(with_services(config_mod.load(), job)):
        print(f"{row.slug:20} {row.sms_number:14} {row.name}")
    return 0


_LOGO_HELP = (
    f"its logo for the family's pages: an SVG or PNG file, at most "
    f"{tenant_logo.MAX_BYTES // 1024} KB"
)


def register(sub: Any) -> None:
    """Add ``tenant create``, ``list`` and ``logo`` to the ``tovholder`` command's subparsers."""
    tenant = sub.add_parser("tenant", help="municipalities").add_subparsers(
        dest="tenant_cmd", required=True
    )
    p = tenant.add_parser("create", help="start a municipality (its settings, a first team)")
    p.add_argument("--slug", required=True, help="short name in URLs and commands, e.g. nordby")
    p.add_argument("--name", required=True, help='as citizens read it, e.g. "Nordby Kommune"')
    p.add_argument("--sms-number", required=True, help="the number families text")
    p.add_argument("--language", default="da", choices=sorted(LANGUAGES))
    p.add_argument(
        "--gateways",
        help=f"its SMS gateways in sending order, e.g. gatewayapi,twilio "
        f"(of {', '.join(KNOWN_GATEWAYS)}; default: the deployment's)",
    )
    p.add_argument("--administration", help='a first administration, e.g. "Børn og Familie"')
    p.add_argument("--team", help='a first team in it, e.g. "Team Nord"')
    p.add_argument("--opens-at", default="08:00", help="the team's opening time (HH:MM)")
    p.add_argument("--closes-at", default="16:00", help="the team's closing time (HH:MM)")
    p.add_argument("--reply-days", type=int, default=2, help="working days to answer")
    p.add_argument("--logo", help=_LOGO_HELP)
    p.set_defaults(func=cmd_tenant_create)
    tenant.add_parser("list", help="every municipality").set_defaults(func=cmd_tenant_list)
    p = tenant.add_parser("logo", help="set or remove a municipality's logo")
    p.add_argument("slug", help="the municipality, e.g. nordby")
    p.add_argument("file", nargs="?", help=_LOGO_HELP)
    p.add_argument("--remove", action="store_true", help="take the logo off (name alone)")
    p.set_defaults(func=cmd_tenant_logo)
