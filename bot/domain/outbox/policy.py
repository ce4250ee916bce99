"""The outbox relay's rules: leases, retries with backoff, and which SMS may go at any hour."""

from __future__ import annotations

import random
from datetime import timedelta

LEASE = timedelta(seconds=60)
BASE_BACKOFF = 2.0
MAX_BACKOFF = 600.0
MAX_ATTEMPTS = 12

# GatewayAPI takes a list of messages in one request; this many per request.
MESSAGES_PER_REQUEST = 100

# Answers to what the citizen just wrote go back the way they came: by SMS.
CONVERSATIONAL = ("receipt", "clarify", "auto")

# Automatic answers to what the citizen just wrote (receipts, "which case?"), and their
# login codes, go at any hour. Everything else a citizen gets (a caseworker's reply,
# updates, scheduled SMS, reminders) waits for the end of quiet hours, unless a
# caseworker marked it urgent with a reason (scheduler.urgent); reminders and nudges
# never are.
QUIET_HOURS_EXEMPT = (*CONVERSATIONAL, "login_code", "fallback")


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^n)]."""
    ceiling = min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(attempts - 1, 0)))
    return (rng or random).uniform(0, ceiling)
