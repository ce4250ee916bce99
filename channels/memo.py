"""MeMo: the message format of Digital Post (Meddelelsesmodellen), version 1.1.

A letter to a citizen (brev; an afgørelse with its klagevejledning) is one MeMo
``Message`` with a ``MessageHeader`` (who sends it to whom, about what) and a
``MessageBody`` whose ``MainDocument`` carries the letter itself as a file.

What we followed:

* The MeMo 1.1 XML schema of Digitaliseringsstyrelsen (``MeMo_core.xsd`` and its
  imports, shipped in ``channels/memo_schema/``; see the README there for where the
  copy comes from): element order and cardinality of ``MessageHeader``
  (``messageType``, ``messageUUID``, ``label``, ``mandatory``,
  ``legalNotification``, ``Sender``, ``Recipient``, ``ContentData``),
  ``MessageBody`` (``createdDateTime``, ``MainDocument``) and ``File``
  (``encodingFormat``, ``filename``, ``language``, ``content``); the data types
  in ``MeMo_dataTypes.xsd``: text ≤ 256 characters, a version-4 UUID,
  a two-letter language, date-times in UTC ending in ``Z``.
* Digitaliseringsstyrelsen's example ``MeMo_Minimum_Example.xml`` (as reproduced in
  the MIT-licensed ``itk-dev-rpa/python-serviceplatformen`` tests): the namespace
  ``https://DigitalPost.dk/MeMo-1`` with prefix ``memo``, ``memoVersion="1.1"``,
  ``memoSchVersion="1.1.0"``, ``idType`` ``CVR`` for the sender, ``CPR`` for the
  recipient.

Our own code, written from those documents: nothing here is copied from a library.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

MEMO_NS = "https://DigitalPost.dk/MeMo-1"
MEMO_VERSION = "1.1"
MEMO_SCHEMA_VERSION = "1.1.0"
ET.register_namespace("memo", MEMO_NS)

# MeMo_dataTypes.xsd: memoTextType, memoNotificationType.
TEXT_MAX = 256
NOTIFICATION_MAX = 160
# The document types a letter may carry as its main document.
MEDIA_TYPES = ("text/plain", "application/pdf")

_CPR = re.compile(r"\d{10}")
_CVR = re.compile(r"\d{8}")
_LANGUAGE = re.compile(r"[a-z]{2}")
# memoUuidType: a version-4 UUID (hex digits of either case).
_UUID4 = re.compile(
    r"[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-4[a-fA-F0-9]{3}-[aAbB89][a-fA-F0-9]{3}-[a-fA-F0-9]{12}"
)


class InvalidLetter(ValueError):
    """The letter cannot become a valid MeMo message (what is wrong is in the message)."""


@dataclass(frozen=True, slots=True)
class MainFile:
    """The letter itself: one file of the ``MainDocument``.

    Attributes:
        filename: shown to the citizen in the mailbox (``File/filename``).
        media_type: ``text/plain`` (UTF-8) or ``application/pdf`` (``File/encodingFormat``).
        content: the file's bytes; base64-encoded on the wire (``File/content``).
    """

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CaseReference:
    """``ContentData/CaseID``: the case the letter is about, in the sender's case system."""

    case_id: str
    case_system: str = "Tovholder"


@dataclass(frozen=True, slots=True)
class Letter:
    """One Digital Post letter, everything a MeMo message needs.

    Attributes:
        message_uuid: ``messageUUID``, a version-4 UUID; also our idempotency key.
        title: ``label``: the subject line the citizen sees.
        recipient_cpr: the citizen's CPR number, ten digits (``Recipient``, idType CPR).
        sender_cvr: the municipality's CVR number, eight digits (``Sender``, idType CVR).
        sender_label: the municipality's name (``Sender/label``).
        created_at: ``createdDateTime`` (sent in UTC).
        document: the main document.
        language: the document's language, two letters (``File/language``).
        legal_notification: ``legalNotification``: true for an afgørelse, which has
            legal effect when it reaches the citizen's mailbox.
        case: ``ContentData/CaseID``, when the letter belongs to a case.
    """

    message_uuid: str
    title: str
    recipient_cpr: str
    sender_cvr: str
    sender_label: str
    created_at: datetime
    document: MainFile
    language: str = "da"
    legal_notification: bool = False
    case: CaseReference | None = None


@dataclass(frozen=True, slots=True)
class MemoMessage:
    """A built MeMo ``Message`` element, serialised, with its UUID."""

    message_uuid: str
    xml: bytes = field(repr=False)


def new_message_uuid() -> str:
    """A fresh ``messageUUID`` (MeMo requires version 4)."""
    return str(uuid.uuid4())


def decision_document(
    *, title: str, decision: str, klagevejledning: str, language: str = "da"
) -> MainFile:
    """An afgørelse as one plain-text document, its klagevejledning part of it.

    Forvaltningsloven § 25 requires an afgørelse that can be appealed to come with
    a klagevejledning; keeping both in the one main document means the citizen can
    never receive the decision without it.

    Raises:
        InvalidLetter: the decision or the klagevejledning is empty.
    """
    if not decision.strip():
        raise InvalidLetter("an afgørelse needs its text")
    if not klagevejledning.strip():
        raise InvalidLetter("an afgørelse needs its klagevejledning")
    heading = "Klagevejledning" if language == "da" else "How to appeal"
    text = f"{title}\n\n{decision.strip()}\n\n{heading}\n\n{klagevejledning.strip()}\n"
    return MainFile(
        filename=_filename(title, "txt"), media_type="text/plain", content=text.encode()
    )


def text_document(*, title: str, text: str) -> MainFile:
    """An ordinary letter as one plain-text document."""
    if not text.strip():
        raise InvalidLetter("a letter needs its text")
    return MainFile(
        filename=_filename(title, "txt"), media_type="text/plain", content=text.encode()
    )


def _filename(title: str, extension: str) -> str:
    """A file name from the title: letters, digits and dashes only, within MeMo's length."""
    stem = re.sub(r"[^\w-]+", "_", title, flags=re.UNICODE).strip("_")[:60] or "brev"
    return f"{stem}.{extension}"


def check_letter(letter: Letter) -> None:
    """Check a letter against the rules the schema and Digital Post set.

    Raises:
        InvalidLetter: naming the first rule broken (never the CPR number itself).
    """
    problems = [
        (not _UUID4.fullmatch(letter.message_uuid), "messageUUID must be a version-4 UUID"),
        (not letter.title.strip(), "the letter needs a title"),
        (len(letter.title) > TEXT_MAX, f"the title is longer than {TEXT_MAX} characters"),
        (not _CPR.fullmatch(letter.recipient_cpr), "the recipient's CPR must be ten digits"),
        (not _CVR.fullmatch(letter.sender_cvr), "the sender's CVR must be eight digits"),
        (not letter.sender_label.strip(), "the sender needs a name"),
        (len(letter.sender_label) > TEXT_MAX, "the sender's name is too long"),
        (letter.created_at.tzinfo is None, "createdDateTime must be timezone-aware"),
        (not _LANGUAGE.fullmatch(letter.language), "language must be two lower-case letters"),
        (letter.document.media_type not in MEDIA_TYPES, "the document must be text or PDF"),
        (not letter.document.filename or len(letter.document.filename) > TEXT_MAX, "bad filename"),
        (not letter.document.content, "the document is empty"),
    ]
    for broken, why in problems:
        if broken:
            raise InvalidLetter(why)
    if letter.document.media_type == "application/pdf" and not letter.document.content.startswith(
        b"%PDF-"
    ):
        raise InvalidLetter("the document is not a PDF")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{MEMO_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def memo_datetime(at: datetime) -> str:
    """``memoDateTimeType``: an ISO date-time in UTC ending in ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_message(letter: Letter) -> ET.Element:
    """The MeMo ``Message`` element of a letter (checked first, see :func:`check_letter`)."""
    check_letter(letter)
    message = ET.Element(
        f"{{{MEMO_NS}}}Message",
        {"memoVersion": MEMO_VERSION, "memoSchVersion": MEMO_SCHEMA_VERSION},
    )
    header = _sub(message, "MessageHeader")
    _sub(header, "messageType", "DIGITALPOST")
    _sub(header, "messageUUID", letter.message_uuid)
    _sub(header, "label", letter.title)
    _sub(header, "mandatory", "false")
    _sub(header, "legalNotification", "true" if letter.legal_notification else "false")
    sender = _sub(header, "Sender")
    _sub(sender, "senderID", letter.sender_cvr)
    _sub(sender, "idType", "CVR")
    _sub(sender, "label", letter.sender_label)
    recipient = _sub(header, "Recipient")
    _sub(recipient, "recipientID", letter.recipient_cpr)
    _sub(recipient, "idType", "CPR")
    if letter.case is not None:
        case = _sub(_sub(header, "ContentData"), "CaseID")
        _sub(case, "caseID", letter.case.case_id)
        _sub(case, "caseSystem", letter.case.case_system)
    body = _sub(message, "MessageBody")
    _sub(body, "createdDateTime", memo_datetime(letter.created_at))
    file = _sub(_sub(body, "MainDocument"), "File")
    _sub(file, "encodingFormat", letter.document.media_type)
    _sub(file, "filename", letter.document.filename)
    _sub(file, "language", letter.language)
    _sub(file, "content", base64.b64encode(letter.document.content).decode("ascii"))
    return message


def build_memo(letter: Letter) -> MemoMessage:
    """The letter as a serialised MeMo message (UTF-8, with an XML declaration)."""
    xml = ET.tostring(build_message(letter), encoding="utf-8", xml_declaration=True)
    return MemoMessage(message_uuid=letter.message_uuid, xml=xml)


# ------------------------------------------------------------------ checking a received message


def _text(element: Any, path: str) -> str:
    found = element.find(path, {"memo": MEMO_NS})
    return "" if found is None or found.text is None else str(found.text).strip()


def check_message(message: Any) -> list[str]:
    """The rules a Digital Post letter must meet beyond the schema, checked on an element.

    Works on an ElementTree or lxml ``Message`` element. The schema allows any
    ``idType`` text and any ``encodingFormat``; a letter from a municipality to a
    citizen must name a CVR sender, a CPR recipient and a document we can show.

    Returns:
        What is wrong, one sentence each (empty when nothing is); never a CPR number.
    """
    problems: list[str] = []
    if message.tag != f"{{{MEMO_NS}}}Message":
        return ["the root element is not a MeMo Message"]
    head = "memo:MessageHeader/"
    rules = [
        (_text(message, head + "memo:messageType") == "DIGITALPOST", "not DIGITALPOST"),
        (bool(_UUID4.fullmatch(_text(message, head + "memo:messageUUID"))), "bad messageUUID"),
        (bool(_text(message, head + "memo:label")), "the label is missing"),
        (_text(message, head + "memo:Sender/memo:idType") == "CVR", "the sender is not a CVR"),
        (bool(_CVR.fullmatch(_text(message, head + "memo:Sender/memo:senderID"))), "bad CVR"),
        (_text(message, head + "memo:Recipient/memo:idType") == "CPR", "recipient is not a CPR"),
        (bool(_CPR.fullmatch(_text(message, head + "memo:Recipient/memo:recipientID"))), "bad CPR"),
    ]
    problems.extend(why for ok, why in rules if not ok)
    files = message.findall("memo:MessageBody/memo:MainDocument/memo:File", {"memo": MEMO_NS})
    if not files:
        problems.append("the main document has no file")
    for file in files:
        problems.extend(_check_file(file))
    return problems


def _check_file(file: Any) -> list[str]:
    problems = []
    if _text(file, "memo:encodingFormat") not in MEDIA_TYPES:
        problems.append("the main document is neither text nor PDF")
    try:
        content = base64.b64decode(_text(file, "memo:content"), validate=True)
    except (binascii.Error, ValueError):
        return [*problems, "the file's content is not base64"]
    if not content:
        problems.append("the file is empty")
    return problems


def file_contents(message: Any) -> list[tuple[str, bytes]]:
    """The main document's files of a (checked) message: media type and bytes."""
    out = []
    for file in message.findall("memo:MessageBody/memo:MainDocument/memo:File", {"memo": MEMO_NS}):
        out.append(
            (_text(file, "memo:encodingFormat"), base64.b64decode(_text(file, "memo:content")))
        )
    return out


def header_text(message: Any, path: str) -> str:
    """A text under ``MessageHeader``, e.g. ``memo:messageUUID`` (empty when absent)."""
    return _text(message, f"memo:MessageHeader/{path}")


@lru_cache(maxsize=1)
def _schema() -> Any:
    from lxml import etree

    source = resources.files("channels").joinpath("memo_schema", "MeMo_core.xsd")
    with resources.as_file(source) as path:
        return etree.XMLSchema(etree.parse(str(path), parser=safe_parser()))


def safe_parser() -> Any:
    """An lxml parser that reads no DTD, resolves no entity and fetches nothing."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def schema_errors(message: Any) -> list[str]:
    """Validate an lxml ``Message`` element against the MeMo 1.1 schema.

    Returns:
        The schema's complaints (where and which rule; values are never quoted back,
        since they may hold a CPR number), or none.
    """
    schema = _schema()
    if schema.validate(message):
        return []
    return [f"{e.path}: {e.type_name}" for e in schema.error_log][:10]
