"""Row ids: random UUIDs made by us, so ciphertexts can be bound to their row before insert."""

from __future__ import annotations

import os
import threading

# Random bytes are read from the OS in blocks: a batch of 100,000 SMS makes 400,000 ids
# and 200,000 nonces, and one getrandom() each (as uuid.uuid4() does) shows up in a
# profile.
_BLOCK = 16 * 256
_pool = b""
_at = 0
_lock = threading.Lock()


def _forget() -> None:
    """A forked worker must never reuse its parent's unread random bytes."""
    global _pool, _at, _lock
    _pool, _at, _lock = b"", 0, threading.Lock()


os.register_at_fork(after_in_child=_forget)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the OS's CSPRNG (os.urandom), read ahead in blocks; n ≤ 64."""
    global _pool, _at
    with _lock:  # never the same bytes twice, whichever thread asks
        if _at + n > len(_pool):
            _pool, _at = os.urandom(_BLOCK), 0
        out = _pool[_at : _at + n]
        _at += n
    return out


def new_id() -> str:
    """A random (version 4) UUID in its usual text form, as ``str(uuid.uuid4())`` gives."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
