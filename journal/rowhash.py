"""The fast hash ``journal verify`` recomputes: exactly :func:`journal.journal.entry_hash`.

:func:`row_hash` produces the bytes entry_hash hashes by string formatting,
falling back to the generic JSON encoder only when a value would need escaping.
Standard library only, so verify's worker processes start fast.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

# The fields of an entry, in the order verify reads them.
COLUMNS = (
    "id",
    "tenant_id",
    "chain",
    "seq",
    "case_id",
    "kind",
    "direction",
    "channel",
    "subject",
    "key_scope",
    "key_owner_id",
    "content_enc",
    "message_id",
    "actor",
    "created_at",
    "prev_hash",
    "hash",
)

# The canonical serialisation entry_hash builds (sorted keys, compact separators).
_TEMPLATE = (
    '%s\n{"actor":"%s","case_id":%s,"chain":"%s","channel":"%s","content_enc":%s,'
    '"created_at":"%s","direction":"%s","id":"%s","key_owner_id":%s,"key_scope":%s,'
    '"kind":"%s","message_id":%s,"seq":%d,"subject":"%s","tenant_id":"%s"}'
)
_b64 = binascii.b2a_base64
_sha256 = hashlib.sha256
# Exactly what json.dumps(..., ensure_ascii=False) escapes in a string: without any of
# these, a value goes into the template as it is.
_needs_escape = re.compile(r'[\x00-\x1f"\\]').search


def iso_utc(text: str) -> str:
    """``datetime.isoformat()`` of a UTC time written ``YYYY-MM-DD?HH:MM:SS[.ffffff]``."""
    if len(text) == 26 and text[19] == ".":
        if text.endswith("000000"):
            return f"{text[:10]}T{text[11:19]}+00:00"
        return f"{text[:10]}T{text[11:]}+00:00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def row_hash(prev_hash: str, r: Sequence[Any], created_iso: str) -> str:
    """Exactly ``entry_hash(row, prev_hash)`` for a row in :data:`COLUMNS` order.

    Args:
        prev_hash: the hash this entry is chained to.
        r: the entry's fields in :data:`COLUMNS` order (only the first 14 are read).
        created_iso: ``created_at.isoformat()`` of the entry's (UTC) time.
    """
    (id_, tenant, chain, seq, case_id, kind, direction, channel, subject,
     key_scope, key_owner, content, message_id, actor) = r[:14]  # fmt: skip
    try:
        text = "|".join(
            (id_, tenant, chain, kind, direction, channel, subject, actor, created_iso,
             case_id or "", key_scope or "", key_owner or "", message_id or "")
        )  # fmt: skip
        # Anything JSON would escape (", \\, control characters) takes the slow path.
        fast = type(seq) is int and _needs_escape(text) is None
    except TypeError:  # a None or a non-string where text belongs
        fast = False
    if not fast:
        return _slow_hash(prev_hash, r, created_iso)
    data = _TEMPLATE % (
        prev_hash,
        actor,
        "null" if case_id is None else f'"{case_id}"',
        chain,
        channel,
        f'"{_b64(content, newline=False).decode()}"' if content else "null",
        created_iso,
        direction,
        id_,
        "null" if key_owner is None else f'"{key_owner}"',
        "null" if key_scope is None else f'"{key_scope}"',
        kind,
        "null" if message_id is None else f'"{message_id}"',
        seq,
        subject,
        tenant,
    )
    return _sha256(data.encode()).hexdigest()


class _IsoTime(datetime):
    """A datetime whose isoformat is a given string, to feed entry_hash unchanged."""

    iso = ""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return self.iso


def _slow_hash(prev_hash: str, r: Sequence[Any], created_iso: str) -> str:
    from journal.journal import entry_hash

    row = dict(zip(COLUMNS[:14], r[:14], strict=True))
    stamp = _IsoTime(2000, 1, 1)
    stamp.iso = created_iso
    row["created_at"] = stamp
    return entry_hash(row, prev_hash)
