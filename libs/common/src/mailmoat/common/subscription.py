"""What a service subscribes with: a topic, a consumer group and the handler of its events,
with the shapes a batch of them takes."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiokafka import ConsumerRebalanceListener
from opentelemetry import trace
from opentelemetry.trace import Span
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.events import Event
from mailmoat.common.observability.logging import log_context
from mailmoat.common.topics import Topic

E = TypeVar("E", bound=Event)
Handler = Callable[[E, AsyncSession], Awaitable[None]]
BatchHandler = Callable[[list["Job[E]"], AsyncSession], Awaitable[None]]
Finisher = Callable[[list[E], AsyncSession], Awaitable[None]]


class PoisonEvent(Exception):
    """Raised by a handler for a well-formed event that can never be processed (dead-lettered)."""


@dataclass(frozen=True)
class Job(Generic[E]):
    """One record of a batch given to a batch handler: its event, and its ``process`` span and
    log context to enter around the work done for it (what that work stages continues the
    record's trace)."""

    event: E
    span: Span

    @classmethod
    def alone(cls, event: E) -> Job[E]:
        """``event`` as a batch of one, in the span and log context already entered for it
        (a single-record handler that hands its record to the batch handler)."""
        return cls(event, trace.get_current_span())

    @contextlib.contextmanager
    def traced(self) -> Iterator[None]:
        with (
            trace.use_span(self.span, end_on_exit=False),
            log_context(mail_id=self.event.mail_id, event_id=self.event.event_id),
        ):
            yield


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A handler for one topic under one consumer group."""

    topic: Topic
    group: str
    handler: Handler[E]
    transactional: bool = True
    """True: the handler runs inside the transaction that records the event as processed.
    False: the handler gets a session with no transaction open and commits its own (for work
    that must be committed before an external call, such as dispatch's write-ahead). Such a
    handler must make a redelivery harmless by itself (dispatch's claim of the send, a
    delivery's id derived from the event), so nothing is recorded for it: a commit saved."""
    batch_handler: BatchHandler[E] | None = None
    """For a subscriber that is not transactional: all the records of a batch at once, as it
    commits them (dispatch claims a batch of sends in one transaction). If it fails, ``handler``
    takes each record of the batch in turn, so it must leave a record it did not finish as
    ``handler`` can take it up."""
    finish: Finisher[E] | None = None
    """For a transactional subscriber: the records handled in the transaction (duplicates left
    out), once they all are, before the commit; for work better done for many records at once
    (reputation counts a batch of sends with one write per sender and hour, and judges each
    sender once). A record handled alone gets it too. If it fails, the batch is rolled back
    and its records are handled one by one."""
    turn: str | None = None
    """For a transactional subscriber whose handler takes ``turn_for`` in this scope on its
    event's mail: a batch takes every record's turn at its start (``turns_for``), in one
    statement and in one order, so the batch pays one round trip for them and two batches over
    the same mails never wait on each other in a cycle."""
    prompt: bool = False
    """A caller waits on what this subscriber answers (a send call on policy's decision): its
    fetch wait is the prompt one (``kafka_prompt_fetch_max_wait_ms``, and ``FetchPace``'s)."""


async def later(event: Event, session: AsyncSession) -> None:
    """A handler that leaves its record to the subscription's ``finish``."""


class Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Whether a consumer holds its group's assignment: from a join until the next rebalance
    takes it away. An empty assignment counts (a replica beyond the partition count waits)."""

    def __init__(self) -> None:
        self.assigned = False

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.assigned = False

    async def on_partitions_assigned(self, assigned: object) -> None:
        self.assigned = True
