"""HTTP: the entry as signed JSON, POSTed to the case system's endpoint.

The body is JSON: the metadata and the PDF in base64. It is signed with
HMAC-SHA256 under a shared secret over ``"<timestamp>.<body>"``::

    X-Tovholder-Timestamp: 1740128400
    X-Tovholder-Signature: 5d41402abc4b2a76b9719d911017c592…   (hex)

The receiver recomputes the HMAC over the raw body bytes and compares in
constant time, and refuses timestamps far from its own clock (replays).
``Idempotency-Key`` is the entry id: a retry after a lost answer is the
same delivery. Any 2xx is success; anything else is retried later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import aiohttp

from bot.base.clock import Clock
from journal.exporters.base import ExportDocument, ExportError

TIMESTAMP_HEADER = "X-Tovholder-Timestamp"
SIGNATURE_HEADER = "X-Tovholder-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) over ``<timestamp>.<body>``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class HttpExporter:
    """POSTs each entry to one URL, signed."""

    name = "http"

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        session: aiohttp.ClientSession,
        clock: Clock,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.session = session
        self.clock = clock
        self.timeout = timeout

    def body(self, doc: ExportDocument) -> bytes:
        payload = {
            "metadata": doc.metadata(),
            "document": base64.b64encode(doc.pdf).decode(),
        }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    async def export(self, doc: ExportDocument) -> str:
        body = self.body(doc)
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": doc.entry_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        try:
            async with self.session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    raise ExportError(f"http_{resp.status}", "the case system refused the entry")
                return f"http {resp.status}"
        except TimeoutError as exc:
            raise ExportError("http_timeout", "the case system did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ExportError("http_unreachable", type(exc).__name__) from exc
