"""Søgeindeks: find people by name or phone number without storing either in plaintext.

A person's name is split into normalised words; each word is stored only as a
keyed blind index (HMAC-SHA256 under the deployment's index key, as the sender
lookup does for phone numbers), bound to the municipality:
``blind_index("name-word:<tenant id>:<word>")``. A search computes the same
tokens from what the caseworker typed and asks for people who have all of them.
A phone number is found by ``persons.phone_index``, the blind index of its
E.164 form that inbound filing already uses. What this reveals and what it
does not: docs/search-index.md.

Tokens are written when a person is created (``bot.domain.directory.create_person``:
the integration API, the importer, the demo) and replaced by :func:`index_person`
whenever a name changes; :func:`reindex` (``tovholder search reindex``) fills them
in for people created before the index existed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import unseal
from bot.base.errors import BadInput
from bot.base.services import Services
from bot.domain.inbound import normalise_number
from bot.store import caselist as store

log = logging.getLogger(__name__)

# Danish letters that are letters of their own, not a base letter with a mark.
_OWN_LETTERS = frozenset("æøå")
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 12
QUERY_MIN = 2
QUERY_MAX = 100
_PHONE = re.compile(r"^\+?[\d\s().-]{8,20}$")


def _fold(ch: str) -> str:
    if ch in _OWN_LETTERS:
        return ch
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The normalised words of a name or query: case-folded, accents dropped (é → e, ü → u;
    æ, ø and å stay), split at anything that is not a letter or digit; each word once."""
    folded = "".join(_fold(ch) for ch in unicodedata.normalize("NFKC", text).casefold())
    seen: dict[str, None] = {}
    for w in _WORD.findall(folded):
        seen.setdefault(w, None)
    return list(seen)[:MAX_WORDS]


def name_tokens(svc: Services, tenant_id: str, text: str) -> list[str]:
    """The blind-index tokens of the words of ``text`` in this municipality."""
    return [svc.blind_index(f"name-word:{tenant_id}:{w}") for w in words(text)]


async def index_person(
    conn: AsyncConnection, svc: Services, *, tenant_id: str, person_id: str, name: str | None
) -> None:
    """Write (or replace) the person's name tokens, in the caller's transaction."""
    tokens = name_tokens(svc, tenant_id, name) if name else []
    await store.replace_person_tokens(conn, tenant_id, person_id, tokens)


async def reindex(svc: Services, *, batch: int = 500) -> int:
    """Rewrite every named person's tokens (after the migration, or a new index key).

    Returns:
        How many people were indexed.
    """
    done, after = 0, ""
    while True:
        async with svc.write() as conn:
            rows = await store.named_persons_after(conn, after, batch)
            for r in rows:
                dek = svc.dek("persons", r.id, r.dek)
                name = unseal(dek, r.name_enc, f"persons:{r.id}:name")
                await index_person(conn, svc, tenant_id=r.tenant_id, person_id=r.id, name=name)
        if not rows:
            return done
        done += len(rows)
        after = rows[-1].id
        log.info("search index: %d people indexed", done)


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What a search asks for: a case number, a phone number's index, a name's tokens."""

    numbers: tuple[str, ...]
    phone_index: str | None
    name_tokens: tuple[str, ...]


def parse_query(svc: Services, tenant_id: str, raw: str) -> SearchTerms:
    """Read what the caseworker typed as a case number, a phone number and a name at once.

    Raises:
        BadInput: ``search_too_short`` (under 2 characters) or ``search_too_long``
            (over 100): nothing is looked up.
    """
    text = " ".join(raw.split())
    if len(text) < QUERY_MIN:
        raise BadInput("Search for at least 2 characters", code="search_too_short")
    if len(text) > QUERY_MAX:
        raise BadInput("Search for at most 100 characters", code="search_too_long")
    phone_index = None
    if _PHONE.match(text):
        try:
            phone_index = svc.blind_index(normalise_number(text, field="q"))
        except BadInput:
            phone_index = None
    numbers = tuple(dict.fromkeys((text, text.upper())))
    return SearchTerms(numbers, phone_index, tuple(name_tokens(svc, tenant_id, text)))
