"""One POST to a gateway's API, with the failures every gateway shares."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from channels.base import GatewayError

logger = logging.getLogger(__name__)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    gateway: str,
    reference: str,
    headers: Mapping[str, str],
    deadline: aiohttp.ClientTimeout,
    **body: Any,
) -> tuple[int, bytes]:
    """POST ``body`` (aiohttp's ``data=`` or ``json=``) and read the whole answer.

    Args:
        gateway: the gateway's name as people say it ("Twilio"), for logs and errors.
        reference: our reference of the SMS being sent (logged; never a number or text).

    Returns:
        The HTTP status and the answer's bytes; the caller reads them in its gateway's terms.

    Raises:
        GatewayError: transient, when the gateway does not answer in time or cannot be reached.
    """
    try:
        async with session.post(url, headers=headers, timeout=deadline, **body) as response:
            return response.status, await response.read()
    except TimeoutError:
        logger.warning("%s send timed out (reference %s)", gateway, reference)
        raise GatewayError(f"{gateway} did not answer in time", transient=True) from None
    except aiohttp.ClientError as exc:
        logger.warning(
            "%s send failed to connect (reference %s): %s",
            gateway,
            reference,
            type(exc).__name__,
        )
        raise GatewayError(
            f"could not reach {gateway} ({type(exc).__name__})", transient=True
        ) from exc
