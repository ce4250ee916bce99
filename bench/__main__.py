"""``python -m bench [name ...]``: run benchmarks, print measured figures beside targets.

To add a benchmark, write a module with ``run() -> list[Row]`` and add it to
``BENCHMARKS``. ``python -m bench inbound --compare signing|triage [--pairs N]``
measures what one part of the inbound path costs instead (``bench.inbound_compare``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import FrameType

from bench.common import Row, format_table, load_average, machine, verdict

# (name, module): each module has run() -> list[Row].
BENCHMARKS: list[tuple[str, str]] = [
    ("inbound", "bench.inbound"),
    ("outbox", "bench.outbox"),
    ("reminders", "bench.reminders"),
    ("journal_verify", "bench.journal_verify"),
    ("export_lag", "bench.export_lag"),
    ("triage", "bench.triage"),
    ("desk", "bench.desk"),
    ("guard", "bench.guard"),
]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C and SIGTERM unwind at once, so every benchmark's cleanup (servers, database) runs.
    # Our own handler, not asyncio.run's: that one only cancels the main task on the first
    # Ctrl-C, and a cancellation swallowed deep in a driver would let the run carry on.
    raise KeyboardInterrupt


def _run_module(module: str) -> list[Row]:
    rows: list[Row] = importlib.import_module(module).run()
    return rows


Measure = Callable[[], list[Row]]


def _chosen(argv: Sequence[str] | None) -> list[tuple[str, Measure]]:
    """The benchmarks the command line names, each with what runs it."""
    known = [name for name, _ in BENCHMARKS]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"benchmarks to run (default: all): {', '.join(known)}",
    )
    parser.add_argument(
        "--compare",
        metavar="PART",
        help="inbound only: its share of the raw ceiling with PART on and off, interleaved: "
        "signing (journal heads, issue 18) or triage (triage + intents, issue 16)",
    )
    parser.add_argument(
        "--pairs", type=int, default=3, metavar="N", help="with --compare: on/off pairs (3)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    if args.compare:
        if args.names != ["inbound"]:
            parser.error("--compare goes with the inbound benchmark alone: inbound --compare …")
        compare = importlib.import_module("bench.inbound_compare").run
        return [("inbound", functools.partial(compare, args.compare, args.pairs))]
    return [
        (n, functools.partial(_run_module, m))
        for n, m in BENCHMARKS
        if not args.names or n in args.names
    ]


def main(argv: Sequence[str] | None = None) -> int:
    chosen = _chosen(argv)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)

    env = machine()
    rows: list[Row] = []
    failed: list[str] = []
    started = time.monotonic()
    for name, measure in chosen:
        print(f"== {name}", flush=True)
        try:
            rows += [r._replace(metric=f"{name}: {r.metric}") for r in measure()]
        except KeyboardInterrupt:
            print(f"== {name}: interrupted; cleaned up", file=sys.stderr, flush=True)
            return 130
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            traceback.print_exc()
            print(f"== {name} FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    print()
    width = max(len(k) for k, _ in env)
    for key, value in env:
        print(f"{key:<{width}}  {value}")
    print(f"{'load average at end':<{width}}  {load_average()} (1, 5, 15 min)")
    print(f"{'took':<{width}}  {time.monotonic() - started:.0f} s")
    print()
    print(format_table(rows))
    missed = [r.metric for r in rows if verdict(r) == "MISSED"]
    if missed or failed:
        print()
    if missed:
        print(f"targets missed: {len(missed)} of {sum(1 for r in rows if verdict(r))}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}")
    # A benchmark reports; it does not gate. Only a benchmark that could not run fails.
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
