"""Tables for logging in through OpenID Connect (created by migration ``0016_oidc``).

- ``web_oidc_flows``: a login under way at an identity provider (state, nonce,
  PKCE verifier), single use, ten minutes.
- ``web_staff_oidc``: which caseworker a login at the municipality's identity
  provider is (a blind index of the identifier, e.g. the work e-mail address).
- ``web_person_cpr``: a person's CPR number, sealed under the person's key, with
  a blind index so a MitID login (which names a CPR) finds the person.
- ``web_sessions.person_id``: a MitID session is one person, not a phone.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, UniqueConstraint

from bot.store.schema.core import UTCDateTime, metadata
from bot.store.schema.pages import web_sessions

web_oidc_flows = Table(
    "web_oidc_flows",
    metadata,
    Column("id", String(36), primary_key=True),
    # SHA-256 of the state (the browser holds the state in a cookie and in the URL).
    Column("state_hash", String(64), nullable=False, unique=True),
    Column("provider", String(8), nullable=False),  # staff | mitid
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=True),
    Column("nonce", String(64), nullable=False),
    # The PKCE verifier: useless without the code, which only the browser sees; ten minutes.
    Column("code_verifier", String(128), nullable=False),
    Column("next_path", String(300), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

web_staff_oidc = Table(
    "web_staff_oidc",
    metadata,
    Column("staff_id", String(36), ForeignKey("staff.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    # Blind index of the identifier the identity provider sends (lower-cased).
    Column("login_index", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "login_index", name="uq_web_staff_oidc_login"),
)

web_person_cpr = Table(
    "web_person_cpr",
    metadata,
    Column("person_id", String(36), ForeignKey("persons.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("cpr_index", String(64), nullable=False),
    Column("cpr_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_web_person_cpr_index", "cpr_index"),
)

_web_sessions = web_sessions
if "person_id" not in _web_sessions.c:
    _web_sessions.append_column(
        Column("person_id", String(36), ForeignKey("persons.id"), nullable=True)
    )
