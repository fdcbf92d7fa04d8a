"""The scanner's CPU work off the event loop: a few threads, and a bound on the calls they hold."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Offload:
    """Runs blocking calls on ``workers`` threads of its own, with at most ``workers`` calls
    running at once: a caller waits for a free one (its own deadline still applies) instead of
    queueing work without end. A call whose caller gave up keeps its place until its thread is
    done, so calls that overrun cannot pile up behind the deadline either."""

    def __init__(self, *, workers: int = 2, name: str = "scanner") -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._slots = asyncio.Semaphore(workers)

    async def run(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)`` on a worker thread; its result or its exception."""
        await self._slots.acquire()
        try:
            work = self._pool.submit(call, *args)
        except BaseException:
            self._slots.release()
            raise
        work.add_done_callback(self._freed(asyncio.get_running_loop()))
        return await asyncio.wrap_future(work)

    def _freed(self, loop: asyncio.AbstractEventLoop) -> Callable[[Future[T]], None]:
        def release(_: Future[T]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed while the call ran
                loop.call_soon_threadsafe(self._slots.release)

        return release

    async def close(self) -> None:
        """Take no more calls; a running one ends by itself."""
        self._pool.shutdown(wait=False, cancel_futures=True)
