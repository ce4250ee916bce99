"""Digital Post: the MeMo builder against the MeMo 1.1 schema, and the SF1601 client over real
HTTP to the local SF1601 simulator."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from lxml import etree

from bot.simulators.digitalpost import DigitalPostSimulatorConfig, create_digitalpost_simulator
from channels.digitalpost import (
    DigitalPostRejected,
    DigitalPostUnavailable,
    Sf1601Client,
    Sf1601Config,
    kombi_request,
)
from channels.memo import (
    MEMO_NS,
    CaseReference,
    InvalidLetter,
    Letter,
    MainFile,
    MemoMessage,
    build_memo,
    check_letter,
    check_message,
    decision_document,
    new_message_uuid,
    safe_parser,
    schema_errors,
    text_document,
)

CPR = "0101901234"
CVR = "29189846"
NS = {"memo": MEMO_NS}


def letter(**changes: Any) -> Letter:
    base = Letter(
        message_uuid=new_message_uuid(),
        title="Afgørelse om merudgifter",
        recipient_cpr=CPR,
        sender_cvr=CVR,
        sender_label="Testby Kommune",
        created_at=datetime(2025, 2, 21, 9, 0, tzinfo=UTC),
        document=decision_document(
            title="Afgørelse om merudgifter",
            decision="Du får bevilget merudgifter efter servicelovens § 41.",
            klagevejledning="Du kan klage til Ankestyrelsen inden fire uger.",
        ),
        legal_notification=True,
        case=CaseReference("2025-001"),
    )
    return dataclasses.replace(base, **changes)


def parsed(memo: MemoMessage) -> Any:
    return etree.fromstring(memo.xml, parser=safe_parser())


# ------------------------------------------------------------------------------ the builder


def test_a_built_letter_is_valid_against_the_memo_schema() -> None:
    """A letter built by channels.memo validates against the MeMo 1.1 XSD and our letter rules."""
    for built in (letter(), letter(legal_notification=False, case=None)):
        message = parsed(build_memo(built))
        assert schema_errors(message) == []
        assert check_message(message) == []


def test_the_header_names_sender_recipient_and_the_case() -> None:
    """The MeMo header carries DIGITALPOST, the UUID, the CVR sender, the CPR recipient, the case."""
    built = letter()
    message = parsed(build_memo(built))
    assert message.get("memoVersion") == "1.1" and message.get("memoSchVersion") == "1.1.0"
    head = message.find("memo:MessageHeader", NS)
    assert head.findtext("memo:messageType", namespaces=NS) == "DIGITALPOST"
    assert head.findtext("memo:messageUUID", namespaces=NS) == built.message_uuid
    assert head.findtext("memo:legalNotification", namespaces=NS) == "true"
    assert head.findtext("memo:Sender/memo:idType", namespaces=NS) == "CVR"
    assert head.findtext("memo:Sender/memo:senderID", namespaces=NS) == CVR
    assert head.findtext("memo:Recipient/memo:idType", namespaces=NS) == "CPR"
    assert head.findtext("memo:Recipient/memo:recipientID", namespaces=NS) == CPR
    assert head.findtext("memo:ContentData/memo:CaseID/memo:caseID", namespaces=NS) == "2025-001"
    body = message.find("memo:MessageBody", NS)
    assert body.findtext("memo:createdDateTime", namespaces=NS) == "2025-02-21T09:00:00Z"
    file = body.find("memo:MainDocument/memo:File", NS)
    assert file.findtext("memo:encodingFormat", namespaces=NS) == "text/plain"
    assert file.findtext("memo:language", namespaces=NS) == "da"


def test_an_afgoerelse_carries_its_klagevejledning_in_the_document() -> None:
    """The decision's one document holds the decision and, after it, the klagevejledning."""
    text = letter().document.content.decode()
    assert text.index("servicelovens § 41") < text.index("Klagevejledning")
    assert "Ankestyrelsen" in text


def test_an_afgoerelse_without_klagevejledning_is_refused() -> None:
    """No afgørelse can be built without its klagevejledning (forvaltningsloven § 25)."""
    with pytest.raises(InvalidLetter, match="klagevejledning"):
        decision_document(title="Afgørelse", decision="Afslag.", klagevejledning="  ")
    with pytest.raises(InvalidLetter):
        text_document(title="Brev", text="")


@pytest.mark.parametrize(
    "changes",
    [
        {"recipient_cpr": "010190-1234"},
        {"sender_cvr": "1234567"},
        {"message_uuid": str(uuid.uuid1())},
        {"title": "x" * 257},
        {"title": " "},
        {"language": "dan"},
        {"created_at": datetime(2025, 2, 21, 9, 0)},
        {"document": MainFile("brev.pdf", "application/pdf", b"not a pdf")},
        {"document": MainFile("brev.docx", "application/msword", b"x")},
    ],
)
def test_a_letter_breaking_memo_rules_is_refused_before_it_is_sent(changes: dict[str, Any]) -> None:
    """A bad CPR, CVR, UUID, title, language, time or document is refused, naming no CPR."""
    with pytest.raises(InvalidLetter) as refused:
        check_letter(letter(**changes))
    assert CPR not in str(refused.value)


def test_the_schema_catches_a_broken_message_without_quoting_values() -> None:
    """A MeMo missing its label fails the XSD; the complaint names no value (no CPR)."""
    message = parsed(build_memo(letter()))
    head = message.find("memo:MessageHeader", NS)
    head.remove(head.find("memo:label", NS))
    errors = schema_errors(message)
    assert errors and all(CPR not in e for e in errors)
    assert "the label is missing" in check_message(message)


def test_the_kombi_request_wraps_one_memo_with_digital_post_chosen() -> None:
    """The SF1601 body is kombi_request > KombiValgKode 'Digital Post' + the MeMo Message."""
    built = build_memo(letter())
    root = etree.fromstring(kombi_request(built), parser=safe_parser())
    assert root.tag == "kombi_request"
    assert root.findtext("KombiValgKode") == "Digital Post"
    (message,) = root.findall(f"{{{MEMO_NS}}}Message")
    assert schema_errors(message) == []


# ------------------------------------------------------------------- client and simulator


@pytest.fixture
async def sim(aiohttp_server: Any) -> TestServer:
    server: TestServer = await aiohttp_server(
        create_digitalpost_simulator(DigitalPostSimulatorConfig())
    )
    return server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _now() -> datetime:
    """The letters' clock in these tests: a fixed Friday morning."""
    return datetime(2025, 2, 21, 9, 0, tzinfo=UTC)


def client_for(sim: TestServer, session: aiohttp.ClientSession, **kw: Any) -> Sf1601Client:
    timeout = kw.pop("timeout", 5.0)
    kw.setdefault("now", _now)
    return Sf1601Client(
        Sf1601Config(base_url=str(sim.make_url("")), timeout=timeout), session, **kw
    )


async def faults(sim: TestServer, session: aiohttp.ClientSession, **body: Any) -> None:
    async with session.post(str(sim.make_url("/_sim/faults")), json=body) as resp:
        assert resp.status == 200, await resp.text()


async def received(sim: TestServer, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with session.get(str(sim.make_url("/_sim/letters"))) as resp:
        return list((await resp.json())["letters"])


async def test_a_letter_is_accepted_and_the_simulator_holds_what_it_got(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """SF1601 accepts a valid letter; the receipt names the call; the simulator kept the letter."""
    built = letter()
    receipt = await client_for(sim, session).send(build_memo(built))
    assert receipt.message_uuid == built.message_uuid and not receipt.duplicate
    assert receipt.status == 200
    uuid.UUID(receipt.transaction_id)
    (got,) = await received(sim, session)
    assert got["transaction_id"] == receipt.transaction_id
    assert got["message_uuid"] == built.message_uuid
    assert got["recipient"] == CPR and got["sender"] == CVR
    assert got["legal_notification"] is True and got["case_id"] == "2025-001"
    assert "Ankestyrelsen" in got["files"][0]["text"]


async def test_the_same_message_uuid_twice_makes_one_letter(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A resend of the same MeMo UUID is answered 'already received': one letter, not two."""
    memo = build_memo(letter())
    client = client_for(sim, session)
    first = await client.send(memo)
    again = await client.send(memo)
    assert not first.duplicate and again.duplicate and again.status == 409
    assert len(await received(sim, session)) == 1


async def test_a_rejection_is_permanent_and_keeps_nothing(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A 400 from SF1601 is a permanent, typed failure with the service's reason."""
    await faults(sim, session, mode="reject", count=1)
    with pytest.raises(DigitalPostRejected) as failed:
        await client_for(sim, session).send(build_memo(letter()))
    assert not failed.value.transient and failed.value.status == 400
    assert failed.value.code == "rejected" and "rejected" in failed.value.reason
    assert await received(sim, session) == []


async def test_an_unregistered_recipient_is_rejected(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A citizen exempt from Digital Post: rejected with recipient_not_registered."""
    await faults(sim, session, unregistered=[CPR])
    with pytest.raises(DigitalPostRejected) as failed:
        await client_for(sim, session).send(build_memo(letter()))
    assert failed.value.code == "recipient_not_registered"
    assert CPR not in failed.value.reason


async def test_an_invalid_memo_is_rejected_by_the_simulator(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """A MeMo that breaks the schema (a CPR sender) is rejected as invalid_memo, not kept."""
    xml = build_memo(letter()).xml.replace(b"<memo:idType>CVR</memo:idType>", b"")
    with pytest.raises(DigitalPostRejected) as failed:
        await client_for(sim, session).send(MemoMessage(new_message_uuid(), xml))
    assert failed.value.code == "invalid_memo"
    assert await received(sim, session) == []


async def test_unavailable_and_timeouts_are_transient(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """503 and no answer in time are transient failures; the letter can be sent again later."""
    memo = build_memo(letter())
    await faults(sim, session, mode="unavailable", count=1)
    with pytest.raises(DigitalPostUnavailable) as down:
        await client_for(sim, session).send(memo)
    assert down.value.transient and down.value.status == 503
    await faults(sim, session, mode="timeout", count=1, delay=2)
    with pytest.raises(DigitalPostUnavailable) as slow:
        await client_for(sim, session, timeout=0.2).send(memo)
    assert slow.value.code == "timeout"
    assert (await client_for(sim, session).send(memo)).status == 200


async def test_an_unreachable_service_is_transient(session: aiohttp.ClientSession) -> None:
    """No service listening: a transient failure, never an exception of aiohttp's."""
    from tests.harness import free_port

    client = Sf1601Client(
        Sf1601Config(f"http://127.0.0.1:{free_port()}", timeout=2), session, now=_now
    )
    with pytest.raises(DigitalPostUnavailable) as failed:
        await client.send(build_memo(letter()))
    assert failed.value.code == "unreachable"


async def test_the_access_token_is_sent_as_holder_of_key(
    aiohttp_server: Any, session: aiohttp.ClientSession
) -> None:
    """With a token required, a call without it is refused (401) and one with it is accepted."""
    sim = await aiohttp_server(
        create_digitalpost_simulator(DigitalPostSimulatorConfig(access_token="tok-123"))
    )
    with pytest.raises(DigitalPostRejected) as refused:
        await client_for(sim, session).send(build_memo(letter()))
    assert refused.value.status == 401

    async def token() -> str:
        return "tok-123"

    assert (await client_for(sim, session, token=token).send(build_memo(letter()))).status == 200


async def test_the_simulator_refuses_bad_fault_settings(
    sim: TestServer, session: aiohttp.ClientSession
) -> None:
    """The control surface refuses an unknown fault mode and a bad count."""
    for body in ({"mode": "explode"}, {"mode": "reject", "count": 0}, {"unregistered": "x"}):
        async with session.post(str(sim.make_url("/_sim/faults")), json=body) as resp:
            assert resp.status == 400
