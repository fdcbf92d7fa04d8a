"""Request/reply over the bus: an API call that asked policy for a decision waits for policy's
``send-decisions`` record carrying its outbound id (the correlation id).

Every gateway replica reads the whole reply topic without a consumer group, from its end, and
wakes only the calls it is holding; a reply for another replica is skipped. A call whose reply
does not come in time answers ``queued``: the decision is stored and can be read by id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from mailmoat.common.bus import kafka_client_options
from mailmoat.common.events import SendDecided
from mailmoat.common.fetch_pace import FetchPace
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

log = logging.getLogger(__name__)

RESTART_SECONDS = 1.0


class DecisionWaiter:
    """Futures for the sends this process waits on, resolved from the reply topic."""

    def __init__(self, settings: CommonSettings, *, client_id: str = "gateway-decisions") -> None:
        self._settings = settings
        self._client_id = client_id
        self._waiting: dict[uuid.UUID, asyncio.Future[SendDecided]] = {}
        self.ready = asyncio.Event()

    def expect(self, outbound_id: uuid.UUID) -> asyncio.Future[SendDecided]:
        """Register before the request is committed, so an early reply is not missed."""
        future: asyncio.Future[SendDecided] = asyncio.get_running_loop().create_future()
        self._waiting[outbound_id] = future
        return future

    async def wait(
        self, outbound_id: uuid.UUID, future: asyncio.Future[SendDecided], within: float
    ) -> SendDecided | None:
        """The decision, or None when it did not come ``within`` seconds."""
        try:
            return await asyncio.wait_for(future, within) if within > 0 else None
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(outbound_id, None)

    def forget(self, outbound_id: uuid.UUID) -> None:
        """Stop waiting (the request failed before it was committed)."""
        if (future := self._waiting.pop(outbound_id, None)) is not None:
            future.cancel()

    def resolve(self, body: bytes) -> None:
        """Hand a reply record to the call waiting on it, if this process holds one."""
        try:
            decided = SendDecided.model_validate_json(body)
        except ValidationError:
            log.warning("unreadable send decision skipped")
            return
        future = self._waiting.get(decided.mail_id)
        if future is not None and not future.done():
            future.set_result(decided)

    async def run(self, pace: FetchPace | None = None) -> None:
        """Read replies until cancelled; a broker error restarts the reader. ``pace``: the
        process's fetch pace, which the reader follows like every other consumer there."""
        while True:
            try:
                await self._read(pace)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("send decision reader failed; restarting")
                self.ready.clear()
                await asyncio.sleep(RESTART_SECONDS)

    async def _read(self, pace: FetchPace | None) -> None:
        consumer = AIOKafkaConsumer(
            self._settings.topic(Topic.SEND_DECISIONS.value),
            bootstrap_servers=self._settings.kafka_bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=self._settings.fetch_max_wait_ms(prompt=True),
            **kafka_client_options(self._settings),
        )
        await consumer.start()
        if pace is not None:
            pace.follow_consumer(consumer, prompt=True)
        try:
            self.ready.set()
            async for record in consumer:
                if record.value is not None:
                    self.resolve(record.value)
        finally:
            self.ready.clear()
            if pace is not None:
                pace.unfollow_consumer(consumer)
            with contextlib.suppress(Exception):
                await consumer.stop()
