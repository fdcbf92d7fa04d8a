"""The chart wires a working gateway: its production manifests, rendered by the real helm, run
here as Kubernetes would run them (``tests.support.cluster``) against a real broker and a fresh
PostgreSQL database: the hook Jobs migrate and make the topics, every Deployment's pod becomes
ready by its own probe, and the ``helm test`` Pod's check passes, a mail over SMTP read back
through the API. A wrong variable name or port in a template leaves the check failing."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from mailmoat.cli.bootstrap import bootstrap_workspace
from tests.support.cluster import LocalCluster, Manifest, running
from tests.support.helm import render, unpack_helm
from tests.support.stack import STARTUP_SECONDS

HOOK_SECONDS = 120
TEST_SECONDS = 180


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_helm(tmp_path_factory.mktemp("helm"))


@pytest.fixture
def empty_database(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database: the migrate hook is what makes its schema."""
    name = f"chart_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def manifests(helm: Path, kafka_bootstrap: str, tmp_path: Path) -> list[Manifest]:
    """The production chart for this machine's broker, topics and groups of its own."""
    unique = uuid.uuid4().hex[:8]
    values = {
        "mailDomain": "agents.example.com",
        "kafka": {
            "bootstrapServers": kafka_bootstrap,
            "topicPrefix": f"chart{unique}.",
            "groupPrefix": f"chart{unique}-",
            "partitions": 1,
            "replicationFactor": 1,
        },
        "database": {"existingSecret": "mailmoat-database"},
        "secrets": {"existingSecret": "mailmoat-secrets"},
        "relay": {"host": "127.0.0.1", "port": 25, "starttls": False},
        "helmTest": {"existingSecret": "mailmoat-test-key"},
        # The broker here (tansu) has no idempotent producer; real Kafka keeps the default.
        "extraEnv": {"MAILMOAT_KAFKA_IDEMPOTENCE": "false"},
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return [dict(doc) for doc in render(helm, path)]


def _env_of(manifests: list[Manifest], service: str, name: str) -> Manifest:
    """The entry ``name`` in the environment of ``service``'s Deployment."""
    [deployment] = [
        doc
        for doc in manifests
        if doc["kind"] == "Deployment" and doc["metadata"]["name"].endswith(f"-{service}")
    ]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    [entry] = [entry for entry in env if entry["name"] == name]
    return entry


def _misnamed_api_port(manifests: list[Manifest]) -> None:
    """The gateway's API port given under a name no setting has."""
    _env_of(manifests, "gateway", "MAILMOAT_API_PORT")["name"] = "MAILMOAT_API_PROT"


def _wrong_smtp_port(manifests: list[Manifest]) -> None:
    """Ingest told to listen on a port its container does not declare."""
    _env_of(manifests, "ingest", "MAILMOAT_SMTP_PORT")["value"] = "2526"


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("broken", "passes"),
    [(None, True), (_misnamed_api_port, False), (_wrong_smtp_port, False)],
    ids=["as-rendered", "api-port-misnamed", "smtp-port-wrong"],
)
def test_the_rendered_chart_runs_and_its_helm_test_passes(
    manifests: list[Manifest],
    empty_database: str,
    tmp_path: Path,
    broken: Any,
    passes: bool,
) -> None:
    if broken is not None:
        broken(manifests)
    cluster = LocalCluster(
        manifests,
        secrets={
            "mailmoat-database": {"database-url": empty_database},
            "mailmoat-secrets": {"webhook-secret-key": secrets.token_urlsafe(32)},
        },
        log_dir=tmp_path,
    )
    with running(cluster):
        for job in cluster.hooks():
            assert cluster.run_to_completion(job, timeout=HOOK_SECONDS) == 0, cluster.logs()
        made = asyncio.run(bootstrap_workspace(empty_database, name="ops", plan="developer"))
        cluster.secrets["mailmoat-test-key"] = {"api-key": made.api_key}
        deployments = cluster.of_kind("Deployment")
        assert len(deployments) == 8
        for pod in deployments:
            cluster.start(pod)
        for pod in deployments:
            cluster.wait_ready(pod, timeout=STARTUP_SECONDS)
        [check] = cluster.of_kind("Pod")
        check.container["env"].append({"name": "SELFTEST_TIMEOUT_SECONDS", "value": "30"})
        code = cluster.run_to_completion(check, timeout=TEST_SECONDS)
    assert (code == 0) is passes, cluster.logs()
