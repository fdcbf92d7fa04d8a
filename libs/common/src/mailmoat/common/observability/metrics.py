"""The one registry of metric names (``mailmoat_`` prefix, units in names); ``observability.health``
serves it on ``/metrics``."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from mailmoat.common.topics import Topic

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
DB_STATEMENTS = Counter(
    "mailmoat_db_statements_total",
    "SQL statements sent to the database, by the service that sent them and their kind (select, "
    "insert, update, delete; other: BEGIN, SAVEPOINT, locks and the like).",
    ["service", "kind"],
)
DB_COMMITS = Counter(
    "mailmoat_db_commits_total", "Database transactions committed, by service.", ["service"]
)

# What an operator watches (deploy/grafana dashboards, deploy/prometheus alerts). No series is
# labelled by workspace or inbox: the number of series stays fixed however many tenants there are.

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
CONSUMER_LAG = Gauge(
    "mailmoat_consumer_lag_records",
    "Records on a partition a consumer group has not consumed yet (high watermark minus position).",
    ["group", "topic", "partition"],
)
STAGES = ("smtp_to_stored", "stored_to_webhook", "send_to_decision", "approval_to_sent")
STAGE_LATENCY = Histogram(
    "mailmoat_stage_latency_seconds",
    "Time a mail or a send took across one journey: smtp_to_stored (250 to stored for the agent), "
    "stored_to_webhook (stored to webhook delivered), send_to_decision (send call to policy "
    "decision), approval_to_sent (a person's approval to the relay's 250).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
CONSENSUS_OUTCOMES = Counter(
    "mailmoat_consensus_outcomes_total",
    "Inbound mail decided by the consensus, by outcome (PASS, REVIEW, WITHHOLD).",
    ["outcome"],
)
DETECTOR_DURATION = Histogram(
    "mailmoat_detector_duration_seconds",
    "Time a detector took to assess one mail, by side (primary, checker) and backend.",
    ["side", "detector"],
    buckets=LATENCY_BUCKETS,
)
DETECTOR_FAILURES = Counter(
    "mailmoat_detector_failures_total",
    "Assessments a detector did not finish, counted as a flag (fail closed), by kind "
    "(error, timeout).",
    ["side", "detector", "kind"],
)
DETECTOR_COVERAGE_FLAGS = Counter(
    "mailmoat_detector_coverage_flags_total",
    "Parts of a mail a detector did not read whole, flagged for a person (coverage.*), by code.",
    ["side", "code"],
)
OUTBOX_BACKLOG = Gauge(
    "mailmoat_outbox_backlog_rows", "Outbox rows committed and not yet published.", ["producer"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "mailmoat_outbox_oldest_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none waits).",
    ["producer"],
)
WEBHOOK_DURATION = Histogram(
    "mailmoat_webhook_duration_seconds",
    "Time of one webhook POST, answer or failure included.",
    buckets=LATENCY_BUCKETS,
)
# The gauges below read from the database carry the measuring service as a label: a gauge
# with no label would read 0 in every other process that imports this module.
WEBHOOK_BACKLOG = Gauge(
    "mailmoat_webhook_backlog_deliveries",
    "Webhook deliveries waiting for their next attempt.",
    ["service"],
)
POLICY_SHADOW = Counter(
    "mailmoat_policy_shadow_decisions_total",
    "Sends judged by the shadow policy (MAILMOAT_POLICY_SHADOW_FILE), by the live outcome and "
    "the shadow's (approved, held, refused).",
    ["live", "shadow"],
)
CANARY_TRIPS = Counter(
    "mailmoat_canary_tripped_total",
    "Canary tokens found leaving (a send, or a webhook URL): proof that an agent copies the mail "
    "it received outward.",
    ["where"],
)
POLICY_DECISIONS = Counter(
    "mailmoat_policy_decisions_total",
    "Outbound sends decided by policy, by decision (approved, held, rejected) and rule code "
    "(the first reason; 'none' when every check passed).",
    ["decision", "rule"],
)
APPROVALS_PENDING = Gauge(
    "mailmoat_approvals_pending", "Sends held for a person's approval.", ["service"]
)
APPROVALS_OLDEST_AGE = Gauge(
    "mailmoat_approvals_oldest_age_seconds",
    "Age of the oldest send held for approval (0: none).",
    ["service"],
)
APPROVALS_NEXT_DEADLINE = Gauge(
    "mailmoat_approvals_next_deadline_seconds",
    "Seconds until the first held send times out (negative: overdue; +Inf when none waits).",
    ["service"],
)
KILL_SWITCH_ENGAGED = Gauge(
    "mailmoat_kill_switch_engaged_workspaces",
    "Workspaces whose outbound kill switch is on.",
    ["service"],
)
KILL_SWITCH_CHANGES = Counter(
    "mailmoat_kill_switch_changes_total", "Kill switch flips, by new state (on, off).", ["state"]
)
REPUTATION_RATE_MAX = Gauge(
    "mailmoat_reputation_rate_max_ratio",
    "The highest rate among senders with enough sends to be judged, by kind (complaint, bounce); "
    "a sender is suspended above its threshold (complaint 0.003).",
    ["kind"],
)
REPUTATION_STANDING_CHANGES = Counter(
    "mailmoat_reputation_standing_changes_total",
    "Sender standing changes, by new standing (warned, suspended, reinstated, ...).",
    ["standing"],
)
SMTP_SESSIONS = Counter("mailmoat_smtp_sessions_total", "SMTP connections opened.")
SMTP_REFUSALS = Counter(
    "mailmoat_smtp_refusals_total",
    "SMTP replies refusing a command or a message, by reply code (421, 450, 550, 552, 554, ...).",
    ["code"],
)
DEPENDENCY_UP = Gauge(
    "mailmoat_dependency_up",
    "1 when a service's last readiness check reached the dependency (database, broker).",
    ["service", "dependency"],
)


def observe_stage(stage: str, since: datetime) -> None:
    """Observe ``stage``'s latency from ``since`` (aware, as every stored time is) to now."""
    elapsed = (datetime.now(UTC) - since).total_seconds()
    STAGE_LATENCY.labels(stage).observe(max(0.0, elapsed))


KNOWN_SERIES: tuple[tuple[Counter | Histogram, tuple[tuple[str, ...], ...]], ...] = (
    (CONSENSUS_OUTCOMES, (("PASS",), ("REVIEW",), ("WITHHOLD",))),
    (SMTP_TRANSACTIONS, (("accepted",), ("rejected",), ("failed",))),
    (OUTBOUND_SENDS, (("sent",), ("failed",), ("refused",))),
    (WEBHOOK_DELIVERIES, (("delivered",), ("failed",), ("refused",))),
    (KILL_SWITCH_CHANGES, (("on",), ("off",))),
    (POLICY_DECISIONS, (("approved", "none"),)),
    (REPUTATION_STANDING_CHANGES, (("warned",), ("throttled",), ("suspended",), ("active",))),
    (STAGE_LATENCY, tuple((stage,) for stage in STAGES)),
    (EVENTS_TRIMMED, tuple((topic.value,) for topic in Topic)),
    (CREDITS_OVERAGE, (("inbound",), ("ai_analysis",), ("outbound_sent",), ("review_event",))),
)
"""Series whose labels are known before anything happens: exported at zero from the start, so
a rate over them reads 0, not 'no data', and an alert on their increase sees the first one."""


def export_known_series() -> None:
    for metric, label_sets in KNOWN_SERIES:
        for labels in label_sets:
            metric.labels(*labels)
