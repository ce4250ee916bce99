"""Signed heads: every commit that moves journal heads signs where it left them.

A chain's hash is plain SHA-256: anyone who can write the database can extend
a chain and move its head. So every :func:`journal.journal.append_many` also
writes one ``journal_signed_heads`` row, in the same statement as the entries:
for each chain it moved, the head it started from, the new head's seq and
hash, signed with Ed25519 under a key the database never sees
(``TOVHOLDER_JOURNAL_SIGNING_KEY``). ``journal verify`` checks the signatures
and refuses entries that no signed head covers, a head moved onto entries
without a signature, and a signed head the chain no longer matches (naming the
first entry after the last head that still matches).

Version 2 (``heads`` is ``{"v":2,"moves":[…]}``): one signature per commit still,
but over the sorted SHA-256 digests of the moves (:func:`move_digest`), not the
moves themselves. The database keeps the moves in clear; an export or a proof
carries only its own chain's move in clear and the other moves as digests
(:func:`head_view`), so it shows nothing of the other cases (possibly another
municipality's) that one inbound batch filed on. Rows signed before version 2
(``heads`` a JSON list, signature over the text) still verify as they are.

Rotation: the key id is a fingerprint of the public key, stored in each row; a
new signing key goes live with the old public key listed in
``TOVHOLDER_JOURNAL_VERIFY_KEYS``, so old rows still verify.

Standard library and ``cryptography`` only: verify's worker processes import it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from journal.sinkfile import SignedLine

# One moved head: chain, the seq it started from, the new seq, the new hash.
Move = tuple[str, int, int, str]


class UnsignedJournal(RuntimeError):
    """No signing key is installed for this database: the journal refuses to move a head."""


def key_id_of(public: bytes) -> str:
    """The fingerprint that names a signing key (its public half) in every signed row."""
    return hashlib.sha256(b"tovholder-journal-head" + public).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class HeadSigner:
    """The journal's signing key (Ed25519), from a 32-byte seed."""

    key_id: str
    public: bytes
    _private: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, seed: bytes) -> HeadSigner:
        """The signer whose private key is ``seed`` (32 bytes)."""
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(key_id_of(public), public, private)

    def sign(self, data: bytes) -> str:
        """The signature of ``data``, as base64."""
        return base64.b64encode(self._private.sign(data)).decode()


def public_keys(publics: Iterable[bytes]) -> dict[str, bytes]:
    """Public keys by key id."""
    return {key_id_of(p): p for p in publics}


def payload(record_id: str, at: str, key_id: str, heads: str) -> bytes:
    """The bytes a version-1 signature covers: the row's id, time, key id and heads (JSON)."""
    return f"tovholder-journal-heads\n{record_id}\n{at}\n{key_id}\n{heads}".encode()


def move_digest(move: Sequence[Any]) -> str:
    """What a version-2 signature covers of one move: SHA-256 of its canonical JSON.

    Domain-separated from every other hash of the journal; the entry hash in it is
    256 bits nobody outside the chain knows, so a digest cannot be guessed back.
    """
    chain, start, seq, hash_ = move
    text = json.dumps([str(chain), int(start), int(seq), str(hash_)], separators=(",", ":"),
                      ensure_ascii=False)  # fmt: skip
    return hashlib.sha256(b"tovholder-journal-move/2\n" + text.encode()).hexdigest()


def payload_v2(record_id: str, at: str, key_id: str, digests: Sequence[str]) -> bytes:
    """The bytes a version-2 signature covers: id, time, key id and the moves' digests, sorted."""
    body = "\n".join(sorted(digests))
    return f"tovholder-journal-heads/2\n{record_id}\n{at}\n{key_id}\n{body}".encode()


def heads_text(moves: Sequence[Move]) -> str:
    """The canonical JSON of the heads one commit moved, in chain order (version 2).

    The database keeps every move in clear (``journal verify`` needs them); the
    signature covers only their digests, so one chain's move can be shown, with its
    signature, without showing the others (:func:`head_view`).
    """
    return json.dumps({"v": 2, "moves": sorted(moves)}, separators=(",", ":"), ensure_ascii=False)


def moves_of(heads: str) -> list[Move]:
    """The moves of a signed row's ``heads`` text, either version.

    Raises:
        ValueError: not heads text.
    """
    data = json.loads(heads)
    if isinstance(data, dict):
        if data.get("v") != 2:
            raise ValueError("unknown signed-heads version")
        data = data["moves"]
    return [(str(c), int(a), int(s), str(h)) for c, a, s, h in data]


def _is_v2(heads: str) -> bool:
    return heads.startswith("{")


def signed_row(
    signer: HeadSigner, record_id: str, moves: Sequence[Move], at: datetime
) -> dict[str, Any]:
    """The ``journal_signed_heads`` row that signs ``moves`` (made at ``at``, UTC)."""
    text = heads_text(moves)
    stamp = at.isoformat()
    digests = [move_digest(m) for m in moves]
    return {
        "id": record_id,
        "key_id": signer.key_id,
        "at": stamp,
        "heads": text,
        "signature": signer.sign(payload_v2(record_id, stamp, signer.key_id, digests)),
    }


def _signature_checks(public: bytes, signature: str, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(signature), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_ok(keys: Mapping[str, bytes], row: Sequence[Any]) -> bool:
    """Does a row (id, key_id, at, heads, signature) carry a valid signature by a known key?

    Either version: a version-2 row's moves are digested, as when it was signed.
    """
    record_id, key_id, at, heads, signature = row[:5]
    public = keys.get(key_id)
    if public is None or not signature:
        return False
    if _is_v2(heads):
        try:
            digests = [move_digest(m) for m in moves_of(heads)]
        except (ValueError, TypeError, KeyError):
            return False
        return _signature_checks(public, signature, payload_v2(record_id, at, key_id, digests))
    return _signature_checks(public, signature, payload(record_id, at, key_id, heads))


# -- one chain's view of a signed row ------------------------------------------------


def head_view(row: Mapping[str, Any], chain: str) -> dict[str, Any]:
    """What a third party (the case system, a proof's reader) gets of a signed row.

    A version-2 row: ``chain``'s own move in clear (``move``: chain, the seq it
    started from, the new seq and hash; None if the row did not move it), every
    move of the commit (its own included) only as a digest, and the signature over
    the digests. Of other chains it shows only how many the commit moved. A version-1 row (signed
    before version 2) can only be shown whole: its signature covers every move.
    """
    heads = str(row["heads"])
    base = {k: row[k] for k in ("id", "key_id", "at")}
    if not _is_v2(heads):
        return {**base, "heads": heads, "signature": row["signature"]}
    moves = moves_of(heads)
    own = next((list(m) for m in moves if m[0] == chain), None)
    return {
        **base,
        "v": 2,
        "move": own,
        "digests": sorted(move_digest(m) for m in moves),
        "signature": row["signature"],
    }


def view_moves(view: Mapping[str, Any]) -> list[Move]:
    """The moves a view shows in clear: its chain's (a version-1 view: all of its row's)."""
    if view.get("v") == 2:
        if view.get("move") is None:
            return []
        chain, start, seq, hash_ = view["move"]
        return [(str(chain), int(start), int(seq), str(hash_))]
    return moves_of(str(view["heads"]))


def view_ok(keys: Mapping[str, bytes], view: Mapping[str, Any]) -> bool:
    """Does a view carry a valid signature, over digests that include each move it shows?"""
    if view.get("v") != 2:
        row = (view["id"], view["key_id"], view["at"], view["heads"], view["signature"])
        return signature_ok(keys, row)
    public = keys.get(str(view["key_id"]))
    digests = [str(d) for d in view["digests"]]
    try:
        shown = [move_digest(m) for m in view_moves(view)]
    except (ValueError, TypeError):
        return False
    if public is None or not shown or not set(shown) <= set(digests):
        return False
    data = payload_v2(str(view["id"]), str(view["at"]), str(view["key_id"]), digests)
    return _signature_checks(public, str(view["signature"]), data)


def view_matches(view: Mapping[str, Any], row: Sequence[Any]) -> bool:
    """Is ``view`` a faithful view of the stored row (id, key_id, at, heads, signature)?"""
    stored = {"id": row[0], "key_id": row[1], "at": row[2], "heads": row[3], "signature": row[4]}
    try:
        return dict(view) == head_view(stored, _view_chain(view))
    except (ValueError, TypeError, KeyError):
        return False


def _view_chain(view: Mapping[str, Any]) -> str:
    move = view.get("move") or [""]
    return str(move[0])


# The signer of each engine, and the heads sink its rows go to (path and HMAC key), if
# any (weakly: a disposed engine takes its signer with it).
_SIGNERS: weakref.WeakKeyDictionary[Any, tuple[HeadSigner, tuple[Path, bytes] | None]] = (
    weakref.WeakKeyDictionary()
)


def install_signer(engine: Any, signer: HeadSigner, sink: tuple[Path, bytes] | None = None) -> None:
    """Sign every head moved through ``engine`` (an AsyncEngine) with ``signer``.

    Args:
        sink: the heads sink (path, HMAC key) that receives every signed row before its
            commit; a sink that cannot be written fails the commit.
    """
    _SIGNERS[engine.sync_engine] = (signer, sink)


def sink_for(conn: Any) -> tuple[Path, bytes] | None:
    """The heads sink the signed rows of ``conn``'s engine go to, if any."""
    found = _SIGNERS.get(conn.sync_engine)
    return found[1] if found is not None else None


def signer_for(conn: Any) -> HeadSigner:
    """The signer installed for the engine of ``conn`` (an AsyncConnection).

    Raises:
        UnsignedJournal: none is: the journal never moves a head unsigned.
    """
    found = _SIGNERS.get(conn.sync_engine)
    if found is None:
        raise UnsignedJournal(
            "no journal signing key is installed for this database "
            "(TOVHOLDER_JOURNAL_SIGNING_KEY): refusing to move a journal head unsigned"
        )
    return found[0]


# -- verifying ----------------------------------------------------------------------

# What verify knows of one signed head: its hash, the signed-heads row, the seq it moved from.
Point = tuple[str, str, int]
Points = dict[str, dict[int, Point]]
# A finding, before verify makes a Problem of it: chain, kind, seq, detail.
Finding = tuple[str, str, int | None, str]


@dataclass(slots=True)
class SignedHeads:
    """Every signed head, by chain; what is wrong with the signed rows themselves."""

    points: Points
    findings: list[Finding]
    records: int = 0
    signatures_checked: int = 0
    rows: dict[str, Sequence[Any]] = field(default_factory=dict)

    def last(self, chain: str) -> int:
        """The highest signed seq of ``chain`` (0: never signed)."""
        found = self.points.get(chain)
        return max(found) if found else 0


def _parse(rows: Sequence[Sequence[Any]]) -> tuple[Points, dict[str, list[str]], list[Finding]]:
    """Signed heads by chain and seq; the chains each row signs; unreadable rows."""
    points: Points = {}
    chains_of: dict[str, list[str]] = {}
    findings: list[Finding] = []
    for r in rows:
        try:
            moves = moves_of(r[3])
        except (ValueError, TypeError, KeyError):
            findings.append(("journal_signed_heads", "signature", None, f"{r[0]} is unreadable"))
            continue
        chains_of[r[0]] = [m[0] for m in moves]
        for chain, start, seq, hash_ in moves:
            points.setdefault(chain, {})[seq] = (hash_, r[0], start)
    return points, chains_of, findings


def signed_heads(rows: Sequence[Sequence[Any]], keys: Mapping[str, bytes]) -> SignedHeads:
    """Judge the signed-heads rows (id, key_id, at, heads, signature).

    The signature of the row behind each chain's last signed head is checked: it
    vouches, through the hash chain, for every entry before it. (One check per
    chain at most, not per row: verify stays as fast as the hashing.) A row whose
    signature is wrong or missing is named, and its heads are not trusted. Each
    chain's signed heads must then follow on from one another: a head that starts
    where the previous one did not end was moved without the key.
    """
    by_id = {r[0]: r for r in rows}
    points, chains_of, findings = _parse(rows)
    result = SignedHeads(points, findings, records=len(rows), rows=by_id)
    valid: dict[str, bool] = {}
    while True:
        bad: dict[str, list[tuple[str, int]]] = {}
        for chain, found in points.items():
            top = max(found) if found else 0
            if not top:
                continue
            rid = found[top][1]
            if rid not in valid:
                valid[rid] = signature_ok(keys, by_id[rid])
                result.signatures_checked += 1
            if not valid[rid]:
                bad.setdefault(rid, []).append((chain, top))
        if not bad:
            break
        for rid, tops in bad.items():
            findings += [
                (chain, "signature", top,
                 f"the head signed at #{top} (signed heads {rid}) has a wrong or missing "
                 "signature")
                for chain, top in tops
            ]  # fmt: skip
            for chain in chains_of[rid]:
                points[chain] = {s: p for s, p in points[chain].items() if p[1] != rid}
    findings += _breaks(points)
    return result


def _breaks(points: Points) -> list[Finding]:
    """Chains whose signed heads do not follow on: a head moved without the key between."""
    findings: list[Finding] = []
    for chain, found in sorted(points.items()):
        seqs = sorted(found)
        for before, after in zip(seqs, seqs[1:], strict=False):
            start = found[after][2]
            if start != before:
                findings.append(
                    (chain, "unsigned", before + 1,
                     f"the head signed at #{before} next moved from #{start} (signed heads "
                     f"{found[after][1]}): entries #{before + 1}… were filed without the key")
                )  # fmt: skip
                break
    return findings


def last_good(points: Mapping[int, Point], seq: int) -> int:
    """The highest signed seq below ``seq`` (0 if none): the chain matched up to there."""
    return max((s for s in points if s < seq), default=0)


def compare_sink(
    signed: SignedHeads, lines: Sequence[SignedLine], keys: Mapping[str, bytes], where: str
) -> list[Finding]:
    """The database's signed heads against the heads sink's copies (``where``: the sink).

    Every row signed while the sink was in use (from its first signed line on) was
    written to it before its commit, and read from the database before the sink was
    read: a row the sink lacks means a line was removed. A signed line the database
    lacks was cut from it, unless a later head of the chain started where that one
    did (its commit failed after the line was written).
    """
    findings: list[Finding] = []
    in_sink = {line.record for line in lines}
    for line in lines:
        row = signed.rows.get(line.record)
        copy = (line.record, line.key_id, line.at, line.heads, line.signature)
        if row is not None:
            if tuple(row[:5]) != copy:
                findings.append((where, "sink", None,
                                 f"line {line.line}: signed heads {line.record} differ from the "
                                 "database's copy"))  # fmt: skip
        elif not signature_ok(keys, copy):
            findings.append((where, "sink", None,
                             f"line {line.line}: signed heads {line.record} carry a wrong "
                             "signature"))  # fmt: skip
        else:
            findings += _lost(signed.points, line)
    first = min((line.at for line in lines), default=None)
    findings += [
        (where, "sink", None,
         f"signed heads {rid} ({row[2]}) are missing from the sink: a line was removed")
        for rid, row in sorted(signed.rows.items())
        if first is not None and row[2] >= first and rid not in in_sink
    ]  # fmt: skip
    return findings


def _lost(points: Points, line: SignedLine) -> list[Finding]:
    """The heads of a signed sink line the database lacks, unless superseded."""
    findings: list[Finding] = []
    for chain, start, seq, hash_ in moves_of(line.heads):
        found = points.get(chain, {})
        if (seq in found and found[seq][0] == hash_) or any(p[2] == start for p in found.values()):
            continue
        findings.append(
            (chain, "removed", seq,
             f"the heads sink signed #{seq} (line {line.line}) but the database lacks it: "
             "entries were cut (or their commit failed after the line was written)")
        )  # fmt: skip
    return findings
