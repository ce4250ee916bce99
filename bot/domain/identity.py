"""Logging in through OpenID Connect: caseworkers at the municipality's identity
provider, citizens through a MitID broker.

Here: the authorization-code flow with PKCE (S256), state and nonce kept
server-side (single use, ten minutes), and who the login is. Discovery, the
code exchange and the ID token's checks (joserfc, against the provider's JWKS)
are in :mod:`bot.domain.identity_rp`.

Who the login is:

- A caseworker: the identifier the provider sends (``email`` by default)
  must belong to an active caseworker of the provider's own municipality
  (``web_staff_oidc``). Nobody else gets in, and no account is ever made.
- A citizen: the broker's CPR number must belong to a person the municipality
  knows (``web_person_cpr``). At NSIS level "substantial" (or "high") the
  session may see sensitive messages; at "low" it is the same lower level as an
  SMS code. Which claims hold the CPR number and the level depends on the
  broker (``TOVHOLDER_OIDC_MITID_BROKER``, see :data:`BROKERS`). A token
  without a CPR claim, with a level we do not know, or from another eID scheme
  is refused, and so is one whose key is not in the broker's JWKS.

The start's rate limit, refusals on the record and RP-initiated logout are in
:mod:`bot.domain.identity_session`.

Signaturgruppen's broker puts the CPR number in the UserInfo response, not in
the ID token (:attr:`Broker.userinfo`): it is fetched with the access token and
must name the ID token's ``sub`` (OpenID Connect Core 5.3.4).

Configuration (``TOVHOLDER_*``, from ``Config.extra``), per provider
(``STAFF`` or ``MITID``): ``TOVHOLDER_OIDC_<P>_ISSUER``, ``..._CLIENT_ID``,
``..._CLIENT_SECRET_FILE`` (or ``..._CLIENT_SECRET``), optional
``..._SCOPE``; staff also ``TOVHOLDER_OIDC_STAFF_TENANT`` (the municipality's
slug) and optional ``TOVHOLDER_OIDC_STAFF_CLAIM`` (default ``email``); MitID
also ``TOVHOLDER_OIDC_MITID_BROKER`` (``criipto`` (alias ``idura``),
``signaturgruppen``, ``nemlogin``; default ``generic``, the claims read before
brokers were named). All or nothing: a half configuration refuses to start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.config import Config, ConfigError
from bot.base.ids import new_id
from bot.base.services import Services
from bot.store.schema.core import persons, staff, tenants
from bot.store.schema.oidc import web_oidc_flows, web_person_cpr, web_staff_oidc

log = logging.getLogger(__name__)

STAFF = "staff"
MITID = "mitid"
FLOW_LIFETIME = timedelta(minutes=10)

# Session assurance levels (web_sessions.assurance).
STAFF_OIDC = "oidc"
SUBSTANTIAL = "substantial"
LOW = "mitid-low"
# NSIS ("National Standard for Identiteters Sikringsniveauer"): Low, Substantial, High.
# Substantial and High unlock sensitive messages; Low is the level of an SMS code.
NSIS_LOW, NSIS_SUBSTANTIAL, NSIS_HIGH = "low", "substantial", "high"
STRONG_LEVELS = frozenset({NSIS_SUBSTANTIAL, NSIS_HIGH})
_NSIS = ("Low", "Substantial", "High")
# The DIGST vocabulary: ".../nsis/Substantial" (the Signaturgruppen broker's examples)
# and ".../nsis/loa/Substantial" (NemLog-in's acr) both name the level.
_NSIS_URIS = {
    f"https://data.gov.dk/concept/core/nsis/{p}{level}".lower(): level.lower()
    for level in _NSIS
    for p in ("", "loa/")
}
_NSIS_WORDS = {level.lower(): level.lower() for level in _NSIS}
# Idura (formerly Criipto) Verify: the acr value asked for comes back in
# ``authenticationtype``: urn:grn:authn:dk:mitid:low | substantial | high.
_IDURA_URNS = {f"urn:grn:authn:dk:mitid:{level.lower()}": level.lower() for level in _NSIS}


@dataclass(frozen=True)
class Broker:
    """Where one MitID broker puts the CPR number and the NSIS level.

    ``levels`` maps a claim value (lower-cased; compared case-insensitively) to an NSIS level;
    a value not in it is refused (``assurance``). A token without any of
    ``level_claims`` is refused too, unless ``missing_level`` says what it means.
    ``scheme`` (claim, value): the eID the broker says was used must be MitID.
    ``userinfo``: the CPR number may come in the UserInfo response instead of the ID
    token (asked only when the ID token has none).
    """

    name: str
    cpr_claims: tuple[str, ...]
    level_claims: tuple[str, ...]
    levels: Mapping[str, str]
    default_scope: str
    scheme: tuple[str, str] | None = None
    missing_level: str | None = None
    userinfo: bool = False


# Where each broker's claim names come from (checked 2026-12; see docs/deploy.md, "MitID brokers"):
#
# - Idura (Criipto) Verify, https://docs.idura.app/verify/e-ids/danish-mitid (token examples:
#   "identityscheme": "dkmitid", "cprNumberIdentifier") and
#   https://docs.idura.app/verify/reference/request-parameters (acr_values
#   urn:grn:authn:dk:mitid:low|substantial|high). The level claims ("authenticationtype" with
#   that URN, "loA": "SUBSTANTIAL") are not in Idura's table; they are in recorded Idura tokens
#   in public integrations' tests, so either one is read.
# - Signaturgruppen (Nets eID Broker), https://signaturgruppen-a-s.github.io/signaturgruppen-
#   broker-documentation/idps/mitid.html ("ID Token identity claims": "idp": "mitid", "loa" as
#   https://data.gov.dk/concept/core/nsis/Substantial; the "ssn" scope gives "dk.cpr") and
#   .../issued-claims-tokens.html ("the ID token does not include all issued user claims";
#   the rest is at the UserInfo endpoint): so "dk.cpr" is read from UserInfo.
# - NemLog-in: its login speaks OIOSAML 3, not OpenID Connect
#   (https://tu.nemlog-in.dk/oprettelse-og-administration-af-tjenester/login/dokumentation-og-guides/).
#   "nemlogin" is an OpenID Connect bridge in front of it that keeps the OIOSAML 3 attribute
#   names as claim names: "https://data.gov.dk/model/core/eid/cprNumber" and
#   "https://data.gov.dk/concept/core/nsis/loa" ("Low" | "Substantial" | "High"), or the
#   AuthnContextClassRef "https://data.gov.dk/concept/core/nsis/loa/Substantial" as "acr".
#   No NemLog-in OpenID Connect claim list was found to check this against.
GENERIC = "generic"
BROKERS: dict[str, Broker] = {
    # What the relying party read before brokers were named (the default).
    GENERIC: Broker(
        name=GENERIC,
        cpr_claims=("dk.cpr", "mitid.cpr", "nin"),
        level_claims=("loa", "acr", "mitid.loa", "mitid_loa"),
        levels={**_NSIS_URIS, **_NSIS_WORDS, **_IDURA_URNS},
        default_scope="openid mitid ssn",
        missing_level=NSIS_LOW,
        userinfo=True,
    ),
    "criipto": Broker(
        name="criipto",
        cpr_claims=("cprNumberIdentifier",),
        level_claims=("authenticationtype", "loA"),
        levels={**_IDURA_URNS, **_NSIS_WORDS},
        default_scope="openid ssn",
        scheme=("identityscheme", "dkmitid"),
    ),
    "signaturgruppen": Broker(
        name="signaturgruppen",
        cpr_claims=("dk.cpr",),
        level_claims=("loa", "acr"),
        levels=_NSIS_URIS,
        default_scope="openid mitid ssn",
        scheme=("idp", "mitid"),
        userinfo=True,
    ),
    "nemlogin": Broker(
        name="nemlogin",
        cpr_claims=("https://data.gov.dk/model/core/eid/cprNumber",),
        level_claims=("https://data.gov.dk/concept/core/nsis/loa", "acr"),
        levels={**_NSIS_WORDS, **_NSIS_URIS},
        default_scope="openid",
    ),
}
_BROKER_ALIASES = {"idura": "criipto"}
CPR_CLAIMS = BROKERS[GENERIC].cpr_claims
# Flow starts per client address: (how many, in how many seconds).
DEFAULT_START_LIMIT = (30, 300.0)


class OidcRefused(Exception):
    """A login that does not go through. ``code`` is stable and shown on the page.

    state | idp_error | cancelled | token | id_token | issuer | audience | expired |
    nonce | signature | unknown_staff | unknown_person | municipality | unavailable |
    no_cpr (the broker's token names no CPR number) | assurance (no NSIS level, or one
    we do not know) | identity_scheme (an eID other than MitID) | userinfo (the
    broker's UserInfo could not be had or names another subject)
    """

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Provider:
    """One identity provider we trust, as configured."""

    name: str  # staff | mitid
    issuer: str
    client_id: str
    client_secret: str
    scope: str
    tenant_slug: str | None = None  # staff: the municipality this provider logs into
    claim: str = "email"  # staff: the claim that names the caseworker
    broker: str = GENERIC  # mitid: whose claims the ID token carries (BROKERS)

    @property
    def claims(self) -> Broker:
        """The broker's claim table (MitID)."""
        return BROKERS[self.broker]


@dataclass(frozen=True)
class OidcSettings:
    staff: Provider | None = None
    mitid: Provider | None = None
    start_limit: tuple[int, float] = DEFAULT_START_LIMIT

    @classmethod
    def from_config(cls, config: Config) -> OidcSettings:
        """Read both providers; refuse a half configuration or an insecure issuer."""
        extra = config.extra
        return cls(
            staff=_provider(extra, STAFF, "openid email profile"),
            mitid=_provider(extra, MITID, ""),
            start_limit=_start_limit(extra.get("TOVHOLDER_OIDC_START_LIMIT", "")),
        )

    def get(self, name: str) -> Provider | None:
        return self.staff if name == STAFF else self.mitid if name == MITID else None


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _provider(extra: Any, name: str, default_scope: str) -> Provider | None:
    """One provider from ``TOVHOLDER_OIDC_<NAME>_*``: None when none of it is set.

    Raises:
        ConfigError: Half a configuration, an unreadable or empty secret file, an
            issuer that is not https (loopback may be http), or a scope without openid.
    """
    given = _ProviderSettings.read(extra, name)
    if not given.anything_set():
        return None
    given.require_all(name)
    prefix = given.prefix
    secret = _client_secret(given)
    _check_issuer(prefix, given.issuer)
    broker = _broker_name(extra.get(prefix + "BROKER", "")) if name == MITID else GENERIC
    scope = (
        extra.get(prefix + "SCOPE", "").strip() or default_scope or BROKERS[broker].default_scope
    )
    if "openid" not in scope.split():
        raise ConfigError(f"{prefix}SCOPE must include openid")
    claim = extra.get(prefix + "CLAIM", "").strip() or "email"
    return Provider(
        name=name,
        issuer=given.issuer.rstrip("/"),
        client_id=given.client_id,
        client_secret=secret,
        scope=scope,
        tenant_slug=given.tenant or None,
        claim=claim,
        broker=broker,
    )


def _broker_name(value: str) -> str:
    """``TOVHOLDER_OIDC_MITID_BROKER``: a name in :data:`BROKERS` (empty: generic)."""
    name = value.strip().lower() or GENERIC
    name = _BROKER_ALIASES.get(name, name)
    if name not in BROKERS:
        raise ConfigError(
            "TOVHOLDER_OIDC_MITID_BROKER must be one of " + ", ".join(sorted(BROKERS))
        )
    return name


def _start_limit(value: str) -> tuple[int, float]:
    """``TOVHOLDER_OIDC_START_LIMIT``: ``COUNT/SECONDS`` (e.g. ``30/300``), both positive."""
    if not value.strip():
        return DEFAULT_START_LIMIT
    count, _, seconds = value.strip().partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError as exc:
        raise ConfigError("TOVHOLDER_OIDC_START_LIMIT must be COUNT/SECONDS") from exc
    if limit[0] < 1 or limit[1] <= 0:
        raise ConfigError("TOVHOLDER_OIDC_START_LIMIT must be COUNT/SECONDS, both positive")
    return limit


@dataclass(frozen=True)
class _ProviderSettings:
    """The settings that must come all together for one provider, as given (stripped)."""

    prefix: str  # TOVHOLDER_OIDC_<NAME>_
    issuer: str
    client_id: str
    secret_file: str
    secret: str
    tenant: str  # staff only; always "" for MitID

    @classmethod
    def read(cls, extra: Any, name: str) -> _ProviderSettings:
        prefix = f"TOVHOLDER_OIDC_{name.upper()}_"
        return cls(
            prefix=prefix,
            issuer=extra.get(prefix + "ISSUER", "").strip(),
            client_id=extra.get(prefix + "CLIENT_ID", "").strip(),
            secret_file=extra.get(prefix + "CLIENT_SECRET_FILE", "").strip(),
            secret=extra.get(prefix + "CLIENT_SECRET", "").strip(),
            tenant=extra.get(prefix + "TENANT", "").strip() if name == STAFF else "",
        )

    def anything_set(self) -> bool:
        return any((self.issuer, self.client_id, self.secret_file or self.secret, self.tenant))

    def require_all(self, name: str) -> None:
        """Refuse a half configuration: it would log nobody in, silently."""
        required = ["ISSUER", "CLIENT_ID", "CLIENT_SECRET_FILE"]
        if name == STAFF:
            required.append("TENANT")
        has_secret = bool(self.secret_file or self.secret)
        if not (self.issuer and self.client_id and has_secret and (name != STAFF or self.tenant)):
            raise ConfigError(
                f"OpenID Connect for {name} is half configured: set all of "
                + ", ".join(self.prefix + r for r in required)
            )


def _client_secret(given: _ProviderSettings) -> str:
    """The client secret: from its file when one is named (preferred), else inline."""
    if not given.secret_file:
        return given.secret
    try:
        secret = Path(given.secret_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{given.prefix}CLIENT_SECRET_FILE cannot be read: {exc}") from exc
    if not secret:
        raise ConfigError(f"{given.prefix}CLIENT_SECRET_FILE is empty")
    return secret


def _check_issuer(prefix: str, issuer: str) -> None:
    """Refuse an issuer that is not https; plain http only on this machine (tests, demo)."""
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    ):
        raise ConfigError(f"{prefix}ISSUER must be an https URL")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Discovery(Protocol):
    """What starting a flow needs of the relying party (``identity_rp.OidcClient``)."""

    async def metadata(self, provider: Provider) -> dict[str, Any]:
        """The provider's discovery document."""
        ...


@dataclass(frozen=True)
class Started:
    state: str
    url: str


async def start(
    svc: Services,
    client: Discovery,
    provider: Provider,
    *,
    redirect_uri: str,
    tenant_id: str | None = None,
    next_path: str | None = None,
) -> Started:
    """Begin a login: remember state, nonce and verifier; the URL to send the browser to."""
    meta = await client.metadata(provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    now = svc.clock.now()
    async with svc.write() as conn:
        await conn.execute(
            web_oidc_flows.insert().values(
                id=new_id(),
                state_hash=_sha(state),
                provider=provider.name,
                tenant_id=tenant_id,
                nonce=nonce,
                code_verifier=verifier,
                next_path=next_path,
                created_at=now,
                expires_at=now + FLOW_LIFETIME,
                used_at=None,
            )
        )
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": provider.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    endpoint = str(meta["authorization_endpoint"])
    sep = "&" if urlsplit(endpoint).query else "?"
    return Started(state=state, url=endpoint + sep + urlencode(params))


@dataclass(frozen=True)
class Flow:
    provider: str
    tenant_id: str | None
    nonce: str
    code_verifier: str
    next_path: str | None


async def take_flow(svc: Services, provider: str, state: str, cookie_state: str | None) -> Flow:
    """Spend the login flow behind ``state`` (once, within ten minutes, same browser)."""
    if not state or not cookie_state or len(state) > 200:
        raise OidcRefused("state")
    if not hmac.compare_digest(state.encode(), cookie_state.encode()):
        raise OidcRefused("state")
    now = svc.clock.now()
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(web_oidc_flows).where(web_oidc_flows.c.state_hash == _sha(state))
            )
        ).first()
        if row is None or row.provider != provider or row.used_at is not None:
            raise OidcRefused("state")
        spent = await conn.execute(
            update(web_oidc_flows)
            .where(web_oidc_flows.c.id == row.id, web_oidc_flows.c.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise OidcRefused("state")
    if now >= row.expires_at:
        raise OidcRefused("state")
    return Flow(row.provider, row.tenant_id, row.nonce, row.code_verifier, row.next_path)


# -- who the login is ------------------------------------------------------------


def staff_login_index(svc: Services, value: str) -> str:
    return svc.blind_index(f"oidc-staff:{value.strip().lower()}")


def cpr_index(svc: Services, cpr: str) -> str:
    return svc.blind_index(f"cpr:{cpr}")


def normalise_cpr(value: str) -> str | None:
    digits = value.replace("-", "").strip()
    return digits if len(digits) == 10 and digits.isascii() and digits.isdigit() else None


async def link_staff(svc: Services, *, staff_id: str, login: str) -> None:
    """Let a caseworker log in at their municipality's identity provider as ``login``."""
    async with svc.write() as conn:
        await store_staff_login(conn, svc, staff_id=staff_id, login=login)


async def store_staff_login(
    conn: AsyncConnection, svc: Services, *, staff_id: str, login: str
) -> None:
    """``link_staff`` inside the caller's transaction."""
    tenant_id = (
        await conn.execute(select(staff.c.tenant_id).where(staff.c.id == staff_id))
    ).scalar_one()
    await conn.execute(web_staff_oidc.delete().where(web_staff_oidc.c.staff_id == staff_id))
    await conn.execute(
        web_staff_oidc.insert().values(
            staff_id=staff_id,
            tenant_id=tenant_id,
            login_index=staff_login_index(svc, login),
            created_at=svc.clock.now(),
        )
    )


async def set_person_cpr(svc: Services, *, person_id: str, cpr: str) -> None:
    """Record a person's CPR number (sealed, and blind-indexed for MitID logins)."""
    async with svc.write() as conn:
        await store_person_cpr(conn, svc, person_id=person_id, cpr=cpr)


async def store_person_cpr(
    conn: AsyncConnection, svc: Services, *, person_id: str, cpr: str
) -> None:
    """``set_person_cpr`` inside the caller's transaction."""
    digits = normalise_cpr(cpr)
    if digits is None:
        raise ValueError("a CPR number is ten digits")
    row = (
        await conn.execute(
            select(persons.c.tenant_id, persons.c.dek).where(persons.c.id == person_id)
        )
    ).one()
    dek = svc.dek("persons", person_id, row.dek)
    await conn.execute(web_person_cpr.delete().where(web_person_cpr.c.person_id == person_id))
    await conn.execute(
        web_person_cpr.insert().values(
            person_id=person_id,
            tenant_id=row.tenant_id,
            cpr_index=cpr_index(svc, digits),
            cpr_enc=svc.seal(dek, "persons", person_id, "cpr", digits),
            created_at=svc.clock.now(),
        )
    )


async def staff_for(svc: Services, provider: Provider, claims: dict[str, Any]) -> tuple[str, str]:
    """(tenant id, staff id) of the caseworker this login is; refused if none, in that tenant."""
    value = claims.get(provider.claim)
    if not isinstance(value, str) or not value.strip():
        raise OidcRefused("unknown_staff", 403)
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_staff_oidc.c.staff_id, web_staff_oidc.c.tenant_id)
                .join(tenants, tenants.c.id == web_staff_oidc.c.tenant_id)
                .join(staff, staff.c.id == web_staff_oidc.c.staff_id)
                .where(
                    tenants.c.slug == provider.tenant_slug,
                    web_staff_oidc.c.login_index == staff_login_index(svc, value),
                    staff.c.active.is_(True),
                )
            )
        ).first()
    if row is None:
        raise OidcRefused("unknown_staff", 403)
    return str(row.tenant_id), str(row.staff_id)


def nsis_level(claims: dict[str, Any], broker: Broker | None = None) -> str:
    """The NSIS level (low | substantial | high) the broker's token states.

    The first of the broker's level claims that is present decides.

    Raises:
        OidcRefused: ``assurance``: no level claim (where the broker always sends
            one), or a value the broker's table does not know.
    """
    table = broker or BROKERS[GENERIC]
    for name in table.level_claims:
        value = claims.get(name)
        if isinstance(value, str) and value:
            level = table.levels.get(value.strip().lower())
            if level is None:
                log.info("oidc %s: unknown assurance value in %s", table.name, name)
                raise OidcRefused("assurance", 403)
            return level
    if table.missing_level is None:
        raise OidcRefused("assurance", 403)
    return table.missing_level


def level_of(claims: dict[str, Any], broker: Broker | None = None) -> str:
    """The session level a MitID login gives: substantial (or high) unlocks sensitive messages."""
    return SUBSTANTIAL if nsis_level(claims, broker) in STRONG_LEVELS else LOW


def check_scheme(claims: dict[str, Any], broker: Broker) -> None:
    """Refuse (``identity_scheme``) a token from an eID the broker says was not MitID."""
    if broker.scheme is None:
        return
    name, expected = broker.scheme
    value = claims.get(name)
    if not isinstance(value, str) or value.strip().lower() != expected:
        raise OidcRefused("identity_scheme", 403)


def cpr_of(claims: dict[str, Any], broker: Broker | None = None) -> str:
    """The CPR number (ten digits) in the broker's CPR claim.

    Raises:
        OidcRefused: ``no_cpr``: none of the broker's CPR claims holds ten digits.
    """
    table = broker or BROKERS[GENERIC]
    for name in table.cpr_claims:
        value = claims.get(name)
        digits = normalise_cpr(value) if isinstance(value, str) else None
        if digits is not None:
            return digits
    raise OidcRefused("no_cpr", 403)


@dataclass(frozen=True)
class PersonLogin:
    tenant_id: str
    person_id: str
    phone_index: str | None
    language: str


async def person_for(
    svc: Services, claims: dict[str, Any], tenant_id: str | None, broker: Broker | None = None
) -> PersonLogin:
    """The person the broker's CPR number names (in ``tenant_id`` when given).

    Only finds: a login never makes a person.
    """
    digits = cpr_of(claims, broker)
    query = (
        select(
            persons.c.id,
            persons.c.tenant_id,
            persons.c.phone_index,
            persons.c.language,
        )
        .join(web_person_cpr, web_person_cpr.c.person_id == persons.c.id)
        .where(web_person_cpr.c.cpr_index == cpr_index(svc, digits))
        .order_by(persons.c.created_at, persons.c.id)
    )
    if tenant_id is not None:
        query = query.where(persons.c.tenant_id == tenant_id)
    async with svc.read() as conn:
        rows = (await conn.execute(query)).all()
    if len({r.tenant_id for r in rows}) != 1:
        # Unknown, or known in several municipalities and none chosen.
        raise OidcRefused("unknown_person" if not rows else "municipality", 403)
    r = rows[0]
    return PersonLogin(str(r.tenant_id), str(r.id), r.phone_index, str(r.language))


async def purge(svc: Services) -> int:
    """Delete login flows that can no longer be used."""
    cutoff: datetime = svc.clock.now() - timedelta(days=1)
    async with svc.write() as conn:
        gone = await conn.execute(
            web_oidc_flows.delete().where(web_oidc_flows.c.expires_at < cutoff)
        )
    return int(gone.rowcount or 0)
