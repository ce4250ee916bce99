"""The ``tovholder`` command: serve, demo, db upgrade, keys, staff tokens, tenants."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.base import config as config_mod
from bot.base.appkeys import SERVICES
from bot.base.config import Config, ConfigError
from bot.base.services import Services
from bot.cli.services import with_services
from bot.store.engine import make_engine, upgrade

log = logging.getLogger("tovholder")


def _setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # APScheduler logs every tick at INFO; that is noise, not news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from bot.base.logs import json_logs_wanted, use_json_logs

    if json_logs_wanted():
        use_json_logs(level)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on POSIX
            pass
    await stop.wait()


def settle_heap() -> None:
    """Once the app is up, keep what start-up made out of the collector's passes.

    Modules, routes, compiled SQL and templates are most of a worker's objects and
    live as long as it does. Frozen, they are no longer walked by every full
    collection, which otherwise stops the event loop for tens of milliseconds
    under load (what a webhook's p99 latency shows). The price: a start-up object
    that later becomes cyclic garbage is never freed; there are few such.
    """
    gc.collect()
    gc.freeze()


async def _serve(
    config: Config,
    *,
    reuse_port: bool = False,
    after_start: Callable[[web.Application], Awaitable[None]] | None = None,
) -> None:
    app = create_app(config)
    # A body cut at the deadline (408) is read and thrown away for 2 s at most, not
    # aiohttp's 10, before the connection closes (bot.http.middleware.body_deadline).
    runner = web.AppRunner(app, access_log=None, lingering_time=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port, reuse_port=reuse_port)
        await site.start()
        settle_heap()
        log.info("serving on http://%s:%s (pid %s)", config.host, config.port, os.getpid())
        if after_start is not None:
            await after_start(app)
        await _until_stopped()
    finally:
        await runner.cleanup()


async def _upgrade(config: Config) -> None:
    engine = make_engine(config.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _worker(env: dict[str, str]) -> None:
    _setup_logging(env.get("TOVHOLDER_LOG_LEVEL", "INFO"))
    asyncio.run(_serve(config_mod.load(env), reuse_port=True))


def cmd_serve(args: argparse.Namespace) -> int:
    config = config_mod.load()
    if args.upgrade:
        asyncio.run(_upgrade(config))
    if args.workers <= 1:
        asyncio.run(_serve(config))
        return 0
    if config.database_url.startswith("sqlite"):
        raise ConfigError("several workers need PostgreSQL; SQLite allows one writer")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(dict(os.environ),)) for _ in range(args.workers)]
    for p in procs:
        p.start()
    # SIGTERM (docker stop, via tini) is handled like Ctrl-C: each worker is told in turn.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    asyncio.run(_upgrade(config_mod.load()))
    print("database schema is up to date")
    return 0


def cmd_keys_new(args: argparse.Namespace) -> int:
    from bot.base.crypto import new_key_text

    print(new_key_text())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from bot.domain.keys import RotationReport, TableRotation, describe_table, rotate

    def progress(table: str, done: TableRotation) -> None:
        print(describe_table(table, done), flush=True)

    async def job(svc: Services) -> RotationReport:
        return await rotate(svc, progress=progress)

    report = asyncio.run(with_services(config_mod.load(), job))
    print(report.summary())
    return 0 if report.complete else 1


def cmd_keys_status(args: argparse.Namespace) -> int:
    from bot.domain.keys import check

    status = asyncio.run(with_services(config_mod.load(), check))
    for table, per_kek in status.items():
        for kek, n in per_kek.items():
            print(f"{table:10} {kek:18} {n}")
    return 0


def cmd_staff_token(args: argparse.Namespace) -> int:
    from bot.domain.conversations import find_staff, issue_token

    if args.ref and not args.tenant:
        raise SystemExit("tovholder: --ref needs --tenant (the municipality's slug)")

    async def job(svc: Services) -> str:
        async with svc.write() as conn:
            found = await find_staff(
                conn, staff_id=args.staff_id, tenant_slug=args.tenant, reference=args.ref
            )
            if found is None:
                named = f"id {args.staff_id}" if args.staff_id else f"reference {args.ref}"
                raise SystemExit(f"tovholder: no staff member with {named}")
            staff_id, tenant_id = found
            return await issue_token(
                conn, staff_id=staff_id, tenant_id=tenant_id, label=args.label, at=svc.clock.now()
            )

    print(asyncio.run(with_services(config_mod.load(), job)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.simulators import SimCaseworker, SimPhone, SimulatorConfig, create_simulator_app
    from bot.wiring.demo import seed_demo

    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = config_mod.demo_env(
        f"sqlite+aiosqlite:///{db.resolve()}",
        port=args.port,
        sim_port=args.sim_port,
        outer=os.environ,
    )
    # The demo's journal signs its heads with a fixed demo key (so --keep restarts).
    env["TOVHOLDER_JOURNAL_SIGNING_KEY"] = config_mod.DEMO_KEK
    from bot.simulators import idp as idp_sim

    idp_ports = (args.sim_port + 1, args.sim_port + 2)
    env = idp_sim.demo_env(
        env, staff_port=idp_ports[0], mitid_port=idp_ports[1], secrets_dir=db.parent
    )
    post_port = args.sim_port + 3
    env = demo_letters_env(env, post_port)
    config = config_mod.load(env)

    async def run() -> None:
        await _upgrade(config)
        sim_runner: web.AppRunner | None = None
        idp_runners: list[web.AppRunner] = []

        async def after_start(app: web.Application) -> None:
            nonlocal sim_runner
            info = await seed_demo(app[SERVICES])
            assert config.twilio is not None  # demo_env sets it
            from bot.wiring.demo_accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_logins

            await seed_logins(app[SERVICES], info.staff_ids)
            idp_runners.extend(await idp_sim.start_demo(app[SERVICES], info.staff_ids))
            idp_runners.append(await start_digitalpost_simulator(post_port))
            sim = create_simulator_app(
                SimulatorConfig(
                    account_sid=config.twilio.account_sid,
                    auth_token=config.twilio.auth_token,
                    inbound_webhook_url=f"{config.public_base_url}/webhooks/twilio/sms",
                    phones=[SimPhone(p.number, p.label) for p in info.phones],
                    caseworker_api_base=config.public_base_url,
                    caseworker_tokens=[SimCaseworker(n, t) for n, t in info.caseworkers],
                    service_number=info.municipality_number,
                    status_delay=0.5,
                    media_base_url=config.twilio.base_url,
                )
            )
            sim_runner = web.AppRunner(sim, access_log=None)
            await sim_runner.setup()
            await web.TCPSite(sim_runner, "127.0.0.1", args.sim_port).start()
            print(
                f"""
  Tovholder demo is running (SQLite: {db}).

  Families' phones and a caseworker panel:  http://127.0.0.1:{args.sim_port}/
  Tovholder (webhooks and JSON API):        {config.public_base_url}/api/v1/conversations

  Pick a family on the left, send an SMS, and watch the receipt arrive.
  Answer it as the caseworker on the right, or in the web inbox:

  Caseworker inbox:  {config.public_base_url}/sagsbehandler/
                     user mette@demo (or sofie, lars, ahmad; hanne is a team lead, birgit an admin),
                     password {DEMO_PASSWORD}, TOTP secret {DEMO_TOTP_SECRET}
                     or "Log ind med kommunens login" (simulator on port {idp_ports[0]})
  Family's inbox:    {config.public_base_url}/borger/  (type a demo phone number;
                     the one-time code arrives on that phone in the simulator),
                     or "Log ind med MitID" (simulator on port {idp_ports[1]})
  Digital Post:      letters go to a simulator on port {post_port}
                     (make them fail: POST {{"mode": "reject"}} to its /_sim/faults)

  API tokens for curl:
"""
                + "\n".join(f"    {name:32} {token}" for name, token in info.caseworkers)
                + """

  Stop with Ctrl-C.
""",
                flush=True,
            )

        try:
            await _serve(config, after_start=after_start)
        finally:
            if sim_runner is not None:
                await sim_runner.cleanup()
            for runner in idp_runners:
                await runner.cleanup()

    asyncio.run(run())
    return 0


def demo_letters_env(env: dict[str, str], port: int) -> dict[str, str]:
    """``env`` plus Digital Post for the demo municipality, through the simulator on ``port``."""
    return {
        **env,
        "TOVHOLDER_DIGITALPOST_URL": f"http://127.0.0.1:{port}",
        "TOVHOLDER_DIGITALPOST_INTERVAL": "3",
        "TOVHOLDER_DIGITALPOST_SENDERS": "lyngby-demo=29189897",  # a made-up CVR number
    }


async def start_digitalpost_simulator(port: int) -> web.AppRunner:
    """The demo's Digital Post: the SF1601 simulator on ``port``, accepting every letter."""
    from bot.simulators.digitalpost import (
        DigitalPostSimulatorConfig,
        create_digitalpost_simulator,
    )

    runner = web.AppRunner(
        create_digitalpost_simulator(DigitalPostSimulatorConfig()), access_log=None
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tovholder", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("TOVHOLDER_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the service (configuration from TOVHOLDER_* variables)")
    p.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    p.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL only)")
    p.add_argument("--upgrade", action="store_true", help="apply migrations first")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run with demo data on SQLite and the SMS simulator")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--sim-port", type=int, default=8081)
    p.add_argument("--db", default="var/demo.db")
    p.add_argument("--keep", action="store_true", help="keep the previous demo database")
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="apply Alembic migrations").set_defaults(func=cmd_db_upgrade)

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_cmd", required=True
    )
    keys.add_parser("new", help="print a fresh random 32-byte key").set_defaults(func=cmd_keys_new)
    keys.add_parser(
        "rotate", help="re-wrap every data key under the first TOVHOLDER_KEKS key"
    ).set_defaults(func=cmd_keys_rotate)
    keys.add_parser("status", help="count data keys per key-encryption key").set_defaults(
        func=cmd_keys_status
    )

    staff = sub.add_parser("staff", help="staff members").add_subparsers(
        dest="staff_cmd", required=True
    )
    p = staff.add_parser("token", help="issue an API bearer token (shown once)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--staff-id", help="our id of the staff member")
    who.add_argument("--ref", help="the case system's reference (as in the import file)")
    p.add_argument("--tenant", help="the municipality's slug (with --ref)")
    p.add_argument("--label", default="cli")
    p.set_defaults(func=cmd_staff_token)

    from bot.cli.guard import register as register_guard
    from bot.cli.integration import register
    from bot.cli.journal import register as register_journal
    from bot.cli.search import register as register_search
    from bot.cli.tenant import register as register_tenant
    from bot.cli.triage import register as register_triage

    register(sub)
    register_journal(sub)
    register_search(sub)
    register_tenant(sub)
    register_triage(sub)
    register_guard(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "log_json", False):
        os.environ["TOVHOLDER_LOG_JSON"] = "1"  # the spawned workers read it too
    _setup_logging(args.log_level)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"tovholder: configuration error: {exc}", file=sys.stderr)
        return 2
