"""MitID through the brokers municipalities use, RP-initiated logout and the start's rate limit.

Over real HTTP against the identity-provider simulator speaking each broker's
documented claims (Idura/Criipto, Signaturgruppen, NemLog-in), on SQLite and
PostgreSQL: the CPR number and the NSIS level are read from the broker's own
claims; a token without a CPR claim, with a level nobody knows or signed by a
key the JWKS does not list is refused with a page, a journalised reason and no
person or session made; the ID token's checks (joserfc): no "none" or HS256, a
rotated key fetched once, ``aud`` as a list with ``azp``, ``exp`` past the
leeway; Signaturgruppen's CPR number from UserInfo, for the same ``sub``;
logging out ends our session first and then the provider's
(``id_token_hint``); starting a login is rate-limited per address.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.base.config import ConfigError
from bot.domain import identity as oidc
from bot.domain.identity import BROKERS, OidcRefused, OidcSettings
from bot.domain.identity_session import StartLimiter
from bot.simulators.idp import IdpSimConfig, SimClient, SimIdentity, create_idp_app
from bot.store.schema.core import journal_entries, persons
from bot.store.schema.oidc import web_oidc_flows
from bot.store.schema.pages import web_sessions
from tests.harness import Stack, free_port, start_stack
from tests.web.conftest import FRIDAY_MORNING, code_from_sms, form_post
from tests.web.test_oidc import (
    ANNA_CPR,
    MITID_SECRET,
    STAFF_SECRET,
    _config,
    idp_pick,
    local,
    oidc_extra,
    oidc_login,
    refused,
    seed_identities,
    staff_identities,
    start_login,
)

NAMED = ("criipto", "signaturgruppen", "nemlogin")
# Where each broker puts the CPR number (as its documentation shows the ID token).
CPR_CLAIM = {
    "criipto": "cprNumberIdentifier",
    "signaturgruppen": "dk.cpr",
    "nemlogin": "https://data.gov.dk/model/core/eid/cprNumber",
}


@dataclass
class BrokerStack:
    stack: Stack
    staff_idp: TestServer
    mitid_idp: TestServer
    broker: str


Factory = Callable[..., Awaitable[BrokerStack]]


def citizens() -> list[SimIdentity]:
    return [
        SimIdentity("anna", "Anna Andersen", {"sub": "m-anna", "dk.cpr": ANNA_CPR}),
        SimIdentity("uden", "Uden CPR-nummer", {"sub": "m-nocpr"}),
    ]


@pytest.fixture
async def make_stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes], tmp_path: Path
) -> AsyncIterator[Factory]:
    """Build the stack with both simulators: the broker's dialect and settings as asked."""
    made: list[Stack] = []

    async def build(
        broker: str | None = None, end_session: bool = True, **extra: str
    ) -> BrokerStack:
        """None: the simulator's default dialect (Signaturgruppen's), no broker setting."""
        app_port, staff_port, mitid_port = free_port(), free_port(), free_port()
        base = f"http://127.0.0.1:{app_port}"
        box: dict[str, Any] = {}

        def clock() -> float:
            return float(box["clock"].now().timestamp())

        staff_idp = await aiohttp_server(
            create_idp_app(
                IdpSimConfig(
                    issuer=f"http://127.0.0.1:{staff_port}",
                    kind="staff",
                    title="Kommunens login (simulator)",
                    clients=[
                        SimClient(
                            "tovholder-staff",
                            STAFF_SECRET,
                            (f"{base}/sagsbehandler/log-ind/oidc/svar",),
                            (f"{base}/sagsbehandler/log-ind?logget_ud=1",),
                        )
                    ],
                    identities=staff_identities(),
                    clock=clock,
                    end_session=end_session,
                )
            ),
            port=staff_port,
        )
        mitid_idp = await aiohttp_server(
            create_idp_app(
                IdpSimConfig(
                    issuer=f"http://127.0.0.1:{mitid_port}",
                    kind="mitid",
                    title="MitID (simulator)",
                    clients=[
                        SimClient(
                            "tovholder-mitid",
                            MITID_SECRET,
                            (f"{base}/borger/log-ind/mitid/svar",),
                            (f"{base}/borger/log-ind?logget_ud=1",),
                        )
                    ],
                    identities=citizens(),
                    clock=clock,
                    broker=broker or "signaturgruppen",
                    end_session=end_session,
                )
            ),
            port=mitid_port,
        )
        settings = {**oidc_extra(tmp_path, app_port, staff_port, mitid_port), **extra}
        if broker is not None and "TOVHOLDER_OIDC_MITID_BROKER" not in extra:
            settings["TOVHOLDER_OIDC_MITID_BROKER"] = broker
        s = await start_stack(
            aiohttp_client,
            aiohttp_server,
            db_url,
            keys,
            start=FRIDAY_MORNING,
            port=app_port,
            extra=settings,
        )
        box["clock"] = s.clock
        made.append(s)
        await seed_identities(s)
        return BrokerStack(s, staff_idp, mitid_idp, broker or "signaturgruppen")

    try:
        yield build
    finally:
        for s in made:
            await s.session.close()


async def _count(stack: Stack, table: Any) -> int:
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _refusals(stack: Stack) -> list[str]:
    """The subjects of the journalised login refusals."""
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.subject, journal_entries.c.chain)
            .where(journal_entries.c.kind == "login_refused")
            .order_by(journal_entries.c.seq)
        )
        found = rows.all()
    assert all(r.chain == f"unassigned:{stack.world.tenant_id}" for r in found)
    return [str(r.subject) for r in found]


async def _fault(idp: TestServer, stack: Stack, fault: dict[str, object]) -> None:
    async with stack.session.post(str(idp.make_url("/_sim/faults")), json=fault) as r:
        assert r.status == 200


async def _sim(idp: TestServer, stack: Stack, path: str) -> Any:
    """What the simulator's test endpoint ``path`` says."""
    async with stack.session.get(str(idp.make_url(path))) as r:
        assert r.status == 200
        return await r.json()


async def _issued(idp: TestServer, stack: Stack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await _sim(idp, stack, "/_sim/issued")
    return found


# -- each broker's claims --------------------------------------------------------------


@pytest.mark.parametrize("broker", NAMED)
async def test_each_broker_gives_the_cpr_and_the_nsis_level(
    make_stack: Factory, broker: str
) -> None:
    """With the broker named, its CPR claim finds Anna and its NSIS level sets the session's."""
    b = await make_stack(broker)
    stack = b.stack
    expected = {"substantial": "substantial", "high": "substantial", "low": "mitid-low"}
    for level, assurance in expected.items():
        stack.client.session.cookie_jar.clear()
        stack.clock.advance(seconds=1)  # each session its own creation time
        resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", level)
        assert resp.status == 303 and resp.headers["Location"] == "/borger/", await resp.text()
        async with stack.svc.read() as conn:
            row = (
                await conn.execute(
                    select(web_sessions).order_by(web_sessions.c.created_at.desc()).limit(1)
                )
            ).one()
        assert (row.assurance, row.person_id) == (assurance, stack.world.persons["anna"])
    claims = (await _issued(b.mitid_idp, stack))[-1]
    info = (await _sim(b.mitid_idp, stack, "/_sim/userinfo"))[-1]
    # The simulator spoke the broker's dialect: its CPR claim, none of the others'.
    if broker == "signaturgruppen":
        # Only UserInfo has the CPR number ("the ID token does not include all issued user
        # claims", the broker's documentation): it was asked, for the same subject.
        assert CPR_CLAIM[broker] not in claims
        assert (info[CPR_CLAIM[broker]], info["sub"]) == (ANNA_CPR, claims["sub"])
    else:
        assert claims[CPR_CLAIM[broker]] == ANNA_CPR
    assert not {CPR_CLAIM[o] for o in NAMED if o != broker} & (set(claims) | set(info))
    if broker == "criipto":
        assert claims["identityscheme"] == "dkmitid"
        assert claims["authenticationtype"] == "urn:grn:authn:dk:mitid:low"
    elif broker == "nemlogin":
        assert claims["https://data.gov.dk/concept/core/nsis/loa"] == "Low"
    else:
        assert claims["loa"] == "https://data.gov.dk/concept/core/nsis/Low"


async def test_without_the_broker_setting_idura_claims_are_not_read(make_stack: Factory) -> None:
    """A broker's claims need its name: Idura's token read the generic way names no CPR."""
    b = await make_stack("criipto", TOVHOLDER_OIDC_MITID_BROKER="generic")
    resp = await oidc_login(b.stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    await refused(resp, "no_cpr", 403)


# -- bad input: a refusal page, a journalised reason, nothing made ------------------------


@pytest.mark.parametrize("broker", NAMED)
async def test_a_token_without_a_cpr_claim_is_refused_and_journalised(
    make_stack: Factory, broker: str
) -> None:
    """No CPR claim: the refusal page, the reason in the journal, no person and no session."""
    b = await make_stack(broker)
    stack = b.stack
    people = await _count(stack, persons)
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "uden", "substantial")
    await refused(resp, "no_cpr", 403)
    # Trying again cannot help: the page says so and points to the SMS code instead.
    text = await resp.text()
    assert "sendte ikke dit CPR-nummer" in text and "plejer det at virke" not in text
    assert await _count(stack, persons) == people
    assert await _count(stack, web_sessions) == 0
    assert await _refusals(stack) == ["Login afvist (MitID): brokerens svar havde intet CPR-nummer"]


@pytest.mark.parametrize(
    ("broker", "value"),
    [
        ("criipto", "urn:grn:authn:se:bankid:same-device"),
        ("signaturgruppen", "https://data.gov.dk/concept/core/nsis/Extreme"),
        ("nemlogin", "Betydelig"),
    ],
)
async def test_an_unknown_assurance_level_is_refused_and_journalised(
    make_stack: Factory, broker: str, value: str
) -> None:
    """A level the broker's table does not know is refused (not read as low), on the record."""
    b = await make_stack(broker)
    stack = b.stack
    await _fault(b.mitid_idp, stack, {"level_value": value})
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    await refused(resp, "assurance", 403)
    assert await _count(stack, web_sessions) == 0
    assert await _refusals(stack) == [
        "Login afvist (MitID): ukendt eller manglende sikringsniveau (NSIS)"
    ]
    assert ANNA_CPR not in " ".join(await _refusals(stack))


@pytest.mark.parametrize("fault", [{"unknown_kid": True}, {"foreign_key": True}])
async def test_a_key_not_in_the_jwks_is_refused_and_journalised(
    make_stack: Factory, fault: dict[str, object]
) -> None:
    """A token signed by a key the JWKS does not (or no longer) list: refused, on the record."""
    b = await make_stack("criipto")
    stack = b.stack
    people = await _count(stack, persons)
    await _fault(b.mitid_idp, stack, fault)
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    await refused(resp, "signature")
    assert await _count(stack, web_sessions) == 0
    assert await _count(stack, persons) == people
    assert await _refusals(stack) == [
        "Login afvist (MitID): ID-token ikke signeret med en nøgle fra udbyderens JWKS"
    ]


async def test_an_expired_id_token_is_refused_and_journalised(make_stack: Factory) -> None:
    """A MitID token past its exp: refused, "ID-token udløbet" on the record, nothing made."""
    b = await make_stack("signaturgruppen")
    stack = b.stack
    people = await _count(stack, persons)
    await _fault(b.mitid_idp, stack, {"expired": True})
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    await refused(resp, "expired")
    assert await _count(stack, web_sessions) == 0
    assert await _count(stack, persons) == people
    assert await _refusals(stack) == ["Login afvist (MitID): ID-token udløbet"]


async def test_a_refusal_without_a_chosen_municipality_is_logged_not_journalised(
    make_stack: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """No ?kommune=: no municipality's journal to file in, so the service log has the reason."""
    b = await make_stack("criipto")
    stack = b.stack
    with caplog.at_level("INFO", logger="bot.http.pages.views_oidc"):
        resp = await oidc_login(stack, "/borger/log-ind/mitid", "uden", "substantial")
    await refused(resp, "no_cpr", 403)
    assert await _refusals(stack) == []
    assert "oidc login refused: no_cpr" in caplog.text
    assert await _count(stack, web_sessions) == 0


async def test_a_refused_caseworker_is_journalised_in_the_providers_municipality(
    make_stack: Factory,
) -> None:
    """A caseworker the municipality does not know: the reason lands in its journal."""
    b = await make_stack()
    resp = await oidc_login(b.stack, "/sagsbehandler/log-ind/oidc", "ukendt")
    await refused(resp, "unknown_staff", 403)
    assert await _refusals(b.stack) == [
        "Login afvist (kommunens login): ukendt medarbejder hos kommunens login"
    ]


def test_the_broker_tables_read_levels_and_cpr_numbers() -> None:
    """NSIS URIs, words and Idura URNs map to levels; a foreign eID or a missing CPR is refused."""
    generic, criipto = BROKERS["generic"], BROKERS["criipto"]
    # Before brokers were named, an Idura URN was read as "low".
    assert oidc.level_of({"acr": "urn:grn:authn:dk:mitid:substantial"}) == oidc.SUBSTANTIAL
    assert oidc.level_of({"loa": "https://data.gov.dk/concept/core/nsis/loa/High"}) == (
        oidc.SUBSTANTIAL
    )
    assert oidc.level_of({}, generic) == oidc.LOW  # the generic reading, as before
    with pytest.raises(OidcRefused, match="assurance"):
        oidc.level_of({}, criipto)  # Idura always sends one: its absence is wrong
    with pytest.raises(OidcRefused, match="assurance"):
        oidc.level_of({"loa": "medium"}, generic)
    assert oidc.cpr_of({"cprNumberIdentifier": "010180-1234"}, criipto) == "0101801234"
    with pytest.raises(OidcRefused, match="no_cpr"):
        oidc.cpr_of({"dk.cpr": "0101801234"}, criipto)
    with pytest.raises(OidcRefused, match="identity_scheme"):
        oidc.check_scheme({"identityscheme": "sebankid"}, criipto)
    oidc.check_scheme({"identityscheme": "dkmitid"}, criipto)


def test_the_broker_is_chosen_by_name(tmp_path: Path) -> None:
    """TOVHOLDER_OIDC_MITID_BROKER picks the table (idura is criipto); a typo refuses to start."""
    (tmp_path / "secret").write_text("s3cret\n")
    given = {
        "TOVHOLDER_OIDC_MITID_ISSUER": "https://broker.example",
        "TOVHOLDER_OIDC_MITID_CLIENT_ID": "c",
        "TOVHOLDER_OIDC_MITID_CLIENT_SECRET_FILE": str(tmp_path / "secret"),
    }
    default = OidcSettings.from_config(_config(**given)).mitid
    assert default is not None and default.broker == "generic"
    assert default.scope == "openid mitid ssn"  # as before
    idura = OidcSettings.from_config(_config(**given, TOVHOLDER_OIDC_MITID_BROKER="Idura")).mitid
    assert idura is not None and (idura.broker, idura.scope) == ("criipto", "openid ssn")
    with pytest.raises(ConfigError, match="TOVHOLDER_OIDC_MITID_BROKER"):
        OidcSettings.from_config(_config(**given, TOVHOLDER_OIDC_MITID_BROKER="nets"))
    with pytest.raises(ConfigError, match="START_LIMIT"):
        OidcSettings.from_config(_config(TOVHOLDER_OIDC_START_LIMIT="many"))
    assert OidcSettings.from_config(_config(TOVHOLDER_OIDC_START_LIMIT="5/60")).start_limit == (
        5,
        60.0,
    )


# -- the ID token's checks (joserfc) ------------------------------------------------------

_MITID = "/borger/log-ind/mitid?kommune=kbh"
_SIGNATURE_REFUSED = "Login afvist (MitID): ID-token ikke signeret med en nøgle fra udbyderens JWKS"


@pytest.mark.parametrize("fault", ["alg_none", "hs256_public"])
async def test_a_token_with_a_forbidden_algorithm_is_refused(
    make_stack: Factory, fault: str
) -> None:
    """alg "none", or HS256 keyed with the broker's public key: refused, on the record, nothing made."""
    b = await make_stack("criipto")
    stack = b.stack
    people = await _count(stack, persons)
    await _fault(b.mitid_idp, stack, {fault: True})
    await refused(await oidc_login(stack, _MITID, "anna", "substantial"), "signature")
    assert await _count(stack, web_sessions) == 0
    assert await _count(stack, persons) == people
    assert await _refusals(stack) == [_SIGNATURE_REFUSED]


async def test_a_rotated_key_fetches_the_jwks_once_more(make_stack: Factory) -> None:
    """The broker rotates its key: the new kid fetches the JWKS once, then the cache serves it."""
    b = await make_stack("signaturgruppen")
    stack = b.stack

    async def login() -> Any:
        stack.client.session.cookie_jar.clear()
        return await oidc_login(stack, _MITID, "anna", "substantial")

    assert (await login()).status == 303
    assert await _sim(b.mitid_idp, stack, "/_sim/jwks_fetches") == 1
    await _fault(b.mitid_idp, stack, {"rotate": True})
    assert (await login()).status == 303
    assert await _sim(b.mitid_idp, stack, "/_sim/jwks_fetches") == 2
    assert (await login()).status == 303  # the new key is cached now
    assert await _sim(b.mitid_idp, stack, "/_sim/jwks_fetches") == 2
    # A kid the fresh set does not have either: one more fetch, then refused.
    await _fault(b.mitid_idp, stack, {"unknown_kid": True})
    await refused(await login(), "signature")
    assert await _sim(b.mitid_idp, stack, "/_sim/jwks_fetches") == 3
    assert await _count(stack, web_sessions) == 3


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"aud": ["tovholder-mitid"]}, None),
        ({"aud": ["tovholder-mitid", "other-client"], "azp": "tovholder-mitid"}, None),
        ({"aud": ["tovholder-mitid", "other-client"]}, "audience"),  # several, no azp
        ({"aud": ["tovholder-mitid", "other-client"], "azp": "other-client"}, "audience"),
        ({"aud": ["other-client", "third-client"], "azp": "tovholder-mitid"}, "audience"),
    ],
)
async def test_an_audience_list_must_name_us_and_azp_when_it_names_others(
    make_stack: Factory, fault: dict[str, object], code: str | None
) -> None:
    """aud as a list: ours alone passes; with others, only with azp ours (OIDC Core 3.1.3.7)."""
    b = await make_stack("nemlogin")
    stack = b.stack
    await _fault(b.mitid_idp, stack, fault)
    resp = await oidc_login(stack, _MITID, "anna", "substantial")
    if code is None:
        assert resp.status == 303 and resp.headers["Location"] == "/borger/", await resp.text()
    else:
        await refused(resp, code)
        assert await _count(stack, web_sessions) == 0


@pytest.mark.parametrize(("offset", "accepted"), [(-30, True), (-61, False), (-3600, False)])
async def test_exp_in_the_past_is_refused_beyond_a_minute_of_leeway(
    make_stack: Factory, offset: int, accepted: bool
) -> None:
    """exp half a minute ago passes (clock skew); more than the minute of leeway is refused."""
    b = await make_stack("criipto")
    stack = b.stack
    await _fault(b.mitid_idp, stack, {"exp_offset": offset})
    resp = await oidc_login(stack, _MITID, "anna", "substantial")
    if accepted:
        assert resp.status == 303 and resp.headers["Location"] == "/borger/", await resp.text()
        return
    await refused(resp, "expired")
    assert await _count(stack, web_sessions) == 0
    assert await _refusals(stack) == ["Login afvist (MitID): ID-token udløbet"]


async def test_userinfo_for_another_subject_is_refused(make_stack: Factory) -> None:
    """Signaturgruppen's UserInfo naming another sub than the ID token: refused, on the record."""
    b = await make_stack("signaturgruppen")
    stack = b.stack
    people = await _count(stack, persons)
    await _fault(b.mitid_idp, stack, {"userinfo_sub": "m-someone-else"})
    await refused(await oidc_login(stack, _MITID, "anna", "substantial"), "userinfo", 400)
    assert await _count(stack, web_sessions) == 0
    assert await _count(stack, persons) == people
    assert await _refusals(stack) == [
        "Login afvist (MitID): brokerens brugeroplysninger (UserInfo) manglede eller passede "
        "ikke til ID-token"
    ]


# -- RP-initiated logout ----------------------------------------------------------------


async def _logout_at_provider(
    b: BrokerStack, page: str, action: str, idp: TestServer, back: str
) -> dict[str, list[str]]:
    """Log out from ``page``: our session ends; the browser goes to the provider and back."""
    stack = b.stack
    text = await (await stack.client.get(page)).text()
    assert f'action="{action}"' in text  # the page's logout button leads to the provider
    resp = await form_post(stack, page, action)
    assert resp.status == 200, await resp.text()
    # A page of ours refreshes to the provider (a form may not redirect off-site: CSP).
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', await resp.text())
    assert found
    target = html.unescape(found.group(1))
    assert target.startswith(str(idp.make_url("/logout")))
    async with stack.svc.read() as conn:
        ended = (await conn.execute(select(web_sessions.c.ended_at))).scalars().all()
    assert ended and all(e is not None for e in ended)  # ours ended before the provider's
    async with stack.session.get(target, allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == f"{stack.base}{back}?logget_ud=1"
    again = await stack.client.get(page, allow_redirects=False)
    assert again.status == 303  # no session left here
    return parse_qs(urlsplit(target).query)


async def test_caseworker_logout_ends_the_session_here_and_at_the_provider(
    make_stack: Factory,
) -> None:
    """Staff logout: session ended, then the end_session_endpoint with our id_token_hint."""
    b = await make_stack()
    stack = b.stack
    resp = await oidc_login(stack, "/sagsbehandler/log-ind/oidc", "mette")
    assert resp.status == 303
    q = await _logout_at_provider(
        b, "/sagsbehandler/", "/sagsbehandler/log-ud/oidc", b.staff_idp, "/sagsbehandler/log-ind"
    )
    assert q["client_id"] == ["tovholder-staff"]
    assert q["post_logout_redirect_uri"] == [f"{stack.base}/sagsbehandler/log-ind?logget_ud=1"]
    hint = jwt.decode(q["id_token_hint"][0], options={"verify_signature": False})
    assert (hint["sub"], hint["aud"]) == ("u-mette", "tovholder-staff")
    async with stack.session.get(str(b.staff_idp.make_url("/_sim/logouts"))) as r:
        assert [x["sub"] for x in await r.json()] == ["u-mette"]


async def test_family_logout_ends_the_mitid_session_at_the_broker(make_stack: Factory) -> None:
    """Citizen logout after MitID: session ended, then the broker's logout by client_id alone (the ID token names a CPR number: it never goes in a URL)."""
    b = await make_stack("nemlogin")
    stack = b.stack
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    assert resp.status == 303
    q = await _logout_at_provider(
        b, "/borger/", "/borger/log-ud/mitid", b.mitid_idp, "/borger/log-ind"
    )
    assert "id_token_hint" not in q
    assert q["client_id"] == ["tovholder-mitid"]


async def test_logout_without_an_end_session_endpoint_is_ours_alone(make_stack: Factory) -> None:
    """A provider without end_session_endpoint: the session ends and we land on our login page."""
    b = await make_stack(end_session=False)
    stack = b.stack
    assert (await oidc_login(stack, "/borger/log-ind/mitid", "anna", "substantial")).status == 303
    resp = await form_post(stack, "/borger/", "/borger/log-ud/mitid")
    assert resp.status == 303 and resp.headers["Location"] == "/borger/log-ind?logget_ud=1"
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(web_sessions.c.ended_at))).scalar_one() is not None


async def test_a_code_session_logs_out_here_only(make_stack: Factory) -> None:
    """An SMS-code session never went to the broker, so its logout does not either."""
    b = await make_stack()
    stack = b.stack
    resp = await form_post(
        stack, "/borger/log-ind", phone=stack.world.phones["anna"], municipality="kbh"
    )
    assert resp.status == 303
    code = await code_from_sms(stack, stack.world.phones["anna"])
    assert (await form_post(stack, "/borger/log-ind/kode", code=code)).status == 303
    resp = await form_post(stack, "/borger/", "/borger/log-ud/mitid")
    assert resp.status == 303 and resp.headers["Location"] == "/borger/log-ind?logget_ud=1"
    assert (await stack.client.get("/borger/", allow_redirects=False)).status == 303


# -- the start's rate limit ---------------------------------------------------------------


async def test_login_starts_are_rate_limited_per_address(make_stack: Factory) -> None:
    """Past the limit a start gets a plain Danish 429 and writes no flow row; later it may again."""
    b = await make_stack(TOVHOLDER_OIDC_START_LIMIT="3/300")
    stack = b.stack
    for path in ("/borger/log-ind/mitid", "/sagsbehandler/log-ind/oidc", "/borger/log-ind/mitid"):
        await start_login(stack, path)
    assert await _count(stack, web_oidc_flows) == 3
    resp = await stack.client.get("/borger/log-ind/mitid", allow_redirects=False)
    assert resp.status == 429
    assert "For mange forsøg" in await resp.text()
    assert 1 <= int(resp.headers["Retry-After"]) <= 301
    assert await _count(stack, web_oidc_flows) == 3
    stack.clock.advance(seconds=301)
    authorize = await start_login(stack, "/borger/log-ind/mitid")
    assert await _count(stack, web_oidc_flows) == 4
    # The start that was let through still logs in.
    callback = await idp_pick(stack.session, authorize, "anna", "substantial")
    assert (await stack.client.get(local(callback), allow_redirects=False)).status == 303


def test_the_start_limiter_counts_each_address_alone() -> None:
    """Two addresses have their own counts; old starts fall out of the window; memory is capped."""
    limiter = StartLimiter(limit=2, window=60.0, max_addresses=3)
    assert limiter.allow("10.0.0.1", 0) and limiter.allow("10.0.0.1", 1)
    assert not limiter.allow("10.0.0.1", 2)
    assert limiter.allow("10.0.0.2", 2)
    assert limiter.retry_after("10.0.0.1", 2) == 59
    assert limiter.allow("10.0.0.1", 61)
    for n in range(5):
        limiter.allow(f"192.0.2.{n}", 62)
    assert len(limiter._seen) == 3
