"""The pipeline bench's paced phase: mails started at a fixed rate, each timed from its 250 to
its row being visible to a reader of the database and to its ``message.received`` webhook
reaching a receiver on loopback (the inbox's ``webhook_url``, as an agent's would be)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from tests.support.peers import WebhookReceiver

from benchmarks import smtp_load
from benchmarks.ingest_bench import RCPT
from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import Inbox, Message, SenderGraphView

POLL_SECONDS = 0.02
"""How often the paced phase looks for newly stored mail: the resolution of its latency."""
SENDER = "load@sender.example"


class Reader:
    """The bench's own connection to the gateway's database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = create_session_factory(self.engine)

    async def scalar(self, query: Any) -> int:
        with reading():
            async with self.sessions() as session:
                return int(await session.scalar(query) or 0)

    async def subjects(self, prefix: str) -> list[str]:
        with reading():
            async with self.sessions() as session:
                found = await session.scalars(
                    select(Message.subject).where(Message.subject.like(f"{prefix} %"))
                )
                return list(found)

    async def stored(self) -> int:
        return await self.scalar(select(func.count()).select_from(Message))

    async def graph_count(self) -> int:
        """Mails the consensus engine's copy of the sender graph has counted from ``SENDER``."""
        return await self.scalar(
            select(func.sum(SenderGraphView.messages)).where(
                SenderGraphView.kind == "address", SenderGraphView.sender == SENDER
            )
        )

    async def point_webhook(self, url: str | None) -> None:
        """Set the bench inbox's ``webhook_url``."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Inbox).where(Inbox.address == RCPT).values(webhook_url=url)
            )


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    """Poll ``check`` every 50 ms until true; returns when (``perf_counter``)."""
    deadline = time.perf_counter() + seconds
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not within {seconds:.0f} s")
        await asyncio.sleep(0.05)
    return time.perf_counter()


@dataclass(frozen=True)
class Paced:
    stored: list[float]
    """Seconds from each paced mail's 250 to its row being seen."""
    webhooks: list[float]
    """Seconds from each paced mail's 250 to its webhook reaching the receiver."""


def arrivals(receiver: WebhookReceiver, prefix: str) -> dict[str, float]:
    """When each mail whose subject starts with ``prefix`` had its webhook received (wall
    clock), the first delivery of each."""
    found: dict[str, float] = {}
    for delivery in list(receiver.deliveries):
        subject = json.loads(delivery.body).get("data", {}).get("subject") or ""
        if subject.startswith(f"{prefix} "):
            found.setdefault(subject, delivery.received_at)
    return found


async def paced(
    smtp_port: int,
    reader: Reader,
    receiver: WebhookReceiver,
    mails: list[bytes],
    rate: float,
    *,
    connections: int,
    allowance: float,
    prefix: str = "pace",
) -> Paced:
    """Start ``mails`` (subjects ``<prefix> N``) at ``rate`` per second, each on a free
    connection; record each one's 250, the moment a reader first sees its row and the moment its
    webhook arrives. Returns the latencies of those stored, and of those whose webhook came."""
    count = len(mails)
    pool: asyncio.Queue[smtp_load.Session] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await smtp_load.Session.open(smtp_port))
    accepted: dict[str, tuple[float, float]] = {}  # perf_counter, wall clock
    seen: dict[str, float] = {}

    async def one(n: int) -> None:
        session = await pool.get()
        if await session.transaction(RCPT, mails[n]) is not None:
            accepted[f"{prefix} {n}"] = (time.perf_counter(), time.time())
        pool.put_nowait(session)

    async def watch(sending: asyncio.Task[Any]) -> None:
        deadline = time.perf_counter() + count / rate + allowance
        while time.perf_counter() < deadline:
            found = await reader.subjects(prefix)
            now = time.perf_counter()
            for subject in found:
                seen.setdefault(subject, now)
            done = (
                accepted.keys() <= seen.keys()
                and accepted.keys() <= arrivals(receiver, prefix).keys()
            )
            if sending.done() and done:
                return
            await asyncio.sleep(POLL_SECONDS)

    sending = asyncio.create_task(smtp_load.at_rate(count, rate, one))
    await watch(sending)
    await sending
    while not pool.empty():
        await pool.get_nowait().close()
    hooks = arrivals(receiver, prefix)
    return Paced(
        stored=[seen[s] - t for s, (t, _) in accepted.items() if s in seen],
        webhooks=[hooks[s] - wall for s, (_, wall) in accepted.items() if s in hooks],
    )
