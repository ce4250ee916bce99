"""Drive a server with ``wrk``: requests signed beforehand, fed through a Lua script.

wrk is a C load generator: on a 2-core machine it takes far less CPU from the
server it measures than the asyncio client in ``bench.common`` does. Every
request is built (and signed) in Python before the run and written to a pool
file, one line each; ``wrk_requests.lua`` sends each line once, counts the
answers by status and prints a JSON summary from ``done()``.

Closed loop: ``connections`` connections, each sending its next request as
soon as the last is answered. Paced ("open loop"): Debian has no ``wrk2``, so
the script paces requests with wrk's ``delay()`` on a fixed timetable at the
rate asked for. Latency then counts from when a request left, not from its
slot; the script counts the requests that left late, which says whether that
difference matters for a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import CpuMeter, CpuUse, PhaseResult, Prepared

SCRIPT = Path(__file__).with_name("wrk_requests.lua")
MARK = "BENCH-WRK-JSON "
TIMEOUT_S = 30  # longer than any run, so every answer is a latency sample
PACED_GRACE_S = 2  # a paced run goes on this long after its last slot, for the last answers
_POOLS = itertools.count(1)
PACING = (
    "wrk with a Lua delay() timetable (Debian has no wrk2); latency counts from when "
    "a request left, and the requests that left late are counted"
)


def ensure_wrk() -> str:
    """Where ``wrk`` is; install Debian's package first if it is missing and we are root.

    Returns:
        The path of the ``wrk`` executable.

    Raises:
        RuntimeError: wrk is missing and cannot be installed here.
    """
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: wrk is missing; installing Debian's package wrk …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
            subprocess.run(
                argv, env=env, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
            )
        found = shutil.which("wrk")
        if found:
            return found
    raise RuntimeError(
        "the inbound benchmark drives its servers with wrk, which is not installed: "
        "install Debian's package wrk (as root: `apt-get install wrk`, or `make bench-tools`)"
    )


def write_pool(requests: Sequence[Prepared], path: Path) -> None:
    """Write ``requests`` as the Lua script reads them: ``signature<TAB>body`` per line.

    Args:
        requests: Signed form posts; each header set must carry ``X-Twilio-Signature`` and the
            form content type, the only headers the script sends.
        path: Where to write the pool.
    """
    lines = []
    for req in requests:
        body = req.body.decode("ascii")
        signature = req.headers["X-Twilio-Signature"]
        if any(c in body or c in signature for c in "\t\r\n"):
            raise ValueError("a pooled request may not hold tabs or line breaks")
        lines.append(f"{signature}\t{body}\n")
    path.write_text("".join(lines), encoding="ascii")


@dataclass(frozen=True)
class Wrk:
    """How to run wrk against one URL path.

    Attributes:
        executable: The ``wrk`` binary.
        connections: Open connections (``-c``).
        threads: wrk threads (``-t``); each sends its own share of the pool.
        workdir: Where pool files go.
    """

    executable: str
    connections: int
    threads: int
    workdir: Path

    def argv(self, url: str, seconds: int, connections: int) -> list[str]:
        """The wrk command line for a run of ``seconds`` against ``url``."""
        return [
            self.executable,
            "-t",
            str(self.threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            f"{TIMEOUT_S}s",
            "-s",
            str(SCRIPT),
            url,
        ]

    def describe(
        self, seconds: int, *, rate: float | None = None, connections: int | None = None
    ) -> str:
        """The command as the benchmark prints it."""
        env = f"BENCH_WRK_RATE={rate:.0f} " if rate else ""
        duration = seconds + (PACED_GRACE_S if rate else 0)
        return (
            f"{env}wrk -t {self.threads} -c {connections or self.connections} -d {duration}s "
            f"--timeout {TIMEOUT_S}s -s bench/{SCRIPT.name} URL"
        )

    async def run(
        self,
        name: str,
        base_url: str,
        path: str,
        requests: Sequence[Prepared],
        *,
        seconds: int,
        rate: float | None = None,
        connections: int | None = None,
        meter: CpuMeter | None = None,
    ) -> PhaseResult:
        """Send ``requests`` with wrk: closed loop, or paced at ``rate`` per second.

        Args:
            name: The run's name in its summary.
            base_url: ``http://host:port`` of the server.
            path: The URL path every request goes to.
            requests: Signed requests, each sent at most once.
            seconds: Closed loop: how long wrk runs. Paced: the length of the timetable
                (``requests`` should hold ``rate * seconds`` of them); wrk runs a little longer
                so that the last ones are answered.
            rate: Requests per second for a paced run; ``None`` for a closed loop.
            connections: Connections for this run, if not ``self.connections``. A paced run
                needs enough that one is free at each slot even while answers are slow.
            meter: Measures the CPU used during the run; wrk's own CPU counts as the load
                generator's.

        Returns:
            The run's counts, latencies and CPU.

        Raises:
            RuntimeError: wrk failed or printed no summary.
        """
        connections = connections or self.connections
        pool = self.workdir / f"pool-{next(_POOLS)}.txt"
        write_pool(requests, pool)
        env = {
            **os.environ,
            "BENCH_WRK_POOL": str(pool),
            "BENCH_WRK_PATH": path,
            "BENCH_WRK_THREADS": str(self.threads),
            "BENCH_WRK_RATE": f"{rate:.6f}" if rate else "0",
        }
        duration = seconds + (PACED_GRACE_S if rate else 0)
        out = tempfile.TemporaryFile()
        before = await meter.snapshot() if meter else None
        # Popen, as for the servers: a plain ``finally`` must be able to stop it.
        proc = subprocess.Popen(  # noqa: ASYNC220
            self.argv(base_url + path, duration, connections),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _, status, usage = await asyncio.to_thread(os.wait4, proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wrk_cpu = usage.ru_utime + usage.ru_stime
            after = await meter.snapshot() if meter else None
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    proc.wait()
            pool.unlink(missing_ok=True)
        out.seek(0)
        text = out.read().decode(errors="replace")
        out.close()
        found = [ln[len(MARK) :] for ln in text.splitlines() if ln.startswith(MARK)]
        if proc.returncode != 0 or not found:
            raise RuntimeError(f"wrk exited with {proc.returncode} and no summary:\n{text[-3000:]}")
        result = _result(name, json.loads(found[-1]), rate)
        if before is not None and after is not None:
            cpu = CpuMeter.between(before, after)
            result.cpu = CpuUse(
                server=cpu.server,
                postgres=cpu.postgres,
                bench=cpu.bench + wrk_cpu,
                machine=cpu.machine,
            )
        if rate:
            # Rates and CPU per second over the timetable, not the grace after it.
            result.elapsed = min(result.elapsed, float(seconds))
        return result


def _result(name: str, summary: dict[str, Any], rate: float | None) -> PhaseResult:
    """A ``PhaseResult`` from the script's JSON summary."""
    statuses: Counter[int] = Counter({int(k): int(v) for k, v in summary["statuses"].items()})
    errors = {k: int(v) for k, v in summary["errors"].items()}
    # wrk's "status" errors are answers >= 400, already counted by status.
    socket_errors = Counter(
        {f"wrk {kind} error": n for kind, n in errors.items() if kind != "status" and n}
    )
    failed = sum(socket_errors.values())
    answered = int(summary["answered"])
    result = PhaseResult(
        name,
        sent=answered + failed,
        accepted=statuses.get(200, 0),
        statuses=statuses,
        exceptions=socket_errors,
        elapsed=float(summary["duration_us"]) / 1e6,
        offered_rate=rate,
        quantiles_ms={
            float(q): float(us) / 1000 for q, us in summary["latency_us"].items() if q != "max"
        },
        in_flight=max(0, int(summary["sent"]) - answered - failed),
        ran_out=int(summary["ran_out"]) if not rate else 0,
        late=int(summary["late"]),
        max_late_ms=float(summary["max_late_ms"]),
    )
    return result
