"""An operator starts a municipality: one command, clear refusals, nothing half-made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.crypto import new_key_text
from bot.base.errors import BadInput, Conflict
from bot.cli import build_parser
from bot.domain.directory import TenantSetup, set_up_tenant
from bot.store.schema.core import administrations, teams, tenant_settings, tenants
from tests.harness import Stack
from tests.integration.live import LiveServer

NORDBY = TenantSetup(
    slug="nordby",
    name="Nordby Kommune",
    sms_number="+4570707070",
    gateways=("gatewayapi", "twilio"),
    administration="Børn og Familie",
    team="Team Nord",
    opens_at="08:30",
    closes_at="15:00",
)


async def _count(stack: Stack, table: Any) -> int:
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_municipality_is_set_up_with_its_settings_and_first_team(stack: Stack) -> None:
    """Slug, name, number, gateways in order, a first administration and team with its opening hours."""
    async with stack.svc.write() as conn:
        made = await set_up_tenant(conn, stack.svc, NORDBY)
    async with stack.svc.read() as conn:
        tenant = (await conn.execute(select(tenants).where(tenants.c.id == made.tenant_id))).one()
        gateways = (
            await conn.execute(
                select(tenant_settings.c.gateways).where(
                    tenant_settings.c.tenant_id == made.tenant_id
                )
            )
        ).scalar_one()
        team = (await conn.execute(select(teams).where(teams.c.id == made.team_id))).one()
    assert (tenant.slug, tenant.name, tenant.sms_number) == (
        "nordby",
        "Nordby Kommune",
        "+4570707070",
    )
    assert gateways == "gatewayapi,twilio"
    assert (team.name, team.opens_at, team.closes_at) == ("Team Nord", "08:30", "15:00")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"slug": "Nordby!"}, "bad_slug"),
        ({"slug": "-nordby"}, "bad_slug"),
        ({"name": " "}, "bad_field"),
        ({"language": "xx"}, "bad_language"),
        ({"gateways": ("sinch",)}, "bad_gateway"),
        ({"gateways": ("twilio", "twilio")}, "bad_gateway"),
        ({"opens_at": "8"}, "bad_time"),
        ({"opens_at": "16:00", "closes_at": "08:00"}, "bad_time"),
        ({"sms_number": "not a number"}, "bad_number"),
        ({"administration": None}, "bad_field"),
    ],
)
async def test_bad_settings_are_refused_and_nothing_is_made(
    stack: Stack, change: dict[str, Any], code: str
) -> None:
    """Each malformed setting is a BadInput with its own code, and no municipality, administration or team is left behind."""
    before = [await _count(stack, t) for t in (tenants, administrations, teams)]
    fields = {f: getattr(NORDBY, f) for f in NORDBY.__dataclass_fields__}
    with pytest.raises(BadInput) as refused:
        async with stack.svc.write() as conn:
            await set_up_tenant(conn, stack.svc, TenantSetup(**{**fields, **change}))
    assert refused.value.code == code
    assert [await _count(stack, t) for t in (tenants, administrations, teams)] == before


async def test_a_taken_slug_or_number_is_a_conflict(stack: Stack) -> None:
    """A second municipality with the same slug, or the same SMS number, is refused as tenant_exists."""
    async with stack.svc.write() as conn:
        await set_up_tenant(conn, stack.svc, NORDBY)
    fields = {f: getattr(NORDBY, f) for f in NORDBY.__dataclass_fields__}
    for change in ({"sms_number": "+4570707071"}, {"slug": "sydby"}):
        with pytest.raises(Conflict) as refused:
            async with stack.svc.write() as conn:
                await set_up_tenant(conn, stack.svc, TenantSetup(**{**fields, **change}))
        assert refused.value.code == "tenant_exists"


def test_the_cli_creates_a_municipality_that_import_then_finds(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`tovholder tenant create` makes a municipality `import --tenant nordby` can fill; a bad slug exits 2 with the reason. (SQLite only: the CLI owns its event loop.)"""
    from tests.integration.conftest import FRIDAY_MORNING

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start().stop()
    monkeypatch.setenv("TOVHOLDER_DATABASE_URL", url)
    monkeypatch.setenv("TOVHOLDER_KEKS", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_JOURNAL_SIGNING_KEY", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_INDEX_KEY", keys["index"].hex())
    monkeypatch.setenv("TOVHOLDER_TWILIO_ACCOUNT_SID", "AC" + "2" * 32)
    monkeypatch.setenv("TOVHOLDER_TWILIO_AUTH_TOKEN", new_key_text())
    parser = build_parser()

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))

    base = ["tenant", "create", "--name", "Nordby Kommune", "--sms-number", "+4570707070"]
    assert run(*base, "--slug", "Nordby!") == 2
    assert "bad_slug" in capsys.readouterr().err
    assert (
        run(*base, "--slug", "nordby", "--administration", "Børn og Familie", "--team", "Team Nord")
        == 0
    )
    assert "Created municipality nordby" in capsys.readouterr().out
    assert run("tenant", "list") == 0
    assert "nordby" in capsys.readouterr().out
    staff_csv = tmp_path / "staff.csv"
    staff_csv.write_text(
        "ref;team;first_name;full_name;role\nAB;Team Nord;Anne;Anne Bach;caseworker\n",
        encoding="utf-8",
    )
    assert run("import", str(staff_csv), "--tenant", "nordby") == 0
    assert "staff: 1 created" in capsys.readouterr().out


def test_the_cli_sets_checks_and_removes_a_logo(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`tenant create --logo` files an SVG; `tenant logo` replaces it, refuses a GIF or an
    unknown municipality (exit 2, the reason on stderr), and `--remove` takes it off.
    (SQLite only: the CLI owns its event loop.)"""
    import asyncio

    from bot.base import config as config_mod
    from bot.cli.services import with_services
    from bot.domain import tenant_logo
    from bot.wiring.demo import DEMO_LOGO
    from tests.integration.conftest import FRIDAY_MORNING

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start().stop()
    monkeypatch.setenv("TOVHOLDER_DATABASE_URL", url)
    monkeypatch.setenv("TOVHOLDER_KEKS", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_JOURNAL_SIGNING_KEY", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_INDEX_KEY", keys["index"].hex())
    monkeypatch.setenv("TOVHOLDER_TWILIO_ACCOUNT_SID", "AC" + "2" * 32)
    monkeypatch.setenv("TOVHOLDER_TWILIO_AUTH_TOKEN", new_key_text())
    parser = build_parser()

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))

    def on_file() -> bytes | None:
        async def job(svc: Any) -> bytes | None:
            found = await tenant_logo.logo_of(svc, "nordby")
            return None if found is None else found.body

        return asyncio.run(with_services(config_mod.load(), job))

    svg, gif = tmp_path / "logo.svg", tmp_path / "logo.gif"
    svg.write_bytes(DEMO_LOGO)
    gif.write_bytes(b"GIF89a" + b"\x00" * 64)
    base = ["tenant", "create", "--slug", "nordby", "--name", "Nordby Kommune"]
    assert run(*base, "--sms-number", "+4570707070", "--logo", str(gif)) == 2
    assert "logo_type" in capsys.readouterr().err
    assert run(*base, "--sms-number", "+4570707070", "--logo", str(svg)) == 0
    assert "logo: on file" in capsys.readouterr().out
    assert on_file() == DEMO_LOGO
    assert run("tenant", "logo", "nordby", str(gif)) == 2
    assert "The logo must be an SVG or PNG image (logo_type)" in capsys.readouterr().err
    assert run("tenant", "logo", "aarhus", str(svg)) == 2
    assert "tenant_not_found" in capsys.readouterr().err
    assert on_file() == DEMO_LOGO
    assert run("tenant", "logo", "nordby", "--remove") == 0
    assert "removed" in capsys.readouterr().out
    assert on_file() is None
