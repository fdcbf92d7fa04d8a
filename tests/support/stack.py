"""The gateway as separate service processes, as production runs it, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mailmoat.cli.main import CORE_SERVICE_NAMES
from mailmoat.common.processes import die_with_parent, free_port, terminate_all, wait_for_port
from mailmoat.common.settings import CommonSettings

ALL_SERVICES = CORE_SERVICE_NAMES
STARTUP_SECONDS = 180
"""How long a stack may take to listen: eight processes importing and joining their consumer
groups at once take seconds on an idle machine, and minutes on a busy one."""


@dataclass
class ProcessStack:
    """Starts, kills and restarts ``mailmoat run <service>`` processes sharing one settings."""

    settings: CommonSettings
    log_dir: Path
    relay_port: int
    smtp_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """Settings for one service only (its metrics port, say), by service name."""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    def environment(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "MAILMOAT_DATABASE_URL": s.database_url,
            "MAILMOAT_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
            "MAILMOAT_KAFKA_SESSION_TIMEOUT_MS": str(s.kafka_session_timeout_ms),
            "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS": str(s.kafka_fetch_max_wait_ms),
            "MAILMOAT_TOPIC_PREFIX": s.topic_prefix,
            "MAILMOAT_GROUP_PREFIX": s.group_prefix,
            "MAILMOAT_OUTBOX_POLL_SECONDS": str(s.outbox_poll_seconds),
            "MAILMOAT_SMTP_PORT": str(self.smtp_port),
            "MAILMOAT_API_PORT": str(self.api_port),
            "MAILMOAT_RELAY_PORT": str(self.relay_port),
            "MAILMOAT_RELAY_STARTTLS": "false",
            "MAILMOAT_APPROVAL_SWEEP_SECONDS": "0.5",
            # The test receivers listen on loopback, which production egress refuses.
            "MAILMOAT_EGRESS_ALLOWED_NETWORKS": '["127.0.0.0/8", "::1/128"]',
            "MAILMOAT_API_SEND_WAIT_SECONDS": "5",
            **self.extra_env,
        }

    def start(self, *names: str) -> None:
        for name in names or ALL_SERVICES:
            self._spawn(name, name)
        if not names or "ingest" in names:
            wait_for_port("127.0.0.1", self.smtp_port, timeout=STARTUP_SECONDS)
        if not names or "gateway" in names:
            wait_for_port("127.0.0.1", self.api_port, timeout=STARTUP_SECONDS)

    def start_replica(self, name: str, replica: int) -> None:
        """Another process of service ``name`` (keyed ``name#replica``), sharing its groups."""
        self._spawn(name, f"{name}#{replica}")

    def _spawn(self, name: str, key: str) -> None:
        with open(self.log_dir / f"{key}.log", "ab") as log:  # the child keeps its copy
            self.processes[key] = subprocess.Popen(
                [sys.executable, "-m", "mailmoat.cli", "run", name],
                env={**self.environment(), **self.service_env.get(name, {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )

    def kill(self, name: str) -> None:
        """SIGKILL: no clean-up, no offset commit, no goodbye to the consumer group."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        terminate_all(self.processes.values())
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


@contextmanager
def gateway_alone(settings: CommonSettings, log_dir: Path, **env: str) -> Iterator[ProcessStack]:
    """The gateway process by itself (no relay behind it), with extra ``MAILMOAT_*`` settings."""
    # No policy answers it: a send answers ``queued`` at once rather than wait for a decision.
    env = {"MAILMOAT_API_SEND_WAIT_SECONDS": "0", **env}
    stack = ProcessStack(settings=settings, log_dir=log_dir, relay_port=free_port(), extra_env=env)
    stack.start("gateway")
    try:
        yield stack
    finally:
        stack.stop()
