"""The running stack for end-to-end tests: Tovholder + the Twilio simulator over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.config import Config, TwilioConfig
from bot.base.services import Services
from bot.domain.conversations import issue_token
from bot.domain.directory import (
    add_participant,
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.domain.outbox import RelayStats, drain, relay_once
from bot.simulators import SimulatorConfig, create_simulator_app
from tests.fakes.clock import FakeClock

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-" + "x" * 16
MUNICIPALITY = "+4533663366"

_sids = itertools.count(1)


_GIVEN: set[int] = set()


def free_port() -> int:
    """A free port below Linux's ephemeral range, so no outgoing connection takes it meanwhile.

    Never one this process handed out before: several ports asked for in a row
    (an app and its simulators) are distinct, and a server an earlier test left
    closing cannot collide with a new one.
    """
    for _ in range(200):
        port = random.randrange(20000, 32000)
        if port in _GIVEN:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise RuntimeError("no free port")


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


METRICS_TOKEN = "test-metrics-token"


def make_config(
    database_url: str, keys: dict[str, bytes], *, port: int, sim_url: str, **overrides: Any
) -> Config:
    config = Config(
        database_url=database_url,
        public_base_url=f"http://127.0.0.1:{port}",
        keks=(keys["kek"],),
        index_key=keys["index"],
        twilio=TwilioConfig(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=sim_url, timeout=10.0
        ),
        port=port,
        scheduler_enabled=False,
        extra={"TOVHOLDER_METRICS_TOKEN": METRICS_TOKEN, **overrides.pop("extra", {})},
    )
    config = config.with_(**overrides)
    # The journal signs every head it moves (journal.signing): a key for this test session.
    extra = {"TOVHOLDER_JOURNAL_SIGNING_KEY": keys.get("signing", keys["kek"]).hex()}
    return config.with_(extra={**extra, **config.extra}).validate()


@dataclass
class World:
    """The seeded municipality: ids, numbers and tokens the tests talk about."""

    tenant_id: str = ""
    admin_children: str = ""
    admin_jobs: str = ""
    team_children: str = ""
    team_jobs: str = ""
    mette: str = ""
    lars: str = ""
    hanne: str = ""
    sofie: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)


async def seed_world(svc: Services) -> World:
    """One municipality, two administrations, three staff, families in several shapes."""
    w = World()
    now = svc.clock.now()
    async with svc.write() as c:
        w.tenant_id = await create_tenant(
            c, svc, slug="kbh", name="Københavns Kommune", sms_number=MUNICIPALITY
        )
        w.admin_children = await create_administration(
            c, svc, tenant_id=w.tenant_id, name="Børn og Familie"
        )
        w.admin_jobs = await create_administration(c, svc, tenant_id=w.tenant_id, name="Jobcenter")
        w.team_children = await create_team(
            c,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_children,
            name="Team Nord",
            reply_days=2,
        )
        w.team_jobs = await create_team(
            c,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_jobs,
            name="Team Ydelse",
            reply_days=3,
        )
        w.mette = await create_staff(
            c,
            svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Mette",
            full_name="Mette Holm",
        )
        w.lars = await create_staff(
            c,
            svc,
            tenant_id=w.tenant_id,
            team_id=w.team_jobs,
            first_name="Lars",
            full_name="Lars Berg",
        )
        w.hanne = await create_staff(
            c,
            svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Hanne",
            full_name="Hanne Lund",
            role="lead",
        )
        w.sofie = await create_staff(
            c,
            svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Sofie",
            full_name="Sofie Dahl",
        )
        for name, sid in (
            ("mette", w.mette),
            ("lars", w.lars),
            ("hanne", w.hanne),
            ("sofie", w.sofie),
        ):
            w.tokens[name] = await issue_token(
                c, staff_id=sid, tenant_id=w.tenant_id, label="test", at=now
            )
        w.phones = {
            "anna": "+4520123401",
            "bo": "+4520123402",
            "shared_split": "+4520123403",
            "shared_same": "+4520123404",
        }
        people = [
            ("anna", "Anna Andersen", "Anna", w.phones["anna"]),
            ("bo", "Bo Bech", "Bo", w.phones["bo"]),
            ("carl", "Carl Carlsen", "Carl", w.phones["shared_split"]),
            ("dorte", "Dorte Carlsen", "Dorte", w.phones["shared_split"]),
            ("eva", "Eva Eriksen", "Eva", w.phones["shared_same"]),
            ("frank", "Frank Eriksen", "Frank", w.phones["shared_same"]),
        ]
        for key, name, first, phone in people:
            w.persons[key] = await create_person(
                c, svc, tenant_id=w.tenant_id, name=name, first_name=first, phone=phone
            )

        async def case(key: str, number: str, admin: str, team: str, owner: str) -> str:
            w.cases[key] = await create_case(
                c,
                svc,
                tenant_id=w.tenant_id,
                administration_id=admin,
                team_id=team,
                owner_id=owner,
                number=number,
            )
            return w.cases[key]

        await case("anna", "2025-001", w.admin_children, w.team_children, w.mette)
        await case("bo_children", "2025-002", w.admin_children, w.team_children, w.mette)
        await case("bo_jobs", "2025-003", w.admin_jobs, w.team_jobs, w.lars)
        await case("carl", "2025-004", w.admin_children, w.team_children, w.mette)
        await case("dorte", "2025-005", w.admin_jobs, w.team_jobs, w.lars)
        await case("eriksen", "2025-006", w.admin_children, w.team_children, w.mette)
        for person, case_key, role in (
            ("anna", "anna", "party"),
            ("bo", "bo_children", "parent"),
            ("bo", "bo_jobs", "party"),
            ("carl", "carl", "party"),
            ("dorte", "dorte", "party"),
            ("eva", "eriksen", "parent"),
            ("frank", "eriksen", "parent"),
        ):
            await add_participant(
                c,
                svc,
                tenant_id=w.tenant_id,
                case_id=w.cases[case_key],
                person_id=w.persons[person],
                role=role,
            )
    return w


async def foreign_case(conn: Any, svc: Services, *, number: str) -> str:
    """A case in a second municipality (Aarhus): the id a refusal test reaches for."""
    other = await create_tenant(conn, svc, slug="aar", name="Aarhus", sms_number="+4533123456")
    admin = await create_administration(conn, svc, tenant_id=other, name="Børn")
    team = await create_team(conn, svc, tenant_id=other, administration_id=admin, name="T")
    owner = await create_staff(
        conn, svc, tenant_id=other, team_id=team, first_name="O", full_name="O O"
    )
    return await create_case(
        conn,
        svc,
        tenant_id=other,
        administration_id=admin,
        team_id=team,
        owner_id=owner,
        number=number,
    )


async def annas_second_case(conn: Any, svc: Services, w: World) -> str:
    """A second open case of Anna's with Mette (2025-101): where a misfiled SMS belongs."""
    case_id = await create_case(
        conn,
        svc,
        tenant_id=w.tenant_id,
        administration_id=w.admin_children,
        team_id=w.team_children,
        owner_id=w.mette,
        number="2025-101",
    )
    await add_participant(
        conn, svc, tenant_id=w.tenant_id, case_id=case_id, person_id=w.persons["anna"], role="party"
    )
    return case_id


async def seed_families(svc: Services, w: World, n: int, *, one_case: bool = False) -> list[str]:
    """``n`` more citizens, a phone each, each with an open case with Mette (or all on one).

    Returns:
        Their phone numbers.
    """
    phones = [f"+4520124{i:03d}" for i in range(n)]
    async with svc.write() as c:
        shared = None
        for i, phone in enumerate(phones):
            person = await create_person(
                c,
                svc,
                tenant_id=w.tenant_id,
                name=f"Borger {i}",
                first_name=f"Borger{i}",
                phone=phone,
            )
            case = shared
            if case is None:
                case = await create_case(
                    c,
                    svc,
                    tenant_id=w.tenant_id,
                    administration_id=w.admin_children,
                    team_id=w.team_children,
                    owner_id=w.mette,
                    number=f"2025-9{i:03d}",
                )
                if one_case:
                    shared = case
            await add_participant(
                c,
                svc,
                tenant_id=w.tenant_id,
                case_id=case,
                person_id=person,
                role="parent" if one_case else "party",
            )
    return phones


@dataclass
class Stack:
    client: TestClient[Any, Any]
    sim: TestServer
    session: ClientSession
    svc: Services
    clock: FakeClock
    config: Config
    world: World

    @property
    def base(self) -> str:
        return self.config.public_base_url

    async def sms(
        self,
        sender: str,
        body: str,
        *,
        sid: str | None = None,
        to: str = MUNICIPALITY,
        extra: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> ClientResponse:
        """POST an inbound webhook exactly as Twilio would, signed by Twilio's own validator."""
        params = {
            "ToCountry": "DK",
            "ToState": "",
            "SmsMessageSid": sid or message_sid(),
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": "",
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "DK",
            "To": to,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": "",
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"]
        params.update(extra or {})
        url = f"{self.base}/webhooks/twilio/sms"
        sig = (
            signature
            if signature is not None
            else RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        )
        return await self.client.post(
            "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}
        )

    async def relay(self) -> RelayStats:
        return await relay_once(self.svc)

    async def drain(self) -> int:
        return await drain(self.svc)

    async def settle(self) -> None:
        """Wait (10 s at most) until the gateway simulator has posted every report it owes.

        A report journalises ("SMS leveret"), so a test that counts rows waits first.
        """
        async with asyncio.timeout(10):
            while True:
                async with self.session.get(str(self.sim.make_url("/_sim/busy"))) as resp:
                    if (await resp.json())["tasks"] == 0:
                        return
                await asyncio.sleep(0.02)

    async def sent(self) -> list[dict[str, Any]]:
        """What the simulated gateway has been asked to send."""
        async with self.session.get(str(self.sim.make_url("/_sim/messages"))) as resp:
            data = await resp.json()
        return list(data if isinstance(data, list) else data.get("messages", data.get("items", [])))

    async def sent_to(self, number: str) -> list[str]:
        return [m["body"] for m in await self.sent() if m["to"] == number]

    async def api(self, method: str, path: str, who: str = "mette", **kw: Any) -> ClientResponse:
        headers = dict(kw.pop("headers", {}))
        if who:
            headers["Authorization"] = f"Bearer {self.world.tokens[who]}"
        return await self.client.request(method, path, headers=headers, **kw)

    async def faults(self, **faults: Any) -> None:
        async with self.session.post(str(self.sim.make_url("/_sim/faults")), json=faults) as resp:
            assert resp.status in (200, 204), await resp.text()


async def start_stack(
    aiohttp_client: Any,
    aiohttp_server: Any,
    db_url: str,
    keys: dict[str, bytes],
    *,
    start: datetime,
    seed: bool = True,
    port: int | None = None,
    **overrides: Any,
) -> Stack:
    port = port or free_port()
    sim_app = create_simulator_app(
        SimulatorConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            inbound_webhook_url=f"http://127.0.0.1:{port}/webhooks/twilio/sms",
            status_delay=0.01,
        )
    )
    sim = await aiohttp_server(sim_app)
    clock = FakeClock(start)
    config = make_config(
        db_url, keys, port=port, sim_url=str(sim.make_url("")).rstrip("/"), **overrides
    )
    app = create_app(
        config, clock=clock, engine_options={"pool_size": 4} if "postgres" in db_url else None
    )
    server = await aiohttp_server(app, port=port)
    client = await aiohttp_client(server)
    svc = app[SERVICES]
    world = await seed_world(svc) if seed else World()
    session = ClientSession()
    stack = Stack(
        client=client, sim=sim, session=session, svc=svc, clock=clock, config=config, world=world
    )
    return stack
