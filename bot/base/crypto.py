"""Encryption at rest: envelope encryption and keyed blind indexes.

Every case and every person has its own data-encryption key (DEK). A DEK is
stored *wrapped* (AES-256-GCM) under a key-encryption key (KEK) that lives
outside the database, in a file or the environment. Every ciphertext carries
associated data naming its row and column, so a ciphertext copied into another
row fails to decrypt. Rotating the KEK re-wraps DEKs; data is never re-encrypted.

Phone numbers are found through a blind index: HMAC-SHA256 under a separate
index key, so equality look-ups work without storing the number in clear.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.base.ids import random_bytes

_VERSION = 1
_NONCE = 12


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong row, or tampered."""


class KeyConfigError(ValueError):
    """A key from configuration is missing or malformed."""


def parse_key(text: str, *, what: str) -> bytes:
    """Parse a 32-byte key written as base64 (standard or URL-safe) or 64 hex digits."""
    raw = text.strip()
    candidates: list[bytes] = []
    if len(raw) == 64:
        try:
            candidates.append(bytes.fromhex(raw))
        except ValueError:
            pass
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            candidates.append(decode(raw + "=" * (-len(raw) % 4)))
        except (binascii.Error, ValueError):
            continue
    for key in candidates:
        if len(key) == 32:
            return key
    raise KeyConfigError(f"{what} must be 32 bytes, written as base64 or hex")


def new_key_text() -> str:
    """A fresh random 32-byte key as URL-safe base64 (for `tovholder keys new`)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def key_id(key: bytes) -> str:
    """A short public fingerprint naming a KEK, stored beside each wrapped DEK."""
    return hashlib.sha256(b"tovholder-kek-id" + key).hexdigest()[:16]


class KeyRing:
    """The key-encryption keys this process knows. The first one wraps new DEKs.

    Older keys stay in the ring only to unwrap DEKs until `keys rotate` has
    re-wrapped them under the primary.
    """

    def __init__(self, keks: Sequence[bytes]) -> None:
        if not keks:
            raise KeyConfigError("at least one key-encryption key is required")
        self._keks: dict[str, AESGCM] = {}
        for k in keks:
            if len(k) != 32:
                raise KeyConfigError("key-encryption keys must be 32 bytes")
            self._keks.setdefault(key_id(k), AESGCM(k))
        self.primary_id = key_id(keks[0])
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()

    @property
    def key_ids(self) -> list[str]:
        return list(self._keks)

    def new_wrapped_key(self, aad: str) -> tuple[bytes, bytes]:
        """Make a fresh DEK; return (dek, wrapped dek)."""
        dek = AESGCM.generate_key(bit_length=256)
        return dek, self.wrap(dek, aad)

    def wrap(self, dek: bytes, aad: str) -> bytes:
        nonce = os.urandom(_NONCE)
        kid = self.primary_id.encode()
        ct = self._keks[self.primary_id].encrypt(nonce, dek, b"dek|" + aad.encode())
        return bytes([_VERSION, len(kid)]) + kid + nonce + ct

    @staticmethod
    def wrapped_by(wrapped: bytes) -> str:
        """The id of the KEK that wrapped this DEK."""
        if len(wrapped) < 2 or wrapped[0] != _VERSION or len(wrapped) < wrapped[1] + _NONCE + 18:
            raise DecryptionError("unknown wrapped-key format")
        try:
            return wrapped[2 : 2 + wrapped[1]].decode("ascii")
        except UnicodeDecodeError as exc:
            raise DecryptionError("unknown wrapped-key format") from exc

    def unwrap(self, wrapped: bytes, aad: str) -> bytes:
        cache_key = wrapped + b"|" + aad.encode()
        hit = self._cache.get(cache_key)
        if hit is not None:
            self._cache.move_to_end(cache_key)
            return hit
        kid = self.wrapped_by(wrapped)
        aead = self._keks.get(kid)
        if aead is None:
            raise DecryptionError("data key is wrapped by a key-encryption key we do not hold")
        start = 2 + wrapped[1]
        nonce, ct = wrapped[start : start + _NONCE], wrapped[start + _NONCE :]
        try:
            dek = aead.decrypt(nonce, ct, b"dek|" + aad.encode())
        except InvalidTag as exc:
            raise DecryptionError("data key did not authenticate") from exc
        self._cache[cache_key] = dek
        if len(self._cache) > 4096:
            self._cache.popitem(last=False)
        return dek

    def rewrap(self, wrapped: bytes, aad: str) -> bytes | None:
        """Re-wrap under the primary KEK; None when it already is."""
        if self.wrapped_by(wrapped) == self.primary_id:
            return None
        return self.wrap(self.unwrap(wrapped, aad), aad)


# A cipher per data key, kept: setting one up costs more than sealing a short text, and a
# batch seals many texts under one case's key.
_CIPHERS: dict[bytes, AESGCM] = {}
_CIPHERS_MAX = 4096


def _cipher(dek: bytes) -> AESGCM:
    found = _CIPHERS.get(dek)
    if found is None:
        if len(_CIPHERS) >= _CIPHERS_MAX:
            _CIPHERS.pop(next(iter(_CIPHERS)))
        found = _CIPHERS[dek] = AESGCM(dek)
    return found


def seal(dek: bytes, plaintext: str, aad: str) -> bytes:
    """Encrypt text under a DEK, bound to ``aad`` (e.g. ``"message:<id>:body"``)."""
    nonce = random_bytes(_NONCE)  # 96 random bits, as for uuid4: never reused
    return bytes([_VERSION]) + nonce + _cipher(dek).encrypt(nonce, plaintext.encode(), aad.encode())


def unseal(dek: bytes, blob: bytes, aad: str) -> str:
    """Decrypt what `seal` produced with the same DEK and ``aad``."""
    if len(blob) < 1 + _NONCE + 16 or blob[0] != _VERSION:
        raise DecryptionError("unknown ciphertext format")
    nonce, ct = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    try:
        return _cipher(dek).decrypt(nonce, ct, aad.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext did not authenticate") from exc


class BlindIndex:
    """Keyed HMAC-SHA256 over a normalised value, for equality look-ups."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeyConfigError("the blind-index key must be 32 bytes")
        self._key = key

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SealingKey:
    """The data key that seals an entry's content, and whose key it is."""

    scope: str  # "case" | "person"
    owner_id: str
    dek: bytes
