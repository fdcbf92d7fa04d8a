"""The Prometheus alert rules (deploy/prometheus), checked and unit-tested by the real promtool:
every alert fires in a scenario of its own and stays quiet in a healthy or too-short one,
carries a runbook, and names only metrics and labels that Mailmoat's registry defines."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from mailmoat.common.observability import metrics
from tests.support.prometheus import ROOT, PrometheusTools, prometheus_tools

RULES = ROOT / "deploy" / "prometheus" / "mailmoat-alerts.yaml"
RULE_TESTS = RULES.with_name("mailmoat-alerts.test.yaml")
REQUIRED = {
    "MailmoatDeadLettersNew",
    "MailmoatDeadLettersPending",
    "MailmoatConsumerLagGrowing",
    "MailmoatOutboxStuck",
    "MailmoatDetectorFailingClosed",
    "MailmoatDetectorFailingClosedSustained",
    "MailmoatWithheldRateSpike",
    "MailmoatWebhookDeliveriesFailing",
    "MailmoatWebhookBacklogHigh",
    "MailmoatComplaintRateNearSuspension",
    "MailmoatCanaryTripped",
    "MailmoatKillSwitchFlipped",
    "MailmoatKillSwitchEngaged",
    "MailmoatApprovalDeadlineNear",
    "MailmoatApprovalsPiling",
    "MailmoatSmtpTemporaryRefusals",
    "MailmoatServiceDown",
    "MailmoatTargetDown",
    "MailmoatDependencyDown",
}
SEVERITIES = {"critical", "warning", "info"}
ANNOTATIONS = {"summary", "description", "runbook"}
SHORTEST_RUNBOOK = 200
# Labels Prometheus adds to every scraped series; ``up`` is its own series about a target.
TARGET_LABELS = {"instance", "job"}
PROMETHEUS_SERIES = {"up": frozenset(TARGET_LABELS)}
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}

METRIC_NAME = re.compile(r"\bmailmoat_[a-z_]+\b")
SERIES_NAME = re.compile(r"\b(mailmoat_[a-z_]+|up)\b")
SELECTOR = re.compile(r"\b(mailmoat_[a-z_]+|up)\s*\{([^}]*)\}")
MATCHER = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")
TEMPLATE_LABEL = re.compile(r"\$labels\.(\w+)")


@pytest.fixture(scope="module")
def tools() -> PrometheusTools:
    return prometheus_tools()


def promtool(tools: PrometheusTools, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; its output (stdout and stderr together) is what a failure shows."""
    return subprocess.run(
        [str(tools.promtool), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )


def alerts(path: Path = RULES) -> list[dict[str, Any]]:
    """Every alerting rule of a rule file, all groups together."""
    groups = yaml.safe_load(path.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def families() -> Iterator[tuple[str, str, frozenset[str]]]:
    """(name, type, label names) of every metric the metrics module defines."""
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            (family,) = metric.describe()
            yield family.name, family.type, frozenset(metric._labelnames)


def registry() -> dict[str, frozenset[str]]:
    """Every series name the metrics module exposes, with the label names it carries."""
    exposed: dict[str, frozenset[str]] = {}
    for name, kind, labels in families():
        for suffix in SUFFIXES.get(kind, ("",)):
            exposed[name + suffix] = labels | {"le"} if suffix == "_bucket" else labels
    return exposed


def annotation_text(rule: dict[str, Any]) -> str:
    return "\n".join(str(text) for text in rule.get("annotations", {}).values())


def test_promtool_accepts_the_rule_file(tools: PrometheusTools) -> None:
    done = promtool(tools, "check", "rules", RULES)
    assert done.returncode == 0, done.stdout
    assert f"SUCCESS: {len(alerts())} rules found" in done.stdout


def test_every_alert_passes_its_promtool_unit_tests(tools: PrometheusTools) -> None:
    done = promtool(tools, "test", "rules", RULE_TESTS)
    assert done.returncode == 0, done.stdout
    assert "SUCCESS" in done.stdout


def test_the_required_alerts_are_all_there() -> None:
    names = [rule["alert"] for rule in alerts()]
    assert len(names) == len(set(names)), "an alert name is used twice"
    assert not REQUIRED - set(names), f"missing: {sorted(REQUIRED - set(names))}"


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_has_a_severity_and_a_runbook(rule: dict[str, Any]) -> None:
    assert rule.get("labels", {}).get("severity") in SEVERITIES
    annotations = rule.get("annotations", {})
    assert not ANNOTATIONS - set(annotations), f"missing: {sorted(ANNOTATIONS - set(annotations))}"
    assert all(str(annotations[key]).strip() for key in ANNOTATIONS)
    assert len(annotations["runbook"]) >= SHORTEST_RUNBOOK, "the runbook says too little"


def test_every_alert_has_a_case_that_fires_and_one_that_does_not() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case["alert_rule_test"]:
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert names - fires == set(), "alerts never seen firing"
    assert names - quiet == set(), "alerts never seen quiet"


def test_rules_name_only_metrics_from_the_registry() -> None:
    series = set(registry())
    citable = series | {name for name, _, _ in families()}
    for rule in alerts():
        unknown = set(METRIC_NAME.findall(rule["expr"])) - series
        assert not unknown, f"{rule['alert']} queries {sorted(unknown)}"
        cited = set(METRIC_NAME.findall(annotation_text(rule))) - citable
        assert not cited, f"{rule['alert']}'s annotations cite {sorted(cited)}"


def test_rules_use_only_labels_their_metrics_carry() -> None:
    known = {**registry(), **PROMETHEUS_SERIES}
    for rule in alerts():
        for series, matchers in SELECTOR.findall(rule["expr"]):
            labels = set(MATCHER.findall(matchers))
            assert labels <= known[series] | TARGET_LABELS, f"{rule['alert']}: {series}{labels}"
        carried = set(TARGET_LABELS)
        for name in SERIES_NAME.findall(rule["expr"]):
            carried |= known[name]
        for label in grouping_labels(rule):
            assert label in carried, f"{rule['alert']} uses label {label}"


def grouping_labels(rule: dict[str, Any]) -> Iterator[str]:
    """Labels the expression groups or matches by, and those its annotations print."""
    for clause in GROUPING.findall(rule["expr"]):
        yield from (label.strip() for label in clause.split(",") if label.strip())
    yield from TEMPLATE_LABEL.findall(annotation_text(rule))


MUTATIONS = [
    pytest.param(
        "MailmoatOutboxStuck",
        "mailmoat_outbox_oldest_age_seconds) > 120",
        "mailmoat_outbox_oldest_age_seconds) > 1200",
        id="threshold-raised-so-the-firing-case-fails",
    ),
    pytest.param(
        "MailmoatSmtpTemporaryRefusals",
        'code=~"4..", code!="452"',
        'code=~"4.."',
        id="filter-dropped-so-the-quiet-case-fails",
    ),
]


@pytest.mark.parametrize(("alert", "before", "after"), MUTATIONS)
def test_promtool_catches_a_changed_rule(
    tools: PrometheusTools, tmp_path: Path, alert: str, before: str, after: str
) -> None:
    text = RULES.read_text()
    assert before in text, f"{before!r} is no longer in the rule file"
    (tmp_path / RULES.name).write_text(text.replace(before, after))
    cases = yaml.safe_load(RULE_TESTS.read_text())
    cases["tests"] = [case for case in cases["tests"] if concerns(case, alert)]
    (tmp_path / RULE_TESTS.name).write_text(yaml.safe_dump(cases))
    done = promtool(tools, "test", "rules", tmp_path / RULE_TESTS.name)
    assert done.returncode != 0, done.stdout
    assert f"alertname: {alert}" in done.stdout


def concerns(case: dict[str, Any], alert: str) -> bool:
    return any(check["alertname"] == alert for check in case["alert_rule_test"])
