"""A workspace with one inbox, and a mail walked through the in-process services."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mailmoat.common.db.session import SessionFactory, create_engine, create_session_factory
from mailmoat.common.db.tables import Inbox, Message, Workspace
from mailmoat.common.processes import free_port, wait_for_port
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.dispatch.app import build_service as build_dispatch
from mailmoat.dispatch.settings import DispatchSettings
from mailmoat.ingest.app import build_service as build_ingest
from mailmoat.ingest.settings import IngestSettings
from mailmoat.policy.app import build_service as build_policy
from mailmoat.policy.settings import PolicySettings
from mailmoat.reputation.app import build_service as build_reputation
from mailmoat.scanner.app import build_checker, build_consensus, build_primary
from mailmoat.scanner.settings import ScannerSettings
from tests.support.stack import STARTUP_SECONDS
from tests.support.waiting import eventually


@dataclass
class Scenario:
    """One workspace, one L2 inbox, and the ports its services listen on."""

    settings: CommonSettings
    engine: AsyncEngine
    sessions: SessionFactory
    workspace_id: uuid.UUID
    inbox_id: uuid.UUID
    address: str
    smtp_port: int = field(default_factory=free_port)

    @classmethod
    async def create(cls, settings: CommonSettings, *, slug: str = "agent") -> Scenario:
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        workspace = Workspace(id=uuid.uuid4(), name="scenario", plan="developer")
        inbox = Inbox(
            id=uuid.uuid4(),
            workspace_id=workspace.id,
            slug=slug,
            address=f"{slug}@{settings.mail_domain}",
            security_level="L2",
        )
        async with sessions() as session, session.begin():
            session.add(workspace)
            await session.flush()
            session.add(inbox)
        return cls(settings, engine, sessions, workspace.id, inbox.id, inbox.address)

    async def close(self) -> None:
        await self.engine.dispose()

    async def deliver_and_wait(
        self,
        subject: str,
        *,
        sender: str = "a@example.com",
        body: str = "hello\r\n",
        timeout: float = 60.0,
    ) -> Message:
        """Send a mail over SMTP (``sender`` is its From header; the envelope sender is its
        address) and wait until policy has stored it."""
        raw = f"From: {sender}\r\nSubject: {subject}\r\n\r\n{body}".encode()
        await asyncio.to_thread(wait_for_port, "127.0.0.1", self.smtp_port, timeout=STARTUP_SECONDS)
        await asyncio.to_thread(self._send, parseaddr(sender)[1], raw)

        async def stored() -> Message | None:
            async with self.sessions() as session:
                return await session.scalar(select(Message).where(Message.subject == subject))

        return await eventually(stored, timeout=timeout, what=f"mail {subject!r} to be stored")

    def _send(self, envelope_sender: str, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
            client.sendmail(envelope_sender, [self.address], raw)


def all_consumer_services(settings: CommonSettings, scenario: Scenario) -> list[Service]:
    """Every service that consumes a topic, plus ingest to feed them."""
    common = settings.model_dump()
    return [
        build_ingest(IngestSettings(**common, smtp_port=scenario.smtp_port)),
        build_primary(ScannerSettings(**common)),
        build_checker(ScannerSettings(**common)),
        build_consensus(ScannerSettings(**common)),
        build_policy(PolicySettings(**settings.model_dump())),
        build_dispatch(DispatchSettings(**common, relay_port=free_port(), relay_starttls=False)),
        build_reputation(settings),
    ]
