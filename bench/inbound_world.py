"""The inbound benchmark's world: one seeded municipality, and the signed webhooks it receives.

Shared by the full run (``bench.inbound``) and its on/off comparisons
(``bench.inbound_compare``).
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import phonenumbers
from aiohttp import web

from bench.common import Prepared
from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.config import Config, TwilioConfig
from bot.base.crypto import new_key_text, parse_key
from bot.domain.directory import (
    add_participant,
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.store.engine import make_engine, upgrade
from channels.twilio import compute_signature

MUNICIPALITY = "+4533663366"
PATH = "/webhooks/twilio/sms"

BODIES = (
    "Hej, jeg kan ikke komme til mødet på torsdag. Kan vi flytte det?",
    "Tak for beskeden.",
    "Hvornår hører jeg noget om min ansøgning?",
    "Min søn er syg i dag, så vi kommer ikke.",
    "Jeg har sendt lægeerklæringen med posten i går. Har I fået den?",
    "Ok",
    "Kan du ringe til mig efter kl. 14? Jeg er på arbejde indtil da.",
)


@dataclass(frozen=True)
class Secrets:
    kek: str
    index_key: str
    account_sid: str
    auth_token: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls(
            kek=new_key_text(),
            index_key=new_key_text(),
            account_sid="AC" + secrets.token_hex(16),
            auth_token=secrets.token_hex(16),
        )


async def migrate_and_seed(
    db_url: str, keys: Secrets, citizens: int, rng: random.Random
) -> list[str]:
    """Migrate, then seed one municipality; return the citizens' phone numbers."""
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = create_app(app_config(db_url, keys, "http://127.0.0.1:9"))
    runner = web.AppRunner(app)
    await runner.setup()
    phones = _phone_numbers(citizens, rng)
    try:
        svc = app[SERVICES]
        async with svc.write() as c:
            tenant = await create_tenant(
                c, svc, slug="bench", name="Benchmark Kommune", sms_number=MUNICIPALITY
            )
            teams: list[tuple[str, str, list[str]]] = []
            for admin_name, team_name, reply_days in (
                ("Børn og Familie", "Team Nord", 2),
                ("Jobcenter", "Team Ydelse", 3),
            ):
                admin = await create_administration(c, svc, tenant_id=tenant, name=admin_name)
                team = await create_team(
                    c,
                    svc,
                    tenant_id=tenant,
                    administration_id=admin,
                    name=team_name,
                    reply_days=reply_days,
                )
                owners = [
                    await create_staff(
                        c,
                        svc,
                        tenant_id=tenant,
                        team_id=team,
                        first_name=f"Rådgiver{i}",
                        full_name=f"Rådgiver {i} {team_name}",
                    )
                    for i in range(10)
                ]
                teams.append((admin, team, owners))
            for i, phone in enumerate(phones):
                person = await create_person(
                    c,
                    svc,
                    tenant_id=tenant,
                    name=f"Borger {i}",
                    first_name=f"Borger{i}",
                    phone=phone,
                )
                admin, team, owners = teams[i % len(teams)]
                case = await create_case(
                    c,
                    svc,
                    tenant_id=tenant,
                    administration_id=admin,
                    team_id=team,
                    owner_id=owners[i % len(owners)],
                    number=f"2025-{i:06d}",
                )
                await add_participant(
                    c, svc, tenant_id=tenant, case_id=case, person_id=person, role="party"
                )
    finally:
        await runner.cleanup()
    return phones


def app_config(db_url: str, keys: Secrets, base_url: str) -> Config:
    """The service's configuration for an in-process app: scheduler (and outbox relay) off."""
    return Config(
        database_url=db_url,
        public_base_url=base_url,
        keks=(parse_key(keys.kek, what="kek"),),
        index_key=parse_key(keys.index_key, what="index"),
        twilio=TwilioConfig(
            account_sid=keys.account_sid, auth_token=keys.auth_token, base_url="http://127.0.0.1:9"
        ),
        scheduler_enabled=False,
        extra={"TOVHOLDER_JOURNAL_SIGNING_KEY": keys.kek},
    ).validate()


def _phone_numbers(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct valid Danish mobile numbers."""
    out: dict[str, None] = {}
    while len(out) < n:
        number = f"+45{rng.randrange(20_000_000, 30_000_000)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            out[number] = None
    return list(out)


class Webhooks:
    """Signed Twilio inbound webhooks, built ahead of the clock: unique MessageSid each.

    Args:
        greeting: end each body with the sender's name ("Mvh Borger17"), as many SMS do,
            so that bodies vary as real ones do and no cache of readings keyed on the body
            (``bot.domain.readings.default_triage``) serves the same few texts again and again.
    """

    def __init__(
        self, keys: Secrets, phones: Sequence[str], rng: random.Random, *, greeting: bool = False
    ) -> None:
        self.keys = keys
        self.phones = phones
        self.rng = rng
        self._serial = itertools.count(1)
        # The names the seeded citizens were given (migrate_and_seed).
        self._names = {p: f"Borger{i}" for i, p in enumerate(phones)} if greeting else None

    def batch(self, base_url: str, n: int) -> list[Prepared]:
        url = base_url + PATH
        out = []
        for _ in range(n):
            sid = f"SM{next(self._serial):08x}{secrets.token_hex(12)}"
            body = self.rng.choice(BODIES)
            sender = self.rng.choice(self.phones)
            if self._names is not None:
                body += f"\nMvh {self._names[sender]}"
            params = {
                "ToCountry": "DK",
                "ToState": "",
                "SmsMessageSid": sid,
                "NumMedia": "0",
                "ToCity": "",
                "FromZip": "",
                "SmsSid": sid,
                "FromState": "",
                "SmsStatus": "received",
                "FromCity": "",
                "Body": body,
                "FromCountry": "DK",
                "To": MUNICIPALITY,
                "ToZip": "",
                "NumSegments": "1",
                "MessageSid": sid,
                "AccountSid": self.keys.account_sid,
                "From": sender,
                "ApiVersion": "2010-04-01",
            }
            signature = compute_signature(self.keys.auth_token, url, params)
            out.append(
                Prepared(
                    body=urlencode(params).encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                )
            )
        return out
