"""Service runtime: one process wiring settings, database, bus, outbox relay and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from faststream.kafka import KafkaBroker

from mailmoat.common.bus import create_broker, create_topics
from mailmoat.common.consumer import Subscription, subscribe
from mailmoat.common.db.session import (
    SessionFactory,
    create_engine,
    create_session_factory,
    reading,
)
from mailmoat.common.dead_letters import count_pending, export_pending
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.logging import configure_logging
from mailmoat.common.observability.metrics import SERVICE_UP, start_metrics_server
from mailmoat.common.observability.tracing import configure_tracing
from mailmoat.common.outbox import OutboxRelay
from mailmoat.common.redrive import Redrive
from mailmoat.common.settings import CommonSettings

log = logging.getLogger(__name__)

# How long a stopping service lets its loops finish the work in hand before cancelling them.
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Runtime:
    """What a running service's tasks and handlers share."""

    settings: CommonSettings
    sessions: SessionFactory
    broker: KafkaBroker
    relay: OutboxRelay
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def pause(self, seconds: float) -> bool:
        """Sleep between rounds of a loop: False, at once, when the service is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return not self.stopping.is_set()


Task = Callable[[Runtime], Coroutine[Any, Any, None]]


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
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default=())


async def run_service(service: Service, *, stop: asyncio.Event | None = None) -> None:
    """Run ``service`` until SIGTERM/SIGINT (or ``stop``), then shut down cleanly."""
    settings = service.settings
    configure_logging(service.name, level=settings.log_level, json_lines=settings.log_json)
    configure_tracing(service.name)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port)
    stop = stop or _stop_on_signals()
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    broker = create_broker(settings, client_id=service.name)
    relay = OutboxRelay(sessions, broker, settings, producer=service.name)
    # One client per consumer group: joining a group takes seconds, and separate clients join
    # in parallel where one client would join its groups one after another.
    consumers = [
        create_broker(settings, client_id=f"{service.name}-{subscription.group}")
        for subscription in service.subscriptions
    ]
    for consumer, subscription in zip(consumers, service.subscriptions, strict=True):
        subscribe(consumer, settings, sessions, subscription, after_commit=relay.hand_over)
    await asyncio.gather(broker.start(), *(consumer.start() for consumer in consumers))
    runtime = Runtime(settings, sessions, broker, relay)
    loops = [asyncio.create_task(relay.run(runtime.stopping))]
    loops += [asyncio.create_task(loop(runtime)) for loop in service.loops]
    if settings.redrive_interval_seconds > 0:
        groups = {settings.group(subscription.group) for subscription in service.subscriptions}
        loops.append(asyncio.create_task(_redrive(runtime, service.name, groups)))
    tasks = [asyncio.create_task(task(runtime)) for task in service.tasks]
    SERVICE_UP.labels(service.name).set(1)
    log.info("service started")
    try:
        await _until_stopped(stop, [*loops, *tasks])
    finally:
        SERVICE_UP.labels(service.name).set(0)
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
        await engine.dispose()
        log.info("service stopped")


async def _redrive(runtime: Runtime, producer: str, groups: set[str]) -> None:
    """Publish again, every interval, what this service staged and a consumer never took; and
    count the dead letters its own consumer groups left (``mailmoat_dead_letters_pending``)."""
    settings = runtime.settings
    redrive = Redrive(
        runtime.sessions,
        runtime.broker,
        settings,
        producer=producer,
        ensure_topics=lambda: create_topics(settings),
    )
    while True:
        try:
            cutoff = utcnow() - timedelta(seconds=settings.redrive_after_seconds)
            await redrive.run_once(cutoff)
            with reading():
                async with runtime.sessions() as session, session.begin():
                    pending = await count_pending(session)
            export_pending({pair: n for pair, n in pending.items() if pair[0] in groups})
        except Exception:
            log.exception("redrive failed; retrying")
        if not await runtime.pause(settings.redrive_interval_seconds):
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
