"""The heads-sink file format: HMAC-sealed JSON lines, appended and fsynced.

Every line is one JSON object ``{"chain", "seq", "hash", "at", "mac"}`` where
``mac`` is HMAC-SHA256, under a key the database never sees, over the
canonical JSON of the other four fields. Standard library only, so the
verify worker processes stay light.

A line may also carry ``"retired": true`` (covered by the MAC): the retention
job removed the chain at that head, deliberately (see :mod:`journal.retention`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Anchor:
    """One head as the sink remembers it."""

    chain: str
    seq: int
    hash: str
    at: str
    line: int
    # A retirement line: the chain was removed at this head by the retention job.
    retired: bool = False


@dataclass(frozen=True, slots=True)
class SinkDamage:
    """A sink line that is not valid JSON or whose MAC does not match."""

    line: int
    reason: str


def _canonical(chain: str, seq: int, hash_: str, at: str, retired: bool = False) -> bytes:
    body: dict[str, object] = {"at": at, "chain": chain, "hash": hash_, "seq": seq}
    if retired:
        body["retired"] = True
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def line_mac(key: bytes, chain: str, seq: int, hash_: str, at: str, retired: bool = False) -> str:
    """The HMAC-SHA256 (hex) that seals one sink line."""
    return hmac.new(key, _canonical(chain, seq, hash_, at, retired), hashlib.sha256).hexdigest()


def format_line(
    key: bytes, chain: str, seq: int, hash_: str, at: datetime, *, retired: bool = False
) -> str:
    """One sink line, newline included."""
    stamp = at.isoformat()
    record: dict[str, object] = {
        "chain": chain,
        "seq": seq,
        "hash": hash_,
        "at": stamp,
    }
    if retired:
        record["retired"] = True
    record["mac"] = line_mac(key, chain, seq, hash_, stamp, retired)
    return json.dumps(record, separators=(",", ":")) + "\n"


def append_lines(path: Path, lines: Sequence[str]) -> None:
    """Append lines in one write and fsync, creating the file (mode 0600) if needed."""
    if not lines:
        return
    data = "".join(lines).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_sink(path: Path, key: bytes) -> tuple[list[Anchor], list[SinkDamage]]:
    """Every authentic line of the sink, and every line that is not."""
    anchors: list[Anchor] = []
    damage: list[SinkDamage] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                chain, seq, hash_, at, mac = (
                    rec["chain"],
                    rec["seq"],
                    rec["hash"],
                    rec["at"],
                    rec["mac"],
                )
                retired = rec.get("retired", False)
                if not (
                    isinstance(retired, bool)
                    and isinstance(chain, str)
                    and isinstance(seq, int)
                    and isinstance(hash_, str)
                    and isinstance(at, str)
                    and isinstance(mac, str)
                ):
                    raise TypeError("wrong field types")
            except (ValueError, KeyError, TypeError):
                damage.append(SinkDamage(number, "not a heads-sink line"))
                continue
            if not hmac.compare_digest(mac, line_mac(key, chain, seq, hash_, at, retired)):
                damage.append(SinkDamage(number, "its HMAC does not match: the line was altered"))
                continue
            anchors.append(Anchor(chain, seq, hash_, at, number, retired))
    return anchors, damage
