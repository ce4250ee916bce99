"""The default triage, read once per SMS body by the two steps that ask it.

The intent reading (bot.domain.intents: is it consent, may a hook act on it) asks
the triage with the default words and the shipped model, before the SMS's
municipality is known. A municipality with no words and no model of its own
triages with exactly that reader (bot.domain.dispatch.tenant_triager), so its
dispatch triage is the same reading: kept here, it is read once, not twice.
"""

from __future__ import annotations

from functools import lru_cache

from bot.domain.triage import Triage, Triager


@lru_cache(maxsize=1)
def default_triager() -> Triager:
    """The triage with the default words and the shipped model, and no municipality's own."""
    return Triager()


# Asked at the webhook (goes_alone), in the batch (goes_alone, may_act, the dispatch
# triage) and by the hooks, with up to a few batches' worth of other SMS in between.
@lru_cache(maxsize=1024)
def default_triage(body: str) -> Triage:
    """``body`` read by :func:`default_triager` (once per body while it is recent)."""
    return default_triager()(body)
