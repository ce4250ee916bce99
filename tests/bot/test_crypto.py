"""Encryption at rest: envelopes, row binding, key parsing, blind indexes and the dump."""

from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import inspect, text

from bot.base.crypto import (
    BlindIndex,
    DecryptionError,
    KeyConfigError,
    KeyRing,
    key_id,
    new_key_text,
    parse_key,
    seal,
    unseal,
)
from bot.store.schema import metadata
from tests.harness import MUNICIPALITY, Stack


def fresh() -> bytes:
    return os.urandom(32)


# -- seal / unseal -----------------------------------------------------------------------


def test_seal_unseal_round_trip() -> None:
    """What is sealed under a DEK and AAD comes back unchanged, Danish letters and all."""
    dek = fresh()
    for text_ in ("", "Hej", "Blåbærgrød på fredag? 🙂", "x" * 1600):
        assert unseal(dek, seal(dek, text_, "messages:m1:body"), "messages:m1:body") == text_


def test_sealing_is_randomised() -> None:
    """The same text sealed twice differs (fresh nonce), so equal ciphertexts leak nothing."""
    dek = fresh()
    assert seal(dek, "Hej", "messages:m1:body") != seal(dek, "Hej", "messages:m1:body")


def test_a_ciphertext_copied_to_another_row_or_column_fails() -> None:
    """The AAD binds a ciphertext to its row and column: moved anywhere else it does not decrypt."""
    dek = fresh()
    blob = seal(dek, "Anna Andersen", "persons:p1:name")
    for elsewhere in ("persons:p2:name", "persons:p1:first_name", "staff:p1:full_name", ""):
        with pytest.raises(DecryptionError):
            unseal(dek, blob, elsewhere)


def test_a_ciphertext_under_another_dek_fails() -> None:
    """A ciphertext cannot be opened with another row's data key."""
    blob = seal(fresh(), "Hej", "messages:m1:body")
    with pytest.raises(DecryptionError):
        unseal(fresh(), blob, "messages:m1:body")


def test_every_tampered_byte_fails() -> None:
    """Flipping any single byte (version, nonce, ciphertext or tag) makes unseal fail."""
    dek = fresh()
    blob = seal(dek, "Hej med dig", "messages:m1:body")
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            unseal(dek, bytes(tampered), "messages:m1:body")
    with pytest.raises(DecryptionError):
        unseal(dek, blob + b"\x00", "messages:m1:body")
    with pytest.raises(DecryptionError):
        unseal(dek, b"", "messages:m1:body")


def test_a_truncated_ciphertext_fails_as_decryption_error() -> None:
    """A ciphertext cut short (shorter than a nonce) fails with DecryptionError."""
    dek = fresh()
    with pytest.raises(DecryptionError):
        unseal(dek, seal(dek, "Hej", "a")[:5], "a")


# -- wrapped data keys ----------------------------------------------------------------------


def test_a_wrapped_dek_unwraps_only_for_its_own_row() -> None:
    """A DEK wrapped for cases:A won't unwrap as cases:B or persons:A, even once A is cached."""
    ring = KeyRing([fresh()])
    dek, wrapped = ring.new_wrapped_key("dek:cases:A")
    assert ring.unwrap(wrapped, "dek:cases:A") == dek  # now in the unwrap cache
    for other in ("dek:cases:B", "dek:persons:A", "cases:A"):
        with pytest.raises(DecryptionError, match="did not authenticate"):
            ring.unwrap(wrapped, other)


def test_a_tampered_wrapped_dek_fails() -> None:
    """Flipping a byte of the nonce, wrapped key or tag makes unwrap fail."""
    ring = KeyRing([fresh()])
    _, wrapped = ring.new_wrapped_key("dek:cases:A")
    header = 2 + wrapped[1]
    for i in range(header, len(wrapped)):
        tampered = bytearray(wrapped)
        tampered[i] ^= 0x80
        with pytest.raises(DecryptionError):
            ring.unwrap(bytes(tampered), "dek:cases:A")


def test_an_unknown_kek_fails_clearly() -> None:
    """A DEK wrapped by a KEK we do not hold fails with a message saying so, not a tag error."""
    _, wrapped = KeyRing([fresh()]).new_wrapped_key("dek:cases:A")
    with pytest.raises(DecryptionError, match="key-encryption key we do not hold"):
        KeyRing([fresh()]).unwrap(wrapped, "dek:cases:A")
    with pytest.raises(DecryptionError, match="unknown wrapped-key format"):
        KeyRing([fresh()]).unwrap(b"\x09" + wrapped[1:], "dek:cases:A")


def test_the_wrapping_kek_is_named_and_old_keks_still_unwrap() -> None:
    """wrapped_by names the KEK; a ring with new+old unwraps old DEKs and rewraps them under new."""
    old, new = fresh(), fresh()
    dek, wrapped = KeyRing([old]).new_wrapped_key("dek:staff:S")
    assert KeyRing.wrapped_by(wrapped) == key_id(old)
    ring = KeyRing([new, old])
    assert ring.primary_id == key_id(new)
    assert ring.unwrap(wrapped, "dek:staff:S") == dek
    rewrapped = ring.rewrap(wrapped, "dek:staff:S")
    assert rewrapped is not None and KeyRing.wrapped_by(rewrapped) == key_id(new)
    assert KeyRing([new]).unwrap(rewrapped, "dek:staff:S") == dek
    assert ring.rewrap(rewrapped, "dek:staff:S") is None


def test_a_keyring_refuses_no_keys_or_wrong_sizes() -> None:
    """An empty ring or a KEK that is not 32 bytes is a KeyConfigError."""
    for keks in ([], [b"short"], [fresh(), os.urandom(16)]):
        with pytest.raises(KeyConfigError):
            KeyRing(keks)


# -- key parsing ----------------------------------------------------------------------------


def test_parse_key_accepts_base64_urlsafe_and_hex() -> None:
    """A 32-byte key reads the same from base64 (padded or not), URL-safe base64 and hex."""
    for _ in range(50):  # enough to hit keys whose base64 has + / - _
        key = fresh()
        forms = [
            base64.b64encode(key).decode(),
            base64.b64encode(key).decode().rstrip("="),
            base64.urlsafe_b64encode(key).decode(),
            base64.urlsafe_b64encode(key).decode().rstrip("="),
            key.hex(),
            key.hex().upper(),
            f"  {key.hex()}\n",
        ]
        for form in forms:
            assert parse_key(form, what="k") == key, form
    assert len(parse_key(new_key_text(), what="k")) == 32


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        base64.b64encode(b"k" * 16).decode(),
        base64.b64encode(b"k" * 31).decode(),
        base64.b64encode(b"k" * 33).decode(),
        "ab" * 31,
        "ab" * 33,
        "zz" * 32,
        "not a key",
    ],
    ids=[
        "empty",
        "blank",
        "16-bytes",
        "31-bytes",
        "33-bytes",
        "31-hex",
        "33-hex",
        "bad-hex",
        "words",
    ],
)
def test_parse_key_rejects_anything_else(bad: str) -> None:
    """Keys of the wrong size or in no known encoding are refused, naming the setting."""
    with pytest.raises(KeyConfigError, match="TOVHOLDER_TEST_KEY"):
        parse_key(bad, what="TOVHOLDER_TEST_KEY")


# -- blind index ----------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_keyed() -> None:
    """Same key and value give the same index; another value or another key gives another."""
    key = fresh()
    index = BlindIndex(key)
    assert index("+4520123401") == BlindIndex(key)("+4520123401")
    assert index("+4520123401") != index("+4520123402")
    assert index("+4520123401") != BlindIndex(fresh())("+4520123401")
    assert "20123401" not in index("+4520123401")
    with pytest.raises(KeyConfigError):
        BlindIndex(b"short")


# -- the database dump ----------------------------------------------------------------------

BODIES = {
    "anna": "Kolibri-hemmelighed 4471 om skolen",
    "shared_same": "Blåbærgrød og zebrafisk 9184",
    "bo": "Pelikan-spørgsmål 3302 om ydelsen",
}
UNKNOWN_SENDER = "+4531234599"
UNKNOWN_BODY = "Ukendt afsender Narhval 7710"
REPLY_BODY = "Svar fra Mette: Flamingo 5521"
NAMES = [
    "Anna Andersen",
    "Andersen",
    "Bo Bech",
    "Carl Carlsen",
    "Dorte Carlsen",
    "Carlsen",
    "Eva Eriksen",
    "Frank Eriksen",
    "Eriksen",
    "Mette",
    "Mette Holm",
    "Lars Berg",
    "Hanne",
    "Hanne Lund",
]


async def dump(stack: Stack) -> tuple[str, bytes]:
    """Every row of every table in the database, as text (bytes as hex) and as raw bytes."""
    async with stack.svc.read() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= set(names)
        as_text: list[str] = []
        as_bytes: list[bytes] = []
        for name in names:
            for row in (await conn.execute(text(f'SELECT * FROM "{name}"'))).all():
                for value in row:
                    as_text.append(value.hex() if isinstance(value, bytes) else str(value))
                    as_bytes.append(value if isinstance(value, bytes) else str(value).encode())
    return "\n".join(as_text), b"\n".join(as_bytes)


async def test_the_database_dump_holds_no_bodies_names_or_phone_numbers(stack: Stack) -> None:
    """After real traffic, no message text, person or staff name or phone number is stored."""
    w = stack.world
    for who, body in BODIES.items():
        assert (await stack.sms(w.phones[who], body)).status == 200
    assert (await stack.sms(w.phones["bo"], "2")).status == 200  # picks the Jobcenter case
    assert (await stack.sms(UNKNOWN_SENDER, UNKNOWN_BODY)).status == 200
    threads = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert threads
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{threads[0]['id']}/replies", json={"body": REPLY_BODY}
    )
    assert resp.status == 201
    resp = await stack.api("GET", f"/api/v1/conversations/{threads[0]['id']}")
    assert resp.status == 200  # leaves an access-log row too
    await stack.drain()

    as_text, as_bytes = await dump(stack)
    phones = set(w.phones.values()) | {UNKNOWN_SENDER}
    needles = [*BODIES.values(), UNKNOWN_BODY, REPLY_BODY, *NAMES]
    needles += [n for p in phones for n in (p, p.lstrip("+"), p[3:])]  # +45…, 45…, 8 digits
    # The check would be vacuous if the dump were empty or the municipality's own
    # (public) number, which is allowed, were not found by it.
    assert MUNICIPALITY in as_text and MUNICIPALITY.encode() in as_bytes
    leaks = [n for n in needles if n.casefold() in as_text.casefold() or n.encode() in as_bytes]
    assert leaks == []


def test_ids_are_version_4_uuids_and_a_forked_child_makes_its_own() -> None:
    """new_id() reads random bytes in blocks; a forked child must not replay its parent's."""
    import os
    import uuid

    from bot.base.ids import new_id

    made = [new_id() for _ in range(1000)]
    assert len(set(made)) == 1000
    for i in made[:50]:
        u = uuid.UUID(i)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == i
    new_id()  # the parent has unread bytes in its block now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its next id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child != new_id() and uuid.UUID(child).version == 4
