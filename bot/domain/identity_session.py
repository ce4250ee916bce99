"""Around an OpenID Connect login: the start's rate limit, refusals on the record,
and logging out at the provider.

- :func:`start_allowed`: the start of a login writes a flow row, so starts are
  counted per client address (``TOVHOLDER_OIDC_START_LIMIT``, default 30 in 300
  seconds): on PostgreSQL in ``shared_limits``, so that every worker counts
  together; on SQLite (one process) in a :class:`StartLimiter` in memory. A
  refused start writes no flow row.
- :func:`record_refusal`: a login refused after it came back from the provider
  (no CPR claim, an unknown NSIS level, a key not in the JWKS, ...) is
  journalised in the municipality's unassigned chain, without personal data.
- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): our session ends
  first; then :func:`logout_url` sends the browser to the provider's
  ``end_session_endpoint`` (from discovery) with ``id_token_hint``, ``client_id``
  and ``post_logout_redirect_uri``. Without such an endpoint, or with the
  provider down, the logout is ours alone. The ID token for the hint is kept in
  the browser sealed (:func:`seal_hint`: AES-GCM under a fresh key wrapped by the
  keyring, bound to the session id), since it may name a CPR number.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from bot.base.crypto import DecryptionError
from bot.base.services import Services
from bot.domain.identity import MITID, OidcRefused, Provider
from bot.domain.identity_rp import OidcClient
from bot.store import limits as shared_limits
from bot.store.schema.core import tenants
from journal.journal import append

log = logging.getLogger(__name__)

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- refusals on the record ------------------------------------------------------

# What the journal says (Danish, like every subject); never a CPR number or a name.
_REFUSAL_WORDS = {
    "no_cpr": "brokerens svar havde intet CPR-nummer",
    "assurance": "ukendt eller manglende sikringsniveau (NSIS)",
    "identity_scheme": "et andet eID end MitID",
    "signature": "ID-token ikke signeret med en nøgle fra udbyderens JWKS",
    "expired": "ID-token udløbet",
    "userinfo": "brokerens brugeroplysninger (UserInfo) manglede eller passede ikke til ID-token",
    "unknown_person": "CPR-nummeret hører ikke til en kendt person",
    "unknown_staff": "ukendt medarbejder hos kommunens login",
}


async def record_refusal(
    svc: Services, *, provider: Provider, tenant_id: str | None, code: str
) -> bool:
    """Journalise why a login that came back from the provider was refused.

    Filed in the municipality's unassigned chain (there is no case), without
    any personal data. Only refusals after a spent login flow come here, so
    their number is bounded by the rate-limited flow starts.

    Args:
        svc: The services.
        provider: The provider the login went through.
        tenant_id: The municipality the login was for (staff: the provider's own);
            None when the citizen chose none: then only the service log has it.
        code: The stable refusal code (:class:`OidcRefused`).

    Returns:
        Whether an entry was filed.
    """
    async with svc.write() as conn:
        if tenant_id is None and provider.tenant_slug is not None:
            tenant_id = (
                await conn.execute(
                    select(tenants.c.id).where(tenants.c.slug == provider.tenant_slug)
                )
            ).scalar_one_or_none()
        if tenant_id is None:
            return False
        who = "MitID" if provider.name == MITID else "kommunens login"
        await append(
            conn,
            tenant_id=tenant_id,
            case_id=None,
            kind="login_refused",
            direction="internal",
            channel="web",
            subject=f"Login afvist ({who}): {_REFUSAL_WORDS.get(code, code)}",
            actor=f"oidc:{provider.name}",
            at=svc.clock.now(),
        )
    return True


# -- the start of a login, rate-limited -------------------------------------------

# The shared count's key: this prefix and the client's address.
START_KEY = "login:"


@dataclass
class StartLimiter:
    """At most ``limit`` login starts per client address in ``window`` seconds.

    Kept in this process's memory, against the injected clock: the point is
    that a refused start writes no row at all. At most ``max_addresses`` are
    remembered; past that the oldest are forgotten (a flood from many
    addresses is bounded by the flow rows' ten-minute life and the purge).
    """

    limit: int
    window: float
    max_addresses: int = 10_000
    _seen: dict[str, list[float]] = field(default_factory=dict)

    def allow(self, address: str, now: float) -> bool:
        """Count one start from ``address`` at ``now`` (seconds); False when over the limit."""
        recent = [t for t in self._seen.pop(address, []) if now - t < self.window]
        allowed = len(recent) < self.limit
        if allowed:
            recent.append(now)
        # Re-inserted last: dict order is then oldest activity first.
        self._seen[address] = recent
        while len(self._seen) > self.max_addresses:
            del self._seen[next(iter(self._seen))]
        return allowed

    def retry_after(self, address: str, now: float) -> int:
        """Seconds until ``address`` may start again (at least one)."""
        times = self._seen.get(address) or [now]
        return max(1, int(self.window - (now - min(times))) + 1)


async def start_allowed(svc: Services, limiter: StartLimiter, address: str) -> int | None:
    """Count a login start from ``address``: None when it may go, else seconds to wait.

    On SQLite (one process) ``limiter`` counts in memory. On PostgreSQL every
    worker counts in one row per address (``shared_limits``, one statement per
    start), a fixed window of ``limiter.window`` seconds from the first start in it.
    """
    now = svc.clock.now()
    if svc.sqlite:
        at = now.timestamp()
        return None if limiter.allow(address, at) else limiter.retry_after(address, at)
    window = timedelta(seconds=limiter.window)
    async with svc.write() as conn:
        count, since = await shared_limits.count_start(conn, START_KEY + address, now, window)
        if secrets.randbelow(100) == 0:  # now and then, forget addresses gone quiet
            await shared_limits.forget_starts(conn, START_KEY, now - window)
    if count <= limiter.limit:
        return None
    return max(1, int((since + window - now).total_seconds()) + 1)


# -- logging out at the provider (RP-initiated logout) ------------------------------


async def logout_url(
    client: OidcClient,
    provider: Provider,
    *,
    id_token: str | None,
    post_logout_redirect_uri: str,
) -> str | None:
    """Where to send the browser to end its session at the provider, or None.

    OpenID Connect RP-Initiated Logout 1.0, section 2: the discovery document's
    ``end_session_endpoint`` with ``id_token_hint`` (when we kept it),
    ``client_id`` and ``post_logout_redirect_uri``. None when the provider has no
    such endpoint, names one that is not https, or cannot be reached: the logout
    is then ours alone.
    """
    try:
        meta = await client.metadata(provider)
    except OidcRefused:
        return None
    endpoint = meta.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not _secure_url(endpoint):
        return None
    params = {"client_id": provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token:
        params = {"id_token_hint": id_token, **params}
    sep = "&" if urlsplit(endpoint).query else "?"
    return endpoint + sep + urlencode(params)


def _secure_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    )


_HINT_AAD = "id_token_hint"


def seal_hint(svc: Services, session_id: str, id_token: str) -> str:
    """The ID token, sealed for a cookie and bound to ``session_id`` (it may name a CPR)."""
    dek, wrapped = svc.new_dek("web_sessions", session_id)
    blob = svc.seal(dek, "web_sessions", session_id, _HINT_AAD, id_token)
    return f"{_b64(wrapped)}.{_b64(blob)}"


def open_hint(svc: Services, session_id: str, sealed: str | None) -> str | None:
    """The ID token from :func:`seal_hint`; None when absent, foreign or tampered with."""
    if not sealed or "." not in sealed or len(sealed) > 8000:
        return None
    wrapped_text, _, blob_text = sealed.partition(".")
    try:
        wrapped = base64.urlsafe_b64decode(wrapped_text + "=" * (-len(wrapped_text) % 4))
        blob = base64.urlsafe_b64decode(blob_text + "=" * (-len(blob_text) % 4))
        dek = svc.dek("web_sessions", session_id, wrapped)
        return svc.unseal(dek, "web_sessions", session_id, _HINT_AAD, blob)
    except (ValueError, DecryptionError):  # no hint: the logout goes on without one
        log.info("oidc logout: the id token hint cookie could not be opened")
        return None
