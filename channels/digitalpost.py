"""Digital Post as a channel: send a MeMo letter through Serviceplatformen's SF1601.

SF1601 (KombiPostAfsend) is KOMBIT's REST service on Serviceplatformen for sending
Digital Post, NemSMS and remote-printed letters. We send Digital Post only: a
``kombi_request`` whose ``KombiValgKode`` is ``Digital Post`` and whose one child
is the MeMo ``Message`` (see :mod:`channels.memo`), POSTed as ``application/xml``
with the headers ``x-TransaktionsId`` (a UUID naming this call) and
``x-TransaktionsTid`` (its time, UTC) and ``Authorization: Holder-of-key <token>``.

What we followed: the integration's description on digitaliseringskataloget.dk
(integration/sf1601) as used by three public clients we read (not copied): Aarhus'
``itk-dev-rpa/python-serviceplatformen`` (``digital_post.send_message``), Aarhus'
``itk-dev/serviceplatformen`` (PHP, ``SF1601::kombiPostAfsend``: the ``/kombi``
endpoint, the four ``KombiValgKode`` values) and Digital Identity's Java
``SF1601Service.sendPost`` (the ``Holder-of-key`` scheme, the header names).

What the public material does not say, and we decided:

* what the service answers: any 2xx is accepted, and the call's
  ``x-TransaktionsId`` is its receipt (as the clients above treat it);
* what a repeated ``messageUUID`` gets: we treat ``409 Conflict`` as "already
  received" (the letter went the first time), which is how the local simulator
  answers; the MeMo UUID is our idempotency key, so a retry after a crash never
  makes a second letter;
* failures: no answer, a timeout, 408, 429 and 5xx are transient (try again
  later, same UUID); any other 4xx is permanent (the letter is rejected).

The KOMBIT token exchange (an OCES3 certificate, a SAML token from the STS, then
an access token) is outside this module: give the client a ``token`` callable.
"""

from __future__ import annotations

import json
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiohttp

from channels.memo import MemoMessage, memo_datetime

logger = logging.getLogger(__name__)

# The service's path under Serviceplatformen's base URL (exttest / prod).
KOMBI_PATH = "/service/KombiPostAfsend_1/kombi"
KOMBI_DIGITAL_POST = "Digital Post"
# Statuses that mean "not now" rather than "never".
_TRANSIENT = frozenset({408, 425, 429})
# A service's error text is kept for the caseworker; never more than this.
REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class PostReceipt:
    """The service took the letter.

    Attributes:
        message_uuid: the MeMo ``messageUUID`` sent.
        transaction_id: the ``x-TransaktionsId`` of the call that was accepted.
        status: the HTTP status (409 when the service already had this UUID).
        duplicate: the service already had this letter (an earlier attempt went).
    """

    message_uuid: str
    transaction_id: str
    status: int
    duplicate: bool = False


class DigitalPostError(Exception):
    """Sending failed.

    Attributes:
        reason: a short sentence for the caseworker and the journal (no CPR number).
        code: a stable code for the kind of failure (``rejected``, ``timeout``, …).
        status: the HTTP status, when the service answered.
    """

    transient: bool = False

    def __init__(self, reason: str, *, code: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason[:REASON_MAX]
        self.code = code
        self.status = status


class DigitalPostUnavailable(DigitalPostError):
    """Not sent this time (timeout, no connection, 5xx, 429): try again with the same UUID."""

    transient = True


class DigitalPostRejected(DigitalPostError):
    """The service refused the letter (4xx): sending it again will not help."""

    transient = False


class DigitalPost(Protocol):
    """Somewhere to send Digital Post: SF1601, or a fake of it in tests."""

    async def send(self, message: MemoMessage) -> PostReceipt:
        """Hand one MeMo letter over.

        Raises:
            DigitalPostUnavailable: try again later, with the same message.
            DigitalPostRejected: the letter is refused for good.
        """
        ...


def kombi_request(message: MemoMessage) -> bytes:
    """The SF1601 request body: ``kombi_request`` with ``KombiValgKode`` and the MeMo."""
    root = ET.Element("kombi_request")
    ET.SubElement(root, "KombiValgKode").text = KOMBI_DIGITAL_POST
    root.append(ET.fromstring(message.xml))
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


@dataclass(frozen=True, slots=True)
class Sf1601Config:
    """Where SF1601 is and how long to wait for it.

    Attributes:
        base_url: Serviceplatformen's base URL (e.g. ``https://exttest.serviceplatformen.dk``),
            or the local simulator's.
        timeout: seconds for one call, connecting and answering.
    """

    base_url: str
    timeout: float = 30.0


async def _no_token() -> str:
    return ""


class Sf1601Client:
    """:class:`DigitalPost` over HTTP to SF1601 (or the local simulator)."""

    name = "sf1601"

    def __init__(
        self,
        config: Sf1601Config,
        session: aiohttp.ClientSession,
        *,
        now: Callable[[], datetime],
        token: Callable[[], Awaitable[str]] = _no_token,
    ) -> None:
        self._url = config.base_url.rstrip("/") + KOMBI_PATH
        self._deadline = aiohttp.ClientTimeout(total=config.timeout)
        self._session = session
        self._token = token
        self._now = now

    async def send(self, message: MemoMessage) -> PostReceipt:
        """POST the letter; see the module docstring for how answers are read."""
        transaction_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/xml; charset=utf-8",
            "Accept": "application/xml, application/json",
            "x-TransaktionsId": transaction_id,
            "x-TransaktionsTid": memo_datetime(self._now()),
        }
        token = await self._token()
        if token:
            headers["Authorization"] = f"Holder-of-key {token}"
        try:
            async with self._session.post(
                self._url, data=kombi_request(message), headers=headers, timeout=self._deadline
            ) as response:
                status, answer = response.status, await response.read()
        except TimeoutError:
            logger.warning("SF1601 timed out (letter %s)", message.message_uuid)
            raise DigitalPostUnavailable("Digital Post answered too late", code="timeout") from None
        except aiohttp.ClientError as exc:
            logger.warning(
                "SF1601 unreachable (letter %s): %s", message.message_uuid, type(exc).__name__
            )
            raise DigitalPostUnavailable(
                "Digital Post could not be reached", code="unreachable"
            ) from exc
        return _read_answer(message.message_uuid, transaction_id, status, answer)


def _read_answer(message_uuid: str, transaction_id: str, status: int, answer: bytes) -> PostReceipt:
    if 200 <= status < 300 or status == 409:
        logger.info("SF1601 took letter %s (transaction %s)", message_uuid, transaction_id)
        return PostReceipt(message_uuid, transaction_id, status, duplicate=status == 409)
    code, reason = _error_text(answer)
    logger.warning("SF1601 answered %d to letter %s (%s)", status, message_uuid, code)
    if status >= 500 or status in _TRANSIENT:
        raise DigitalPostUnavailable(
            reason or f"Digital Post is unavailable ({status})",
            code=code or "unavailable",
            status=status,
        )
    raise DigitalPostRejected(
        reason or f"Digital Post rejected the letter ({status})",
        code=code or "rejected",
        status=status,
    )


def _error_text(answer: bytes) -> tuple[str, str]:
    """A code and a reason from an error answer: JSON (``code``/``detail``…) or plain text."""
    text = answer.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = next((str(data[k]) for k in ("errorCode", "code") if data.get(k)), "")
        reason = next(
            (str(data[k]) for k in ("detail", "errorMessage", "message", "title") if data.get(k)),
            "",
        )
        return code[:32], _printable(reason)
    return "", _printable(text) if not text.startswith("<") else ""


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:REASON_MAX]
