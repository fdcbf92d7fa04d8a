"""An SMTP load generator: closed-loop peak runs and paced runs, timing DATA-to-250."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

MailFactory = Callable[[int], bytes]


@dataclass(frozen=True)
class LoadResult:
    """What one run measured."""

    sent: int
    accepted: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[18] * 1000


def make_mail(size: int, n: int, rcpt: str) -> bytes:
    """A plain business-like mail of about ``size`` bytes."""
    head = (
        f"From: Load <load@sender.example>\r\nTo: {rcpt}\r\nSubject: load {n}\r\n"
        f"Message-ID: <load{n}@sender.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"A line of an ordinary business message, nothing to see here.\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


class Session:
    """One SMTP connection sending transactions one after another."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Session:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        session = cls(reader, writer)
        await session.reply()
        await session.command(b"EHLO load.sender.example")
        return session

    async def reply(self) -> bytes:
        while True:
            line = await self.reader.readline()
            if line[3:4] != b"-":
                return line

    async def command(self, line: bytes) -> bytes:
        self.writer.write(line + b"\r\n")
        return await self.reply()

    async def transaction(self, rcpt: str, body: bytes) -> float | None:
        """Latency from the final dot to the reply, or ``None`` when refused."""
        await self.command(b"MAIL FROM:<load@sender.example>")
        await self.command(f"RCPT TO:<{rcpt}>".encode())
        if not (await self.command(b"DATA")).startswith(b"354"):
            return None
        self.writer.write(body + b".\r\n")
        started = time.perf_counter()
        reply = await self.reply()
        return time.perf_counter() - started if reply.startswith(b"250") else None

    async def close(self) -> None:
        self.writer.write(b"QUIT\r\n")
        self.writer.close()


async def peak(port: int, rcpt: str, mail: MailFactory, count: int, connections: int) -> LoadResult:
    """Closed loop: ``connections`` sessions send ``count`` mails as fast as answered."""
    sessions = [await Session.open(port) for _ in range(connections)]
    queue = iter(range(count))
    latencies: list[float] = []

    async def drive(session: Session) -> None:
        for n in queue:
            latency = await session.transaction(rcpt, mail(n))
            if latency is not None:
                latencies.append(latency)

    started = time.perf_counter()
    await asyncio.gather(*(drive(s) for s in sessions))
    seconds = time.perf_counter() - started
    for session in sessions:
        await session.close()
    return LoadResult(count, len(latencies), seconds, latencies)


async def at_rate(count: int, rate: float, one: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Start ``one(0)`` ... ``one(count - 1)`` at ``rate`` per second (open loop: a start
    never waits for an earlier one to end); returns once all have ended."""
    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)


async def paced(port: int, rcpt: str, mail: MailFactory, rate: float, seconds: float) -> LoadResult:
    """Open loop: mails start at ``rate`` per second, each on a free connection."""
    if rate <= 0:
        raise ValueError("nothing was accepted at peak, so there is no rate to pace at")
    count = max(20, int(rate * seconds))
    pool: asyncio.Queue[Session] = asyncio.Queue()
    for _ in range(16):
        pool.put_nowait(await Session.open(port))
    latencies: list[float] = []

    async def one(n: int) -> None:
        session = await pool.get()
        latency = await session.transaction(rcpt, mail(n))
        if latency is not None:
            latencies.append(latency)
        pool.put_nowait(session)

    started = time.perf_counter()
    await at_rate(count, rate, one)
    elapsed = time.perf_counter() - started
    while not pool.empty():
        await pool.get_nowait().close()
    return LoadResult(count, len(latencies), elapsed, latencies)
