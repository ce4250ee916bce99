"""Row ids: random UUIDs made by us, so ciphertexts can be bound to their row before insert."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
