"""The relying party's side of OpenID Connect: discovery, the key sets, the code
exchange and the ID token's checks.

The JOSE work is joserfc's: the signature against the provider's JWKS (RS256,
PS256 or ES256 only: never "none", never a symmetric algorithm, whose "secret"
would be the public key), the key picked by ``kid`` (a ``kid`` the cached set
lacks fetches the set once more: the provider rotated its keys), and the
claims (``iss``, ``aud`` (a string or a list), ``exp``, ``iat``, ``nbf``,
``nonce``; a minute of leeway, against the injected clock). Ours: discovery
(cached), the client authentication at the token endpoint, ``azp`` when ``aud``
names several clients, and UserInfo for a broker that keeps the CPR number
there (Signaturgruppen's, :attr:`bot.domain.identity.Broker.userinfo`).

Why joserfc and not Authlib's client: joserfc (by Authlib's author) is the JOSE
part alone; Authlib's OAuth client would bring an HTTP client of its own (httpx)
beside aiohttp. joserfc's claim checks take a ``now``, so expiry is checked
against the service's clock.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from aiohttp import ClientError, ClientSession, ClientTimeout
from joserfc import jwt as jose_jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    InvalidKeyIdError,
    JoseError,
    KeyParameterError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.jwt import JWTClaimsRegistry

from bot.base.services import Services
from bot.domain.identity import MITID, OidcRefused, Provider

log = logging.getLogger(__name__)

CLOCK_SKEW = 60  # seconds
DISCOVERY_TTL = 3600.0
# A JWKS is kept this long; a key id not in it fetches it again at once (key rotation).
JWKS_TTL = 3600.0
ALGORITHMS = ("RS256", "PS256", "ES256")
# Header parameters joserfc does not know are let through (providers add their own);
# "crit" ones are still refused.
_JWS = JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)
HTTP_TIMEOUT = ClientTimeout(total=10)


@dataclass
class _Cached:
    value: dict[str, Any]
    at: float


@dataclass
class _Keys:
    keys: KeySet
    at: float


@dataclass
class OidcClient:
    """Talks to the providers over HTTP; caches discovery documents and key sets."""

    http: ClientSession
    discovered: dict[str, _Cached] = field(default_factory=dict)
    keys: dict[str, _Keys] = field(default_factory=dict)

    async def get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON object from the provider; anything else is ``unavailable`` (502)."""
        try:
            async with self.http.get(url, headers=headers, timeout=HTTP_TIMEOUT) as resp:
                if resp.status != 200:
                    raise OidcRefused("unavailable", 502)
                data = await resp.json(content_type=None)
        except (ClientError, TimeoutError, ValueError) as exc:
            log.warning("identity provider unreachable: %s", type(exc).__name__)
            raise OidcRefused("unavailable", 502) from exc
        if not isinstance(data, dict):
            raise OidcRefused("unavailable", 502)
        return data

    async def metadata(self, provider: Provider) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour), checked against its issuer."""
        hit = self.discovered.get(provider.issuer)
        if hit is not None and time.monotonic() - hit.at < DISCOVERY_TTL:
            return hit.value
        doc = await self.get_json(provider.issuer + "/.well-known/openid-configuration")
        if doc.get("issuer", "").rstrip("/") != provider.issuer:
            # OpenID Connect Discovery 4.3: the issuer must be the one we asked.
            raise OidcRefused("issuer", 502)
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(key), str):
                raise OidcRefused("unavailable", 502)
        self.discovered[provider.issuer] = _Cached(doc, time.monotonic())
        return doc

    async def key_set(self, jwks_uri: str, *, fresh: bool = False) -> KeySet:
        """The provider's JWKS (cached for an hour); ``fresh``: fetched again now."""
        hit = self.keys.get(jwks_uri)
        if fresh or hit is None or time.monotonic() - hit.at >= JWKS_TTL:
            doc = await self.get_json(jwks_uri)
            try:
                hit = _Keys(KeySet.import_key_set(doc), time.monotonic())  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                log.warning("identity provider JWKS unusable: %s", type(exc).__name__)
                raise OidcRefused("unavailable", 502) from exc
            self.keys[jwks_uri] = hit
        return hit.keys

    async def decode(self, jwks_uri: str, token: str) -> dict[str, Any]:
        """The claims of ``token`` once its signature checks out against the provider's JWKS.

        A ``kid`` the cached set lacks fetches the set once more (the provider rotated
        its keys); still unknown, or a bad signature, or an algorithm not in
        :data:`ALGORITHMS`: refused (``signature``).
        """
        cached = jwks_uri in self.keys
        for fresh in (False, True):
            keys = await self.key_set(jwks_uri, fresh=fresh)
            try:
                return jose_jwt.decode(token, keys, registry=_JWS).claims
            except InvalidKeyIdError:
                if not cached:
                    break  # the set was fetched just now: fetching again shows nothing new
                continue  # rotated: look again, once
            except (UnsupportedAlgorithmError, BadSignatureError, KeyParameterError) as exc:
                raise OidcRefused("signature") from exc
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise OidcRefused("id_token") from exc
        raise OidcRefused("signature")


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint gave for the code: the raw ID token and the access token."""

    id_token: str
    access_token: str | None


async def exchange(
    client: OidcClient, provider: Provider, *, code: str, redirect_uri: str, verifier: str
) -> Tokens:
    """The authorization code for an ID token (the raw JWT) and an access token."""
    meta = await client.metadata(provider)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    headers = {"Accept": "application/json"}
    if "client_secret_basic" in methods:
        # RFC 6749, 2.3.1: id and secret are form-urlencoded, then joined and base64'd.
        pair = f"{quote_plus(provider.client_id)}:{quote_plus(provider.client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        data.update(client_id=provider.client_id, client_secret=provider.client_secret)
    try:
        async with client.http.post(
            str(meta["token_endpoint"]),
            data=data,
            headers=headers,
            timeout=HTTP_TIMEOUT,
        ) as resp:
            body = await resp.text()
            status = resp.status
    except (ClientError, TimeoutError) as exc:
        log.warning("token endpoint unreachable: %s", type(exc).__name__)
        raise OidcRefused("unavailable", 502) from exc
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status != 200 or not isinstance(answer, dict):
        err = answer.get("error") if isinstance(answer, dict) else None
        log.info("token endpoint refused the code: %s %s", status, err)
        raise OidcRefused("token")
    id_token, access_token = answer.get("id_token"), answer.get("access_token")
    if not isinstance(id_token, str):
        raise OidcRefused("token")
    return Tokens(id_token, access_token if isinstance(access_token, str) else None)


# joserfc's claim errors, by the claim, to our refusal codes.
_CLAIM_REFUSALS = {
    "iss": "issuer",
    "aud": "audience",
    "nonce": "nonce",
    "exp": "expired",
    "iat": "expired",
    "nbf": "expired",
}


async def verify_id_token(
    svc: Services, client: OidcClient, provider: Provider, id_token: str, nonce: str
) -> dict[str, Any]:
    """Check the ID token's signature, issuer, audience, times and nonce; its claims.

    Raises:
        OidcRefused: ``signature``, ``issuer``, ``audience``, ``expired``, ``nonce`` or
            ``id_token`` (malformed, or a required claim missing).
    """
    meta = await client.metadata(provider)
    claims = await client.decode(str(meta["jwks_uri"]), id_token)
    registry = JWTClaimsRegistry(
        now=int(svc.clock.now().timestamp()),
        leeway=CLOCK_SKEW,
        # Discovery allows the issuer with or without its trailing slash; so does this.
        iss={"essential": True, "values": [provider.issuer, provider.issuer + "/"]},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except MissingClaimError as exc:
        raise OidcRefused("nonce" if exc.claim == "nonce" else "id_token") from exc
    except ClaimError as exc:
        raise OidcRefused(_CLAIM_REFUSALS.get(exc.claim, "id_token")) from exc
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != provider.client_id:
        raise OidcRefused("audience")  # OpenID Connect Core 3.1.3.7, items 4 and 5
    return claims


async def login_claims(
    svc: Services, client: OidcClient, provider: Provider, tokens: Tokens, nonce: str
) -> dict[str, Any]:
    """The verified ID token's claims; for a broker that keeps the CPR number in
    UserInfo (:attr:`~bot.domain.identity.Broker.userinfo`) and an ID token without
    it, with UserInfo's claims added beneath them.

    Raises:
        OidcRefused: as :func:`verify_id_token`; ``userinfo`` when the UserInfo
            response names another ``sub`` (OpenID Connect Core 5.3.4) or cannot be had.
    """
    claims = await verify_id_token(svc, client, provider, tokens.id_token, nonce)
    broker = provider.claims
    if provider.name != MITID or not broker.userinfo:
        return claims
    if any(claims.get(name) for name in broker.cpr_claims):
        return claims  # already in the ID token: no need to ask
    meta = await client.metadata(provider)
    endpoint = meta.get("userinfo_endpoint")
    if not isinstance(endpoint, str) or tokens.access_token is None:
        raise OidcRefused("userinfo")
    info = await client.get_json(
        endpoint, headers={"Authorization": f"Bearer {tokens.access_token}"}
    )
    if info.get("sub") != claims["sub"]:
        raise OidcRefused("userinfo")
    return {**info, **claims}  # the signed ID token wins where both name a claim
