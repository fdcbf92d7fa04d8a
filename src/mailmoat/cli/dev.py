"""``mailmoat dev``: the embedded stack (tansu, SQLite, every service) in one process.

The broker is a child process; every service of the registry runs as tasks on this process's one
event loop (each still deployable alone with ``mailmoat run <service>``). Start-up order: broker,
database and topics, services. Ctrl-C or SIGTERM stops them the other way round: the services
finish the work in hand, then the broker goes, then one closing line is printed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import secrets
import signal
import sys
from datetime import datetime
from pathlib import Path

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.cli.broker_storage import STORAGE_ENV, BrokerStorageError, broker_storage
from mailmoat.cli.dev_sink import DevOutbox
from mailmoat.cli.redrive import redrive_now
from mailmoat.cli.registry import SERVICES
from mailmoat.common.bus import create_topics
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.events.base import utcnow
from mailmoat.common.fetch_pace import FetchPace
from mailmoat.common.processes import listening
from mailmoat.common.service import ServiceFailed, configure_process, run_services
from mailmoat.common.settings import SECRET_ENV, CommonSettings

METRICS_BASE_PORT = 9101
"""The dev process's one metrics port (every series labelled by service); the variable
``MAILMOAT_DEV_METRICS_BASE_PORT`` moves it."""

EMBEDDED_FETCH_MAX_WAIT_MS = 25
"""A consumer's fetch wait on the embedded broker while mail moves. On tansu a record reaches a
waiting consumer up to half the wait later at each hop, and every fetch costs the client and the
broker CPU, once per wait per consumer (BENCHMARKS.md, "The embedded broker's floor"). At 10 ms
the polling of the sixteen consumers took most of a core, and in one process it slowed every hop
under load: in the pipeline bench, every service in one process, paced at half its rate, a
webhook's p95 was 1.9 s at 10 ms and 0.3 s at 25 ms."""
EMBEDDED_PROMPT_FETCH_MAX_WAIT_MS = 5
"""The busy wait of the two consumers a send call waits on: policy reading the request, the
gateway reading the decision. Each hop there costs up to half the wait; at 5 ms two hops took
7 ms at p95 against 18 at 25 ms, for about 4% of a core more per consumer while mail moves
(BENCHMARKS.md, "The embedded broker's floor")."""
IDLE_FETCH_MAX_WAIT_MS = 1000
"""The wait once nothing has moved for a while: what an idle consumer costs (one fetch per wait;
about 4.4% of a core at rest for the process and the broker together, against 5.6% at 500 ms),
and at most the extra delay of the first mail after a quiet spell."""
DEV_OUTBOX_POLL_SECONDS = "5"
"""Every commit in the gateway wakes its relay or hands it the rows; the poll is only the
fallback (a fast path that failed), so at rest it need not look five times a second."""
STARTUP_SECONDS = 180
"""How long the services may take to listen: seconds on an idle machine, minutes on a busy one."""
CLOSING_LINE = "Mailmoat stopped."


@dataclasses.dataclass
class DevStack:
    """The embedded gateway's addresses and data directory."""

    data_dir: Path
    smtp_port: int = 2525
    api_port: int = 8080
    relay_port: int = 2526

    @property
    def outbox(self) -> Path | None:
        """Where the built-in outbox keeps what dispatch relays; None when the user points the
        relay at a real host (``MAILMOAT_RELAY_HOST``), which then gets the mail instead."""
        return None if os.environ.get("MAILMOAT_RELAY_HOST") else self.data_dir / "outbox"

    @property
    def metrics_port(self) -> int:
        return int(os.environ.get("MAILMOAT_DEV_METRICS_BASE_PORT", METRICS_BASE_PORT))

    def environment(self, broker: EmbeddedBroker) -> dict[str, str]:
        """The ``MAILMOAT_*`` variables every service reads its settings from."""
        database = self.data_dir / "mailmoat.db"
        return {
            "MAILMOAT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "MAILMOAT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
            # On the embedded broker the fetch wait bounds each hop. Consumers start
            # with the idle wait; ``FetchPace`` shortens the services' own while mail moves.
            "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS": os.environ.get(
                "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS", str(IDLE_FETCH_MAX_WAIT_MS)
            ),
            "MAILMOAT_OUTBOX_POLL_SECONDS": os.environ.get(
                "MAILMOAT_OUTBOX_POLL_SECONDS", DEV_OUTBOX_POLL_SECONDS
            ),
            # Local trial: webhook receivers on this machine may be called (production: no).
            "MAILMOAT_EGRESS_ALLOWED_NETWORKS": os.environ.get(
                "MAILMOAT_EGRESS_ALLOWED_NETWORKS", '["127.0.0.0/8", "::1/128"]'
            ),
            # A person watches this terminal: plain lines, warnings and errors only (and what the
            # built-in outbox keeps). ``MAILMOAT_LOG_LEVEL=INFO`` shows every service's chatter.
            "MAILMOAT_LOG_JSON": os.environ.get("MAILMOAT_LOG_JSON", "false"),
            "MAILMOAT_LOG_LEVEL": os.environ.get("MAILMOAT_LOG_LEVEL", "WARNING"),
            "MAILMOAT_SMTP_PORT": str(self.smtp_port),
            "MAILMOAT_API_PORT": str(self.api_port),
            "MAILMOAT_RELAY_PORT": str(self.relay_port),
            "MAILMOAT_RELAY_STARTTLS": os.environ.get("MAILMOAT_RELAY_STARTTLS", "false"),
            "MAILMOAT_DEV_OUTBOX_DIR": str(self.outbox or ""),
            SECRET_ENV: os.environ.get(SECRET_ENV) or deployment_secret(self.data_dir),
        }


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


def run_dev(data_dir: Path, *, smtp_port: int, api_port: int, relay_port: int) -> int:
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
    stack = DevStack(data_dir, smtp_port=smtp_port, api_port=api_port, relay_port=relay_port)
    broker = EmbeddedBroker(storage=storage)
    # A signal during the (blocking) start-up is only noted: start-up ends, then the stop below
    # happens in order. Once the services run, the event loop takes the signals over.
    stopping = _note_stop_signals()
    with open(data_dir / "broker.log", "ab") as broker_log:
        broker_started = utcnow()
        broker.start(log=broker_log)  # first up, last down
        try:
            os.environ.update(stack.environment(broker))  # the services' settings read these
            settings = _prepare(data_dir)
            code = asyncio.run(_serve(stack, settings, broker_started, stopping))
        finally:
            _note_stop_signals()  # the loop is gone: a second Ctrl-C must not cut the stop short
            broker.stop()
    print(CLOSING_LINE, flush=True)
    return code


def _prepare(data_dir: Path) -> CommonSettings:
    settings = CommonSettings()
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


async def _serve(
    stack: DevStack, settings: CommonSettings, broker_started: datetime, stopping: dict[str, int]
) -> int:
    """Every service on this loop until a signal; 0 after a requested stop, 1 if one failed."""
    stop = _stop_on_signals(already=bool(stopping["signal"]))
    _configure(settings, stack.metrics_port)
    services = [spec.from_environment() for spec in SERVICES.values()]
    # The outbox comes up after the broker and before the services, and goes down after them.
    outbox = DevOutbox(stack.outbox, port=stack.relay_port) if stack.outbox else None
    if outbox is not None:
        try:
            await outbox.start()
        except OSError as error:
            print(f"The outbox cannot listen on {stack.relay_port}: {error}", file=sys.stderr)
            return 1
    pace = FetchPace(
        idle_ms=settings.kafka_fetch_max_wait_ms,
        busy_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
        prompt_ms=EMBEDDED_PROMPT_FETCH_MAX_WAIT_MS,
    )
    running = asyncio.create_task(run_services(services, stop=stop, pace=pace))
    try:
        await _started(stack, running)
        if not stop.is_set():
            await _recover(settings, broker_started)
            _announce(stack)
        await running
    except ServiceFailed as failure:
        print(f"service {failure.name} stopped: {failure.__cause__!r}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"The API or SMTP did not listen within {STARTUP_SECONDS} s.", file=sys.stderr)
        return 1
    finally:
        stop.set()
        await asyncio.gather(running, return_exceptions=True)
        if outbox is not None:
            await outbox.stop()
    return 0


def _configure(settings: CommonSettings, metrics_port: int) -> None:
    """Logging, tracing and one metrics server for the whole process."""
    try:
        configure_process(
            "mailmoat-dev", settings.model_copy(update={"metrics_port": metrics_port})
        )
    except OSError as error:  # another gateway holds the port: run without metrics
        print(f"Metrics not served on port {metrics_port}: {error}", file=sys.stderr)
    # Each mail the built-in outbox keeps is news to the person trying the gateway.
    outbox_log = logging.getLogger(DevOutbox.__module__)
    outbox_log.setLevel(min(outbox_log.getEffectiveLevel(), logging.INFO))


async def _started(stack: DevStack, running: asyncio.Task[None]) -> None:
    """Wait until the API and SMTP listen, or a service ended first (its error is raised)."""
    ports = asyncio.ensure_future(_listening(stack))
    done, _ = await asyncio.wait([ports, running], return_when=asyncio.FIRST_COMPLETED)
    if running in done:
        ports.cancel()
        await asyncio.gather(ports, return_exceptions=True)
        await running  # raises ServiceFailed; returns only after a stop during start-up
        return
    await ports


async def _listening(stack: DevStack) -> None:
    async with asyncio.timeout(STARTUP_SECONDS):
        await listening("127.0.0.1", stack.api_port)
        await listening("127.0.0.1", stack.smtp_port)


async def _recover(settings: CommonSettings, broker_started: datetime) -> None:
    """What the previous run's broker held when it stopped went with it (memory storage): every
    event published before this broker started and not taken by all its consumers is published
    again now, rather than at the services' first redrive."""
    try:
        report = await redrive_now(settings, cutoff=broker_started, backoff=False)
    except Exception as exc:  # the services' own redrive will do it at their next round
        print(f"Could not recover the previous run's events now ({exc}); retrying later.")
        return
    again = sum(report.republished.values())
    if again:
        print(f"Recovered {again} events the previous run had not finished.", flush=True)


def _announce(stack: DevStack) -> None:
    print(
        f"\nMailmoat is running (embedded mode: {len(SERVICES)} services in one process, "
        f"the broker beside it).\n"
        f"  SMTP     127.0.0.1:{stack.smtp_port}\n"
        f"  API      http://127.0.0.1:{stack.api_port}/api/v1  (docs at /api/v1/docs)\n"
        f"  Review   http://127.0.0.1:{stack.api_port}/ui  (sign in with the person's key)\n"
        f"  MCP      http://127.0.0.1:{stack.api_port}/mcp  (or 'mailmoat mcp' over stdio)\n"
        f"  Relay    outbound mail to {_relay(stack)}\n"
        f"  Metrics  http://127.0.0.1:{stack.metrics_port}/metrics  (every service, by label)\n"
        f"  API keys (a person's, an agent's): "
        f"{(stack.data_dir / 'bootstrap-key.json').resolve()}\n"
        f"  Logs     warnings and errors here (MAILMOAT_LOG_LEVEL=INFO for every service's)\n"
        f"Press Ctrl-C to stop.\n",
        flush=True,
    )


def _relay(stack: DevStack) -> str:
    if stack.outbox is None:
        return f"{os.environ['MAILMOAT_RELAY_HOST']}:{stack.relay_port}"
    return (
        f"the built-in outbox, 127.0.0.1:{stack.relay_port}, kept in {stack.outbox.resolve()}\n"
        f"           (read it at http://127.0.0.1:{stack.api_port}/api/v1/dev/outbox)"
    )


def _note_stop_signals() -> dict[str, int]:
    """SIGINT and SIGTERM noted, not raised, until the event loop takes them over."""
    stopping = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stopping


def _stop_on_signals(*, already: bool) -> asyncio.Event:
    """The event SIGINT and SIGTERM set (``already``: one came during start-up)."""
    stop = asyncio.Event()

    def on_signal() -> None:
        if not stop.is_set():
            print("Stopping: services first, then the broker.", flush=True)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    if already:
        on_signal()
    return stop
