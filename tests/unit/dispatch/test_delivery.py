"""The delivery worker and one attempt: an attempt is bounded in time as a whole (a tarpit that
accepts and never answers costs the attempt's timeout, no more), it is signed at its own time
under the delivery's id, and one workspace's hung attempts never hold another's."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from mailmoat.common.service import Runtime
from mailmoat.common.settings import CommonSettings
from mailmoat.common.webhook_secrets import shown
from mailmoat.dispatch.adapters.egress import SafeEgress
from mailmoat.dispatch.attempts import Claimed, WebhookAttempts
from mailmoat.dispatch.delivery import DeliveryWorker
from mailmoat.dispatch.domain.fairness import Due, Limits
from tests.support.peers import WebhookReceiver
from tests.support.tarpit import Tarpit
from tests.support.waiting import eventually

SECRET = b"s" * 32
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
async def attempts() -> AsyncIterator[WebhookAttempts]:
    # httpx's own timeouts are far longer: the bound under test is the attempt's.
    async with httpx.AsyncClient(timeout=60) as client:
        yield WebhookAttempts(SafeEgress(client, allowed=LOOPBACK), b"key", timeout_seconds=0.5)


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    with Tarpit() as pit:
        yield pit


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


async def test_a_tarpit_costs_one_attempt_its_timeout(
    attempts: WebhookAttempts, tarpit: Tarpit
) -> None:
    started = time.monotonic()
    outcome = await attempts.send(Claimed(tarpit.url_for("/hook"), SECRET, "msg_1", b"{}"))
    assert time.monotonic() - started < 3
    assert outcome.error == "no answer within 0.5 s"
    assert outcome.status is None
    assert not outcome.refused
    assert tarpit.accepted == 1

    async def let_go() -> bool:
        return tarpit.holding == 0

    await eventually(let_go, timeout=5, what="the connection closed")


async def test_each_attempt_is_signed_at_its_own_time_under_one_id(
    attempts: WebhookAttempts, receiver: WebhookReceiver
) -> None:
    claimed = Claimed(receiver.url_for("/hook"), SECRET, "msg_fixed", b'{"type":"x"}')
    first = await attempts.send(claimed)
    await asyncio.sleep(1.1)
    second = await attempts.send(claimed)
    assert (first.error, second.error) == (None, None)
    assert second.signed_at > first.signed_at
    for sent, outcome in zip(receiver.at("/hook"), (first, second), strict=True):
        assert sent.headers["webhook-id"] == "msg_fixed"
        assert sent.headers["webhook-timestamp"] == str(outcome.signed_at)
        assert abs(outcome.signed_at - time.time()) < 5
        assert Webhook(shown(SECRET)).verify(sent.body, sent.headers) == {"type": "x"}


class HangingAttempts:
    """Attempts of ``hanging`` ids wait until ``release`` is set; the others end at once."""

    def __init__(self, hanging: set[uuid.UUID]) -> None:
        self.hanging = hanging
        self.release = asyncio.Event()
        self.done: list[uuid.UUID] = []
        self.in_flight: set[uuid.UUID] = set()
        self.most_in_flight = 0

    async def attempt(self, session: Any, owed_id: uuid.UUID) -> None:
        self.in_flight.add(owed_id)
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight & self.hanging))
        try:
            if owed_id in self.hanging:
                await self.release.wait()
            self.done.append(owed_id)
        finally:
            self.in_flight.discard(owed_id)


class Session:
    """Enough of a session for the worker: the attempts and the poll's query are fakes."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        yield


class Relay:
    def hand_over(self, rows: list[Any]) -> None:
        pass


@contextlib.asynccontextmanager
async def sessions() -> AsyncIterator[Session]:
    yield Session()


def runtime() -> Runtime:
    return Runtime("dispatch", CommonSettings(), sessions, None, Relay())  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(worker: DeliveryWorker) -> AsyncIterator[Runtime]:
    live = runtime()
    task = asyncio.create_task(worker.run(live))
    try:
        yield live
    finally:
        live.stopping.set()
        await asyncio.wait_for(task, timeout=10)


async def nothing_due(session: Any, now: datetime, per_workspace: int) -> list[Due]:
    return []


async def test_a_workspace_of_hung_attempts_never_holds_another() -> None:
    tarpitted, bystander = uuid.uuid4(), uuid.uuid4()
    trapped = [Due(uuid.uuid4(), tarpitted, f"tarpit:{n % 3}") for n in range(30)]
    fine = [Due(uuid.uuid4(), bystander, "hooks:443") for _ in range(10)]
    fake = HangingAttempts({due.id for due in trapped})
    limits = Limits(total=8, per_workspace=4, per_target=2)
    worker = DeliveryWorker(fake, limits, poll_seconds=0.05, find_due=nothing_due)
    async with running(worker):
        worker.offer(trapped)
        await asyncio.sleep(0.1)
        worker.offer(fine)

        async def all_done() -> bool:
            return {due.id for due in fine} <= set(fake.done)

        await eventually(all_done, timeout=5, what="the bystander's deliveries")
        assert fake.most_in_flight == limits.per_workspace
        fake.release.set()

        async def drained() -> bool:
            return len(fake.done) == len(trapped) + len(fine)

        await eventually(drained, timeout=5, what="the tarpit's deliveries, once let go")


async def test_the_poll_finds_what_no_consumer_handed_over() -> None:
    owed = [Due(uuid.uuid4(), uuid.uuid4(), "hooks:443") for _ in range(3)]

    async def due(session: Any, now: datetime, per_workspace: int) -> list[Due]:
        return owed

    fake = HangingAttempts(set())
    worker = DeliveryWorker(fake, Limits(8, 4, 2), poll_seconds=0.05, find_due=due)
    async with running(worker):

        async def found() -> bool:
            return {d.id for d in owed} <= set(fake.done)

        await eventually(found, timeout=5, what="the polled deliveries")
