"""Consumers' fetch wait on the embedded broker: long while nothing moves, short while mail does.

Kafka answers a waiting fetch as soon as data arrives. tansu (the embedded broker) looks for
new records only now and then within a fetch's wait, so a record reaches a consumer already
waiting (as the services' are) up to about half the wait later: there the wait bounds each
hop's latency, and it is how often an idle consumer asks. One pace shared by every service of a
process (``mailmoat dev``) keeps the idle cost low and the hops short: any commit or wake-up in
the process turns every consumer's wait short for a while, and shorter still for the consumers
a caller waits on (a send call's request and decision).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)

BUSY_SECONDS = 30.0
"""How long after the last movement the waits stay short: a person trying the gateway by hand
(send, read, reply) keeps short hops throughout."""


@dataclass
class FetchPace:
    """``idle_ms`` until something moves, then ``busy_ms`` for ``busy_seconds`` after the last
    movement, and ``prompt_ms`` (when shorter) for the consumers followed as prompt ones. Only
    the wait changes: every fetch is still answered and nothing is skipped, so pacing can delay
    a record (by at most one idle wait) but never lose one."""

    idle_ms: int
    busy_ms: int
    busy_seconds: float = BUSY_SECONDS
    prompt_ms: int | None = None
    _fetchers: list[tuple[Any, bool]] = field(default_factory=list)
    _busy_until: float = 0.0
    _timer: asyncio.TimerHandle | None = None

    def follow(self, broker: KafkaBroker, *, prompt: bool = False) -> None:
        """Pace the consumers of ``broker``, a started broker; ``prompt``: a caller waits on
        what they read."""
        for subscriber in broker.subscribers:
            self.follow_consumer(getattr(subscriber, "consumer", None), prompt=prompt)

    def follow_consumer(self, consumer: AIOKafkaConsumer | None, *, prompt: bool = False) -> None:
        """Pace ``consumer``, a started aiokafka consumer (one read outside FastStream)."""
        # aiokafka reads this attribute each time it builds a fetch request.
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is None or not hasattr(fetcher, "_fetch_max_wait_ms"):
            log.warning("cannot pace a consumer: its fetch wait stays as configured")
            return
        fetcher._fetch_max_wait_ms = self.wait_for(prompt=prompt)
        self._fetchers.append((fetcher, prompt))

    def unfollow_consumer(self, consumer: AIOKafkaConsumer) -> None:
        """Stop pacing ``consumer`` (stopped, to be replaced by a new one)."""
        fetcher = getattr(consumer, "_fetcher", None)
        self._fetchers = [(f, prompt) for f, prompt in self._fetchers if f is not fetcher]

    def wait_for(self, *, prompt: bool = False) -> int:
        """The wait a fetch built now gets; ``prompt``: one a caller waits on."""
        if self._timer is None:
            return self.idle_ms
        if prompt and self.prompt_ms is not None:
            return min(self.prompt_ms, self.busy_ms)
        return self.busy_ms

    def moved(self) -> None:
        """Something was committed or accepted: short waits for the next ``busy_seconds``."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._timer is not None and self._busy_until - now > self.busy_seconds / 2:
            return  # busy a good while yet: no timer churn on every record
        self._busy_until = now + self.busy_seconds
        quiet = self._timer is None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self._busy_until, self._quiet)
        if quiet:
            self._set()

    def _quiet(self) -> None:
        self._timer = None
        self._set()

    def _set(self) -> None:
        for fetcher, prompt in self._fetchers:
            fetcher._fetch_max_wait_ms = self.wait_for(prompt=prompt)
