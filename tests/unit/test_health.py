"""The probes' verdicts: a blocked event loop is not live; a failing or slow check is not ready."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from mailmoat.common.observability.health import Health


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    left = asyncio.all_tasks(loop)
    for task in left:
        task.cancel()
    if left:
        loop.run_until_complete(asyncio.wait(left))
    loop.close()


def _added(health: Health, loop: asyncio.AbstractEventLoop, name: str, check) -> None:  # type: ignore[no-untyped-def]
    async def add() -> None:
        health.add(name, check)

    asyncio.run_coroutine_threadsafe(add(), loop).result(5)


def test_nothing_started_is_live_and_not_ready() -> None:
    health = Health()
    assert health.live() is None
    assert health.ready() == {}


def test_a_blocked_event_loop_is_not_live(loop: asyncio.AbstractEventLoop) -> None:
    health = Health()

    async def fine() -> None:
        return None

    _added(health, loop, "policy", fine)
    assert health.live(timeout=1) is None
    loop.call_soon_threadsafe(time.sleep, 2)  # a stuck synchronous call on the loop
    assert health.live(timeout=0.5) == "event loop did not answer in 0.5s"


def test_each_service_says_why_it_is_not_ready(loop: asyncio.AbstractEventLoop) -> None:
    health = Health()

    async def fine() -> None:
        return None

    async def joining() -> str:
        return "consumer group not assigned yet: policy"

    async def hanging() -> None:
        await asyncio.sleep(60)

    async def broken() -> None:
        raise ConnectionError("refused")

    for name, check in [("a", fine), ("b", joining), ("c", hanging), ("d", broken)]:
        _added(health, loop, name, check)
    assert health.ready(timeout=0.5) == {
        "a": "ready",
        "b": "consumer group not assigned yet: policy",
        "c": "no answer in 0.5s",
        "d": "ConnectionError: refused",
    }
    health.remove("b")
    health.remove("c")
    health.remove("d")
    assert health.ready() == {"a": "ready"}
