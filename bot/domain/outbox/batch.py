"""Handing plain SMS to the gateway: many per request where it takes lists, in order per citizen."""

from __future__ import annotations

import asyncio

from bot.base.services import Services
from bot.domain.outbox.policy import MESSAGES_PER_REQUEST
from bot.domain.outbox.triage import Plain
from channels.base import GatewayError, SendResult


def waves(plain: list[Plain], per_request: int) -> list[list[list[int]]]:
    """Plan the sends so that each citizen gets their SMS in the order they were queued.

    A citizen's SMS are cut into pieces of at most ``per_request``; piece *j* of
    every citizen goes in wave *j*, and the waves go one after the other. Within
    a wave, pieces are packed into requests of at most ``per_request`` messages
    (GatewayAPI keeps a request's list in order), and the requests go at once.

    Returns:
        waves → requests → indexes into ``plain``.
    """
    pieces: dict[str, list[list[int]]] = {}
    for i, p in enumerate(plain):
        own = pieces.setdefault(p.sms.recipient, [[]])
        if len(own[-1]) == per_request:
            own.append([])
        own[-1].append(i)
    planned: list[list[list[int]]] = []
    for own in pieces.values():
        for j, piece in enumerate(own):
            if j == len(planned):
                planned.append([[]])
            if len(planned[j][-1]) + len(piece) > per_request:
                planned[j].append([])
            planned[j][-1].extend(piece)
    return planned


async def send_plain(svc: Services, plain: list[Plain]) -> list[SendResult | GatewayError]:
    """Hand plain SMS to the gateway: many per request where it takes lists, else concurrently.

    Either way at most ``send_concurrency`` requests are open at once, and one
    citizen's SMS are handed over in the order they were queued.
    """
    gate = asyncio.Semaphore(svc.config.send_concurrency)
    send_many = getattr(svc.gateway, "send_many", None)
    if not getattr(svc.gateway, "takes_lists", True):
        send_many = None  # e.g. Twilio first: one request per SMS, concurrently

    async def request(part: list[int]) -> list[SendResult | GatewayError]:
        async with gate:
            if send_many is not None and len(part) > 1:
                results: list[SendResult | GatewayError] = await send_many(
                    [plain[i].sms for i in part]
                )
                return results
            try:
                return [await svc.gateway.send(plain[part[0]].sms)]
            except GatewayError as exc:
                return [exc]

    out: list[SendResult | GatewayError | None] = [None] * len(plain)
    for wave in waves(plain, MESSAGES_PER_REQUEST if send_many is not None else 1):
        for part, results in zip(
            wave, await asyncio.gather(*(request(part) for part in wave)), strict=True
        ):
            for i, result in zip(part, results, strict=True):
                out[i] = result
    return [r for r in out if r is not None]
