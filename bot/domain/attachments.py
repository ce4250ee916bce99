"""Vedhæftede filer: a photo or a PDF a citizen attaches to a message in the secure inbox.

The type is decided by the file's first bytes (its "magic number"), never by
its name or the content type the browser claims. The file and its name are
sealed (AES-256-GCM) under the message's own data key, bound to the row; the
journal files one entry per attachment naming it and its SHA-256, so the case
file proves which file came in. A caseworker's download is written to the
access log like a read.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.config import ConfigError
from bot.base.crypto import DecryptionError, SealingKey, seal, unseal
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.conversations import thread_for
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import access_log
from journal.journal import append

# What a citizen may attach: (label for people, the extension a download gets).
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    "image/jpeg": ("JPEG", ".jpg"),
    "image/png": ("PNG", ".png"),
    "image/heic": ("HEIC", ".heic"),
    "application/pdf": ("PDF", ".pdf"),
}
ACCEPT = ",".join([*MEDIA_TYPES, ".jpg", ".jpeg", ".png", ".heic", ".pdf"])
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 3
MAX_NAME = 120
SETTING = "TOVHOLDER_UPLOAD_MAX_BYTES"

# ISO base media file brands of HEIC/HEIF still images (what phones write).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_VERSION = 1
_NONCE = 12


class UploadRefused(BadInput):
    """A file we do not take: wrong type (400), too big (413) or too many (400)."""


def max_bytes(extra: Mapping[str, str]) -> int:
    """The largest file a citizen may attach, from ``TOVHOLDER_UPLOAD_MAX_BYTES``.

    Raises:
        ConfigError: not a whole number of bytes between 1 KiB and 100 MiB.
    """
    raw = extra.get(SETTING, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{SETTING} must be a whole number of bytes") from exc
    if not 1024 <= value <= 100 * 1024 * 1024:
        raise ConfigError(f"{SETTING} must be between 1024 and 104857600 bytes")
    return value


def sniff(head: bytes) -> str | None:
    """The media type the content really is (from its first bytes), or None if not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    # ISO BMFF: a box size, "ftyp", the major brand, a version, compatible brands.
    if len(head) >= 16 and head[4:8] == b"ftyp":
        size = int.from_bytes(head[0:4], "big")
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
        if any(b in _HEIF_BRANDS for b in brands):
            return "image/heic"
    return None


def clean_name(name: str, media_type: str) -> str:
    """A file name safe to show and to offer for download, ending in the type's extension."""
    # Browsers percent-encode a few characters in the multipart file name (", CR, LF).
    base = unquote(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    base = re.sub(r"\s+", " ", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    ext = MEDIA_TYPES[media_type][1]
    stem = stem[: MAX_NAME - len(ext)].strip() or ("dokument" if ext == ".pdf" else "foto")
    return stem + ext


@dataclass(frozen=True, slots=True)
class Upload:
    """One checked file, ready to be stored."""

    filename: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def check(filename: str, content: bytes, limit: int) -> Upload:
    """Accept a file only if its content is a photo or PDF we take, and not too big.

    Raises:
        UploadRefused: ``file_too_large`` (413) or ``file_type`` (400).
    """
    if len(content) > limit:
        raise UploadRefused("The file is too large", code="file_too_large", status=413)
    media_type = sniff(content[:64])
    if media_type is None or len(content) < 8:
        raise UploadRefused("Only JPEG, PNG, HEIC and PDF files", code="file_type")
    return Upload(clean_name(filename, media_type), media_type, content)


def _seal_bytes(dek: bytes, data: bytes, aad: str) -> bytes:
    # bot.base.crypto.seal is for text; files use the same format and the same binding to the row.
    nonce = os.urandom(_NONCE)
    return bytes([_VERSION]) + nonce + AESGCM(dek).encrypt(nonce, data, aad.encode())


def _open_bytes(dek: bytes, blob: bytes, aad: str) -> bytes:
    if len(blob) < 1 + _NONCE + 16 or blob[0] != _VERSION:
        raise DecryptionError("unknown ciphertext format")
    try:
        return AESGCM(dek).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad.encode())
    except InvalidTag as exc:
        raise DecryptionError("attachment did not authenticate") from exc


def size_text(size: int) -> str:
    """ "340 kB", "2,4 MB" (Danish decimal comma; the same in every language we show)."""
    if size < 1000 * 1000:
        return f"{max(1, round(size / 1000))} kB"
    mb = size / 1_000_000
    text = f"{mb:.1f}" if mb < 10 else f"{mb:.0f}"
    return text.removesuffix(".0").replace(".", ",") + " MB"


async def store(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    key: SealingKey,
    conversation_id: str,
    case_id: str | None,
    message_id: str,
    uploads: Sequence[Upload],
    at: datetime,
    staff_id: str | None = None,
    channel: str = "web",
) -> list[str]:
    """Seal and store the files on a message, one journal entry each (name and SHA-256).

    Args:
        staff_id: the caseworker who sends the files to the family (None: the
            citizen attached them to their own message).
        channel: how the files came: "web" (the secure inbox) or "sms" (an MMS).
    """
    ids = []
    for up in uploads:
        aid = new_id()
        digest = up.sha256
        await conn.execute(
            message_attachments.insert().values(
                id=aid,
                tenant_id=tenant_id,
                message_id=message_id,
                conversation_id=conversation_id,
                case_id=case_id,
                key_scope=key.scope,
                media_type=up.media_type,
                size=len(up.content),
                sha256=digest,
                filename_enc=seal(key.dek, up.filename, f"message_attachments:{aid}:filename"),
                content_enc=_seal_bytes(key.dek, up.content, f"message_attachments:{aid}:content"),
                created_at=at,
            )
        )
        label = MEDIA_TYPES[up.media_type][0]
        whose = "fra borger" if staff_id is None else "til borger"
        await append(
            conn,
            tenant_id=tenant_id,
            case_id=case_id,
            kind="attachment",
            direction="in" if staff_id is None else "out",
            channel=channel,
            subject=f"Vedhæftet fil {whose} ({label}, {len(up.content)} bytes, SHA-256 {digest})",
            actor="citizen" if staff_id is None else f"staff:{staff_id}",
            at=at,
            content=(
                f"Fil: {up.filename}\nType: {up.media_type}\n"
                f"Størrelse: {len(up.content)} bytes\nSHA-256: {digest}\nVedhæftning: {aid}"
            ),
            key=key,
            message_id=message_id,
        )
        ids.append(aid)
    return ids


async def move(
    conn: AsyncConnection,
    *,
    message_id: str,
    old_dek: bytes,
    key: SealingKey,
    conversation_id: str,
) -> int:
    """The files of a message that moves to a case's thread follow it, sealed under ``key``.

    For a message held while its sender chose a case (an MMS's photo is fetched
    and stored under the person's key meanwhile). Returns how many moved.
    """
    files = (
        await conn.execute(
            select(message_attachments).where(message_attachments.c.message_id == message_id)
        )
    ).all()
    for a in files:
        content = _open_bytes(old_dek, a.content_enc, f"message_attachments:{a.id}:content")
        filename = unseal(old_dek, a.filename_enc, f"message_attachments:{a.id}:filename")
        await conn.execute(
            message_attachments.update()
            .where(message_attachments.c.id == a.id)
            .values(
                conversation_id=conversation_id,
                case_id=key.owner_id if key.scope == "case" else None,
                key_scope=key.scope,
                content_enc=_seal_bytes(key.dek, content, f"message_attachments:{a.id}:content"),
                filename_enc=seal(key.dek, filename, f"message_attachments:{a.id}:filename"),
            )
        )
    return len(files)


@dataclass(frozen=True, slots=True)
class Attachment:
    """What a page shows about one attached file."""

    id: str
    message_id: str
    conversation_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime

    @property
    def label(self) -> str:
        return MEDIA_TYPES.get(self.media_type, ("Fil", ""))[0]

    @property
    def is_pdf(self) -> bool:
        return self.media_type == "application/pdf"

    @property
    def size_text(self) -> str:
        return size_text(self.size)


@dataclass(frozen=True, slots=True)
class Download:
    """A decrypted file, ready to send."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class ThreadKeys:
    """The data keys of one thread: its case's (if any) and its person's."""

    case_dek: bytes | None
    person_dek: bytes

    def for_scope(self, scope: str) -> bytes:
        if scope == "case":
            if self.case_dek is None:
                raise DecryptionError("the thread has no case key")
            return self.case_dek
        return self.person_dek


def _info(row: Any, keys: ThreadKeys) -> Attachment:
    dek = keys.for_scope(row.key_scope)
    return Attachment(
        id=row.id,
        message_id=row.message_id,
        conversation_id=row.conversation_id,
        filename=unseal(dek, row.filename_enc, f"message_attachments:{row.id}:filename"),
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


_LISTED = (
    message_attachments.c.id,
    message_attachments.c.message_id,
    message_attachments.c.conversation_id,
    message_attachments.c.key_scope,
    message_attachments.c.media_type,
    message_attachments.c.size,
    message_attachments.c.sha256,
    message_attachments.c.filename_enc,
    message_attachments.c.created_at,
)


async def on_thread(
    conn: AsyncConnection, *, tenant_id: str, conversation_id: str, keys: ThreadKeys
) -> dict[str, list[Attachment]]:
    """Every attachment on a thread (without content), by message id, oldest first.

    The caller has already checked that whoever asks may see this thread.
    """
    rows = await conn.execute(
        select(*_LISTED)
        .where(
            message_attachments.c.tenant_id == tenant_id,
            message_attachments.c.conversation_id == conversation_id,
        )
        .order_by(message_attachments.c.created_at, message_attachments.c.id)
    )
    result: dict[str, list[Attachment]] = {}
    for r in rows:
        result.setdefault(r.message_id, []).append(_info(r, keys))
    return result


async def fetch(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    conversation_id: str,
    attachment_id: str,
    keys: ThreadKeys,
) -> tuple[Attachment, Download]:
    """One attachment of this thread, decrypted.

    Raises:
        NotFound: no such attachment on this thread (whether it exists elsewhere or not).
    """
    row = (
        await conn.execute(
            select(*_LISTED, message_attachments.c.content_enc).where(
                message_attachments.c.id == attachment_id,
                message_attachments.c.tenant_id == tenant_id,
                message_attachments.c.conversation_id == conversation_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such attachment", code="attachment_not_found")
    info = _info(row, keys)
    content = _open_bytes(
        keys.for_scope(row.key_scope), row.content_enc, f"message_attachments:{row.id}:content"
    )
    return info, Download(info.filename, info.media_type, content)


def _staff_keys(svc: Services, conv: Any) -> ThreadKeys:
    return ThreadKeys(
        case_dek=svc.dek("cases", conv.case_id, conv.case_dek) if conv.case_id else None,
        person_dek=svc.dek("persons", conv.person_id, conv.person_dek),
    )


async def for_staff(svc: Services, user: StaffUser, conv_id: str) -> dict[str, list[Attachment]]:
    """The attachments on a thread this user may see, by message id (404 otherwise).

    Listing names and sizes is not a read of the files: nothing is logged here
    (the thread view logs its reads); each download is.
    """
    async with svc.read() as conn:
        conv = await thread_for(conn, user, conv_id)
        return await on_thread(
            conn, tenant_id=user.tenant_id, conversation_id=conv.id, keys=_staff_keys(svc, conv)
        )


async def staff_download(
    svc: Services, user: StaffUser, conv_id: str, attachment_id: str, *, purpose: str
) -> Download:
    """A file on a thread the user may see, written to the access log (404 otherwise)."""
    async with svc.write() as conn:
        conv = await thread_for(conn, user, conv_id)
        info, download = await fetch(
            conn,
            tenant_id=user.tenant_id,
            conversation_id=conv.id,
            attachment_id=attachment_id,
            keys=_staff_keys(svc, conv),
        )
        await conn.execute(
            access_log.insert().values(
                id=new_id(),
                tenant_id=user.tenant_id,
                staff_id=user.id,
                action="download",
                case_id=conv.case_id,
                message_id=info.message_id,
                purpose=purpose[:64],
                at=svc.clock.now(),
            )
        )
    return download
