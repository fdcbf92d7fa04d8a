"""Service runtime: settings, database, bus, outbox relay and handlers; one service per process,
or several sharing one event loop (``mailmoat dev``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mailmoat.common.bus import create_broker, create_topics
from mailmoat.common.consumer import subscribe
from mailmoat.common.db.session import (
    SessionFactory,
    create_engine,
    create_session_factory,
    is_sqlite,
    reading,
)
from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.dead_letters import count_pending, export_pending
from mailmoat.common.events.base import utcnow
from mailmoat.common.fetch_pace import FetchPace
from mailmoat.common.observability.gauges import (
    Consumer,
    database_answers,
    measure_all,
    measure_lag,
    measure_outbox,
    measure_with,
    record_dependencies,
)
from mailmoat.common.observability.health import (
    CHECK_TIMEOUT_SECONDS,
    HEALTH,
    Check,
    start_ops_server,
)
from mailmoat.common.observability.logging import configure_logging, set_log_service
from mailmoat.common.observability.metrics import SERVICE_UP, export_known_series
from mailmoat.common.observability.tracing import configure_tracing
from mailmoat.common.outbox import OutboxRelay
from mailmoat.common.redrive import Redrive
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import Membership, Subscription

log = logging.getLogger(__name__)

# How long a stopping service lets its loops finish the work in hand before cancelling them.
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Runtime:
    """What a running service's tasks and handlers share."""

    name: str
    settings: CommonSettings
    sessions: SessionFactory
    broker: KafkaBroker
    relay: OutboxRelay
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    pace: FetchPace | None = None
    """Where services share a paced process: a consumer a task reads by hand may follow it."""

    async def pause(self, seconds: float) -> bool:
        """Sleep between rounds of a loop: False, at once, when the service is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return not self.stopping.is_set()


Task = Callable[[Runtime], Coroutine[Any, Any, None]]
Measure = Callable[[AsyncSession], Awaitable[None]]


def every(seconds: float, what: str, round_: Callable[[Runtime], Awaitable[object]]) -> Task:
    """A loop for ``Service.loops``: ``round_`` every ``seconds`` until the service stops. A
    round that fails is logged (as ``what``) and the next one tried on time; a round in hand
    when the stop comes is finished."""

    async def loop(runtime: Runtime) -> None:
        while True:
            try:
                await round_(runtime)
            except Exception:
                log.exception("%s failed; retrying", what)
            if not await runtime.pause(seconds):
                return

    loop.__qualname__ = loop.__name__ = what.replace(" ", "_")
    return loop


@dataclass(frozen=True)
class Service:
    """A deployable unit: its consumers, its long-running tasks and its clean-up.

    ``loops`` are periodic tasks that return once ``runtime.stopping`` is set (waiting with
    ``runtime.pause``): a stop lets the round in hand finish, so no database work is cut off
    mid-transaction. ``tasks`` (servers) are cancelled at once and close themselves."""

    name: str
    settings: CommonSettings
    subscriptions: Sequence[Subscription[Any]] = ()
    tasks: Sequence[Task] = ()
    loops: Sequence[Task] = ()
    measures: Sequence[Measure] = ()
    """What the service sets on its gauges from the database, every ``gauges_interval_seconds``
    where it serves metrics."""
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default=())


def configure_process(name: str, settings: CommonSettings) -> None:
    """What a process sets up once, whatever runs in it: logging, tracing and, where
    ``settings.metrics_port`` is set, the server of ``/metrics`` (one per process, every series
    labelled by service, producer or consumer group), ``/healthz/live`` and ``/healthz/ready``."""
    configure_logging(name, level=settings.log_level, json_lines=settings.log_json)
    configure_tracing(name)
    if settings.metrics_port:
        export_known_series()
        start_ops_server(settings.metrics_port, settings.metrics_host)


async def run_service(
    service: Service,
    *,
    stop: asyncio.Event | None = None,
    configure: bool = True,
    pace: FetchPace | None = None,
    engine: AsyncEngine | None = None,
) -> None:
    """Run ``service`` until SIGTERM/SIGINT (or ``stop``), then shut down cleanly. ``configure``
    off: the process is set up already (``configure_process``), as where services share it.
    ``pace``: its consumers' fetch wait follows the process's traffic (embedded broker).
    ``engine``: one the caller shares between services and disposes of (else its own)."""
    settings = service.settings
    if configure:
        configure_process(service.name, settings)
    set_log_service(service.name)  # this task's context: every task started below inherits it
    stop = stop or _stop_on_signals()
    owned = engine is None
    engine = engine or create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    broker = create_broker(settings, client_id=service.name)
    relay = (
        OutboxRelay(sessions, broker, settings, producer=service.name)
        if pace is None
        else _PacedRelay(sessions, broker, settings, producer=service.name, pace=pace)
    )
    # One client per consumer group: joining a group takes seconds, and separate clients join
    # in parallel where one client would join its groups one after another.
    consumers = [
        create_broker(settings, client_id=f"{service.name}-{subscription.group}")
        for subscription in service.subscriptions
    ]
    memberships = {
        subscription.group: subscribe(
            consumer, settings, sessions, subscription, after_commit=relay.hand_over
        )
        for consumer, subscription in zip(consumers, service.subscriptions, strict=True)
    }
    await asyncio.gather(broker.start(), *(consumer.start() for consumer in consumers))
    if pace is not None:
        for consumer, subscription in zip(consumers, service.subscriptions, strict=True):
            pace.follow(consumer, prompt=subscription.prompt)
    runtime = Runtime(service.name, settings, sessions, broker, relay, pace=pace)
    loops = [asyncio.create_task(relay.run(runtime.stopping))]
    loops += [asyncio.create_task(loop(runtime)) for loop in service.loops]
    if settings.metrics_port:
        pairs = zip(consumers, service.subscriptions, strict=True)
        measured = [Consumer(client, subscription) for client, subscription in pairs]
        loops.append(asyncio.create_task(_measure(runtime, engine, measured, service.measures)))
    if settings.redrive_interval_seconds > 0:
        groups = {settings.group(subscription.group) for subscription in service.subscriptions}
        loops.append(asyncio.create_task(_redrive(runtime, service.name, groups)))
    tasks = [asyncio.create_task(task(runtime)) for task in service.tasks]
    HEALTH.add(service.name, _readiness(runtime, engine, memberships))
    SERVICE_UP.labels(service.name).set(1)
    log.info("service started")
    try:
        await _until_stopped(stop, [*loops, *tasks])
    finally:
        SERVICE_UP.labels(service.name).set(0)
        HEALTH.remove(service.name)
        for task in tasks:
            task.cancel()
        runtime.stopping.set()
        relay.wake()
        _, late = await asyncio.wait(loops, timeout=STOP_GRACE_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, *loops, return_exceptions=True)
        await asyncio.gather(broker.stop(), *(consumer.stop() for consumer in consumers))
        for clean_up in service.on_stop:
            await clean_up()
        if owned:
            await engine.dispose()
        log.info("service stopped")


async def run_services(
    services: Sequence[Service], *, stop: asyncio.Event, pace: FetchPace | None = None
) -> None:
    """Run ``services`` side by side on this event loop until ``stop`` is set, each stopping as
    ``run_service`` does. One that ends first (failing or not) stops the others, cleanly, and
    ``ServiceFailed`` names it. Services on one SQLite database share one engine, so their
    write transactions take turns in this process rather than in SQLite's busy handler."""
    engines = {
        url: create_engine(url)
        for url in {service.settings.database_url for service in services}
        if is_sqlite(url)
    }
    runs = [
        asyncio.create_task(
            run_service(
                service,
                stop=stop,
                configure=False,
                pace=pace,
                engine=engines.get(service.settings.database_url),
            ),
            name=service.name,
        )
        for service in services
    ]
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *runs], return_when=asyncio.FIRST_COMPLETED)
    first = next((run for run in runs if run in done), None)
    stop.set()
    results = await asyncio.gather(*runs, return_exceptions=True)
    await stopper
    for engine in engines.values():
        await engine.dispose()
    if first is not None:
        error = results[runs.index(first)]
        raise ServiceFailed(first.get_name()) from (
            error if isinstance(error, BaseException) else None
        )


async def run_together(services: Sequence[Service], *, name: str) -> None:
    """Run ``services`` in this process until SIGTERM/SIGINT, set up once as ``name``: a
    deployment that packs several services into one process (``mailmoat run a b c``)."""
    configure_process(name, services[0].settings)
    await run_services(services, stop=_stop_on_signals())


class ServiceFailed(RuntimeError):
    """One of several services sharing a loop ended before the stop; the others were stopped."""

    def __init__(self, name: str) -> None:
        super().__init__(f"service {name} ended before the stop")
        self.name = name


class _PacedRelay(OutboxRelay):
    """The relay of a paced process: what it is handed or woken for is traffic."""

    def __init__(self, *args: Any, pace: FetchPace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pace = pace

    def wake(self) -> None:
        self._pace.moved()
        super().wake()

    def hand_over(self, rows: list[OutboxRecord]) -> None:
        if rows:
            self._pace.moved()
        super().hand_over(rows)


async def _redrive(runtime: Runtime, producer: str, groups: set[str]) -> None:
    """Publish again, every interval, what this service staged and a consumer never took; and
    count the dead letters its own consumer groups left (``mailmoat_dead_letters_pending``)."""
    settings = runtime.settings
    ensure = partial(create_topics, settings)
    redrive = Redrive(
        runtime.sessions, runtime.broker, settings, producer=producer, ensure_topics=ensure
    )

    async def round_(_: Runtime) -> None:
        cutoff = utcnow() - timedelta(seconds=settings.redrive_after_seconds)
        await redrive.run_once(cutoff)
        with reading():
            async with runtime.sessions() as session, session.begin():
                pending = await count_pending(session)
        export_pending({pair: n for pair, n in pending.items() if pair[0] in groups})

    await every(settings.redrive_interval_seconds, "redrive", round_)(runtime)


def _readiness(runtime: Runtime, engine: AsyncEngine, memberships: dict[str, Membership]) -> Check:
    """A service is ready when it is not stopping, its database and broker answer, and each of
    its consumer groups holds an assignment."""

    async def check() -> str | None:
        if runtime.stopping.is_set():
            return "stopping"
        waiting = sorted(group for group, member in memberships.items() if not member.assigned)
        if waiting:
            return f"consumer group not assigned yet: {', '.join(waiting)}"
        database, broker = await _dependencies(runtime, engine)
        if not database:
            return "database unreachable"
        if not broker:
            return "broker unreachable"
        return None

    return check


async def _dependencies(runtime: Runtime, engine: AsyncEngine) -> tuple[bool, bool]:
    """Whether the database and the broker answer (``mailmoat_dependency_up`` says too)."""
    database = await database_answers(engine)
    broker = await runtime.broker.ping(timeout=CHECK_TIMEOUT_SECONDS / 2)
    record_dependencies(runtime.name, database=database, broker=broker)
    return database, broker


async def _measure(
    runtime: Runtime, engine: AsyncEngine, consumers: list[Consumer], measures: Sequence[Measure]
) -> None:
    """Measure lag, outbox, dependencies and the service's own gauges for ``/metrics`` until
    the service stops."""
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: measure_lag(consumers),
        lambda: measure_outbox(runtime.sessions, runtime.name),
        lambda: _dependencies(runtime, engine),
        *(partial(measure_with, runtime.sessions, measure) for measure in measures),
    ]
    while True:
        await measure_all(steps)
        if not await runtime.pause(runtime.settings.gauges_interval_seconds):
            return


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _until_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
