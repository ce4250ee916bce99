"""The outbox relay: claims due outbound SMS rows and hands them to the gateway.

Durable work is data: a row is claimed with a lease (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several workers never claim the same row), sent, and marked
done. A worker that dies mid-send leaves a lease that expires; the row is then
claimed again. Transient failures back off exponentially with full jitter;
permanent ones fail the message and are journalised.

The modules, in the order a batch meets them: :mod:`.claim` (the lease),
:mod:`.triage` (plain SMS now, quiet hours, or one by one), :mod:`.batch` (plain
SMS to the gateway, in order per citizen), :mod:`.single` (everything else),
:mod:`.settle` (what the gateway said), and :mod:`.relay` (the loop);
:mod:`.policy` holds the rules they share.
"""

from __future__ import annotations

from bot.domain.outbox.policy import LEASE, MAX_ATTEMPTS, backoff_seconds
from bot.domain.outbox.relay import RelayStats, drain, relay_once

__all__ = ["LEASE", "MAX_ATTEMPTS", "RelayStats", "backoff_seconds", "drain", "relay_once"]
