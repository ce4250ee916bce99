"""Prometheus metrics: counters other modules bump, gauges sampled at scrape.

Call the small functions below from anywhere (they never raise and never
take personal data: labels are fixed codes). Queue depths and export lag are
read from the database when ``/metrics`` is scraped, so every worker reports
the same truth. With several worker processes set ``PROMETHEUS_MULTIPROC_DIR``
(an empty directory, emptied at each start) and the counters of all workers
are summed at scrape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

_CODE = re.compile(r"^[a-z0-9_]{1,32}$")

MESSAGES_IN = Counter("tovholder_messages_in", "Inbound SMS stored", registry=REGISTRY)
MESSAGES_OUT = Counter(
    "tovholder_messages_out", "Outbound SMS handed to the gateway", ["kind"], registry=REGISTRY
)
DELIVERY = Counter(
    "tovholder_delivery_outcomes",
    "Final delivery outcomes of outbound SMS",
    ["outcome"],
    registry=REGISTRY,
)
REPLY_BREACHES = Counter(
    "tovholder_reply_guarantee_breaches",
    "Inbound messages not answered by their reply-by time (tilbagemeldingsgaranti)",
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "tovholder_escalations", "Urgent messages escalated to the next person", registry=REGISTRY
)
WEBHOOKS = Counter(
    "tovholder_webhook_deliveries",
    "Webhook delivery attempts by outcome",
    ["outcome"],
    registry=REGISTRY,
)
INBOUND_BATCHES = Counter(
    "tovholder_inbound_batches",
    "Batches of inbound SMS filed together, by outcome (failed: each SMS went alone)",
    ["outcome"],
    registry=REGISTRY,
)
HTTP = Counter(
    "tovholder_http_requests",
    "HTTP requests by route template and status class",
    ["method", "route", "status"],
    registry=REGISTRY,
)
EXPORT_LAG_REPORTED = Gauge(
    "tovholder_journal_export_lag_reported_seconds",
    "Export lag as last reported by the journal exporter (placeholder until it reports)",
    registry=REGISTRY,
    multiprocess_mode="max",
)


def _code(value: str) -> str:
    return value if _CODE.match(value) else "other"


def message_received(n: int = 1) -> None:
    """An inbound SMS was stored."""
    MESSAGES_IN.inc(n)


def message_sent(kind: str = "reply", n: int = 1) -> None:
    """An outbound SMS was handed to the gateway (kind: receipt | reply | update | …)."""
    MESSAGES_OUT.labels(_code(kind)).inc(n)


def delivery_outcome(outcome: str, n: int = 1) -> None:
    """A final delivery state: delivered | failed | expired."""
    DELIVERY.labels(_code(outcome)).inc(n)


def reply_guarantee_breached(n: int = 1) -> None:
    """A citizen's message passed its reply-by time unanswered."""
    REPLY_BREACHES.inc(n)


def escalated(n: int = 1) -> None:
    """An urgent message was escalated."""
    ESCALATIONS.inc(n)


def export_lag(seconds: float) -> None:
    """The journal exporter's own view of its lag (the scrape also measures it)."""
    EXPORT_LAG_REPORTED.set(max(0.0, seconds))


def inbound_batch(outcome: str) -> None:
    """A batch of inbound SMS was filed (``ok``) or rolled back (``failed``)."""
    INBOUND_BATCHES.labels(_code(outcome)).inc()


def webhook_delivery(outcome: str, n: int = 1) -> None:
    WEBHOOKS.labels(_code(outcome)).inc(n)


def http_request(method: str, route: str, status: int) -> None:
    HTTP.labels(method, route, f"{status // 100}xx").inc()


def exposition(sampled: dict[str, tuple[str, dict[str, float]]]) -> bytes:
    """The text exposition: counters (all workers' in multiprocess mode) + sampled gauges.

    Args:
        sampled: gauge name → (help, {label value of "queue": value}); a single
            unlabelled value uses the key "".
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
        out = generate_latest(counters)
    else:
        out = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(_Sampled(sampled))
    return out + generate_latest(gauges)


class _Sampled(Collector):
    """Gauges computed at scrape time (no per-process state, even in multiprocess mode)."""

    def __init__(self, sampled: dict[str, tuple[str, dict[str, float]]]) -> None:
        self._sampled = sampled

    def collect(self) -> Iterable[Metric]:
        for name, (help_text, values) in self._sampled.items():
            labelled = "" not in values
            family = GaugeMetricFamily(name, help_text, labels=["queue"] if labelled else None)
            for label, value in values.items():
                family.add_metric([label] if labelled else [], value)
            yield family
