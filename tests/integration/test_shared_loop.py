"""Services sharing one event loop (``mailmoat dev``): one that fails stops the others cleanly
and is named; every log line says which service wrote it."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from mailmoat.common.observability.logging import JsonFormatter, set_log_service
from mailmoat.common.service import Runtime, Service, ServiceFailed, Task, run_services
from mailmoat.common.settings import CommonSettings


async def test_a_failing_service_stops_the_others_and_is_named(settings: CommonSettings) -> None:
    finished = asyncio.Event()

    async def fail(runtime: Runtime) -> None:
        raise RuntimeError("boom")

    async def steady(runtime: Runtime) -> None:
        while await runtime.pause(60):
            pass
        finished.set()  # its round ended: it was stopped, not cancelled

    services = [
        Service(name="steady", settings=settings, loops=[steady]),
        Service(name="failing", settings=settings, tasks=[fail]),
    ]
    with pytest.raises(ServiceFailed) as failure:
        await run_services(services, stop=asyncio.Event())
    assert failure.value.name == "failing"
    assert isinstance(failure.value.__cause__, RuntimeError)
    assert finished.is_set()


async def test_a_requested_stop_ends_every_service_without_error(
    settings: CommonSettings,
) -> None:
    stop = asyncio.Event()
    finished: list[str] = []

    def looping(name: str) -> Task:
        async def loop(runtime: Runtime) -> None:
            while await runtime.pause(60):
                pass
            finished.append(name)

        return loop

    services = [Service(name=n, settings=settings, loops=[looping(n)]) for n in ("a", "b")]
    running = asyncio.create_task(run_services(services, stop=stop))
    await asyncio.sleep(0)
    stop.set()
    await running
    assert sorted(finished) == ["a", "b"]


async def test_each_log_line_names_the_service_of_its_task() -> None:
    lines: list[str] = []
    formatter = JsonFormatter("mailmoat-dev")

    async def write(name: str) -> None:
        set_log_service(name)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
        lines.append(formatter.format(record))

    await asyncio.gather(asyncio.create_task(write("ingest")), asyncio.create_task(write("policy")))
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    lines.append(formatter.format(outside))
    assert [json.loads(line)["service"] for line in lines] == ["ingest", "policy", "mailmoat-dev"]
