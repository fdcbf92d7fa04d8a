"""Services run inside the test's event loop, for integration tests that publish by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mailmoat.common.service import Service, run_service


@asynccontextmanager
async def running(*services: Service) -> AsyncIterator[None]:
    """Run ``services`` until the block ends; a service that crashes fails the test."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_service(service, stop=stop)) for service in services]
    try:
        yield
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
