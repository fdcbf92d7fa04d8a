"""The consumers' fetch wait follows the process's traffic: idle until something moves, short
for a while after, idle again once quiet."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from mailmoat.common.fetch_pace import FetchPace


def consumer(wait_ms: int) -> SimpleNamespace:
    """What pacing touches of an aiokafka consumer: its fetcher's wait."""
    return SimpleNamespace(_fetcher=SimpleNamespace(_fetch_max_wait_ms=wait_ms))


async def test_a_followed_consumer_waits_long_until_something_moves() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10, busy_seconds=0.05)
    first, second = consumer(10), consumer(10)
    pace.follow_consumer(first)
    pace.follow_consumer(second)
    assert [c._fetcher._fetch_max_wait_ms for c in (first, second)] == [500, 500]
    pace.moved()
    assert [c._fetcher._fetch_max_wait_ms for c in (first, second)] == [10, 10]
    await asyncio.sleep(0.2)  # well past the busy spell
    assert [c._fetcher._fetch_max_wait_ms for c in (first, second)] == [500, 500]


async def test_movement_while_busy_extends_the_short_waits() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10, busy_seconds=0.2)
    paced = consumer(10)
    pace.follow_consumer(paced)
    pace.moved()
    await asyncio.sleep(0.15)
    pace.moved()  # less than half the spell left: extended
    await asyncio.sleep(0.1)
    assert paced._fetcher._fetch_max_wait_ms == 10


def test_a_consumer_without_a_fetcher_is_left_as_configured() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10)
    pace.follow_consumer(SimpleNamespace())
    assert pace.wait_ms == 500


async def test_an_unfollowed_consumer_keeps_its_last_wait() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10, busy_seconds=60)
    stopped, replacement = consumer(10), consumer(10)
    pace.follow_consumer(stopped)
    pace.unfollow_consumer(stopped)  # a reader restarted with a new consumer
    pace.follow_consumer(replacement)
    pace.moved()
    assert stopped._fetcher._fetch_max_wait_ms == 500
    assert replacement._fetcher._fetch_max_wait_ms == 10
