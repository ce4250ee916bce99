"""The case system as a witness: what it received, checked against the database's chains.

Every document exported to the case system (ESDH) names its entry's chain,
seq and hash, and carries the signed head of the commit that filed it
(:mod:`journal.documents`). The case system keeps them outside our reach, so
a chain rewritten afterwards, however carefully rehashed and re-signed without
the key, no longer matches what was exported. :func:`against_exports` reads the
exported metadata (the ``*.json`` beside each PDF in a file-drop folder, or
the same JSON kept from the mail or HTTP exporter) and names every difference:

- ``removed``: an exported entry, or the signed head it carried, is gone from
  the database (and no retention record explains it);
- ``rewritten``: the database holds another hash at an exported seq, or at the
  seq its signed head vouches for, or another copy of that signed head;
- ``signature``: the signed head does not verify under the journal's public
  keys, or does not cover the entry it came with;
- ``export``: the exported PDF is not the one the metadata names (its SHA-256).

Exports made before documents carried signed heads are counted, not faulted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journal.dbread import queries
from journal.signing import view_matches, view_moves, view_ok
from journal.verify import Problem

SCHEMA = "tovholder.journal-entry/1"


@dataclass(slots=True)
class WitnessReport:
    """What the comparison found: counts, and every difference."""

    folder: str
    documents: int = 0
    unsigned: int = 0  # exported before documents carried a signed head
    retained: int = 0  # exported entries removed since, with a retention record
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        facts = f"{self.documents} exported documents in {self.folder}"
        if self.unsigned:
            facts += f"; {self.unsigned} exported before they carried a signed head"
        if self.retained:
            facts += f"; {self.retained} removed since at the end of their retention period"
        if self.ok:
            return f"exports OK: the database matches what the case system received ({facts})"
        lines = [f"exports NOT OK: {len(self.problems)} difference(s); {facts}"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Exported:
    """One document as the case system received it."""

    source: str  # the metadata file's name
    entry_id: str
    chain: str
    seq: int
    entry_hash: str
    signed_head: Mapping[str, Any] | None
    pdf_ok: bool | None  # the PDF beside it matches its SHA-256 (None: no PDF beside it)


def read_exports(folder: Path) -> list[Exported]:
    """The exported documents' metadata in ``folder`` (other JSON files are skipped)."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
            continue
        doc = meta.get("document") or {}
        pdf = folder / str(doc.get("file_name", ""))
        pdf_ok = None
        if doc.get("file_name") and pdf.is_file():
            pdf_ok = hashlib.sha256(pdf.read_bytes()).hexdigest() == doc.get("sha256")
        found.append(
            Exported(
                source=path.name,
                entry_id=str(meta["entry_id"]),
                chain=str(meta["chain"]["name"]),
                seq=int(meta["chain"]["seq"]),
                entry_hash=str(meta["chain"]["entry_hash"]),
                signed_head=meta.get("signed_head"),
                pdf_ok=pdf_ok,
            )
        )
    return found


_ENTRIES_SQL = "SELECT chain, seq, id, hash FROM journal_entries WHERE chain = $1"
_SIGNED_SQL = (
    "SELECT id, key_id, at, heads, signature FROM journal_signed_heads WHERE id = $1"
)  # fmt: skip
_RETIRED_SQL = "SELECT chain, final_seq FROM journal_retention WHERE chain = $1"


@dataclass(slots=True)
class _Database:
    """What the database holds of the exported chains and signed heads."""

    entries: dict[tuple[str, int], tuple[str, str]]  # (chain, seq) -> (entry id, hash)
    signed: dict[str, tuple[Any, ...]]  # signed-heads row by id
    retired: dict[str, int]  # chain -> the last seq a retention record removed


async def _read_database(url: str, exported: Sequence[Exported]) -> _Database:
    chains = sorted({d.chain for d in exported})
    signed_ids = sorted({str(d.signed_head["id"]) for d in exported if d.signed_head})
    todo: list[tuple[str, Sequence[Any]]] = [(_ENTRIES_SQL, (c,)) for c in chains]
    todo += [(_RETIRED_SQL, (c,)) for c in chains]
    todo += [(_SIGNED_SQL, (i,)) for i in signed_ids]
    results = await queries(url, *todo)
    db = _Database({}, {}, {})
    for rows in results[: len(chains)]:
        for chain, seq, entry_id, hash_ in rows:
            db.entries[(chain, int(seq))] = (entry_id, hash_)
    for rows in results[len(chains) : 2 * len(chains)]:
        for chain, final_seq in rows:
            db.retired[chain] = max(db.retired.get(chain, 0), int(final_seq))
    for rows in results[2 * len(chains) :]:
        for r in rows:
            db.signed[r[0]] = tuple(r)
    return db


def _check_entry(d: Exported, db: _Database) -> Problem | None:
    held = db.entries.get((d.chain, d.seq))
    if held is None:
        return Problem(d.chain, "removed", d.seq, d.entry_id,
                       f"exported to the case system ({d.source}) but gone from the "
                       "database")  # fmt: skip
    if held != (d.entry_id, d.entry_hash):
        return Problem(d.chain, "rewritten", d.seq, d.entry_id,
                       f"the case system received entry {d.entry_id} with hash "
                       f"{d.entry_hash[:16]}…; the database holds {held[0]} with "
                       f"{held[1][:16]}…")  # fmt: skip
    return None


def _check_signed(d: Exported, db: _Database, keys: Mapping[str, bytes] | None) -> list[Problem]:
    """The exported signed head: valid, covering the entry, matched by the database.

    Either form: a version-2 view (its chain's move, the others as digests) or a
    version-1 row exported whole (see :func:`journal.signing.head_view`).
    """
    head = d.signed_head
    assert head is not None
    try:
        valid = keys is None or view_ok(keys, head)
        moves = view_moves(head)
    except (KeyError, TypeError, ValueError):
        valid, moves = False, []
    if not valid:
        return [Problem(d.chain, "signature", d.seq, d.entry_id,
                        f"the signed head {head.get('id')} exported with it ({d.source}) does "
                        "not verify under the journal's public keys")]  # fmt: skip
    covering = [
        (seq, h) for chain, start, seq, h in moves if chain == d.chain and start < d.seq <= seq
    ]
    if not covering:
        return [Problem(d.chain, "signature", d.seq, d.entry_id,
                        f"the signed head {head['id']} exported with it does not cover "
                        "the entry")]  # fmt: skip
    problems = []
    seq, hash_ = covering[0]
    held = db.entries.get((d.chain, seq))
    if held is None and db.retired.get(d.chain, 0) < seq:
        problems.append(Problem(d.chain, "removed", seq, None,
                                f"the signed head {head['id']} the case system holds vouches "
                                f"for #{seq}, which is gone from the database"))  # fmt: skip
    elif held is not None and held[1] != hash_:
        problems.append(Problem(d.chain, "rewritten", seq, held[0],
                                f"the signed head {head['id']} the case system holds vouches "
                                f"for hash {hash_[:16]}… at #{seq}; the database holds "
                                f"{held[1][:16]}…: the chain was rewritten"))  # fmt: skip
    stored = db.signed.get(head["id"])
    if stored is None:
        problems.append(Problem(d.chain, "removed", seq, None,
                                f"the signed head {head['id']} the case system holds is gone "
                                "from the database"))  # fmt: skip
    elif not view_matches(head, stored):
        problems.append(Problem(d.chain, "rewritten", seq, None,
                                f"the database's copy of signed head {head['id']} differs from "
                                "the one the case system holds"))  # fmt: skip
    return problems


async def against_exports(
    database_url: str, folder: Path, keys: Mapping[str, bytes] | None
) -> WitnessReport:
    """Compare what the case system received (in ``folder``) with the database's chains.

    Args:
        database_url: the SQLAlchemy URL of the database.
        folder: the exported documents' metadata (``*.json``) and PDFs.
        keys: the journal's public keys by key id; None: signatures are not checked.
    """
    report = WitnessReport(str(folder))
    exported = await asyncio.to_thread(read_exports, folder)
    report.documents = len(exported)
    if not exported:
        return report
    db = await _read_database(database_url, exported)
    for d in exported:
        if d.pdf_ok is False:
            report.problems.append(Problem(d.chain, "export", d.seq, d.entry_id,
                                           f"the PDF beside {d.source} is not the one "
                                           "exported (SHA-256 differs)"))  # fmt: skip
        if (d.chain, d.seq) not in db.entries and db.retired.get(d.chain, 0) >= d.seq:
            report.retained += 1
            continue
        wrong = _check_entry(d, db)
        if wrong is not None:
            report.problems.append(wrong)
        if d.signed_head is None:
            report.unsigned += 1
            continue
        report.problems += _check_signed(d, db, keys)
    # One head is exported with many entries: name each difference once.
    report.problems = list(dict.fromkeys(report.problems))
    return report
