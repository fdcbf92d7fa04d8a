"""A real Prometheus server (Debian's, from ``tests.support.prometheus``) scraping the gateway's
metrics ports every second and loading the alert rules, and a client for its HTTP API."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from mailmoat.common.processes import die_with_parent, free_port, terminate_all, wait_for_port
from tests.support.prometheus import prometheus_tools


@dataclass(frozen=True)
class Prometheus:
    """A running server's HTTP API."""

    url: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar) ``expr`` gives now; an error answer fails loudly."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        body = answer.json()
        if body.get("status") != "success":
            raise AssertionError(f"{expr!r}: {body.get('errorType')}: {body.get('error')}")
        result = body["data"]["result"]
        if body["data"]["resultType"] == "scalar":
            return [{"value": result}]
        return list(result)

    def rule_groups(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/rules", timeout=30)
        return list(answer.json()["data"]["groups"])

    def targets_up(self) -> list[str]:
        """The scrape targets whose last scrape succeeded."""
        answer = httpx.get(f"{self.url}/api/v1/targets", timeout=30)
        active = answer.json()["data"]["activeTargets"]
        return [t["scrapeUrl"] for t in active if t["health"] == "up"]


@contextmanager
def scraping(targets: list[str], rule_files: list[Path], workdir: Path) -> Iterator[Prometheus]:
    """A Prometheus scraping ``targets`` (host:port) every second, with ``rule_files`` loaded
    and evaluated every second; stopped on exit."""
    tools = prometheus_tools()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [{"job_name": "mailmoat", "static_configs": [{"targets": targets}]}],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    with open(workdir / "prometheus.log", "ab") as log:
        process = subprocess.Popen(
            [
                str(tools.prometheus),
                f"--config.file={config_file}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        terminate_all([process])
