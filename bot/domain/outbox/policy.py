"""The outbox relay's rules: leases, retries with backoff, and which SMS may go at any hour."""

from __future__ import annotations

import random
from datetime import timedelta

# Answers to what the citizen just wrote go back the way they came: by SMS (the gate's
# rule, bot.domain.gate.goes_by).
from bot.domain.gate import CONVERSATIONAL as CONVERSATIONAL
from channels.smstext import analyse

LEASE = timedelta(seconds=60)
BASE_BACKOFF = 2.0
MAX_BACKOFF = 600.0
MAX_ATTEMPTS = 12

# GatewayAPI takes a list of messages in one request; this many per request.
MESSAGES_PER_REQUEST = 100

# Automatic answers to what the citizen just wrote (receipts, "which case?"), and their
# login codes, go at any hour. Everything else a citizen gets (a caseworker's reply,
# updates, scheduled SMS, reminders) waits for the end of quiet hours, unless a
# caseworker marked it urgent with a reason (scheduler.urgent); reminders and nudges
# never are.
QUIET_HOURS_EXEMPT = (*CONVERSATIONAL, "login_code", "fallback")


# A login code is short and useless as a link: the segment limit never turns it into one.
SEGMENT_LIMIT_EXEMPT = ("login_code",)


def over_limit(kind: str, body: str, max_segments: int) -> int | None:
    """How many segments ``body`` takes when that is over the municipality's limit, else None.

    Checked at send time for every kind, whatever checked it (or not) when it was
    queued: a text over the limit goes as a notice with a link to the secure inbox.
    """
    if kind in SEGMENT_LIMIT_EXEMPT:
        return None
    segments = analyse(body).segments
    return segments if segments > max_segments else None


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^n)]."""
    ceiling = min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(attempts - 1, 0)))
    return (rng or random).uniform(0, ceiling)
