"""What filing one inbound SMS came to (shared by the filing steps and bot.domain.intents)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: str | None
    duplicate: bool
    # filed | unassigned | awaiting_case | duplicate | consent_stop | consent_start |
    # confirm_stop | confirm_start (a question asked) | acknowledged
    outcome: str
    # Something may be waiting in the outbox for the relay (a receipt, a page …).
    queued: bool = True
