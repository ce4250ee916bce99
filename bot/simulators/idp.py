"""An OpenID Connect identity provider simulator: the honest fake, over real HTTP.

It plays either the municipality's identity provider (caseworkers) or a MitID
broker (citizens). It speaks the same wire format as the real ones:

- ``/.well-known/openid-configuration`` (discovery), ``/jwks`` (its RSA keys,
  made with joserfc: the signing key and any it rotated away from);
- ``/authorize``: the authorization-code flow with PKCE S256. Instead of a
  password it shows an accessible page where you pick a demo identity (and,
  for the broker, the level of assurance), then it redirects back with a code;
- ``/token``: the code, once, for an ID token (RS256) and an access token after
  client authentication by ``client_secret_basic`` or ``client_secret_post``;
- ``/userinfo``: the claims behind an access token (Signaturgruppen's dialect
  sends the CPR number only here);
- ``/logout``: RP-initiated logout back to a registered address.

As a MitID broker it speaks one of three dialects (``IdpSimConfig.broker``),
each as its documentation shows it (a demo identity's CPR number is given as
``dk.cpr`` and sent under the broker's own name):

- ``signaturgruppen`` (the default): Signaturgruppen's Nets eID Broker. The ID
  token's ``loa`` (and ``acr``, ``ial``, ``aal``) hold an NSIS level as a URI,
  ``https://data.gov.dk/concept/core/nsis/Substantial``, ``idp`` is ``mitid``,
  ``identity_type`` ``private``, ``amr`` a list; the CPR number (``dk.cpr``, for
  the ``ssn`` scope), ``mitid.uuid`` and ``mitid.has_cpr`` come from UserInfo
  only ("the ID token does not include all issued user claims", the broker's
  documentation, issued-claims-tokens).
- ``criipto``: Idura (Criipto) Verify's "Danish MitID" token:
  ``identityscheme: dkmitid``, ``authenticationtype:
  urn:grn:authn:dk:mitid:substantial``, ``authenticationmethod`` and ``loA``
  (``SUBSTANTIAL``), ``uuid``, and ``cprNumberIdentifier`` for the ``ssn`` scope.
- ``nemlogin``: an OpenID Connect bridge in front of NemLog-in (whose own login is
  OIOSAML 3), keeping the OIOSAML 3 attribute names as claims:
  ``https://data.gov.dk/model/core/eid/cprNumber`` and
  ``https://data.gov.dk/concept/core/nsis/loa`` (``Substantial``), ``acr``
  ``https://data.gov.dk/concept/core/nsis/loa/Substantial``.

Tests can make the next token wrong on purpose (``POST /_sim/faults``):
another audience (a string or a list, with ``azp``), issuer or nonce, already
expired or ``exp_offset`` seconds from now, signed by another key under our key
id (``foreign_key``), by a key the JWKS does not list (any more:
``unknown_kid``), with ``alg`` "none" (``alg_none``) or HS256 keyed with our
public key (``hs256_public``), with an assurance value nobody knows
(``level_value``), or with UserInfo naming another subject (``userinfo_sub``).
``rotate`` makes a new signing key first (the old one stays in the JWKS), as a
provider rotating its keys does. ``/logout`` checks the ``id_token_hint`` it is
given and records each logout (``GET /_sim/logouts``); ``GET /_sim/jwks_fetches``
counts the JWKS fetches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from aiohttp import web
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from bot.base.services import Services

if TYPE_CHECKING:
    from bot.domain.identity import Provider

NSIS = "https://data.gov.dk/concept/core/nsis/"
LEVELS = {"substantial": NSIS + "Substantial", "low": NSIS + "Low", "high": NSIS + "High"}
BROKERS = ("signaturgruppen", "criipto", "nemlogin")
NEMLOGIN_CPR = "https://data.gov.dk/model/core/eid/cprNumber"
NEMLOGIN_LOA = "https://data.gov.dk/concept/core/nsis/loa"
# The claims that carry the level, per broker (what the level_value fault overwrites).
LEVEL_CLAIMS = {
    "signaturgruppen": ("loa", "acr"),
    "criipto": ("authenticationtype", "loA"),
    "nemlogin": (NEMLOGIN_LOA, "acr"),
}


@dataclass(frozen=True)
class SimIdentity:
    """A person you can log in as: a label for the page, and the claims they get."""

    key: str
    label: str
    claims: dict[str, str]


@dataclass(frozen=True)
class SimClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()


@dataclass
class IdpSimConfig:
    """One simulated identity provider."""

    issuer: str
    kind: str  # staff | mitid
    title: str
    clients: list[SimClient]
    identities: list[SimIdentity]
    clock: Callable[[], float] = time.time
    token_ttl: int = 300
    code_ttl: int = 60
    broker: str = "signaturgruppen"  # mitid: whose claims to send (BROKERS)
    end_session: bool = True  # publish an end_session_endpoint


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str
    identity: SimIdentity
    level: str
    expires_at: float
    used: bool = False


def _new_key(kid: str | None = None) -> RSAKey:
    """A fresh RS256 signing key (with its own key id unless one is given)."""
    params = {"kid": kid or secrets.token_hex(8), "use": "sig", "alg": "RS256"}
    return RSAKey.generate_key(2048, parameters=params)  # type: ignore[arg-type]


@dataclass
class _State:
    config: IdpSimConfig
    key: RSAKey
    previous: list[RSAKey] = field(default_factory=list)  # rotated away from, still published
    codes: dict[str, _Code] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    issued: list[dict[str, Any]] = field(default_factory=list)
    userinfo: dict[str, dict[str, Any]] = field(default_factory=dict)  # access token -> claims
    logouts: list[dict[str, Any]] = field(default_factory=list)
    jwks_fetches: int = 0


STATE = web.AppKey("idp_sim_state", _State)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _config(request: web.Request) -> IdpSimConfig:
    return request.app[STATE].config


def _client(cfg: IdpSimConfig, client_id: str) -> SimClient | None:
    return next((c for c in cfg.clients if c.client_id == client_id), None)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = f"""<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #f5f5f5; }}
header {{ background: #0a2c5a; color: #fff; padding: 1rem 1.5rem; }}
header p {{ margin: 0; font-weight: 600; }}
main {{ max-width: 36rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem;
        border: 1px solid #ccc; }}
fieldset {{ border: 0; padding: 0; margin: 0 0 1.5rem; }}
legend {{ font-weight: 700; font-size: 1.1rem; margin-bottom: .5rem; }}
label {{ display: block; padding: .4rem 0; }}
button {{ font-size: 1rem; padding: .6rem 1.2rem; margin-right: .5rem; cursor: pointer; }}
.primary {{ background: #0a2c5a; color: #fff; border: 2px solid #0a2c5a; }}
.secondary {{ background: #fff; color: #0a2c5a; border: 2px solid #0a2c5a; }}
.note {{ color: #444; }}
</style>
</head>
<body>
<header><p>{html.escape(_title_of(title))}</p></header>
<main>
{body}
</main>
</body>
</html>"""
    return web.Response(text=doc, content_type="text/html", status=status)


def _title_of(title: str) -> str:
    return title.split(" – ")[-1]


def _error_page(cfg: IdpSimConfig, message: str) -> web.Response:
    body = f"<h1>Login kan ikke fortsætte</h1><p>{html.escape(message)}</p>"
    return _page(f"Fejl – {cfg.title}", body, status=400)


def _redirect(uri: str, params: dict[str, str]) -> web.Response:
    sep = "&" if urlsplit(uri).query else "?"
    return web.Response(status=303, headers={"Location": uri + sep + urlencode(params)})


async def discovery(request: web.Request) -> web.Response:
    cfg = _config(request)
    iss = cfg.issuer
    scopes = ["openid", "email", "profile"] if cfg.kind == "staff" else ["openid", "mitid", "ssn"]
    doc = {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize",
        "token_endpoint": f"{iss}/token",
        "jwks_uri": f"{iss}/jwks",
        "userinfo_endpoint": f"{iss}/userinfo",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "claims_supported": sorted(
            {"iss", "aud", "exp", "iat", "sub", "nonce", "auth_time"}
            | {k for i in cfg.identities for k in i.claims}
            | (set(LEVEL_CLAIMS[cfg.broker]) if cfg.kind == "mitid" else set())
        ),
    }
    if cfg.end_session:
        doc["end_session_endpoint"] = f"{iss}/logout"
    return web.json_response(doc)


async def jwks(request: web.Request) -> web.Response:
    st = request.app[STATE]
    st.jwks_fetches += 1
    return web.json_response({"keys": [k.as_dict(private=False) for k in (st.key, *st.previous)]})


_AUTH_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _check_request(cfg: IdpSimConfig, params: Any) -> tuple[web.Response | None, str | None]:
    """(a page to show instead, an OAuth error to send back) for a bad authorization request."""
    client = _client(cfg, str(params.get("client_id", "")))
    redirect_uri = str(params.get("redirect_uri", ""))
    # Never redirect to an address we do not know (RFC 6749, 4.1.2.1).
    if client is None:
        return _error_page(cfg, "Ukendt klient."), None
    if redirect_uri not in client.redirect_uris:
        return _error_page(cfg, "Ukendt adresse at sende dig tilbage til."), None
    if params.get("response_type") != "code":
        return None, "unsupported_response_type"
    if "openid" not in str(params.get("scope", "")).split():
        return None, "invalid_scope"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return None, "invalid_request"
    return None, None


def _back(params: Any, error: str) -> web.Response:
    out = {"error": error}
    if params.get("state"):
        out["state"] = str(params["state"])
    return _redirect(str(params["redirect_uri"]), out)


async def authorize_form(request: web.Request) -> web.Response:
    cfg = _config(request)
    params = request.query
    page, error = _check_request(cfg, params)
    if page is not None:
        return page
    if error is not None:
        return _back(params, error)
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(str(params.get(name, "")))}">'
        for name in _AUTH_PARAMS
    )
    people = "\n".join(
        f'<label><input type="radio" name="identity" value="{html.escape(i.key)}"'
        f"{' checked' if n == 0 else ''}> {html.escape(i.label)}</label>"
        for n, i in enumerate(cfg.identities)
    )
    level = ""
    if cfg.kind == "mitid":
        level = """<fieldset>
<legend>Sikringsniveau</legend>
<label><input type="radio" name="level" value="substantial" checked> Betydelig (MitID-app)</label>
<label><input type="radio" name="level" value="low"> Lav (kun brugernavn og adgangskode)</label>
<label><input type="radio" name="level" value="high"> Høj (MitID-chip)</label>
</fieldset>"""
    body = f"""<h1>{html.escape(cfg.title)}</h1>
<p class="note">Dette er en simulator til demo og test. Der er ingen rigtig adgangskode:
vælg, hvem du vil logge ind som.</p>
<form method="post" action="/authorize">
{hidden}
<fieldset>
<legend>Log ind som</legend>
{people}
</fieldset>
{level}
<button type="submit" class="primary" name="action" value="login">Log ind</button>
<button type="submit" class="secondary" name="action" value="cancel">Afbryd</button>
</form>"""
    return _page(f"Log ind – {cfg.title}", body)


async def authorize(request: web.Request) -> web.Response:
    st = request.app[STATE]
    cfg = st.config
    form = await request.post()
    page, error = _check_request(cfg, form)
    if page is not None:
        return page
    if error is not None:
        return _back(form, error)
    if form.get("action") == "cancel":
        return _back(form, "access_denied")
    identity = next((i for i in cfg.identities if i.key == form.get("identity")), None)
    level = str(form.get("level", "substantial"))
    if identity is None or level not in LEVELS:
        return _error_page(cfg, "Vælg en person.")
    code = secrets.token_urlsafe(32)
    st.codes[code] = _Code(
        client_id=str(form["client_id"]),
        redirect_uri=str(form["redirect_uri"]),
        challenge=str(form["code_challenge"]),
        nonce=str(form.get("nonce") or "") or None,
        scope=str(form.get("scope", "")),
        identity=identity,
        level=level,
        expires_at=cfg.clock() + cfg.code_ttl,
    )
    out = {"code": code, "iss": cfg.issuer}  # RFC 9207: the issuer comes back too
    if form.get("state"):
        out["state"] = str(form["state"])
    return _redirect(str(form["redirect_uri"]), out)


def _token_error(error: str, status: int = 400) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    return web.json_response({"error": error}, status=status, headers=headers)


def _client_auth(request: web.Request, form: Any) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            return None
        cid, _, secret = raw.partition(":")
        # RFC 6749, 2.3.1: both parts are form-urlencoded before joining.
        return unquote(cid.replace("+", " ")), unquote(secret.replace("+", " "))
    if form.get("client_id") and form.get("client_secret"):
        return str(form["client_id"]), str(form["client_secret"])
    return None


def _claims(
    st: _State, code: _Code, faults: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the ID token's claims, what UserInfo answers for the access token)."""
    cfg = st.config
    now = int(cfg.clock())
    claims: dict[str, Any] = {
        "iss": cfg.issuer,
        "aud": code.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + cfg.token_ttl,
        "auth_time": now,
        "jti": secrets.token_hex(16),
    }
    if code.nonce is not None:
        claims["nonce"] = code.nonce
    for name, value in code.identity.claims.items():
        if name != "dk.cpr" or cfg.kind != "mitid":
            claims[name] = value
    info: dict[str, Any] = {"sub": claims.get("sub")}
    if cfg.kind == "mitid":
        in_token, in_info = _broker_claims(cfg, code, now)
        claims.update(in_token)
        info.update(in_info)
        if "level_value" in faults:
            for name in LEVEL_CLAIMS[cfg.broker]:
                claims[name] = faults["level_value"]
    if faults.get("expired"):
        claims.update(iat=now - 2 * cfg.token_ttl, exp=now - cfg.token_ttl)
    if "exp_offset" in faults:
        claims["exp"] = now + int(faults["exp_offset"])
    for name in ("aud", "azp", "iss", "nonce"):
        if name in faults:
            claims[name] = faults[name]
    if "userinfo_sub" in faults:
        info["sub"] = faults["userinfo_sub"]
    return claims, info


def _broker_claims(
    cfg: IdpSimConfig, code: _Code, now: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The level, the CPR number and the eID, as ``cfg.broker`` sends them.

    Returns:
        (claims in the ID token, claims only UserInfo gives).
    """
    level, cpr = code.level, code.identity.claims.get("dk.cpr")
    ssn = "ssn" in code.scope.split()  # Signaturgruppen and Idura: CPR only for the ssn scope
    uuid = hashlib.sha256(code.identity.key.encode()).hexdigest()[:32]
    out: dict[str, Any]
    info: dict[str, Any] = {}
    if cfg.broker == "criipto":
        word = level.upper()
        out = {
            "identityscheme": "dkmitid",
            "authenticationtype": f"urn:grn:authn:dk:mitid:{level}",
            "authenticationmethod": f"app:{now * 1000}:{word}:{word}:{word}:HIGH",
            "loA": word,
            "ial": word,
            "aal": word,
            "fal": "HIGH",
            "uuid": uuid,
            "country": "DK",
        }
        if cpr and ssn:
            out["cprNumberIdentifier"] = cpr
    elif cfg.broker == "nemlogin":
        out = {
            NEMLOGIN_LOA: level.title(),
            "acr": f"{NSIS}loa/{level.title()}",
            "https://data.gov.dk/model/core/specVersion": "OIO-SAML-3.0",
        }
        if cpr:
            out[NEMLOGIN_CPR] = cpr
    else:
        out = {
            "loa": LEVELS[level],
            "acr": LEVELS[level],
            "ial": LEVELS[level],
            "aal": LEVELS[level],
            "amr": ["code_app"],
            "idp": "mitid",
            "identity_type": "private",
        }
        info = {
            "idp": "mitid",
            "loa": LEVELS[level],
            "mitid.uuid": uuid,
            "mitid.has_cpr": "true" if cpr else "false",
        }
        if cpr and ssn:
            info["dk.cpr"] = cpr
    return out, info


async def token(request: web.Request) -> web.Response:
    st = request.app[STATE]
    cfg = st.config
    form = await request.post()
    auth = _client_auth(request, form)
    client = _client(cfg, auth[0]) if auth else None
    if (
        auth is None
        or client is None
        or not hmac.compare_digest(auth[1].encode(), client.client_secret.encode())
    ):
        return _token_error("invalid_client", 401)
    if form.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type")
    code = st.codes.get(str(form.get("code", "")))
    if code is None or code.client_id != client.client_id or cfg.clock() >= code.expires_at:
        return _token_error("invalid_grant")
    if code.used:
        return _token_error("invalid_grant")
    code.used = True
    if form.get("redirect_uri") != code.redirect_uri:
        return _token_error("invalid_grant")
    verifier = str(form.get("code_verifier", ""))
    expected = _b64(hashlib.sha256(verifier.encode()).digest())
    if not (43 <= len(verifier) <= 128) or not hmac.compare_digest(expected, code.challenge):
        return _token_error("invalid_grant")
    faults, st.faults = st.faults, {}
    claims, info = _claims(st, code, faults)
    id_token = _sign(st, claims, faults)
    st.issued.append(claims)
    access_token = secrets.token_urlsafe(32)
    st.userinfo[access_token] = info
    return web.json_response(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": cfg.token_ttl,
            "scope": code.scope,
            "id_token": id_token,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _sign(st: _State, claims: dict[str, Any], faults: dict[str, Any]) -> str:
    """The ID token: RS256 with our key, or as wrong as the faults ask."""
    if faults.get("rotate"):
        # The provider's key rotation: a new key signs from now on; the old one stays listed.
        st.previous.append(st.key)
        st.key = _new_key()
    key = st.key
    if faults.get("foreign_key"):
        key = _new_key(kid=key.kid)  # another key under our key id: a forgery
    if faults.get("unknown_kid"):
        key = _new_key(kid="retired-" + secrets.token_hex(4))  # a key the JWKS does not list
    if faults.get("alg_none") or faults.get("hs256_public"):
        alg = "none" if faults.get("alg_none") else "HS256"
        head = _b64(json.dumps({"alg": alg, "kid": key.kid, "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        signature = b""
        if alg == "HS256":
            # The classic confusion: our public key (PEM) as an HMAC secret.
            secret = key.as_pem(private=False)
            signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"
    return jose_jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _hint_claims(st: _State, hint: str) -> dict[str, Any] | None:
    """The claims of an ``id_token_hint`` we issued (expired is fine, per the spec)."""
    try:
        found = jose_jwt.decode(hint, KeySet([st.key, *st.previous]), algorithms=["RS256"])
    except (JoseError, ValueError):
        return None
    if found.claims.get("iss") != st.config.issuer:
        return None
    return found.claims


async def userinfo(request: web.Request) -> web.Response:
    """OpenID Connect UserInfo: the claims behind a bearer access token we issued."""
    st = request.app[STATE]
    header = request.headers.get("Authorization", "")
    info = st.userinfo.get(header[7:]) if header.startswith("Bearer ") else None
    if info is None:
        return web.json_response(
            {"error": "invalid_token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return web.json_response(info, headers={"Cache-Control": "no-store"})


async def logout(request: web.Request) -> web.Response:
    """RP-initiated logout: back to a registered address, or a plain "logged out" page.

    An ``id_token_hint`` must be one of our tokens, for the ``client_id`` given.
    """
    st = request.app[STATE]
    cfg = st.config
    q = request.query
    hinted = _hint_claims(st, q["id_token_hint"]) if q.get("id_token_hint") else None
    if q.get("id_token_hint") and (
        hinted is None or (q.get("client_id") and hinted.get("aud") != q["client_id"])
    ):
        return _error_page(cfg, "Ugyldigt id_token_hint.")
    client_id = q.get("client_id") or (str(hinted["aud"]) if hinted else "")
    st.logouts.append(
        {"client_id": client_id, "sub": hinted.get("sub") if hinted else None, **dict(q)}
    )
    target = q.get("post_logout_redirect_uri", "")
    client = _client(cfg, client_id)
    if target and client is not None and target in client.post_logout_redirect_uris:
        params = {"state": request.query["state"]} if request.query.get("state") else {}
        if not params:
            return web.Response(status=303, headers={"Location": target})
        return _redirect(target, params)
    return _page(f"Logget ud – {cfg.title}", "<h1>Du er logget ud</h1>")


async def set_faults(request: web.Request) -> web.Response:
    """Make the next token wrong.

    ``{"aud"|"azp"|"iss"|"nonce"|"level_value"|"exp_offset"|"userinfo_sub": value}``,
    and the flags ``expired``, ``foreign_key``, ``unknown_kid``, ``alg_none``,
    ``hs256_public``, ``rotate``.
    """
    st = request.app[STATE]
    body = await request.json()
    known = {"aud", "azp", "iss", "nonce", "level_value", "exp_offset", "userinfo_sub"}
    st.faults = {k: v for k, v in body.items() if k in known}
    for flag in ("expired", "foreign_key", "unknown_kid", "alg_none", "hs256_public", "rotate"):
        if body.get(flag):
            st.faults[flag] = True
    return web.json_response(st.faults)


async def issued(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].issued)


async def logouts(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].logouts)


async def jwks_fetches(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].jwks_fetches)


async def userinfo_served(request: web.Request) -> web.Response:
    """Every UserInfo answer made so far (by access token), for tests."""
    return web.json_response(list(request.app[STATE].userinfo.values()))


def create_idp_app(config: IdpSimConfig) -> web.Application:
    """The simulator as an aiohttp app; serve it at ``config.issuer``."""
    app = web.Application()
    app[STATE] = _State(config=config, key=_new_key())
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    app.router.add_get("/authorize", authorize_form)
    app.router.add_post("/authorize", authorize)
    app.router.add_post("/token", token)
    app.router.add_get("/userinfo", userinfo)
    app.router.add_get("/logout", logout)
    app.router.add_post("/_sim/faults", set_faults)
    app.router.add_get("/_sim/issued", issued)
    app.router.add_get("/_sim/logouts", logouts)
    app.router.add_get("/_sim/jwks_fetches", jwks_fetches)
    app.router.add_get("/_sim/userinfo", userinfo_served)
    return app


# -- the demo: both simulators next to `tovholder demo` ------------------------------

# Invented CPR numbers for the demo families (bot.wiring.demo.PERSONS keys).
DEMO_CPR = {
    "maria": "0101851111",
    "peter": "0202842222",
    "amira": "0303903333",
    "oleksandr": "0404884444",
    "kirsten": "0505705555",
    "bent": "0606686666",
    "jonas": "0707007777",
    "lone": "0808728888",
    "olena": "0909939999",
}
DEMO_STAFF_DOMAIN = "demo.example"
DEMO_STAFF_SECRET = "tovholder-demo-staff-oidc-secret"
DEMO_MITID_SECRET = "tovholder-demo-mitid-oidc-secret"


def demo_env(
    env: dict[str, str], *, staff_port: int, mitid_port: int, secrets_dir: Path
) -> dict[str, str]:
    """``env`` plus the OIDC settings that point the demo at the two simulators."""
    secrets_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, secret in (("staff", DEMO_STAFF_SECRET), ("mitid", DEMO_MITID_SECRET)):
        files[name] = secrets_dir / f"demo-oidc-{name}.secret"
        files[name].write_text(secret + "\n", encoding="utf-8")
    return {
        **env,
        "TOVHOLDER_OIDC_STAFF_ISSUER": f"http://127.0.0.1:{staff_port}",
        "TOVHOLDER_OIDC_STAFF_CLIENT_ID": "tovholder-demo",
        "TOVHOLDER_OIDC_STAFF_CLIENT_SECRET_FILE": str(files["staff"]),
        "TOVHOLDER_OIDC_STAFF_TENANT": "lyngby-demo",
        "TOVHOLDER_OIDC_MITID_ISSUER": f"http://127.0.0.1:{mitid_port}",
        "TOVHOLDER_OIDC_MITID_CLIENT_ID": "tovholder-demo",
        "TOVHOLDER_OIDC_MITID_CLIENT_SECRET_FILE": str(files["mitid"]),
    }


async def start_demo(svc: Services, staff_ids: dict[str, str]) -> list[web.AppRunner]:
    """Seed the demo's identities and serve both simulators (ports from the config)."""
    from bot.domain.identity import OidcSettings, link_staff, set_person_cpr
    from bot.wiring.demo import PERSONS, STAFF

    if not svc.config.demo_mode:
        raise RuntimeError("the identity provider simulators are only for demo mode")
    settings = OidcSettings.from_config(svc.config)
    assert settings.staff is not None and settings.mitid is not None
    base = svc.config.public_base_url
    staff_people = []
    for key, _first, full, _team, _role in STAFF:
        email = f"{key}@{DEMO_STAFF_DOMAIN}"
        await link_staff(svc, staff_id=staff_ids[key], login=email)
        staff_people.append(SimIdentity(key, f"{full} ({email})", {"sub": key, "email": email}))
    staff_people.append(
        SimIdentity("ukendt", "Ukendt medarbejder", {"sub": "x", "email": "x@" + DEMO_STAFF_DOMAIN})
    )
    citizens = []
    person_ids = await _demo_person_ids(svc)
    for key, full, _first, _phone, _lang in PERSONS:
        if key in person_ids:
            await set_person_cpr(svc, person_id=person_ids[key], cpr=DEMO_CPR[key])
            citizens.append(
                SimIdentity(key, full, {"sub": f"mitid-{key}", "dk.cpr": DEMO_CPR[key]})
            )
    apps = [
        (
            settings.staff,
            _demo_config(
                settings.staff,
                kind="staff",
                title="Demo Kommunes login (simulator)",
                redirect_uri=f"{base}/sagsbehandler/log-ind/oidc/svar",
                logged_out=f"{base}/sagsbehandler/log-ind?logget_ud=1",
                identities=staff_people,
            ),
        ),
        (
            settings.mitid,
            _demo_config(
                settings.mitid,
                kind="mitid",
                title="MitID via broker (simulator)",
                redirect_uri=f"{base}/borger/log-ind/mitid/svar",
                logged_out=f"{base}/borger/log-ind?logget_ud=1",
                identities=citizens,
            ),
        ),
    ]
    runners = []
    for provider, cfg in apps:
        runner = web.AppRunner(create_idp_app(cfg), access_log=None)
        await runner.setup()
        parts = urlsplit(provider.issuer)
        await web.TCPSite(runner, parts.hostname, parts.port).start()
        runners.append(runner)
    return runners


def _demo_config(
    provider: Provider,
    *,
    kind: str,
    title: str,
    redirect_uri: str,
    logged_out: str,
    identities: list[SimIdentity],
) -> IdpSimConfig:
    """A simulator for one configured provider, with the service as its one client.

    The MitID simulator speaks the configured broker's dialect (the generic
    reading is Signaturgruppen's).
    """
    client = SimClient(provider.client_id, provider.client_secret, (redirect_uri,), (logged_out,))
    return IdpSimConfig(
        issuer=provider.issuer,
        kind=kind,
        title=title,
        clients=[client],
        identities=identities,
        broker=provider.broker if provider.broker in BROKERS else "signaturgruppen",
    )


async def _demo_person_ids(svc: Services) -> dict[str, str]:
    """bot.wiring.demo.PERSONS key -> person id (by phone, then first name for a shared phone)."""
    from sqlalchemy import select

    from bot.store.schema.core import persons
    from bot.wiring.demo import PERSONS

    found: dict[str, str] = {}
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(persons.c.id, persons.c.dek, persons.c.phone_index, persons.c.first_name_enc)
            )
        ).all()
    for key, _full, first, phone, _lang in PERSONS:
        index = svc.blind_index(phone)
        for r in rows:
            if r.phone_index != index or r.first_name_enc is None:
                continue
            dek = svc.dek("persons", r.id, r.dek)
            if svc.unseal(dek, "persons", r.id, "first_name", r.first_name_enc) == first:
                found[key] = str(r.id)
    return found
