"""Logging in with OpenID Connect over real HTTP against the IdP simulator, on SQLite and PostgreSQL.

Caseworkers at the municipality's identity provider; citizens through a MitID
broker (level "substantial" unlocks sensitive messages, "low" does not); the
notice link from an SMS; and every refusal: a plain page, a stable code, no
session.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.base.config import Config, ConfigError
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.domain.identity import OidcSettings, link_staff, set_person_cpr
from bot.simulators.idp import IdpSimConfig, SimClient, SimIdentity, create_idp_app
from bot.store.schema.pages import web_sessions
from tests.harness import Stack, free_port, start_stack
from tests.web.conftest import FRIDAY_MORNING, code_from_sms, form_post

ANNA_CPR = "0101801234"
BO_CPR = "0202802345"
STAFF_SECRET = "staff-secret-with+plus:colon"
MITID_SECRET = "mitid-secret-0123456789"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_LINK = re.compile(r"http://127\.0\.0\.1:\d+(/b/[A-Za-z0-9_-]+)")


@dataclass
class OidcStack:
    stack: Stack
    staff_idp: TestServer
    mitid_idp: TestServer
    other_tenant_staff: str


def staff_identities() -> list[SimIdentity]:
    return [
        SimIdentity(
            "mette", "Mette Holm (Familieteam)", {"sub": "u-mette", "email": "Mette@KBH.example"}
        ),
        SimIdentity(
            "ukendt", "Ukendt medarbejder", {"sub": "u-nobody", "email": "nobody@kbh.example"}
        ),
        SimIdentity(
            "anden", "Medarbejder i anden kommune", {"sub": "u-other", "email": "ole@other.example"}
        ),
    ]


def mitid_identities() -> list[SimIdentity]:
    return [
        SimIdentity("anna", "Anna Andersen", {"sub": "m-anna", "dk.cpr": ANNA_CPR}),
        SimIdentity("bo", "Bo Bech", {"sub": "m-bo", "dk.cpr": BO_CPR}),
        SimIdentity("fremmed", "En, kommunen ikke kender", {"sub": "m-x", "dk.cpr": "3112999999"}),
    ]


def oidc_extra(tmp: Path, app_port: int, staff_port: int, mitid_port: int) -> dict[str, str]:
    (tmp / "staff.secret").write_text(STAFF_SECRET + "\n")
    (tmp / "mitid.secret").write_text(MITID_SECRET)
    return {
        "TOVHOLDER_WEB_LIVE_POLL": "0.2",
        "TOVHOLDER_OIDC_STAFF_ISSUER": f"http://127.0.0.1:{staff_port}",
        "TOVHOLDER_OIDC_STAFF_CLIENT_ID": "tovholder-staff",
        "TOVHOLDER_OIDC_STAFF_CLIENT_SECRET_FILE": str(tmp / "staff.secret"),
        "TOVHOLDER_OIDC_STAFF_TENANT": "kbh",
        "TOVHOLDER_OIDC_MITID_ISSUER": f"http://127.0.0.1:{mitid_port}",
        "TOVHOLDER_OIDC_MITID_CLIENT_ID": "tovholder-mitid",
        "TOVHOLDER_OIDC_MITID_CLIENT_SECRET_FILE": str(tmp / "mitid.secret"),
    }


def idp_apps(app_port: int, staff_port: int, mitid_port: int, clock: Any) -> tuple[Any, Any]:
    base = f"http://127.0.0.1:{app_port}"
    staff = create_idp_app(
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
        )
    )
    mitid = create_idp_app(
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
            identities=mitid_identities(),
            clock=clock,
        )
    )
    return staff, mitid


async def seed_identities(stack: Stack) -> str:
    """Mette and a caseworker of another municipality at the IdP; Anna's and Bo's CPR numbers."""
    svc, w = stack.svc, stack.world
    await link_staff(svc, staff_id=w.mette, login="mette@kbh.example")
    async with svc.write() as c:
        t = await create_tenant(
            c, svc, slug="other", name="Anden Kommune", sms_number="+4533123456"
        )
        a = await create_administration(c, svc, tenant_id=t, name="Børn")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Team")
        ole = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="Ole", full_name="Ole Olsen"
        )
    await link_staff(svc, staff_id=ole, login="ole@other.example")
    await set_person_cpr(svc, person_id=w.persons["anna"], cpr=ANNA_CPR)
    await set_person_cpr(svc, person_id=w.persons["bo"], cpr=BO_CPR)
    return ole


@pytest.fixture
async def ostack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes], tmp_path: Path
) -> AsyncIterator[OidcStack]:
    app_port, staff_port, mitid_port = free_port(), free_port(), free_port()
    clock_box: dict[str, Any] = {}
    staff_app, mitid_app = idp_apps(
        app_port, staff_port, mitid_port, lambda: clock_box["clock"].now().timestamp()
    )
    staff_idp = await aiohttp_server(staff_app, port=staff_port)
    mitid_idp = await aiohttp_server(mitid_app, port=mitid_port)
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        port=app_port,
        extra=oidc_extra(tmp_path, app_port, staff_port, mitid_port),
    )
    clock_box["clock"] = s.clock
    try:
        other = await seed_identities(s)
        yield OidcStack(s, staff_idp, mitid_idp, other)
    finally:
        await s.session.close()


async def _sessions(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(web_sessions))).scalar_one()
        )


async def idp_pick(
    session: ClientSession,
    authorize_url: str,
    identity: str,
    level: str | None = None,
    action: str = "login",
) -> str:
    """At the simulator: open the authorize page, pick an identity; the callback URL it sends back."""
    async with session.get(authorize_url) as resp:
        assert resp.status == 200, await resp.text()
        page = await resp.text()
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}
    fields.update(identity=identity, action=action)
    if level is not None:
        fields["level"] = level
    async with session.post(
        str(resp.url.with_path("/authorize").with_query(None)), data=fields, allow_redirects=False
    ) as answer:
        assert answer.status == 303, await answer.text()
        return answer.headers["Location"]


async def start_login(stack: Stack, path: str) -> str:
    resp = await stack.client.get(path, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return resp.headers["Location"]


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


async def oidc_login(
    stack: Stack, start: str, identity: str, level: str | None = None
) -> ClientResponse:
    """The whole round trip: our start URL → the simulator → our callback (not followed)."""
    callback = await idp_pick(stack.session, await start_login(stack, start), identity, level)
    return await stack.client.get(local(callback), allow_redirects=False)


async def refused(resp: ClientResponse, code: str, status: int = 400) -> None:
    text = await resp.text()
    assert resp.status == status, (resp.status, text[:500])
    assert f'data-error-code="{code}"' in text, text[:2000]
    assert "Du blev ikke logget ind" in text


async def _sensitive_reply(stack: Stack, body: str) -> tuple[str, str]:
    """Mette answers Anna with sensitive content: (the conversation id, the notice link path)."""
    await stack.sms(stack.world.phones["anna"], "Hej, er der nyt?")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    conv = str(items[0]["id"])
    await stack.drain()
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": body, "sensitive": True}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    sms = (await stack.sent_to(stack.world.phones["anna"]))[-1]
    assert body not in sms
    found = _LINK.search(sms)
    assert found, sms
    return conv, found.group(1)


# -- caseworkers -------------------------------------------------------------------


async def test_staff_login_at_the_municipality_idp_reaches_the_inbox(ostack: OidcStack) -> None:
    """Mette logs in at the identity provider (e-mail in any case) and lands on her inbox."""
    stack = ostack.stack
    page = await (await stack.client.get("/sagsbehandler/log-ind")).text()
    assert "Log ind med kommunens login" in page
    authorize = await start_login(stack, "/sagsbehandler/log-ind/oidc?next=/sagsbehandler/")
    q = parse_qs(urlsplit(authorize).query)
    assert q["code_challenge_method"] == ["S256"] and q["response_type"] == ["code"]
    assert len(q["state"][0]) >= 32 and len(q["nonce"][0]) >= 32
    callback = await idp_pick(stack.session, authorize, "mette")
    resp = await stack.client.get(local(callback), allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/sagsbehandler/"
    inbox = await stack.client.get("/sagsbehandler/")
    assert inbox.status == 200 and "Mette" in await inbox.text()
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(web_sessions))).one()
    assert (row.kind, row.stage, row.assurance, row.staff_id) == (
        "staff",
        "full",
        "oidc",
        stack.world.mette,
    )
    # Logging out ends the session on the server.
    resp = await form_post(stack, "/sagsbehandler/", "/sagsbehandler/log-ud")
    assert resp.status == 303
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(web_sessions.c.ended_at))).scalar_one() is not None
    again = await stack.client.get("/sagsbehandler/", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"].startswith("/sagsbehandler/log-ind")


async def test_unknown_and_other_tenants_caseworkers_are_refused(ostack: OidcStack) -> None:
    """An identity we do not know, or another municipality's caseworker: refused, no session."""
    stack = ostack.stack
    for who in ("ukendt", "anden"):
        resp = await oidc_login(stack, "/sagsbehandler/log-ind/oidc", who)
        await refused(resp, "unknown_staff", 403)
        assert "ole" not in (await resp.text()).lower()
    assert await _sessions(stack) == 0
    assert (await stack.client.get("/sagsbehandler/", allow_redirects=False)).status == 303


# -- the refusals -----------------------------------------------------------------


async def test_a_state_from_elsewhere_is_refused(ostack: OidcStack) -> None:
    """A callback whose state is not this browser's (or is unknown) is refused before any exchange."""
    stack = ostack.stack
    callback = await idp_pick(
        stack.session, await start_login(stack, "/sagsbehandler/log-ind/oidc"), "mette"
    )
    forged = re.sub(r"state=[^&]+", "state=forged-state-value", local(callback))
    await refused(await stack.client.get(forged, allow_redirects=False), "state")
    # The cookie went with the refusal, so the real callback is not accepted either.
    await refused(await stack.client.get(local(callback), allow_redirects=False), "state")
    assert await _sessions(stack) == 0
    issued = await stack.session.get(str(ostack.staff_idp.make_url("/_sim/issued")))
    assert await issued.json() == []  # the code was never exchanged


async def test_a_code_is_used_once(ostack: OidcStack) -> None:
    """The same callback twice is refused; an old code in a new flow is refused by the provider."""
    stack = ostack.stack
    callback = await idp_pick(
        stack.session, await start_login(stack, "/sagsbehandler/log-ind/oidc"), "mette"
    )
    assert (await stack.client.get(local(callback), allow_redirects=False)).status == 303
    await refused(await stack.client.get(local(callback), allow_redirects=False), "state")
    old_code = parse_qs(urlsplit(callback).query)["code"][0]
    stack.client.session.cookie_jar.clear()
    authorize = await start_login(stack, "/sagsbehandler/log-ind/oidc")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    replay = f"/sagsbehandler/log-ind/oidc/svar?code={old_code}&state={state}"
    await refused(await stack.client.get(replay, allow_redirects=False), "token")
    assert await _sessions(stack) == 1  # only the first login


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"nonce": "someone-elses-nonce"}, "nonce"),
        ({"aud": "another-client"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"expired": True}, "expired"),
        ({"foreign_key": True}, "signature"),
    ],
)
async def test_a_bad_id_token_is_refused(
    ostack: OidcStack, fault: dict[str, object], code: str
) -> None:
    """Wrong nonce, audience or issuer, an expired token, another key's signature: refused."""
    stack = ostack.stack
    async with stack.session.post(str(ostack.staff_idp.make_url("/_sim/faults")), json=fault) as r:
        assert r.status == 200
    await refused(await oidc_login(stack, "/sagsbehandler/log-ind/oidc", "mette"), code)
    assert await _sessions(stack) == 0


async def test_cancel_at_the_provider(ostack: OidcStack) -> None:
    """Cancelling at the provider comes back as a plain "you cancelled" page."""
    stack = ostack.stack
    authorize = await start_login(stack, "/borger/log-ind/mitid")
    callback = await idp_pick(stack.session, authorize, "anna", action="cancel")
    resp = await stack.client.get(local(callback), allow_redirects=False)
    await refused(resp, "cancelled")
    assert "Du afbrød login" in await resp.text()


# -- citizens and the notice link --------------------------------------------------


async def test_notice_link_then_mitid_substantial_shows_the_sensitive_message(
    ostack: OidcStack,
) -> None:
    """The SMS link leads to the login; MitID at "substantial" lands on the message, readable."""
    stack = ostack.stack
    body = "Vi har modtaget lægens udtalelse om din søns diagnose."
    conv, link = await _sensitive_reply(stack, body)
    resp = await stack.client.get(link, allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/borger/log-ind?kommune=kbh&besked=1"
    page = await (await stack.client.get(resp.headers["Location"])).text()
    assert "Log ind med MitID" in page and "følsomme oplysninger" in page
    # The link is spent: a second visit gets the plain way in.
    again = await stack.client.get(link, allow_redirects=False)
    assert again.headers["Location"] == "/borger/log-ind?link=brugt"
    resp = await oidc_login(stack, "/borger/log-ind/mitid?kommune=kbh", "anna", "substantial")
    assert resp.status == 303 and resp.headers["Location"] == f"/borger/samtaler/{conv}"
    thread = await stack.client.get(f"/borger/samtaler/{conv}")
    text = await thread.text()
    assert thread.status == 200 and "diagnose" in text
    assert "kræver login med MitID" not in text
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(web_sessions))).one()
    assert (row.kind, row.assurance, row.person_id) == (
        "citizen",
        "substantial",
        stack.world.persons["anna"],
    )


async def test_mitid_low_hides_the_sensitive_message_and_says_why(ostack: OidcStack) -> None:
    """MitID at "low" gets the lower level: the message is hidden and the page says how to see it."""
    stack = ostack.stack
    conv, link = await _sensitive_reply(stack, "Lægens udtalelse om diagnosen er kommet.")
    await stack.client.get(link, allow_redirects=False)
    resp = await oidc_login(stack, "/borger/log-ind/mitid", "anna", "low")
    assert resp.status == 303 and resp.headers["Location"] == f"/borger/samtaler/{conv}"
    text = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "diagnose" not in text
    assert "kræver login med MitID" in text
    assert "lavt sikringsniveau" in text
    assert "Hej, er der nyt?" in text  # what also went by SMS is still there


async def test_code_login_after_notice_link_explains_mitid(ostack: OidcStack) -> None:
    """After the SMS link and an SMS code, the inbox says to log in with MitID to see the message."""
    stack = ostack.stack
    conv, link = await _sensitive_reply(stack, "Lægens udtalelse om diagnosen er kommet.")
    await stack.client.get(link, allow_redirects=False)
    resp = await form_post(
        stack, "/borger/log-ind", phone=stack.world.phones["anna"], municipality="kbh"
    )
    assert resp.status == 303, await resp.text()
    code = await code_from_sms(stack, stack.world.phones["anna"])
    resp = await form_post(stack, "/borger/log-ind/kode", code=code)
    assert resp.status == 303
    inbox = await (await stack.client.get("/borger/")).text()
    assert "Log ind med MitID for at se beskeden" in inbox
    assert 'href="/borger/log-ind/mitid"' in inbox
    thread = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "diagnose" not in thread and "kræver login med MitID" in thread
    # Then MitID at "substantial" from the inbox lands on the message.
    resp = await oidc_login(stack, "/borger/log-ind/mitid", "anna", "substantial")
    assert resp.headers["Location"] == f"/borger/samtaler/{conv}"
    assert "diagnose" in await (await stack.client.get(f"/borger/samtaler/{conv}")).text()


async def test_mitid_sees_only_the_persons_own_threads(ostack: OidcStack) -> None:
    """Bo, by MitID, sees his threads and not Anna's; an unknown CPR number is refused."""
    stack = ostack.stack
    conv, _link = await _sensitive_reply(stack, "Følsomt til Anna om diagnosen.")
    resp = await oidc_login(stack, "/borger/log-ind/mitid", "bo", "substantial")
    assert resp.status == 303 and resp.headers["Location"] == "/borger/"
    assert (await stack.client.get(f"/borger/samtaler/{conv}")).status == 404
    stack.client.session.cookie_jar.clear()
    await refused(
        await oidc_login(stack, "/borger/log-ind/mitid", "fremmed", "substantial"),
        "unknown_person",
        403,
    )
    async with stack.svc.read() as conn:
        kinds = (await conn.execute(select(web_sessions.c.person_id))).scalars().all()
    assert kinds == [stack.world.persons["bo"]]


# -- the simulator and the configuration -----------------------------------------------


async def test_token_endpoint_checks_client_and_pkce(ostack: OidcStack) -> None:
    """The simulator refuses a wrong client secret and a wrong PKCE verifier, like a real provider."""
    stack = ostack.stack
    authorize = await start_login(stack, "/sagsbehandler/log-ind/oidc")
    callback = await idp_pick(stack.session, authorize, "mette")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    token_url = str(ostack.staff_idp.make_url("/token"))
    redirect_uri = f"{stack.base}/sagsbehandler/log-ind/oidc/svar"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    async with stack.session.post(
        token_url, data={**form, "client_id": "tovholder-staff", "client_secret": "wrong"}
    ) as r:
        assert r.status == 401 and (await r.json())["error"] == "invalid_client"
    async with stack.session.post(
        token_url,
        data={
            **form,
            "client_id": "tovholder-staff",
            "client_secret": STAFF_SECRET,
            "code_verifier": "x" * 50,
        },
    ) as r:
        assert r.status == 400 and (await r.json())["error"] == "invalid_grant"
    async with stack.session.get(
        str(ostack.staff_idp.make_url("/authorize")),
        params={"client_id": "tovholder-staff", "redirect_uri": "https://evil.example/cb"},
    ) as r:
        assert r.status == 400  # never redirects to an unregistered address


def _config(**extra: str) -> Config:
    return Config(
        database_url="sqlite+aiosqlite:///:memory:",
        public_base_url="https://tovholder.example",
        keks=(),
        index_key=b"",
        twilio=None,
        extra=extra,
    )


def test_half_configuration_refuses_to_start(tmp_path: Path) -> None:
    """Issuer without client, a missing secret file, plain http to a remote host: refused."""
    assert OidcSettings.from_config(_config()) == OidcSettings()
    with pytest.raises(ConfigError, match="half configured"):
        OidcSettings.from_config(_config(TOVHOLDER_OIDC_MITID_ISSUER="https://broker.example"))
    with pytest.raises(ConfigError, match="half configured"):
        OidcSettings.from_config(
            _config(
                TOVHOLDER_OIDC_STAFF_ISSUER="https://idp.example",
                TOVHOLDER_OIDC_STAFF_CLIENT_ID="c",
                TOVHOLDER_OIDC_STAFF_CLIENT_SECRET="s",
            )
        )  # no TOVHOLDER_OIDC_STAFF_TENANT
    with pytest.raises(ConfigError, match="cannot be read"):
        OidcSettings.from_config(
            _config(
                TOVHOLDER_OIDC_MITID_ISSUER="https://broker.example",
                TOVHOLDER_OIDC_MITID_CLIENT_ID="c",
                TOVHOLDER_OIDC_MITID_CLIENT_SECRET_FILE=str(tmp_path / "missing"),
            )
        )
    with pytest.raises(ConfigError, match="https"):
        OidcSettings.from_config(
            _config(
                TOVHOLDER_OIDC_MITID_ISSUER="http://broker.example",
                TOVHOLDER_OIDC_MITID_CLIENT_ID="c",
                TOVHOLDER_OIDC_MITID_CLIENT_SECRET="s",
            )
        )
    (tmp_path / "secret").write_text("s3cret\n")
    ok = OidcSettings.from_config(
        _config(
            TOVHOLDER_OIDC_MITID_ISSUER="https://broker.example/op/",
            TOVHOLDER_OIDC_MITID_CLIENT_ID="c",
            TOVHOLDER_OIDC_MITID_CLIENT_SECRET_FILE=str(tmp_path / "secret"),
        )
    )
    assert ok.mitid is not None and ok.mitid.client_secret == "s3cret"
    assert ok.mitid.issuer == "https://broker.example/op" and ok.staff is None


async def test_login_pages_show_oidc_buttons_only_when_configured(stack: Stack) -> None:
    """Without configuration the login pages have no OIDC buttons, and the start URLs are 404."""
    assert "kommunens login" not in await (await stack.client.get("/sagsbehandler/log-ind")).text()
    assert "MitID" not in await (await stack.client.get("/borger/log-ind")).text()
    for path in ("/sagsbehandler/log-ind/oidc", "/borger/log-ind/mitid"):
        assert (await stack.client.get(path, allow_redirects=False)).status == 404


async def test_notice_link_while_logged_in_by_code(ostack: OidcStack) -> None:
    """Logged in by SMS code, the link opens the thread with the explanation; MitID then shows it."""
    stack = ostack.stack
    conv, link = await _sensitive_reply(stack, "Lægens udtalelse om diagnosen er kommet.")
    resp = await form_post(
        stack, "/borger/log-ind", phone=stack.world.phones["anna"], municipality="kbh"
    )
    assert resp.status == 303
    code = await code_from_sms(stack, stack.world.phones["anna"])
    assert (await form_post(stack, "/borger/log-ind/kode", code=code)).status == 303
    resp = await stack.client.get(link, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/borger/samtaler/{conv}"
    text = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "diagnose" not in text and "Log ind med MitID for at se beskeden" in text
    resp = await oidc_login(stack, "/borger/log-ind/mitid", "anna", "substantial")
    assert resp.headers["Location"] == f"/borger/samtaler/{conv}"
    assert "diagnose" in await (await stack.client.get(f"/borger/samtaler/{conv}")).text()


async def test_provider_down_is_a_plain_page(ostack: OidcStack) -> None:
    """When the broker does not answer, the login says so (502), and nothing is stored."""
    stack = ostack.stack
    await ostack.mitid_idp.close()
    resp = await stack.client.get("/borger/log-ind/mitid", allow_redirects=False)
    await refused(resp, "unavailable", 502)
    assert "Login-tjenesten svarer ikke" in await resp.text()
    assert await _sessions(stack) == 0


async def test_the_case_system_registers_logins_and_cpr_through_the_api(ostack: OidcStack) -> None:
    """A caseworker created with a login, and a person created with a CPR number, can then log in."""
    import uuid

    from bot.domain.integration.credentials import SCOPES, issue_key
    from bot.store.schema.oidc import web_person_cpr

    stack = ostack.stack
    svc = stack.svc
    async with svc.write() as conn:
        _kid, key = await issue_key(
            conn, tenant_id=stack.world.tenant_id, label="esdh", scopes=SCOPES, at=svc.clock.now()
        )

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await stack.client.post(
            path,
            json=body,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert resp.status == 201, await resp.text()
        result: dict[str, Any] = await resp.json()
        return result

    # Before: both are strangers to Tovholder.
    await refused(
        await oidc_login(stack, "/borger/log-ind/mitid", "fremmed", "substantial"),
        "unknown_person",
        403,
    )
    stack.client.session.cookie_jar.clear()
    staff_row = await post(
        "/api/v1/staff",
        {
            "team_id": stack.world.team_children,
            "first_name": "Nina",
            "full_name": "Nina Nielsen",
            "login": "nobody@kbh.example",
        },
    )
    person = await post("/api/v1/persons", {"name": "Frida Fremmed", "cpr": "311299-9999"})
    assert "cpr" not in person and "3112999999" not in json.dumps(person)
    async with svc.read() as conn:
        stored = (await conn.execute(select(web_person_cpr))).all()
    assert all(b"3112999999" not in bytes(r.cpr_enc) for r in stored)

    resp = await oidc_login(stack, "/borger/log-ind/mitid", "fremmed", "substantial")
    assert resp.status == 303 and resp.headers["Location"] == "/borger/", await resp.text()
    stack.client.session.cookie_jar.clear()
    resp = await oidc_login(stack, "/sagsbehandler/log-ind/oidc?next=/sagsbehandler/", "ukendt")
    assert resp.status == 303 and resp.headers["Location"] == "/sagsbehandler/"
    async with svc.read() as conn:
        who = (
            await conn.execute(
                select(web_sessions.c.person_id, web_sessions.c.staff_id).order_by(
                    web_sessions.c.created_at
                )
            )
        ).all()
    assert {(r.person_id, r.staff_id) for r in who} == {
        (person["id"], None),
        (None, staff_row["id"]),
    }

    bad = await stack.client.post(
        "/api/v1/persons",
        json={"name": "X", "cpr": "12345"},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad.status == 400


async def test_a_code_login_sees_where_the_meeting_is_as_mitid_does(ostack: OidcStack) -> None:
    """By SMS code Anna sees her meeting and its place (the reminder SMS to her phone names
    it), with no "log in with MitID to see where" link; by MitID ("substantial") the same."""
    stack = ostack.stack
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår ses vi?")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/appointments",
        json={"starts_at": "2025-03-04T10:00:00+01:00", "place": "Rådhuset, lokale 12"},
    )
    assert resp.status == 201, await resp.text()
    resp = await form_post(
        stack, "/borger/log-ind", phone=stack.world.phones["anna"], municipality="kbh"
    )
    assert resp.status == 303, await resp.text()
    code = await code_from_sms(stack, stack.world.phones["anna"])
    assert (await form_post(stack, "/borger/log-ind/kode", code=code)).status == 303
    hint = "Log ind med MitID for at se, hvor mødet er."
    page = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Møde tirsdag den 4. marts kl. 10:00–11:00" in page
    assert "Sted: <bdi>Rådhuset, lokale 12</bdi>" in page and hint not in page
    resp = await oidc_login(stack, "/borger/log-ind/mitid", "anna", "substantial")
    assert resp.status == 303, await resp.text()
    page = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "Sted: <bdi>Rådhuset, lokale 12</bdi>" in page and hint not in page
