"""Proofs a third party can check with the journal's public key alone.

Each chain (a case, or a municipality's unassigned queue) is a hash chain, and
every commit that moves a head signs where it left it (:mod:`journal.signing`).
That gives the two proofs Certificate Transparency gets from its Merkle tree:

- **Inclusion**: entry #n is in the journal as it stands if hashing its
  canonical text onto its predecessor's hash, and each later entry's text onto
  that, arrives at the hash of the chain's newest signed head, whose signature
  checks under a known key.
- **Consistency**: an older signed head (seq, hash) is a prefix of today's
  chain if hashing today's entries after that seq onto that hash arrives at
  today's newest signed head.

A proof is JSON (the entries' canonical texts, their hashes, the signed-heads
rows); :func:`check_proof` is all a checker needs, besides the public key.
The proof grows with the number of entries after the one proved (O(n), where a
Merkle tree's is O(log n)); a case's chain holds tens to a few hundred entries,
so the walk is a few kilobytes (see docs/deploy.md, "Proofs for a third party").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import NotFound
from bot.store.schema.core import journal_entries
from bot.store.schema.journal import journal_redactions, journal_signed_heads
from journal.journal import entry_text, link_hash
from journal.redacted import COLUMNS as REDACTION_COLUMNS
from journal.redacted import REDACTED
from journal.redacted import signature_ok as redaction_ok
from journal.signing import head_view, moves_of, signature_ok, view_moves, view_ok

KIND = "tovholder-journal-proof/1"
HOW = (
    "For each entry in order: sha256(previous hash + '\\n' + text) must equal its hash; the "
    "first previous hash is start_hash, the last hash must be the signed head's hash for the "
    "chain at that seq. A signed head with v = 2 shows its chain's move [chain, from seq, seq, "
    "hash] in clear and every move of its commit as a digest: sha256('tovholder-journal-move/2"
    "\\n' + the move as compact JSON) must be among digests, and the signature (Ed25519, "
    "base64) covers 'tovholder-journal-heads/2\\n' + id + '\\n' + at + '\\n' + key_id + "
    "'\\n' + the digests, sorted, joined by '\\n'. A signed head without v covers "
    "'tovholder-journal-heads\\n' + id + '\\n' + at + '\\n' + key_id + '\\n' + heads. "
    "An entry of an unassigned chain whose content was removed with its case (content_enc null) "
    "carries a redaction signed over 'tovholder-journal-redaction/1\\n' + its fields but the "
    "signature, joined by '\\n'; it vouches for the entry's hash, and sha256("
    "'tovholder-journal-redacted\\n' + text) must equal its redacted_sha256."
)
_ROW = ("id", "key_id", "at", "heads", "signature")


def _moves(row: Mapping[str, Any]) -> list[tuple[str, int, int, str]]:
    return moves_of(str(row["heads"]))


async def _newest_signed(conn: AsyncConnection, chain: str) -> tuple[dict[str, Any], int, str]:
    """The signed-heads row holding the chain's highest signed seq, that seq and its hash."""
    rows = (
        await conn.execute(
            select(*(journal_signed_heads.c[c] for c in _ROW)).where(
                journal_signed_heads.c.heads.contains(json.dumps(chain))
            )
        )
    ).all()
    best: tuple[dict[str, Any], int, str] | None = None
    for r in rows:
        row = dict(r._mapping)
        for c, _, seq, hash_ in _moves(row):
            if c == chain and (best is None or seq > best[1]):
                best = (row, seq, hash_)
    if best is None:
        raise NotFound(f"no signed head covers chain {chain}", code="unsigned_chain")
    return best


async def _texts(conn: AsyncConnection, chain: str, first: int, last: int) -> list[dict[str, Any]]:
    """Entries ``first``..``last`` of ``chain`` as proof steps: seq, canonical text, stored hash."""
    rows = (
        await conn.execute(
            select(journal_entries)
            .where(
                journal_entries.c.chain == chain,
                journal_entries.c.seq >= first,
                journal_entries.c.seq <= last,
            )
            .order_by(journal_entries.c.seq)
        )
    ).all()
    steps = [{"seq": r.seq, "text": entry_text(dict(r._mapping)), "hash": r.hash} for r in rows]
    if chain.startswith("unassigned:"):
        # An entry whose content went with a removed case carries its signed redaction.
        found = await conn.execute(
            select(*(journal_redactions.c[c] for c in REDACTION_COLUMNS)).where(
                journal_redactions.c.chain == chain,
                journal_redactions.c.seq >= first,
                journal_redactions.c.seq <= last,
            )
        )
        redactions = {r.seq: dict(r._mapping) for r in found}
        for step in steps:
            if step["seq"] in redactions:
                step["redaction"] = redactions[step["seq"]]
    return steps


async def inclusion_proof(
    conn: AsyncConnection, entry_id: str, keys: Mapping[str, bytes]
) -> dict[str, Any]:
    """The walk from entry ``entry_id`` to the newest signed head of its chain.

    Raises:
        NotFound: no such entry (code ``entry_not_found``), or no signed head covers it.
    """
    entry = (
        await conn.execute(
            select(journal_entries.c.chain, journal_entries.c.seq, journal_entries.c.prev_hash)
            .where(journal_entries.c.id == entry_id)
        )
    ).first()  # fmt: skip
    if entry is None:
        raise NotFound("No such journal entry", code="entry_not_found")
    signed, top, _ = await _newest_signed(conn, entry.chain)
    if top < entry.seq:
        raise NotFound(
            f"no signed head covers entry #{entry.seq} of {entry.chain} (signed up to #{top})",
            code="unsigned_entry",
        )
    return {
        "proof": "inclusion",
        "kind": KIND,
        "entry_id": entry_id,
        "chain": entry.chain,
        "seq": entry.seq,
        "start_hash": entry.prev_hash,
        "entries": await _texts(conn, entry.chain, entry.seq, top),
        # Its own chain's move in clear, the commit's others as digests (journal.signing).
        "signed_head": head_view(signed, entry.chain),
        "public_key": _public(keys, signed),
        "how_to_check": HOW,
    }


async def consistency_proof(
    conn: AsyncConnection, signed_id: str, keys: Mapping[str, bytes]
) -> dict[str, Any]:
    """For each chain an older signed head moved: the walk from it to today's newest signed head.

    Raises:
        NotFound: no such signed head (code ``signed_head_not_found``).
    """
    found = (
        await conn.execute(
            select(*(journal_signed_heads.c[c] for c in _ROW)).where(
                journal_signed_heads.c.id == signed_id
            )
        )
    ).first()
    if found is None:
        raise NotFound("No such signed head", code="signed_head_not_found")
    old = dict(found._mapping)
    chains = []
    for chain, _, seq, hash_ in sorted(_moves(old)):
        new, top, _new_hash = await _newest_signed(conn, chain)
        chains.append(
            {
                "chain": chain,
                "seq": seq,
                "start_hash": hash_,
                "entries": await _texts(conn, chain, seq + 1, top),
                "signed_head": head_view(new, chain),
                "public_key": _public(keys, new),
            }
        )
    return {
        "proof": "consistency",
        "kind": KIND,
        "old_signed_head": old,
        "public_key": _public(keys, old),
        "chains": chains,
        "how_to_check": HOW,
    }


def _public(keys: Mapping[str, bytes], row: Mapping[str, Any]) -> str | None:
    public = keys.get(row["key_id"])
    return public.hex() if public is not None else None


def _redaction_holds(chain: str, step: Mapping[str, Any], keys: Mapping[str, bytes]) -> bool:
    """Does the step's signed redaction vouch for its hash (its content removed with its case)?"""
    red = step.get("redaction")
    if red is None or not redaction_ok(keys, red):
        return False
    fields = json.loads(str(step["text"]))
    return (
        fields.get("content_enc") is None
        and (red["chain"], red["seq"], red["entry_id"], red["entry_hash"])
        == (chain, step["seq"], fields.get("id"), step["hash"])
        and link_hash(REDACTED, str(step["text"])) == red["redacted_sha256"]
    )


def _walk(
    chain: str,
    first: int,
    start: str,
    entries: Sequence[Mapping[str, Any]],
    keys: Mapping[str, bytes],
) -> list[str]:
    """Problems with hashing ``entries`` (seq ``first`` on) onto ``start``; [] when they link."""
    prev = start
    for i, step in enumerate(entries):
        text = str(step["text"])
        fields = json.loads(text)
        if (fields.get("chain"), fields.get("seq"), step["seq"]) != (chain, first + i, first + i):
            return [f"{chain}: step {i + 1} is not entry #{first + i} of the chain"]
        linked = link_hash(prev, text)
        if linked != step["hash"] and not _redaction_holds(chain, step, keys):
            return [f"{chain}: entry #{first + i} does not hash to its recorded hash"]
        prev = str(step["hash"])
    return []


def _head_problems(
    chain: str, seq: int, hash_: str, row: Mapping[str, Any], keys: Mapping[str, bytes]
) -> list[str]:
    """Problems with ``row`` as the signed head of ``chain`` at (seq, hash)."""
    if not any(c == chain and s == seq and h == hash_ for c, _, s, h in view_moves(row)):
        return [f"{chain}: the walk ends at #{seq} {hash_[:12]}…, not where {row['id']} signed"]
    if not view_ok(keys, row):
        return [f"{chain}: the signature of signed head {row['id']} does not check"]
    return []


def _chain_problems(
    chain: str, seq: int, start: str, part: Mapping[str, Any], keys: Mapping[str, bytes]
) -> list[str]:
    entries = part["entries"]
    problems = _walk(chain, seq, start, entries, keys)
    if problems:
        return problems
    end = (seq + len(entries) - 1, entries[-1]["hash"]) if entries else (seq - 1, start)
    return _head_problems(chain, end[0], end[1], part["signed_head"], keys)


def check_proof(proof: Mapping[str, Any], keys: Mapping[str, bytes]) -> list[str]:
    """What is wrong with an inclusion or consistency proof; [] when it holds.

    Args:
        proof: the JSON of :func:`inclusion_proof` or :func:`consistency_proof`.
        keys: public keys by key id, as the checker trusts them (not the proof's own).
    """
    try:
        if proof["proof"] == "inclusion":
            entries = proof["entries"]
            if not entries or json.loads(entries[0]["text"]).get("id") != proof["entry_id"]:
                return ["the proof does not start at the entry it names"]
            return _chain_problems(proof["chain"], proof["seq"], proof["start_hash"], proof, keys)
        if proof["proof"] != "consistency":
            return ["not a journal proof"]
        old = proof["old_signed_head"]
        if not signature_ok(keys, [old[c] for c in _ROW]):
            return [f"the signature of the old signed head {old['id']} does not check"]
        problems: list[str] = []
        olds = {c: (s, h) for c, _, s, h in _moves(old)}
        for part in proof["chains"]:
            seq, start = olds.get(part["chain"], (-1, ""))
            if (seq, start) != (part["seq"], part["start_hash"]):
                problems.append(f"{part['chain']}: not where the old signed head left it")
                continue
            problems += _chain_problems(part["chain"], seq + 1, start, part, keys)
        if sorted(p["chain"] for p in proof["chains"]) != sorted(olds):
            problems.append("the proof leaves out a chain the old signed head moved")
        return problems
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the proof is malformed ({exc.__class__.__name__})"]
