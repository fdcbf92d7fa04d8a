"""The Grafana dashboards, read statically: each one loads in any Grafana (no hard-coded UID, a
data source variable, panels laid out without overlap), and every query asks only for metrics
and labels the one registry defines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from mailmoat.common.observability import metrics
from mailmoat.reputation import domain as reputation
from tests.support.dashboards import (
    DATASOURCE,
    dashboard_files,
    exprs,
    load,
    panels,
    queries,
    substitute,
)

FILES = {
    "mailmoat-pipeline.json",
    "mailmoat-outbound.json",
    "mailmoat-reputation.json",
    "mailmoat-health.json",
}
UNITS = {"s", "ops", "percentunit", "short", "Bps"}
SCRAPE_LABELS = {"job", "instance"}
"""Labels Prometheus adds to every series it scrapes."""
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}
SUBJECTS = {
    "mailmoat-pipeline.json": {
        "mailmoat_events_consumed_total",
        "mailmoat_smtp_transactions_total",
        "mailmoat_consumer_lag_records",
        "mailmoat_stage_latency_seconds_bucket",
        "mailmoat_handler_duration_seconds_bucket",
        "mailmoat_consensus_outcomes_total",
        "mailmoat_detector_duration_seconds_bucket",
        "mailmoat_detector_failures_total",
        "mailmoat_detector_coverage_flags_total",
    },
    "mailmoat-outbound.json": {
        "mailmoat_outbound_sends_total",
        "mailmoat_policy_decisions_total",
        "mailmoat_approvals_pending",
        "mailmoat_approvals_oldest_age_seconds",
        "mailmoat_approvals_next_deadline_seconds",
        "mailmoat_kill_switch_engaged_workspaces",
        "mailmoat_kill_switch_changes_total",
        "mailmoat_stage_latency_seconds_bucket",
    },
    "mailmoat-reputation.json": {
        "mailmoat_reputation_rate_max_ratio",
        "mailmoat_reputation_standing_changes_total",
        "mailmoat_sender_signals_total",
    },
    "mailmoat-health.json": {
        "mailmoat_service_up",
        "mailmoat_dependency_up",
        "mailmoat_outbox_backlog_rows",
        "mailmoat_outbox_oldest_age_seconds",
        "mailmoat_outbox_published_total",
        "mailmoat_outbox_failed_total",
        "mailmoat_redrive_republished_total",
        "mailmoat_dead_letters_pending",
        "mailmoat_events_consumed_total",
        "mailmoat_webhook_deliveries_total",
        "mailmoat_webhook_duration_seconds_bucket",
        "mailmoat_webhook_backlog_deliveries",
        "mailmoat_smtp_sessions_total",
        "mailmoat_smtp_refusals_total",
        "mailmoat_credits_charged_total",
    },
}
METRIC = re.compile(r"\bmailmoat_[a-z0-9_]+")
SELECTOR = re.compile(r"\b(mailmoat_[a-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*\"")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
RATE_WINDOW = re.compile(r"\brate\([^\[]*\[([^\]]+)\]")

PATHS = dashboard_files()
DASHBOARDS = pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
QUERIES = pytest.mark.parametrize(
    ("dashboard", "panel", "expr"),
    queries(),
    ids=[f"{dashboard[len('Mailmoat / ') :]}: {panel}" for dashboard, panel, _ in queries()],
)


def _registry() -> dict[str, frozenset[str]]:
    """Every series name the registry exposes, with the labels a query may use on it."""
    labelnames = {
        wrapper._name: wrapper._labelnames
        for wrapper in vars(metrics).values()
        if isinstance(wrapper, MetricWrapperBase)
    }
    series = {}
    for family in REGISTRY.collect():
        if family.name not in labelnames:
            continue
        for suffix in SUFFIXES[family.type]:
            extra = {"le"} if suffix == "_bucket" else set()
            labels = {*labelnames[family.name], *SCRAPE_LABELS, *extra}
            series[family.name + suffix] = frozenset(labels)
    return series


REGISTERED = _registry()


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in the JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _all_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [expr for panel in panels(dashboard) for expr in exprs(panel)]


def _path(name: str) -> Path:
    return next(path for path in PATHS if path.name == name)


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    apart_x = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
    apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
    return not (apart_x or apart_y)


def _steps(dashboard: dict[str, Any]) -> set[float]:
    return {
        step["value"]
        for panel in panels(dashboard)
        for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        if step["value"] is not None
    }


def test_the_four_dashboards_are_there() -> None:
    assert {path.name for path in PATHS} == FILES


def test_the_registry_is_read() -> None:
    assert "mailmoat_events_consumed_total" in REGISTERED
    assert "le" in REGISTERED["mailmoat_stage_latency_seconds_bucket"]
    assert "stage" in REGISTERED["mailmoat_stage_latency_seconds_bucket"]


@DASHBOARDS
def test_dashboard_settings(path: Path) -> None:
    dashboard = load(path)
    assert dashboard["title"].startswith("Mailmoat / ")
    assert "mailmoat" in dashboard["tags"]
    assert dashboard["editable"] is True
    assert dashboard["refresh"] == "30s"
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["time"]["from"].startswith("now-")
    assert dashboard["time"]["to"] == "now"


@DASHBOARDS
def test_datasource_is_a_variable(path: Path) -> None:
    variables = {var["name"]: var for var in load(path)["templating"]["list"]}
    datasource = variables["datasource"]
    assert (datasource["type"], datasource["query"]) == ("datasource", "prometheus")


@DASHBOARDS
def test_no_hard_coded_uid(path: Path) -> None:
    for key, value in _walk(load(path)):
        if key == "uid":
            assert value in (None, "${datasource}")
        if key == "datasource":
            assert value == DATASOURCE


@DASHBOARDS
def test_panels_do_not_overlap(path: Path) -> None:
    grid = [panel["gridPos"] for panel in panels(load(path))]
    assert all(pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 for pos in grid)
    clashes = [(a, b) for a, b in combinations(grid, 2) if _overlap(a, b)]
    assert clashes == []


@DASHBOARDS
def test_every_panel_is_described_and_queried(path: Path) -> None:
    for panel in panels(load(path)):
        assert panel["description"].strip(), panel["title"]
        assert exprs(panel), panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"] in UNITS, panel["title"]


@DASHBOARDS
def test_rates_use_the_rate_interval(path: Path) -> None:
    windows = {window for expr in _all_exprs(load(path)) for window in RATE_WINDOW.findall(expr)}
    assert windows == {"$__rate_interval"}


@DASHBOARDS
def test_each_subject_is_covered(path: Path) -> None:
    used = {name for expr in _all_exprs(load(path)) for name in METRIC.findall(expr)}
    assert SUBJECTS[path.name] - used == set()


def test_outbound_watches_the_caps_and_both_send_journeys() -> None:
    joined = "\n".join(_all_exprs(load(_path("mailmoat-outbound.json"))))
    assert re.search(r'mailmoat_policy_decisions_total\{[^}]*rule=~?"[^"]*cap_exceeded', joined)
    for stage in ("send_to_decision", "approval_to_sent"):
        assert f'stage="{stage}"' in joined


def test_reputation_draws_the_real_thresholds() -> None:
    steps = _steps(load(_path("mailmoat-reputation.json")))
    thresholds = {
        reputation.COMPLAINT_SUSPEND_RATE,
        reputation.COMPLAINT_WARN_RATE,
        reputation.BOUNCE_SUSPEND_RATE,
        reputation.BOUNCE_WARN_RATE,
    }
    assert thresholds <= steps


def test_health_counts_dead_lettered_records() -> None:
    joined = "\n".join(_all_exprs(load(_path("mailmoat-health.json"))))
    assert re.search(r'mailmoat_events_consumed_total\{[^}]*outcome="dead_lettered"', joined)


def test_every_query_runs_without_grafana() -> None:
    found = queries()
    assert {dashboard for dashboard, _, _ in found} == {load(path)["title"] for path in PATHS}
    assert all("$" not in expr for _, _, expr in found)
    with pytest.raises(ValueError, match="unknown Grafana variable"):
        substitute("up{job=~'$nope'}")


@QUERIES
def test_metrics_are_registered(dashboard: str, panel: str, expr: str) -> None:
    unknown = set(METRIC.findall(expr)) - REGISTERED.keys()
    assert unknown == set(), f"{dashboard} / {panel}"


@QUERIES
def test_labels_are_the_metrics_own(dashboard: str, panel: str, expr: str) -> None:
    for name, matchers in SELECTOR.findall(expr):
        used = set(MATCHER.findall(matchers))
        assert used <= REGISTERED.get(name, frozenset()), f"{dashboard} / {panel}: {name}"
    allowed = set().union(*(REGISTERED.get(name, set()) for name in METRIC.findall(expr)))
    for grouping in GROUPING.findall(expr):
        used = {label.strip() for label in grouping.split(",") if label.strip()}
        assert used <= allowed, f"{dashboard} / {panel}"
