"""The one registry of metric names (``mailmoat_`` prefix, units in names); ``observability.health``
serves it on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "mailmoat_events_consumed_total",
    "Records a consumer finished with, by outcome (processed, duplicate, dead_lettered).",
    ["topic", "group", "outcome"],
)
HANDLER_DURATION = Histogram(
    "mailmoat_handler_duration_seconds",
    "Time to handle one record, transaction included.",
    ["topic", "group"],
)
OUTBOX_PUBLISHED = Counter(
    "mailmoat_outbox_published_total", "Outbox events published to Kafka.", ["producer", "topic"]
)
OUTBOX_DELAY = Histogram(
    "mailmoat_outbox_delay_seconds",
    "Time from an outbox row's commit to its publication.",
    ["producer"],
)
OUTBOX_FAILED = Counter(
    "mailmoat_outbox_failed_total",
    "Outbox rows the broker refused for good, set aside so the rows behind them go on.",
    ["producer", "topic"],
)
DEAD_LETTERS_PENDING = Gauge(
    "mailmoat_dead_letters_pending",
    "Dead letters not replayed yet, by consumer group and logical topic.",
    ["consumer", "topic"],
)
REDRIVE_REPUBLISHED = Counter(
    "mailmoat_redrive_republished_total",
    "Outbox events published again because a consumer owed them had not taken them in time.",
    ["producer", "topic"],
)
REDRIVE_STUCK = Gauge(
    "mailmoat_redrive_stuck",
    "Outbox events redriven as often as allowed and still not taken by every consumer owed them.",
    ["producer", "topic"],
)
EVENTS_TRIMMED = Counter(
    "mailmoat_events_trimmed_total",
    "Events cut to their topic's size budget (lists dropped and counted) before staging.",
    ["topic"],
)
SMTP_TRANSACTIONS = Counter(
    "mailmoat_smtp_transactions_total",
    "SMTP transactions by outcome (accepted, rejected, failed).",
    ["outcome"],
)
SMTP_BYTES = Counter("mailmoat_smtp_received_bytes_total", "Bytes of accepted messages.")
OUTBOUND_SENDS = Counter(
    "mailmoat_outbound_sends_total", "Outbound messages handed to the relay, by status.", ["status"]
)
WEBHOOK_DELIVERIES = Counter(
    "mailmoat_webhook_deliveries_total", "Webhook POSTs by outcome.", ["outcome"]
)
SENDER_SIGNALS = Counter(
    "mailmoat_sender_signals_total",
    "Sender-graph signals the consensus added to inbound risk, by code.",
    ["code"],
)
CREDITS_CHARGED = Counter(
    "mailmoat_credits_charged_total",
    "Credits charged to workspaces, by reason (inbound, ai_analysis, outbound_sent, ...).",
    ["reason"],
)
CREDITS_OVERAGE = Counter(
    "mailmoat_credits_overage_total",
    "Credits charged beyond a workspace's monthly allowance (the mail was handled all the "
    "same), by reason.",
    ["reason"],
)
SERVICE_UP = Gauge("mailmoat_service_up", "1 while the service runs.", ["service"])
