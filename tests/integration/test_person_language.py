"""PATCH /api/v1/persons/{id}: the case system sets the language of a person's SMS."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain import texts
from bot.store.schema.core import journal_entries, persons
from tests.harness import Stack
from tests.integration.conftest import Integ


def opening(language: str, key: str) -> str:
    """The words of SMS ``key`` in ``language`` before its first value."""
    return texts.template(language, key).split("%(")[0]


async def language_of(stack: Stack, person_id: str) -> str:
    async with stack.svc.read() as conn:
        return str(
            (
                await conn.execute(select(persons.c.language).where(persons.c.id == person_id))
            ).scalar_one()
        )


async def language_entries(stack: Stack, case_id: str) -> list[Any]:
    async with stack.svc.read() as conn:
        return list(
            (
                await conn.execute(
                    select(journal_entries.c.subject, journal_entries.c.actor).where(
                        journal_entries.c.case_id == case_id,
                        journal_entries.c.kind == "person_language",
                    )
                )
            ).all()
        )


async def receipt_for(stack: Stack, phone: str, body: str = "Hej, hvornår hører jeg noget?") -> str:
    """Text in as ``phone``, relay, and return the receipt the gateway simulator got."""
    before = len(await stack.sent_to(phone))
    resp = await stack.sms(phone, body)
    assert resp.status == 200, await resp.text()
    await stack.drain()
    bodies = (await stack.sent_to(phone))[before:]
    assert len(bodies) == 1, bodies
    return bodies[0]


async def test_the_case_system_sets_ukrainian_and_the_next_receipt_is_ukrainian(
    integ: Integ,
) -> None:
    """PATCH language=uk writes persons.language, journalises it, and the receipt is Ukrainian."""
    stack, w = integ.stack, integ.stack.world
    anna, phone = w.persons["anna"], w.phones["anna"]
    person = await integ.ok("PATCH", f"/api/v1/persons/{anna}", json={"language": "uk"})
    assert person["language"] == "uk"
    assert await language_of(stack, anna) == "uk"
    entries = await language_entries(stack, w.cases["anna"])
    assert [e.subject for e in entries] == [
        "Sagssystemet: SMS til en deltager skrives nu på ukrainsk (før: dansk)"
    ]
    assert entries[0].actor == f"integration:{integ.key_id}"

    receipt = await receipt_for(stack, phone)
    assert receipt.startswith(opening("uk", "receipt")), receipt
    assert opening("uk", "receipt") != opening("da", "receipt")

    # The same language again changes nothing and journalises nothing more.
    await integ.ok("PATCH", f"/api/v1/persons/{anna}", json={"language": "uk"})
    assert len(await language_entries(stack, w.cases["anna"])) == 1


async def test_a_person_on_two_cases_gets_the_change_on_both(integ: Integ) -> None:
    """Bo takes part in two cases: the change is journalised on each."""
    w = integ.stack.world
    await integ.ok("PATCH", f"/api/v1/persons/{w.persons['bo']}", json={"language": "ar"})
    for key in ("bo_children", "bo_jobs"):
        subjects = [e.subject for e in await language_entries(integ.stack, w.cases[key])]
        assert subjects == ["Sagssystemet: SMS til en deltager skrives nu på arabisk (før: dansk)"]


async def test_a_language_we_do_not_write_is_refused_and_nothing_changes(integ: Integ) -> None:
    """de, DA, '' and a number: 422 unsupported_language (or 400 for the wrong type); no change."""
    stack, w = integ.stack, integ.stack.world
    anna = w.persons["anna"]
    for bad in ("de", "DA", "english", "xx"):
        resp = await integ.call("PATCH", f"/api/v1/persons/{anna}", json={"language": bad})
        assert resp.status == 422, (bad, await resp.text())
        error = (await resp.json())["error"]
        assert error["code"] == "unsupported_language"
        assert "da, en, uk, ar" in error["message"]
    resp = await integ.call("PATCH", f"/api/v1/persons/{anna}", json={"language": 7})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_field"
    resp = await integ.call("PATCH", f"/api/v1/persons/{anna}", json={"sprog": "uk"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "unknown_field"
    assert await language_of(stack, anna) == "da"
    assert await language_entries(stack, w.cases["anna"]) == []
    body = await receipt_for(stack, w.phones["anna"])
    assert body.startswith(opening("da", "receipt"))


async def test_another_municipalitys_person_is_not_found(integ: Integ) -> None:
    """Aarhus's person, an unknown id and a non-id all answer 404 person_not_found alike."""
    other = integ.other["person"]
    for pid in (other, "0" * 8 + "-0000-4000-8000-" + "0" * 12, "nope"):
        for language in ("en", "de"):
            resp = await integ.call("PATCH", f"/api/v1/persons/{pid}", json={"language": language})
            assert resp.status == 404, (pid, await resp.text())
            assert (await resp.json())["error"]["code"] == "person_not_found"
    assert await language_of(integ.stack, other) == "da"
    # Aarhus's own key may change it.
    resp = await integ.call(
        "PATCH", f"/api/v1/persons/{other}", key=integ.other_key, json={"language": "en"}
    )
    assert resp.status == 200
    assert await language_of(integ.stack, other) == "en"


async def test_the_key_needs_directory_write(integ: Integ) -> None:
    """A read-only key is refused (403) and nothing changes."""
    key = await integ.new_key("directory:read")
    anna = integ.stack.world.persons["anna"]
    resp = await integ.call("PATCH", f"/api/v1/persons/{anna}", key=key, json={"language": "en"})
    assert resp.status == 403
    assert await language_of(integ.stack, anna) == "da"


async def test_the_patch_is_in_the_openapi_document(integ: Integ) -> None:
    """The operation, its body and its 422 are declared."""
    doc = await integ.ok("GET", "/api/openapi.json")
    op = doc["paths"]["/api/v1/persons/{id}"]["patch"]
    assert op["x-scope"] == "directory:write"
    assert {"200", "404", "422"} <= set(op["responses"])
    schema = doc["components"]["schemas"]["PersonPatch"]
    assert schema["required"] == ["language"]
