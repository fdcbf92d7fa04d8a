"""Ingest fixtures (registered in tests/conftest.py): SMTP in the test loop, zone, workspace."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailmoat.common.db.tables import FeedbackReport, OutboxRecord, RawMessage
from mailmoat.common.events import RawMailReceived
from mailmoat.common.processes import free_port, wait_for_port
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.ingest.app import build_service
from mailmoat.ingest.settings import IngestSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.stack import STARTUP_SECONDS
from tests.support.zones import TestZone


@dataclass
class Ingest:
    """A running ingest service and what it wrote."""

    settings: IngestSettings
    scenario: Scenario
    zone: TestZone

    @property
    def port(self) -> int:
        return self.settings.smtp_port

    @property
    def address(self) -> str:
        return self.scenario.address

    def client(self, timeout: float = 10) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.port, timeout=timeout)

    async def send(
        self, raw: bytes, *, mail_from: str = "alice@sender.example", rcpts: list[str] | None = None
    ) -> tuple[int, str]:
        """MAIL/RCPT/DATA over a fresh connection; the DATA (or first refusing) reply."""
        return await asyncio.to_thread(self._send, raw, mail_from, rcpts or [self.address])

    def _send(self, raw: bytes, mail_from: str, rcpts: list[str]) -> tuple[int, str]:
        with self.client() as smtp:
            smtp.ehlo("client.sender.example")
            code, reply = smtp.mail(mail_from)
            if code != 250:
                return code, reply.decode()
            for rcpt in rcpts:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    return code, reply.decode()
            code, reply = smtp.data(raw)
            return code, reply.decode()

    async def stored(self) -> list[RawMessage]:
        async with self.scenario.sessions() as session:
            rows = await session.scalars(select(RawMessage).order_by(RawMessage.received_at))
            return list(rows)

    async def raw_mail_events(self) -> list[RawMailReceived]:
        """The ``raw-mail`` events ingest staged in the outbox, oldest first."""
        topic = Topic.RAW_MAIL.value
        async with self.scenario.sessions() as session:
            rows = await session.scalars(
                select(OutboxRecord).where(OutboxRecord.topic == topic).order_by(OutboxRecord.id)
            )
            return [RawMailReceived.model_validate_json(row.payload) for row in rows]

    async def feedback_reports(self) -> list[FeedbackReport]:
        async with self.scenario.sessions() as session:
            return list(await session.scalars(select(FeedbackReport)))


IngestFactory = Callable[..., AbstractAsyncContextManager[Ingest]]


@pytest.fixture
async def ingest_factory(settings: CommonSettings, tmp_path: Path) -> AsyncIterator[IngestFactory]:
    """Starts ingest with extra settings; one workspace with an L2 inbox ``agent@``."""
    scenario = await Scenario.create(settings)
    zone = TestZone.build(tmp_path / "zones")

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Ingest]:
        values = {
            **settings.model_dump(),
            "smtp_port": free_port(),
            "dns_zone_file": zone.directory,
            "smtp_hostname": "mx.mailmoat.test",
            **overrides,
        }
        ingest_settings = IngestSettings(**values)
        async with running(build_service(ingest_settings)):
            await asyncio.to_thread(
                wait_for_port, "127.0.0.1", ingest_settings.smtp_port, timeout=STARTUP_SECONDS
            )
            yield Ingest(ingest_settings, scenario, zone)

    try:
        yield start
    finally:
        await scenario.close()


@pytest.fixture
async def ingest(ingest_factory: IngestFactory) -> AsyncIterator[Ingest]:
    async with ingest_factory() as started:
        yield started
