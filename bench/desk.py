"""Issue 19: the caseworker's desk at the size of a large municipality, PostgreSQL, one worker.

Target: the inbox, my cases, a search and a thread page each render in ≤ 150 ms
at the 95th percentile, on one worker.

The run: a fresh PostgreSQL database, migrated and seeded with one municipality,
``STAFF`` staff in ``TEAMS`` teams (a lead each), ``CASES`` cases spread over the
caseworkers, one citizen per case and a second parent on every third, a thread
per participant and ``MESSAGES`` messages over the last 90 days (about one
thread in ten has a message waiting for an answer, one in a hundred of those
urgent), a three-step timeline on every second case, and the search index's
name tokens. Everything is sealed and blind-indexed as the service does it, and
COPYed in (then ANALYZE, as autovacuum would). One ``tovholder serve`` worker
serves it; this process asks each page ``REQUESTS`` times in a row (after a
warm-up), logged in as a caseworker (about 220 cases) or as a team lead (the
team's 2,000), and takes the time from sending the request to the last byte
of the page. The requests vary: each asks another search, another thread.

``python -m bench desk`` runs it (``TOVHOLDER_BENCH_DESK_REQUESTS``, default 200).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from bench.common import (
    ChildServer,
    Row,
    create_database,
    drop_database,
    free_port,
    group_pids,
    load_average,
    percentile,
    process_cpu,
    python_module,
    sqlalchemy_url,
)

STAFF = 50
TEAMS = 5
# A smaller world for trying the benchmark out: TOVHOLDER_BENCH_DESK_CASES, …_MESSAGES.
CASES = int(os.environ.get("TOVHOLDER_BENCH_DESK_CASES", "10000"))
MESSAGES = int(os.environ.get("TOVHOLDER_BENCH_DESK_MESSAGES", "200000"))
TARGET_MS = 150.0
WARMUP = 20
FIRST = [
    "Anna",
    "Mette",
    "Jens",
    "Peter",
    "Hanne",
    "Søren",
    "Louise",
    "Mads",
    "Ida",
    "Åse",
    "Mohammed",
    "Fatima",
    "Oksana",
    "Lars",
    "Camilla",
    "Niels",
    "Emma",
    "Noah",
    "Sofie",
    "Frederik",
    "Maja",
    "William",
    "Clara",
    "Oscar",
    "Freja",
    "Ali",
    "Yusuf",
    "Olena",
]
LAST = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
        "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
        "Thomsen", "Poulsen", "Johansen", "Møller", "Mortensen", "Ødegård", "Hussein",
        "Kovalenko", "Ahmadi", "Bach", "Lund", "Holm", "Dahl", "Berg", "Vestergaard"]  # fmt: skip
BODIES = [
    "Hej, hvornår hører jeg noget om min sag?",
    "Tak for svaret. Jeg sender papirerne i morgen.",
    "Vi har modtaget din besked og vender tilbage senest på torsdag.",
    "Kan mødet flyttes til næste uge? Min søn er syg.",
    "Husk at medbringe lønsedler til mødet mandag kl. 10.",
]


@dataclass
class Seeded:
    """What the requests need: who logs in, what to search for, which threads to open."""

    tenant_id: str = ""
    caseworker: str = ""
    caseworker_team: str = ""
    lead: str = ""
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)


def _env(url: str, sink_port: int) -> dict[str, str]:
    """The worker's settings. Its SMS gateway is the sink, which accepts every send at once as
    Twilio would: the worker's background work (receipts, escalation pages to the on-duty
    colleague for the seeded urgent messages) then costs what it costs in production. A gateway
    that refuses would send every page down the fallback path again and again instead."""
    from bot.base.crypto import new_key_text

    return {
        **os.environ,
        "TOVHOLDER_DATABASE_URL": url,
        "TOVHOLDER_KEKS": new_key_text(),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": new_key_text(),
        "TOVHOLDER_INDEX_KEY": new_key_text(),
        "TOVHOLDER_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": new_key_text(),
        "TOVHOLDER_TWILIO_BASE_URL": f"http://127.0.0.1:{sink_port}",
        "TOVHOLDER_LOG_LEVEL": "WARNING",
    }


class _Rows:
    """Rows per table, COPYed in at the end."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, **row: Any) -> None:
        self.tables.setdefault(table, []).append(row)

    async def copy(self, conn: asyncpg.Connection) -> None:
        for table in (
            "persons",
            "person_search_tokens",
            "cases",
            "participants",
            "conversations",
            "messages",
            "milestones",
        ):
            rows = self.tables.get(table, [])
            if not rows:
                continue
            columns = list(rows[0])
            for start in range(0, len(rows), 50_000):
                chunk = [tuple(r[c] for c in columns) for r in rows[start : start + 50_000]]
                await conn.copy_records_to_table(table, records=chunk, columns=columns)


async def _directory(svc: Any, s: Seeded) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """The municipality, its administration and teams, their leads and caseworkers."""
    from bot.domain.directory import (
        create_administration,
        create_staff,
        create_team,
        create_tenant,
    )

    async with svc.write() as c:
        s.tenant_id = await create_tenant(
            c, svc, slug="desk", name="Skrivebord Kommune", sms_number="+4533663377"
        )
        admin = await create_administration(c, svc, tenant_id=s.tenant_id, name="Børn og Familie")
        teams = []
        for t in range(TEAMS):
            team = await create_team(
                c, svc, tenant_id=s.tenant_id, administration_id=admin, name=f"Team {t + 1}"
            )
            members = []
            for i in range(STAFF // TEAMS):
                members.append(
                    await create_staff(
                        c,
                        svc,
                        tenant_id=s.tenant_id,
                        team_id=team,
                        first_name=f"R{i}",
                        full_name=f"Rådgiver {t}-{i}",
                        role="lead" if i == 0 else "caseworker",
                    )
                )
            teams.append((admin, team, members))
    s.lead = teams[0][2][0]
    s.caseworker = teams[0][2][1]
    s.caseworker_team = teams[0][1]
    return admin, teams


def _person(svc: Any, rows: _Rows, s: Seeded, rng: random.Random, n: int, now: datetime) -> str:
    from bot.base.ids import new_id
    from bot.domain.search_index import name_tokens

    pid = new_id()
    dek, wrapped = svc.new_dek("persons", pid)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    phone = f"+452{n:07d}"
    rows.add(
        "persons",
        id=pid,
        tenant_id=s.tenant_id,
        dek=wrapped,
        name_enc=svc.seal(dek, "persons", pid, "name", name),
        first_name_enc=svc.seal(dek, "persons", pid, "first_name", first),
        phone_enc=svc.seal(dek, "persons", pid, "phone", phone),
        phone_index=svc.blind_index(phone),
        origin="known",
        language="da",
        channel_pref="sms",
        created_at=now - timedelta(days=200),
    )
    for token in name_tokens(svc, s.tenant_id, name):
        rows.add("person_search_tokens", tenant_id=s.tenant_id, person_id=pid, token=token)
    if len(s.names) < 500:
        s.names.append(name)
        s.phones.append(phone)
    return pid


@dataclass
class _Thread:
    conv_id: str
    case_id: str
    person_id: str
    owner: str
    dek: bytes


def _messages(
    svc: Any, rows: _Rows, s: Seeded, rng: random.Random, threads: list[_Thread], now: datetime
) -> None:
    """``MESSAGES`` messages over the threads, oldest first; some threads end waiting."""
    from bot.base.ids import new_id

    per = MESSAGES // len(threads)
    extra = MESSAGES - per * len(threads)
    for i, t in enumerate(threads):
        count = per + (1 if i < extra else 0)
        waiting = rng.random() < 0.1
        at = now - timedelta(days=rng.uniform(5, 90))
        step = (now - at) / (count + 1)
        last = at
        for k in range(count):
            mid = new_id()
            last = at + step * (k + 1)
            inbound = k % 2 == 0 if not waiting else (count - k) % 2 == 1
            open_now = waiting and k == count - 1
            rows.add(
                "messages",
                id=mid,
                tenant_id=s.tenant_id,
                conversation_id=t.conv_id,
                case_id=t.case_id,
                person_id=t.person_id,
                direction="in" if inbound else "out",
                kind="citizen" if inbound else "reply",
                key_scope="case",
                body_enc=svc.seal(t.dek, "messages", mid, "body", rng.choice(BODIES)),
                status="received" if inbound else "delivered",
                segments=1,
                awaiting_reply=open_now,
                reply_by=last + timedelta(days=2) if inbound else None,
                answered_at=None if open_now or not inbound else last + step / 2,
                author_id=None if inbound else t.owner,
                owner_id=t.owner if inbound else None,
                urgent=open_now and rng.random() < 0.01,
                escalation_level=0,
                sensitive=False,
                created_at=last,
            )
        rows.add(
            "conversations",
            id=t.conv_id,
            tenant_id=s.tenant_id,
            case_id=t.case_id,
            person_id=t.person_id,
            last_activity_at=last,
            created_at=at,
        )


def _milestones(rows: _Rows, s: Seeded, case_id: str, now: datetime) -> None:
    from bot.base.ids import new_id

    for position, (step, status) in enumerate(
        (("received", "done"), ("in_progress", "current"), ("decision", "pending"))
    ):
        rows.add(
            "milestones",
            id=new_id(),
            tenant_id=s.tenant_id,
            case_id=case_id,
            position=position,
            step=step,
            expected_on=(now + timedelta(days=10 * position)).date(),
            status=status,
            started_at=now - timedelta(days=30) if status != "pending" else None,
            completed_at=now - timedelta(days=20) if status == "done" else None,
            updated_at=now,
            created_at=now - timedelta(days=30),
        )


async def _seed(url: str, env: dict[str, str], rng: random.Random) -> Seeded:
    from bot.base.ids import new_id
    from bot.store.engine import make_engine, upgrade
    from scheduler.worker import FixedClock, services_from_env

    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    now = datetime.now(UTC)
    svc = services_from_env(env, FixedClock(now))
    s, rows = Seeded(), _Rows()
    try:
        admin, teams = await _directory(svc, s)
        caseworkers = [(team, m) for _, team, members in teams for m in members[1:]]
        threads: list[_Thread] = []
        people = 0
        for n in range(CASES):
            team, owner = caseworkers[n % len(caseworkers)]
            cid = new_id()
            dek, wrapped = svc.new_dek("cases", cid)
            number = f"2025-{n:05d}"
            rows.add(
                "cases",
                id=cid,
                tenant_id=s.tenant_id,
                administration_id=admin,
                team_id=team,
                owner_id=owner,
                number=number,
                case_type="general",
                status="open" if n % 10 else "closed",
                dek=wrapped,
                created_at=now - timedelta(days=120),
            )
            if owner == s.caseworker:
                s.numbers.append(number)
                s.cases.append(cid)
            for role in ("party", "parent")[: 2 if n % 3 == 0 else 1]:
                pid = _person(svc, rows, s, rng, people, now)
                people += 1
                rows.add(
                    "participants",
                    id=new_id(),
                    tenant_id=s.tenant_id,
                    case_id=cid,
                    person_id=pid,
                    role=role,
                    entitled=True,
                    created_at=now - timedelta(days=120),
                )
                threads.append(_Thread(new_id(), cid, pid, owner, dek))
            if n % 2 == 0:
                _milestones(rows, s, cid, now)
        _messages(svc, rows, s, rng, threads, now)
        s.threads = [t.conv_id for t in threads if t.owner == s.caseworker]
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await rows.copy(conn)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    finally:
        await svc.engine.dispose()
    return s


async def _session(env: dict[str, str], staff_id: str, tenant_id: str) -> tuple[str, str]:
    """A logged-in staff session (both factors), as the login pages would start it, and its
    CSRF token (a search is a POST)."""
    from bot.domain import sessions
    from scheduler.worker import services_from_env

    svc = services_from_env(env)
    try:
        token, session = await sessions.create(
            svc,
            tenant_id=tenant_id,
            kind="staff",
            stage="full",
            assurance="password+totp",
            staff_id=staff_id,
        )
    finally:
        await svc.engine.dispose()
    return token, session.csrf


@dataclass
class _Page:
    """One page to measure: a name, who asks, and the path of the i-th request."""

    name: str
    who: str  # caseworker | lead
    path: Callable[[int], str]
    search: Callable[[int], str] | None = None  # posted as the form's ``q`` (never in the URL)
    times: list[float] = field(default_factory=list)
    server_cpu_ms: float = 0.0  # the worker's CPU per request (steadier on a shared machine)


def _server_cpu(server: ChildServer) -> float:
    assert server.proc is not None
    return sum(process_cpu(p) for p in group_pids(server.proc.pid))


async def _measure(
    base: str, server: ChildServer, login: tuple[str, str], page: _Page, requests: int
) -> None:
    cookie, csrf = login
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        http.cookie_jar.update_cookies({"tvh_session": cookie})
        cpu = 0.0
        for i in range(WARMUP + requests):
            if i == WARMUP:
                cpu = _server_cpu(server)
            started = time.perf_counter()
            request = (
                http.get(base + page.path(i), allow_redirects=False)
                if page.search is None
                else http.post(
                    base + page.path(i),
                    data={"csrf": csrf, "q": page.search(i)},
                    allow_redirects=False,
                )
            )
            async with request as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{page.name}: {resp.status} {body[:300]!r}")
            if i >= WARMUP:
                page.times.append((time.perf_counter() - started) * 1000)
        page.server_cpu_ms = (_server_cpu(server) - cpu) / requests * 1000


def _pages(s: Seeded) -> list[_Page]:
    from urllib.parse import quote

    def pick(items: list[str]) -> Callable[[int], str]:
        return lambda i: quote(items[(i * 7919) % len(items)])

    def plain(items: list[str]) -> Callable[[int], str]:
        return lambda i: items[(i * 7919) % len(items)]

    name, phone, number = plain(s.names), plain(s.phones), plain(s.numbers)
    cases = "/sagsbehandler/sager"
    thread, case = pick(s.threads), pick(s.cases)
    return [
        _Page("inbox (caseworker)", "caseworker", lambda i: "/sagsbehandler/"),
        _Page("inbox (team lead)", "lead", lambda i: "/sagsbehandler/"),
        _Page("my cases (caseworker)", "caseworker", lambda i: "/sagsbehandler/sager"),
        _Page("my cases (team lead, the team's)", "lead", lambda i: "/sagsbehandler/sager"),
        _Page(
            "my cases, waiting for reply (team lead)",
            "lead",
            lambda i: "/sagsbehandler/sager?venter=1",
        ),
        _Page("search by name (team lead)", "lead", lambda i: cases, name),
        _Page("search by phone number (caseworker)", "caseworker", lambda i: cases, phone),
        _Page("search by case number (caseworker)", "caseworker", lambda i: cases, number),
        _Page(
            "thread page (caseworker)",
            "caseworker",
            lambda i: f"/sagsbehandler/samtaler/{thread(i)}",
        ),
        _Page(
            "case page (caseworker)",
            "caseworker",
            lambda i: f"/sagsbehandler/sager/{case(i)}",
        ),
    ]


async def _run(requests: int) -> list[Row]:
    name = await create_database("bench_desk")
    url = sqlalchemy_url(name)
    sink_port = free_port()
    sink = ChildServer(
        "twilio-sink",
        python_module("bench.twilio_sink"),
        {"BENCH_SINK_PORT": str(sink_port)},
        sink_port,
    )
    env = _env(url, sink_port)
    server: ChildServer | None = None
    try:
        await sink.start()
        print(f"  seeding {CASES:,} cases, {STAFF} staff, {MESSAGES:,} messages …", flush=True)
        started = time.monotonic()
        s = await _seed(url, env, random.Random(19))
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        cookies = {
            "caseworker": await _session(env, s.caseworker, s.tenant_id),
            "lead": await _session(env, s.lead, s.tenant_id),
        }
        port = free_port()
        server = ChildServer(
            "desk",
            python_module("bot.cli", "serve"),
            {
                **env,
                "TOVHOLDER_HOST": "127.0.0.1",
                "TOVHOLDER_PORT": str(port),
                "TOVHOLDER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            },
            port,
        )
        await server.start()
        base = f"http://127.0.0.1:{port}"
        rows = [
            Row("cases / staff / messages seeded", f"{CASES:,} / {STAFF} / {MESSAGES:,}", "", ""),
            Row("cases of the caseworker measured", len(s.cases), "", "count"),
        ]
        for page in _pages(s):
            await _measure(base, server, cookies[page.who], page, requests)
            ordered = sorted(page.times)
            p95 = percentile(ordered, 95)
            p50 = percentile(ordered, 50)
            print(
                f"  {page.name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                f"worker CPU {page.server_cpu_ms:.1f} ms per request; load {load_average()}",
                flush=True,
            )
            rows.append(Row(f"{page.name}, p95, 1 worker", p95, f"≤ {TARGET_MS:g}", "ms"))
            rows.append(Row(f"{page.name}, worker CPU per request", page.server_cpu_ms, "", "ms"))
        return rows
    finally:
        if server is not None:
            server.stop()
        sink.stop()
        await asyncio.to_thread(drop_database, name)


def run() -> list[Row]:
    """Seed, serve with one worker, measure each page; return the rows."""
    requests = int(os.environ.get("TOVHOLDER_BENCH_DESK_REQUESTS", "200"))
    return asyncio.run(_run(requests))


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run(), title="desk"))
