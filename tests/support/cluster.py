"""What Kubernetes would do with the chart's rendered manifests, done on this machine: each pod's
container run as a local process with exactly the environment the manifest gives it (values as
written, Secrets resolved from a dictionary standing in for the cluster's), hook Jobs first, in
their weight order; each pod in its own port space (its container ports mapped to free local
ports, as a pod's network namespace would hold them); Service names resolved to the pod they
select; readiness as the pod's own probe says.

Nothing is mapped that the manifest does not declare: a setting naming the wrong variable or the
wrong port leaves a process listening where no Service or probe looks, and the test fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mailmoat.common.processes import die_with_parent, free_port, terminate_all
from tests.support.stack import log_tails

Manifest = dict[str, Any]
ENTRYPOINT = [sys.executable, "-m", "mailmoat.cli"]
"""The image's entrypoint (``mailmoat``): what a container without a ``command`` runs."""
COMMANDS = {"python": sys.executable}
"""A container's ``command`` as this machine runs it."""


@dataclass
class Pod:
    """One workload's pod: its container, and where its ports are on this machine."""

    kind: str
    name: str
    labels: dict[str, str]
    container: Manifest
    ports: dict[int, int] = field(default_factory=dict)
    """Container port -> local port."""

    def port_named(self, name: str | int) -> int:
        if isinstance(name, int):
            return self.ports[name]
        declared = {p["name"]: p["containerPort"] for p in self.container.get("ports", [])}
        return self.ports[declared[name]]


@dataclass
class LocalCluster:
    """The rendered chart's pods, run here against ``secrets`` (name -> key -> value)."""

    manifests: list[Manifest]
    secrets: dict[str, dict[str, str]]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for doc in self.manifests:
            spec = _pod_spec(doc)
            if spec is None:
                continue
            [container] = spec["containers"]
            template = doc["spec"].get("template", doc)  # a bare Pod is its own template
            labels = template["metadata"].get("labels", {})
            pod = Pod(doc["kind"], doc["metadata"]["name"], labels, container)
            pod.ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
            self.pods[pod.name] = pod

    def of_kind(self, kind: str) -> list[Pod]:
        return [pod for pod in self.pods.values() if pod.kind == kind]

    def hooks(self) -> list[Pod]:
        """The hook Jobs in the order Helm runs them (weight, then name)."""
        jobs = {doc["metadata"]["name"]: doc for doc in self.manifests if doc["kind"] == "Job"}

        def weight(pod: Pod) -> tuple[int, str]:
            annotations = jobs[pod.name]["metadata"].get("annotations", {})
            return int(annotations.get("helm.sh/hook-weight", "0")), pod.name

        return sorted(self.of_kind("Job"), key=weight)

    def environment(self, pod: Pod) -> dict[str, str]:
        """The container's environment as the kubelet would give it, seen from this machine:
        Secrets resolved, the pod's own ports and the Services' addresses translated."""
        env = {"PATH": os.environ["PATH"], "HOME": str(self.log_dir)}
        for entry in pod.container.get("env", []):
            env[entry["name"]] = self._resolve(pod, entry)
        return env

    def _resolve(self, pod: Pod, entry: Manifest) -> str:
        if "value" in entry:
            value = str(entry["value"])
        else:
            ref = entry["valueFrom"]["secretKeyRef"]  # anything else: not resolvable, fail
            value = self.secrets[ref["name"]][ref["key"]]
        if value.isdigit() and int(value) in pod.ports:
            return str(pod.ports[int(value)])  # the pod's own port, as its namespace has it
        for service, port, local in self._service_addresses():
            value = value.replace(f"{service}:{port}", f"127.0.0.1:{local}")
        return value

    def _service_addresses(self) -> Iterator[tuple[str, int, int]]:
        """(Service name, Service port, local port of the pod port it targets)."""
        for doc in self.manifests:
            if doc["kind"] != "Service":
                continue
            selector = doc["spec"]["selector"]
            [pod] = [
                p
                for p in self.pods.values()
                if p.kind == "Deployment" and selector.items() <= p.labels.items()
            ]
            for port in doc["spec"]["ports"]:
                yield doc["metadata"]["name"], port["port"], pod.port_named(port["targetPort"])

    def command(self, pod: Pod) -> list[str]:
        command = [COMMANDS.get(part, part) for part in pod.container.get("command", [])]
        return (command or ENTRYPOINT) + list(pod.container.get("args", []))

    def start(self, pod: Pod) -> subprocess.Popen[bytes]:
        with open(self.log_dir / f"{pod.name}.log", "ab") as log:
            process = subprocess.Popen(
                self.command(pod),
                env=self.environment(pod),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self.processes[pod.name] = process
        return process

    def run_to_completion(self, pod: Pod, *, timeout: float) -> int:
        return self.start(pod).wait(timeout=timeout)

    def wait_ready(self, pod: Pod, *, timeout: float) -> None:
        """Until the pod's readiness probe answers 200 (its startup and readiness, as written)."""
        probe = pod.container["readinessProbe"]["httpGet"]
        url = f"http://127.0.0.1:{pod.port_named(probe['port'])}{probe['path']}"
        _until(lambda: _answers_ok(url), timeout, f"{pod.name} ready at {url}\n{self.logs()}")

    def stop(self) -> None:
        terminate_all(self.processes.values())
        self.processes.clear()

    def logs(self) -> str:
        return log_tails(self.log_dir)


@contextmanager
def running(cluster: LocalCluster) -> Iterator[LocalCluster]:
    try:
        yield cluster
    finally:
        cluster.stop()


def _pod_spec(doc: Manifest) -> Mapping[str, Any] | None:
    if doc["kind"] in ("Deployment", "Job"):
        spec: Mapping[str, Any] = doc["spec"]["template"]["spec"]
        return spec
    if doc["kind"] == "Pod":
        pod_spec: Mapping[str, Any] = doc["spec"]
        return pod_spec
    return None


def _answers_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)
