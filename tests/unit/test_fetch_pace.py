"""The consumers' fetch wait follows the process's traffic: idle until something moves, short
for a while after, idle again once quiet."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from mailmoat.common.fetch_pace import FetchPace
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.app import build_service
from mailmoat.policy.settings import PolicySettings


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
    assert pace.wait_for() == 500


async def test_an_unfollowed_consumer_keeps_its_last_wait() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10, busy_seconds=60)
    stopped, replacement = consumer(10), consumer(10)
    pace.follow_consumer(stopped)
    pace.unfollow_consumer(stopped)  # a reader restarted with a new consumer
    pace.follow_consumer(replacement)
    pace.moved()
    assert stopped._fetcher._fetch_max_wait_ms == 500
    assert replacement._fetcher._fetch_max_wait_ms == 10


async def test_prompt_consumers_wait_shortest_while_busy_and_idle_like_the_rest() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=25, busy_seconds=0.05, prompt_ms=5)
    ordinary, prompt = consumer(25), consumer(25)
    pace.follow_consumer(ordinary)
    pace.follow_consumer(prompt, prompt=True)
    assert [c._fetcher._fetch_max_wait_ms for c in (ordinary, prompt)] == [500, 500]
    pace.moved()
    assert [c._fetcher._fetch_max_wait_ms for c in (ordinary, prompt)] == [25, 5]
    late = consumer(25)
    pace.follow_consumer(late, prompt=True)  # a reader restarted while busy
    assert late._fetcher._fetch_max_wait_ms == 5
    await asyncio.sleep(0.2)
    assert [c._fetcher._fetch_max_wait_ms for c in (ordinary, prompt, late)] == [500, 500, 500]


async def test_a_prompt_wait_never_lengthens_the_busy_one() -> None:
    pace = FetchPace(idle_ms=500, busy_ms=10, busy_seconds=60, prompt_ms=50)
    assert pace.wait_for(prompt=True) == 500
    pace.moved()
    assert pace.wait_for(prompt=True) == 10


def test_settings_give_prompt_consumers_the_shorter_wait() -> None:
    plain = CommonSettings(kafka_fetch_max_wait_ms=25)
    assert plain.fetch_max_wait_ms(prompt=True) == 25
    prompt = CommonSettings(kafka_fetch_max_wait_ms=25, kafka_prompt_fetch_max_wait_ms=5)
    assert (prompt.fetch_max_wait_ms(), prompt.fetch_max_wait_ms(prompt=True)) == (25, 5)
    longer = CommonSettings(kafka_fetch_max_wait_ms=25, kafka_prompt_fetch_max_wait_ms=100)
    assert longer.fetch_max_wait_ms(prompt=True) == 25


def test_the_send_call_waits_on_policy_reading_requests_promptly() -> None:
    policy = build_service(PolicySettings())
    prompt = {s.topic for s in policy.subscriptions if s.prompt}
    assert prompt == {Topic.SEND_REQUESTED}
