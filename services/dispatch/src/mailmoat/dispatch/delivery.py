"""The webhook delivery worker: attempts owed deliveries outside the consumers, each within a
bounded time, with a fair share per workspace, a bound per target and one in all, so that one
tenant's slow endpoints never delay another tenant's webhooks or audit stream.

Fresh deliveries come handed over by the consumers that owe them; a short poll finds the rest
(retries come due, a hand-over lost in a crash). A delivery stays owed in the database until an
attempt records its outcome: at least once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import reading
from mailmoat.common.events.base import utcnow
from mailmoat.common.outbox import take_staged
from mailmoat.common.service import Runtime
from mailmoat.dispatch.adapters.deliveries import due_deliveries
from mailmoat.dispatch.domain.fairness import Due, Limits, pick_fair

log = logging.getLogger(__name__)

# Deliveries known to be due, kept in memory per workspace; the poll finds the rest later, so a
# workspace's flood of events neither grows memory nor crowds out the others.
WAITING_PER_WORKSPACE = 200

FindDue = Callable[[AsyncSession, datetime, int], Awaitable[list[Due]]]


class Attempts(Protocol):
    """What makes one attempt of one delivery and records it (``attempts.WebhookAttempts``)."""

    async def attempt(self, session: AsyncSession, owed_id: uuid.UUID) -> None: ...


class DeliveryWorker:
    """Starts attempts as the limits allow, picking fairly (``pick_fair``) among what waits."""

    def __init__(
        self,
        attempts: Attempts,
        limits: Limits,
        poll_seconds: float,
        *,
        find_due: FindDue = due_deliveries,
    ) -> None:
        self._attempts = attempts
        self._limits = limits
        self._poll_seconds = poll_seconds
        self._find_due = find_due
        self._waiting: dict[uuid.UUID, dict[uuid.UUID, Due]] = {}
        self._running: dict[uuid.UUID, Due] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._nudged = asyncio.Event()
        self._turn = 0

    def offer(self, owed: list[Due]) -> None:
        """Deliveries just owed (a consumer's hand-over) or found due: attempted as soon as the
        limits allow. Called from anywhere in the service's event loop; never waits."""
        for due in owed:
            queue = self._waiting.setdefault(due.workspace_id, {})
            if due.id not in self._running and len(queue) < WAITING_PER_WORKSPACE:
                queue[due.id] = due
        if owed:
            self._nudged.set()

    async def run(self, runtime: Runtime) -> None:
        """Start attempts until the service stops, polling for due deliveries every few
        moments; then let the attempts in hand finish (each is bounded in time)."""
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while not runtime.stopping.is_set():
            if loop.time() >= next_poll:
                await self._poll(runtime)
                next_poll = loop.time() + self._poll_seconds
            self._start(runtime)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=next_poll - loop.time())
            self._nudged.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _poll(self, runtime: Runtime) -> None:
        try:
            with reading():
                async with runtime.sessions() as session, session.begin():
                    found = await self._find_due(session, utcnow(), WAITING_PER_WORKSPACE)
        except Exception:
            log.exception("looking for due webhook deliveries failed; retrying")
            return
        self.offer(found)

    def _start(self, runtime: Runtime) -> None:
        waiting = [due for queue in self._waiting.values() for due in queue.values()]
        running = list(self._running.values())
        self._turn += 1
        for due in pick_fair(waiting, running, self._limits, turn=self._turn):
            del self._waiting[due.workspace_id][due.id]
            self._running[due.id] = due
            task = asyncio.create_task(self._attempt(runtime, due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._waiting = {workspace: queue for workspace, queue in self._waiting.items() if queue}

    async def _attempt(self, runtime: Runtime, due: Due) -> None:
        try:
            async with runtime.sessions() as session:
                await self._attempts.attempt(session, due.id)
                runtime.relay.hand_over(take_staged(session))  # a disabled target's audit event
        except Exception:
            log.exception("webhook attempt failed; the delivery stays owed")
        finally:
            del self._running[due.id]
            self._nudged.set()
