"""Redacted entries: what verify accepts in place of an entry's content, and why.

When retention removes a case (:mod:`journal.retention`), the entries of its
municipality's unassigned chain that are about the case's messages lose their
content (:mod:`journal.redaction`). Such an entry keeps its place, its other
fields and its hash, so the chain still links and every signed head still
matches; only its hash can no longer be recomputed. A ``journal_redactions`` row
says so, signed like the heads under a key the database never sees, and pins:

- the entry (chain, seq, id) and its hash, so the link it holds cannot move;
- ``redacted_sha256``: SHA-256 of ``tovholder-journal-redacted`` + newline + the
  entry's canonical text as it now stands (content null), so no field the entry
  keeps can be changed either;
- the removed case and its retention record.

Verify accepts an entry whose hash does not recompute only when a redaction row
with a valid signature names it, its content is gone and the rest of it matches
``redacted_sha256``; a redaction without a valid signature, or naming a case with
no retention record, is named. Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# What the redacted digest hashes in place of a previous hash: journal.rowhash.row_hash
# (and journal.journal.link_hash) compute it as they compute an entry's hash.
REDACTED = "tovholder-journal-redacted"

# The columns of a journal_redactions row, in the order verify reads them.
COLUMNS = (
    "id", "tenant_id", "chain", "seq", "entry_id", "entry_hash", "redacted_sha256", "case_id",
    "retention_id", "key_id", "at", "signature",
)  # fmt: skip
_SIGNED = COLUMNS[:-1]

# Per chain, seq -> (the entry's hash, its redacted digest).
Redacted = dict[str, dict[int, tuple[str, str]]]
# A finding, before verify makes a Problem of it: chain, kind, seq, entry id, detail.
Finding = tuple[str, str, int | None, str | None, str]


def payload(row: Mapping[str, Any]) -> bytes:
    """The bytes a redaction's signature covers: every field but the signature, in order."""
    return ("tovholder-journal-redaction/1\n" + "\n".join(str(row[c]) for c in _SIGNED)).encode()


def signature_ok(keys: Mapping[str, bytes], row: Mapping[str, Any]) -> bool:
    """Does a redaction row carry a valid signature by a known key?"""
    public = keys.get(str(row["key_id"]))
    if public is None or not row["signature"]:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(str(row["signature"])), payload(row)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def judge(
    rows: Sequence[Sequence[Any]], keys: Mapping[str, bytes] | None, retired: Mapping[str, Any]
) -> tuple[Redacted, list[Finding]]:
    """The redactions verify may accept, and what is wrong with the others.

    Args:
        rows: journal_redactions rows in :data:`COLUMNS` order.
        keys: the signer's public keys; None: signatures are not checked.
        retired: the chains retention records name (``case:<id>``).
    """
    points: Redacted = {}
    findings: list[Finding] = []
    for r in rows:
        row = dict(zip(COLUMNS, r, strict=True))
        chain, seq, entry = str(row["chain"]), int(row["seq"]), str(row["entry_id"])
        if keys is not None and not signature_ok(keys, row):
            findings.append((chain, "signature", seq, entry,
                             f"the redaction {row['id']} has a wrong or missing signature: "
                             "its entry's content was removed without the key"))  # fmt: skip
            continue
        if f"case:{row['case_id']}" not in retired:
            findings.append((chain, "retention", seq, entry,
                             f"the redaction {row['id']} names case {row['case_id']}, which "
                             "no retention record removed"))  # fmt: skip
            continue
        points.setdefault(chain, {})[seq] = (str(row["entry_hash"]), str(row["redacted_sha256"]))
    return points, findings
