"""A mail a detector takes long over holds a worker thread, never the event loop nor the
database's write lock: the services sharing that loop (``mailmoat dev`` runs them all on one)
go on answering and accepting mail meanwhile."""

from __future__ import annotations

import asyncio
import gc
import smtplib
import threading

import httpx
import pytest
from sqlalchemy import func, select

from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.processes import free_port, wait_for_port
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from mailmoat.gateway.app import build_service as build_gateway
from mailmoat.gateway.settings import GatewaySettings
from mailmoat.ingest.app import build_service as build_ingest
from mailmoat.ingest.settings import IngestSettings
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.handlers import DetectorHandler
from mailmoat.scanner.settings import ScannerSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.stack import STARTUP_SECONDS
from tests.support.waiting import eventually

LONG_BODY_LINES = 5000
ONE_DATABASE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


class HeldChecker(RuleChecker):
    """The real rule checker, held at the start of each judgement until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def judge(self, content: ScanContent) -> Assessment:
        self.entered.set()
        if not self.release.wait(timeout=120):
            raise TimeoutError("never released")
        return super().judge(content)


def held_scanner(settings: CommonSettings, detector: HeldChecker) -> Service:
    """The checker side as ``scanner.app`` wires it, with the held detector."""
    handler = DetectorHandler(
        "checker",
        detector,
        producer="scanner-checker",
        consumer=settings.group("scanner-checker"),
        timeout=300,
    )
    return Service(
        name="scanner-checker",
        settings=ScannerSettings(**settings.model_dump()),
        subscriptions=[
            Subscription(
                Topic.RAW_MAIL, "scanner-checker", handler.on_raw_mail, transactional=False
            )
        ],
        on_stop=[handler.offload.close],
    )


def send(scenario: Scenario, subject: str) -> None:
    head = f"From: bob@example.com\r\nSubject: {subject}\r\n\r\n"
    raw = head + "A line of a long mail.\r\n" * LONG_BODY_LINES
    with smtplib.SMTP("127.0.0.1", scenario.smtp_port, timeout=30) as client:
        client.sendmail("bob@example.com", [scenario.address], raw.encode())


@ONE_DATABASE
@pytest.mark.timeout(180)
async def test_a_held_detector_does_not_stop_the_api_or_the_smtp_door(
    settings: CommonSettings, scenario: Scenario
) -> None:
    detector = HeldChecker()
    api_port = free_port()
    ingest = build_ingest(IngestSettings(**settings.model_dump(), smtp_port=scenario.smtp_port))
    gateway = build_gateway(GatewaySettings(**settings.model_dump(), api_port=api_port))
    async with running(ingest, held_scanner(settings, detector), gateway):
        await asyncio.to_thread(
            wait_for_port, "127.0.0.1", scenario.smtp_port, timeout=STARTUP_SECONDS
        )
        await asyncio.to_thread(wait_for_port, "127.0.0.1", api_port, timeout=STARTUP_SECONDS)
        await asyncio.to_thread(send, scenario, "first")
        assert await asyncio.to_thread(detector.entered.wait, 120), "the detector never started"
        async with httpx.AsyncClient(timeout=30) as client:
            health = await client.get(f"http://127.0.0.1:{api_port}/healthz")
        assert health.status_code == 200
        await asyncio.to_thread(send, scenario, "second")  # answered 250, or it raises
        assert not detector.release.is_set()  # both answered while the detector was held
        detector.release.set()
        await eventually(lambda: verdicts(scenario), timeout=120, what="both verdicts staged")
    close_listener(api_port)


def close_listener(port: int) -> None:
    """The gateway's uvicorn server, cancelled at the stop, leaves its listening socket open
    until the loop closes (then a ResourceWarning); closed here."""
    for found in gc.get_objects():
        if isinstance(found, asyncio.base_events.Server) and any(
            sock.getsockname()[1] == port for sock in found.sockets
        ):
            found.close()


async def verdicts(scenario: Scenario) -> bool:
    query = select(func.count()).where(
        OutboxRecord.producer == "scanner-checker",
        OutboxRecord.topic == Topic.SCAN_VERDICTS.value,
    )
    async with scenario.sessions() as session:
        return (await session.scalar(query) or 0) >= 2
