"""What every benchmark shares: result rows, a scratch database, child servers, a load generator.

The load generator here is an asyncio client in the benchmark's own process. It
sends requests that were fully built (and signed) before the clock started, so
what is timed is the server, the database, and the client's own HTTP overhead,
which is the same for every server measured. On a small machine the client,
the server and PostgreSQL share the cores; every figure says so. Python's HTTP
client costs far more CPU per request than the server it measures does, so the
inbound benchmark's headline figures come from ``wrk`` instead (``bench.wrk``);
this client remains for its diagnostics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import aiohttp
import asyncpg

PG_ADMIN_DSN = os.environ.get("TOVHOLDER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


# -- results -------------------------------------------------------------------------------------


class Row(NamedTuple):
    """One measured figure: what, how much, the target (``"≥ 25"``, ``"≤ 50"``, ``"= 0"`` or
    ``""`` for none) and the unit."""

    metric: str
    measured: float | int | str | None
    target: str
    unit: str


_TARGET = re.compile(r"^\s*(≥|>=|≤|<=|=|==)\s*(-?[\d.]+)\s*$")


def verdict(row: Row) -> str:
    """``met`` / ``MISSED`` when the row has a numeric target, else empty."""
    m = _TARGET.match(row.target)
    if m is None or not isinstance(row.measured, int | float):
        return ""
    op, bound = m.group(1), float(m.group(2))
    ok = {
        "≥": row.measured >= bound,
        ">=": row.measured >= bound,
        "≤": row.measured <= bound,
        "<=": row.measured <= bound,
        "=": row.measured == bound,
        "==": row.measured == bound,
    }[op]
    return "met" if ok else "MISSED"


def fmt(value: float | int | str | None) -> str:
    """A measured figure as the table prints it."""
    if value is None:
        return "—"
    if isinstance(value, bool) or isinstance(value, int | str):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(rows: Sequence[Row], *, title: str = "") -> str:
    head = ("metric", "measured", "target", "unit", "")
    body = [(r.metric, fmt(r.measured), r.target or "", r.unit, verdict(r)) for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    align = ["<", ">", "<", "<", "<"]

    def line(cells: Sequence[str]) -> str:
        cols = zip(cells, align, widths, strict=True)
        return "  ".join(f"{c:{a}{w}}" for c, a, w in cols).rstrip()

    out = [title] if title else []
    out += [line(head), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    return "\n".join(out)


def percentile(values_sorted: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence (q in 0..100)."""
    if not values_sorted:
        return None
    rank = max(1, min(len(values_sorted), int(-(-q * len(values_sorted) // 100))))
    return values_sorted[rank - 1]


# -- the machine ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


async def _pg_version() -> str:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"unreachable ({type(exc).__name__})"
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 0
    return [
        ("nproc", str(cpus)),
        ("CPU", _cpu_model()),
        ("RAM", _ram_gib()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("PostgreSQL", asyncio.run(_pg_version())),
        ("OS", platform.platform()),
        ("load average at start", f"{load_average()} (1, 5, 15 min)"),
    ]


# -- where the CPU went ---------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    try:
        # The command name may hold spaces or parentheses: split after the last ")".
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 if it is gone."""
    f = _proc_stat(pid)
    return (int(f[11]) + int(f[12])) / _TICK if f else 0.0


def group_pids(pgid: int) -> list[int]:
    """Every live process in a process group."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (f := _proc_stat(int(entry))) and int(f[2]) == pgid:
            out.append(int(entry))
    return out


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle, over all cores."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _TICK


@dataclass
class CpuUse:
    """CPU seconds spent during one phase, by whom."""

    server: float
    postgres: float  # the backends serving this benchmark's database
    bench: float  # the load generator (this process) and helper servers
    machine: float  # everything, all cores

    @property
    def others(self) -> float:
        """Processes that are not part of this benchmark (other jobs on a shared machine)."""
        return max(0.0, self.machine - self.server - self.postgres - self.bench)


class CpuMeter:
    """Snapshots of per-process CPU, so a phase can say where the machine's time went."""

    def __init__(
        self,
        server_groups: Sequence[int],
        helper_groups: Sequence[int],
        postgres_pids: Callable[[], Awaitable[Sequence[int]]],
    ) -> None:
        self.server_groups = server_groups
        self.helper_groups = helper_groups
        self.postgres_pids = postgres_pids

    async def snapshot(self) -> dict[str, dict[int, float]]:
        backends = await self.postgres_pids()
        return {
            "server": {p: process_cpu(p) for g in self.server_groups for p in group_pids(g)},
            "postgres": {p: process_cpu(p) for p in backends},
            "bench": {
                p: process_cpu(p)
                for p in [os.getpid(), *(q for g in self.helper_groups for q in group_pids(g))]
            },
            "machine": {0: machine_busy()},
        }

    @staticmethod
    def between(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> CpuUse:
        def delta(kind: str) -> float:
            return sum(v - before[kind].get(p, 0.0) for p, v in after[kind].items())

        return CpuUse(
            server=delta("server"),
            postgres=delta("postgres"),
            bench=delta("bench"),
            machine=delta("machine"),
        )


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


# -- a scratch database --------------------------------------------------------------------------


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_dsn(dbname: str) -> str:
    """asyncpg DSN for a database on the admin server."""
    return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{dbname}"


def sqlalchemy_url(dbname: str) -> str:
    return pg_dsn(dbname).replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    """Drop a scratch database; safe to call from a ``finally`` after the loop was interrupted."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_sockets(port: int) -> int:
    """How many IPv4 sockets listen on ``port`` (one per worker with SO_REUSEPORT)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return -1  # cannot tell: do not wait on it
    want = f":{port:04X}"
    return sum(1 for ln in lines if (f := ln.split()) and f[1].endswith(want) and f[3] == "0A")


# -- child servers -------------------------------------------------------------------------------


_LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (.*)$")
_VARIABLE = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\b[0-9a-f]{32}\b|[\d:.,-]*\d")


class ChildServer:
    """A server in its own process group, so stopping it stops every worker it forked."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        port: int,
        *,
        listeners: int = 1,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = {**os.environ, **env}
        self.port = port
        self.listeners = listeners
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def log_mark(self) -> int:
        """Where the log ends now; pass to ``log_summary`` to see what a phase logged."""
        self._log.flush()
        return Path(self._log.name).stat().st_size

    def log_summary(self, since: int, top: int = 3) -> str:
        """How many warnings and errors were logged since ``since``, and the commonest ones."""
        with Path(self._log.name).open("rb") as f:
            f.seek(since)
            lines = f.read().decode(errors="replace").splitlines()
        found = [m.group(1) + " " + m.group(2) for ln in lines if (m := _LOG_LINE.match(ln))]
        if not found:
            return "no warnings or errors logged"
        # Ids, numbers and timestamps differ line to line; the message shape is what repeats.
        shapes = Counter(_VARIABLE.sub("…", f)[:140] for f in found)
        common = "; ".join(f"{n}× {shape}" for shape, n in shapes.most_common(top))
        return f"{len(found)} warnings/errors logged, commonest: {common}"

    def first_error(self, since: int, max_lines: int = 30) -> str:
        """The first ERROR logged since ``since``, with its traceback; empty if none."""
        with Path(self._log.name).open("rb") as f:
            f.seek(since)
            lines = f.read().decode(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if (m := _LOG_LINE.match(line)) and m.group(1) != "WARNING":
                block = [line]
                for more in lines[i + 1 : i + max_lines]:
                    if _LOG_LINE.match(more) or re.match(r"^\S+ \S+ (INFO|DEBUG) ", more):
                        break
                    block.append(more)
                return "\n".join(block)
        return ""

    async def start(self, within: float = 60.0) -> None:
        # Popen, not asyncio's subprocesses: stop() must work from a plain ``finally`` after
        # the event loop is gone (Ctrl-C), and starting a process does not block.
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            self.argv,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with s.get(
                        f"http://127.0.0.1:{self.port}/healthz",
                        timeout=aiohttp.ClientTimeout(total=1),
                    ) as r:
                        n = _listening_sockets(self.port)
                        if r.status == 200 and (n < 0 or n >= self.listeners):
                            return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start within {within:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the process group, wait, then SIGKILL what is left. Idempotent."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the child leads its own group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


# -- the load generator --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request, fully built before timing starts."""

    body: bytes
    headers: Mapping[str, str]


@dataclass
class PhaseResult:
    name: str
    sent: int = 0
    accepted: int = 0  # HTTP 200
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # of accepted requests only
    offered_rate: float | None = None  # open loop only
    cpu: CpuUse | None = None
    # Percentiles (ms) computed by an outside load generator, when there are no latencies_ms.
    quantiles_ms: dict[float, float] = field(default_factory=dict)
    in_flight: int = 0  # sent but not answered when the load generator stopped
    ran_out: int = 0  # requests the load generator wanted after the prepared ones were all sent
    late: int = 0  # paced runs: requests that left more than a few ms after their slot
    max_late_ms: float = 0.0

    @property
    def errors(self) -> int:
        return self.sent - self.accepted

    @property
    def rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed > 0 else 0.0

    def p(self, q: float) -> float | None:
        """The ``q``-th percentile latency in ms (nearest rank), if it was measured."""
        if self.latencies_ms:
            return percentile(sorted(self.latencies_ms), q)
        return self.quantiles_ms.get(q)

    def server_cpu_ms(self) -> float | None:
        """Server CPU per accepted request: what one request costs, whatever else runs."""
        if self.cpu is None or not self.accepted:
            return None
        return 1000 * self.cpu.server / self.accepted

    def describe_errors(self) -> str:
        parts = [f"HTTP {s}×{n}" for s, n in sorted(self.statuses.items()) if s != 200]
        parts += [f"{e}×{n}" for e, n in self.exceptions.most_common()]
        return ", ".join(parts) or "none"

    def summary(self) -> str:
        p50, p99 = self.p(50), self.p(99)
        offered = f", offered {self.offered_rate:.0f}/s" if self.offered_rate else ""
        text = (
            f"{self.name}: {self.accepted}/{self.sent} accepted in {self.elapsed:.2f} s "
            f"= {self.rate:.0f}/s{offered}; p50 {fmt(p50)} ms, p99 {fmt(p99)} ms; "
            f"errors: {self.describe_errors()}"
        )
        if self.in_flight:
            text += f"; {self.in_flight} in flight when the load generator stopped"
        if self.offered_rate and self.max_late_ms:
            text += (
                f"; {self.late} requests left more than 5 ms after their slot "
                f"(latest {self.max_late_ms:.0f} ms)"
            )
        if self.ran_out:
            text += (
                f"\n    WARNING: the prepared requests ran out ({self.ran_out} more were "
                "wanted): connections idled before the end, so the rate reads low"
            )
        if self.cpu is not None and self.elapsed > 0:
            c, e = self.cpu, self.elapsed
            text += (
                f"\n    CPU, in cores busy: server {c.server / e:.2f} "
                f"({fmt(self.server_cpu_ms())} ms per request), "
                f"PostgreSQL {c.postgres / e:.2f}, "
                f"load generator + helpers {c.bench / e:.2f}, other processes on the machine "
                f"{c.others / e:.2f}; machine total {c.machine / e:.2f}"
            )
        return text


class LoadClient:
    """An HTTP client with at most ``connections`` connections, kept warm across phases."""

    def __init__(self, url: str, *, connections: int, timeout: float = 30.0) -> None:
        self.url = url
        self.connections = connections
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LoadClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections, force_close=False),
            timeout=self.timeout,
            skip_auto_headers=("User-Agent",),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _one(self, req: Prepared, started: float, result: PhaseResult) -> None:
        assert self._session is not None
        result.sent += 1
        try:
            async with self._session.post(self.url, data=req.body, headers=req.headers) as r:
                await r.read()
                status = r.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            result.exceptions[type(exc).__name__] += 1
            return
        result.statuses[status] += 1
        if status == 200:
            result.accepted += 1
            result.latencies_ms.append((time.perf_counter() - started) * 1000)

    async def closed_loop(
        self,
        name: str,
        requests: Sequence[Prepared],
        *,
        concurrency: int,
        duration: float,
        meter: CpuMeter | None = None,
    ) -> PhaseResult:
        """``concurrency`` senders, each sending its next request as soon as the last is answered,
        until ``requests`` run out or ``duration`` seconds have passed."""
        result = PhaseResult(name)
        it = iter(requests)
        before = await meter.snapshot() if meter else None
        start = time.perf_counter()
        deadline = start + duration

        async def sender() -> None:
            for req in it:
                t = time.perf_counter()
                if t >= deadline:
                    return
                await self._one(req, t, result)

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - start
        if meter and before:
            result.cpu = CpuMeter.between(before, await meter.snapshot())
        return result

    async def open_loop(
        self,
        name: str,
        requests: Sequence[Prepared],
        *,
        rate: float,
        duration: float,
        meter: CpuMeter | None = None,
    ) -> PhaseResult:
        """Send at a fixed ``rate`` whatever the answers, for ``duration`` seconds.

        Latency counts from when a request was *due*, not when it left, so a
        server (or client) that falls behind is charged for the wait.
        """
        result = PhaseResult(name, offered_rate=rate)
        count = min(len(requests), int(rate * duration))
        tasks: set[asyncio.Task[None]] = set()
        before = await meter.snapshot() if meter else None
        start = time.perf_counter()
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._one(requests[i], due, result))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
        result.elapsed = time.perf_counter() - start
        if meter and before:
            result.cpu = CpuMeter.between(before, await meter.snapshot())
        return result
