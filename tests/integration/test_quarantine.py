"""An L1 finding at ingest withholds the message end to end, whatever the detectors say."""

from __future__ import annotations

import asyncio
import smtplib

import pytest
from sqlalchemy import select

from mailmoat.common.db.tables import Message
from mailmoat.common.processes import wait_for_port
from mailmoat.common.settings import CommonSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario, all_consumer_services
from tests.support.stack import STARTUP_SECONDS
from tests.support.waiting import eventually
from tests.unit.ingest.checks.samples import eicar


def _send(scenario: Scenario, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", scenario.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", [scenario.address], raw)


# Once, on SQLite: the scan, not the storage.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_malware_is_quarantined_and_clean_mail_delivered(
    settings: CommonSettings, scenario: Scenario
) -> None:
    infected = (
        b"From: a@example.com\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nplease pay\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="invoice.com"\r\n\r\n'
        + eicar()
        + b"\r\n--b--\r\n"
    )
    clean = b"From: a@example.com\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n"
    async with running(*all_consumer_services(settings, scenario)):
        await asyncio.to_thread(
            wait_for_port, "127.0.0.1", scenario.smtp_port, timeout=STARTUP_SECONDS
        )
        await asyncio.to_thread(_send, scenario, infected)
        await asyncio.to_thread(_send, scenario, clean)

        async def both() -> list[Message] | None:
            async with scenario.sessions() as session:
                rows = list(await session.scalars(select(Message).order_by(Message.subject)))
            return rows if len(rows) == 2 else None

        invoice, lunch = await eventually(both, what="both mails to be stored")
    assert (invoice.subject, invoice.status) == ("invoice", "withheld")
    assert invoice.withheld_reason is not None
    assert "malware.eicar" in invoice.withheld_reason
    assert (lunch.status, lunch.withheld_reason) == ("delivered", None)
    assert lunch.text.strip() == "See you at noon."
