"""The gateway as separate service processes, as production runs it, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mailmoat.cli.main import CORE_SERVICE_NAMES
from mailmoat.common.processes import (
    die_with_parent,
    free_port,
    listening,
    terminate_all,
    wait_for_port,
)
from mailmoat.common.settings import CommonSettings
from tests.support.inprocess import running

ALL_SERVICES = CORE_SERVICE_NAMES
TOGETHER = "services"
"""The key (and log name) of the one process running every service."""
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
    separate: tuple[str, ...] = ()
    """Services ``start()`` gives a process of their own (one a test kills, say); the others
    share one ``mailmoat run`` process, as a small deployment may."""

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
            "MAILMOAT_KAFKA_PROMPT_FETCH_MAX_WAIT_MS": str(s.fetch_max_wait_ms(prompt=True)),
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
        if names:
            for name in names:
                self._spawn(name)
        else:
            for name in self.separate:
                self._spawn(name)
            if together := [name for name in ALL_SERVICES if name not in self.separate]:
                self._spawn(*together, key=TOGETHER)
        if not names or "ingest" in names:
            wait_for_port("127.0.0.1", self.smtp_port, timeout=STARTUP_SECONDS)
        if not names or "gateway" in names:
            wait_for_port("127.0.0.1", self.api_port, timeout=STARTUP_SECONDS)

    def start_replica(self, name: str, replica: int) -> None:
        """Another process of service ``name`` (keyed ``name#replica``), sharing its groups."""
        self._spawn(name, key=f"{name}#{replica}")

    def _spawn(self, *names: str, key: str | None = None) -> None:
        key = key or names[0]
        env = self.environment()
        for name in names:
            env.update(self.service_env.get(name, {}))
        with open(self.log_dir / f"{key}.log", "ab") as log:  # the child keeps its copy
            self.processes[key] = subprocess.Popen(
                [sys.executable, "-m", "mailmoat.cli", "run", *names],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )

    def kill(self, name: str) -> None:
        """SIGKILL: no clean-up, no offset commit, no goodbye to the consumer group. ``name``: a
        service started on its own (``separate``), or ``TOGETHER``."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        terminate_all(self.processes.values())
        self.processes.clear()

    def logs(self) -> str:
        return log_tails(self.log_dir)


def log_tails(log_dir: Path) -> str:
    """The end of each process's log in ``log_dir``: what a failed test shows of them."""
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
        for path in sorted(log_dir.glob("*.log"))
    )


@dataclass(frozen=True)
class LoneGateway:
    """The gateway service by itself, serving real HTTP from the test's own process."""

    api_port: int

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"


@asynccontextmanager
async def gateway_alone(
    settings: CommonSettings, log_dir: Path, **env: str
) -> AsyncIterator[LoneGateway]:
    """The gateway by itself (no relay behind it), with extra ``MAILMOAT_*`` settings, read from
    the same variables a ``mailmoat run gateway`` process would be given. It runs on the test's
    event loop: the HTTP layer is the same, and it starts in a fraction of a second."""
    from mailmoat.cli.registry import SERVICES

    # No policy answers it: a send answers ``queued`` at once rather than wait for a decision.
    env = {"MAILMOAT_API_SEND_WAIT_SECONDS": "0", **env}
    stack = ProcessStack(settings=settings, log_dir=log_dir, relay_port=free_port(), extra_env=env)
    with _environment(stack.environment()):
        service = SERVICES["gateway"].from_environment()
    async with running(service):
        async with asyncio.timeout(STARTUP_SECONDS):
            await listening("127.0.0.1", stack.api_port)
        yield LoneGateway(stack.api_port)


@contextmanager
def gateway_process(settings: CommonSettings, log_dir: Path, **env: str) -> Iterator[ProcessStack]:
    """The gateway as its own process, for a test whose client must not share a process with it
    (a property-based fuzzer that watches the process's ``random`` state)."""
    env = {"MAILMOAT_API_SEND_WAIT_SECONDS": "0", **env}
    stack = ProcessStack(settings=settings, log_dir=log_dir, relay_port=free_port(), extra_env=env)
    stack.start("gateway")
    try:
        yield stack
    finally:
        stack.stop()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` as ``values`` for the block, then as it was."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
