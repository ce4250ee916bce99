"""Is the journal able to move heads? The journal's part of ``/readyz``.

Every head the service moves is signed (``journal.signing``) and, when a heads
sink is configured, written to it before its commit. So the service is not
ready when the signing key does not sign, when the newest signed head is under
a key the configuration does not know (a restored database, a swapped key), or
when the heads sink cannot be appended to.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.config import ConfigError
from bot.store.schema.journal import journal_signed_heads
from journal.config import JournalConfig

OK = "ok"
PROBE = b"tovholder readyz"


def sink_writable(path: Path) -> bool:
    """The sink file opens for appending (created if missing, nothing written)."""
    try:
        with path.open("ab"):
            return True
    except OSError:
        return False


def _signs(config: JournalConfig) -> str:
    try:
        signer = config.signer()
    except ConfigError:
        return "no_signing_key"
    try:
        public = Ed25519PublicKey.from_public_bytes(signer.public)
        public.verify(base64.b64decode(signer.sign(PROBE)), PROBE)
    except (InvalidSignature, ValueError):
        return "signing_failed"
    return OK


async def journal_ready(conn: AsyncConnection, config: JournalConfig) -> str:
    """``ok``, or why heads cannot be moved.

    Returns:
        ``ok`` | ``no_signing_key`` | ``signing_failed`` | ``unknown_signing_key``
        (the newest signed head is under a key neither signing nor listed to verify)
        | ``sink_unwritable``.
    """
    signs = _signs(config)
    if signs != OK:
        return signs
    newest = (
        await conn.execute(
            select(journal_signed_heads.c.key_id)
            .order_by(journal_signed_heads.c.at.desc())
            .limit(1)
        )
    ).scalar()
    if newest is not None and newest not in config.known_keys():
        return "unknown_signing_key"
    if config.heads_sink is not None and not sink_writable(config.heads_sink):
        return "sink_unwritable"
    return OK
