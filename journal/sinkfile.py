"""The heads-sink file format: HMAC-sealed JSON lines, appended and fsynced.

Every line is one JSON object ``{"chain", "seq", "hash", "at", "mac"}`` where
``mac`` is HMAC-SHA256, under a key the database never sees, over the
canonical JSON of the other four fields. Standard library only, so the
verify worker processes stay light.

A line may also carry ``"retired": true`` (covered by the MAC): the retention
job removed the chain at that head, deliberately (see :mod:`journal.retention`).

A signed-heads line ``{"signed", "key", "at", "heads", "sig", "mac"}`` copies one
``journal_signed_heads`` row (see :mod:`journal.signing`), written before the
commit that moves those heads: the database cannot drop a signed head unseen.
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

# chain -> the (final seq, final hash) of every retention record of that chain.
Retired = dict[str, set[tuple[int, str]]]


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
class SignedLine:
    """One signed-heads row as the sink holds it."""

    record: str
    key_id: str
    at: str
    heads: str
    signature: str
    line: int


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


_SIGNED_FIELDS = ("signed", "key", "at", "heads", "sig")


def _signed_mac(key: bytes, values: Sequence[str]) -> str:
    body = json.dumps(dict(zip(_SIGNED_FIELDS, values, strict=True)), sort_keys=True)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def format_signed(key: bytes, record: str, key_id: str, at: str, heads: str, sig: str) -> str:
    """One signed-heads line, newline included."""
    values = (record, key_id, at, heads, sig)
    line = dict(zip(_SIGNED_FIELDS, values, strict=True)) | {"mac": _signed_mac(key, values)}
    return json.dumps(line, separators=(",", ":")) + "\n"


def _read_signed(key: bytes, rec: dict[str, object], number: int) -> SignedLine | SinkDamage:
    """A signed-heads line, or why it is not one."""
    values = [rec.get(f) for f in _SIGNED_FIELDS]
    mac = rec.get("mac")
    if not all(isinstance(v, str) for v in [*values, mac]):
        return SinkDamage(number, "not a heads-sink line")
    texts = [str(v) for v in values]
    if not hmac.compare_digest(str(mac), _signed_mac(key, texts)):
        return SinkDamage(number, "its HMAC does not match: the line was altered")
    record, key_id, at, heads, sig = texts
    return SignedLine(record, key_id, at, heads, sig, number)


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
    """Every authentic head line of the sink, and every line that is not authentic."""
    anchors, damage, _ = read_sink_all(path, key)
    return anchors, damage


def read_sink_all(
    path: Path, key: bytes
) -> tuple[list[Anchor], list[SinkDamage], list[SignedLine]]:
    """Every authentic head line and signed-heads line, and every line that is not."""
    anchors: list[Anchor] = []
    damage: list[SinkDamage] = []
    signed: list[SignedLine] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                if isinstance(rec, dict) and "signed" in rec:
                    found = _read_signed(key, rec, number)
                    if isinstance(found, SignedLine):
                        signed.append(found)
                    else:
                        damage.append(found)
                    continue
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
    return anchors, damage, signed


def retire_anchors(found: Sequence[Anchor], retired: Retired) -> list[Anchor]:
    """The sink's anchors, without those of chains the retention job removed.

    A chain's anchors are set aside up to its last retired line that matches a
    retention record (and, after it, any anchor of that same final head: a heads
    tick racing the removal). Retired lines without a record set nothing aside.
    """
    cut: dict[str, int] = {}
    for a in found:
        if a.retired and (a.seq, a.hash) in retired.get(a.chain, ()):
            cut[a.chain] = max(cut.get(a.chain, 0), a.line)
    return [
        a
        for a in found
        if not a.retired
        and not (a.chain in cut and (a.line <= cut[a.chain] or (a.seq, a.hash) in retired[a.chain]))
    ]


def proven_retirements(found: Sequence[Anchor], retired: Retired) -> set[str]:
    """The retired chains whose retention record matches a retired line of the sink."""
    return {a.chain for a in found if a.retired and (a.seq, a.hash) in retired.get(a.chain, ())}
