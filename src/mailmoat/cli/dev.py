"""``mailmoat dev``: the embedded stack (tansu, SQLite, every service) under one supervisor.

Each service runs as its own child process, as in production; children die with the supervisor
(SIGTERM on parent death, plus a process group), so Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.cli.broker_storage import STORAGE_ENV, BrokerStorageError, broker_storage
from mailmoat.cli.redrive import redrive_now
from mailmoat.cli.registry import SERVICES
from mailmoat.common.bus import create_topics
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.events.base import utcnow
from mailmoat.common.processes import die_with_parent, terminate_all, wait_for_port
from mailmoat.common.settings import SECRET_ENV, CommonSettings

METRICS_BASE_PORT = 9101


EMBEDDED_FETCH_MAX_WAIT_MS = 10
STARTUP_SECONDS = 180
"""How long the services may take to listen: seconds on an idle machine, minutes on a busy one."""


@dataclasses.dataclass
class DevStack:
    """The embedded gateway: one broker, one SQLite file, one process per service."""

    data_dir: Path
    smtp_port: int = 2525
    api_port: int = 8080
    relay_port: int = 2526
    processes: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)

    def environment(self, broker: EmbeddedBroker) -> dict[str, str]:
        database = self.data_dir / "mailmoat.db"
        return {
            **os.environ,
            "MAILMOAT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "MAILMOAT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
            # The embedded broker answers an idle fetch only at its deadline: keep hops short.
            "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS": os.environ.get(
                "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS", str(EMBEDDED_FETCH_MAX_WAIT_MS)
            ),
            # Local trial: webhook receivers on this machine may be called (production: no).
            "MAILMOAT_EGRESS_ALLOWED_NETWORKS": os.environ.get(
                "MAILMOAT_EGRESS_ALLOWED_NETWORKS", '["127.0.0.0/8", "::1/128"]'
            ),
            "MAILMOAT_SMTP_PORT": str(self.smtp_port),
            "MAILMOAT_API_PORT": str(self.api_port),
            "MAILMOAT_RELAY_PORT": str(self.relay_port),
            "MAILMOAT_RELAY_STARTTLS": os.environ.get("MAILMOAT_RELAY_STARTTLS", "false"),
            SECRET_ENV: os.environ.get(SECRET_ENV) or deployment_secret(self.data_dir),
        }

    def start_services(self, env: dict[str, str]) -> None:
        for index, name in enumerate(SERVICES):
            base = int(env.get("MAILMOAT_DEV_METRICS_BASE_PORT", METRICS_BASE_PORT))
            child_env = {**env, "MAILMOAT_METRICS_PORT": str(base + index)}
            self.processes[name] = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "mailmoat.cli", "run", name],
                env=child_env,
                preexec_fn=die_with_parent,
            )

    def stop_services(self) -> None:
        terminate_all(self.processes.values(), timeout=10)


def deployment_secret(data_dir: Path) -> str:
    """The embedded deployment's secret, made on first start and kept (private) beside its data,
    so webhook secrets and bounce addresses stay valid across restarts."""
    path = data_dir / "secret.key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only, from the first byte (never chmod later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def run_dev(data_dir: Path, *, smtp_port: int, api_port: int) -> int:
    """Run the embedded gateway until Ctrl-C; returns the exit code. Everything it creates
    (the database, keys, logs) is private to the user who runs it."""
    try:
        storage = broker_storage(
            os.environ.get(STORAGE_ENV, ""),
            database_url=os.environ.get("MAILMOAT_DATABASE_URL", "sqlite://"),
        )
    except BrokerStorageError as error:
        print(error, file=sys.stderr)
        return 2
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stack = DevStack(data_dir=data_dir, smtp_port=smtp_port, api_port=api_port)
    broker = EmbeddedBroker(storage=storage)
    # Ctrl-C and SIGTERM stop the services first, then the broker: a signal during start-up
    # too is only noted here, so start-up ends and the stop below happens in that order.
    stopping = _note_stop_signals()
    with open(data_dir / "broker.log", "ab") as broker_log:
        broker_started = utcnow()
        broker.start(log=broker_log)
        try:
            env = stack.environment(broker)
            settings = _prepare(env, data_dir)
            stack.start_services(env)
            wait_for_port("127.0.0.1", api_port, timeout=STARTUP_SECONDS)
            wait_for_port("127.0.0.1", smtp_port, timeout=STARTUP_SECONDS)
            if not stopping["signal"]:
                _recover(settings, broker_started)
                _announce(stack, data_dir)
            return _supervise(stack, stopping)
        finally:
            stack.stop_services()
            broker.stop()


def _prepare(env: dict[str, str], data_dir: Path) -> CommonSettings:
    settings = CommonSettings(
        database_url=env["MAILMOAT_DATABASE_URL"],
        kafka_bootstrap=env["MAILMOAT_KAFKA_BOOTSTRAP"],
        kafka_idempotence=False,
        webhook_secret_key=env[SECRET_ENV],
    )
    upgrade(settings.database_url)
    asyncio.run(create_topics(settings))
    key_file = data_dir / "bootstrap-key.json"
    if not key_file.exists():
        created = asyncio.run(
            bootstrap_workspace(
                settings.database_url, name="default", plan="enterprise", agent_key=True
            )
        )
        write_private(key_file, json.dumps(dataclasses.asdict(created), default=str, indent=2))
    return settings


def _recover(settings: CommonSettings, broker_started: datetime) -> None:
    """What the previous run's broker held when it stopped went with it (memory storage): every
    event published before this broker started and not taken by all its consumers is published
    again now, rather than at the services' first redrive."""
    try:
        report = asyncio.run(redrive_now(settings, cutoff=broker_started, backoff=False))
    except Exception as exc:  # the services' own redrive will do it at their next round
        print(f"Could not recover the previous run's events now ({exc}); retrying later.")
        return
    again = sum(report.republished.values())
    if again:
        print(f"Recovered {again} events the previous run had not finished.", flush=True)


def _announce(stack: DevStack, data_dir: Path) -> None:
    print(
        f"\nMailmoat is running (embedded mode).\n"
        f"  SMTP  127.0.0.1:{stack.smtp_port}\n"
        f"  API   http://127.0.0.1:{stack.api_port}/api/v1  (docs at /api/v1/docs)\n"
        f"  Relay outbound mail to 127.0.0.1:{stack.relay_port}\n"
        f"  API keys (a person's, an agent's): {(data_dir / 'bootstrap-key.json').resolve()}\n"
        f"Press Ctrl-C to stop.\n",
        flush=True,
    )


def _note_stop_signals() -> dict[str, int]:
    """SIGINT and SIGTERM noted, not raised: the supervisor stops at its next look."""
    stopping = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stopping


def _supervise(stack: DevStack, stopping: dict[str, int]) -> int:
    while not stopping["signal"]:
        for name, process in stack.processes.items():
            if process.poll() is not None:
                print(f"service {name} exited with {process.returncode}; stopping", file=sys.stderr)
                return 1
        time.sleep(0.5)
    print("Stopping: services first, then the broker.", flush=True)
    return 0
