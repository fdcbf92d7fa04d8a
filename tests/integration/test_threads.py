"""Policy files inbound mail into threads by Message-ID, In-Reply-To and References."""

from __future__ import annotations

import asyncio
import smtplib

from sqlalchemy import select

from mailmoat.common.db.tables import Message
from mailmoat.common.processes import wait_for_port
from mailmoat.common.settings import CommonSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario, all_consumer_services
from tests.support.stack import STARTUP_SECONDS
from tests.support.waiting import eventually


def _mail(subject: str, message_id: str, *refs: str) -> bytes:
    lines = ["From: a@example.com", f"Subject: {subject}", f"Message-ID: {message_id}"]
    if refs:
        lines += [f"In-Reply-To: {refs[-1]}", f"References: {' '.join(refs)}"]
    return ("\r\n".join(lines) + "\r\n\r\nhello\r\n").encode()


async def test_replies_join_the_thread_they_answer(
    settings: CommonSettings, scenario: Scenario
) -> None:
    async def stored(count: int) -> list[Message] | None:
        async with scenario.sessions() as session:
            rows = list(await session.scalars(select(Message).order_by(Message.received_at)))
        return rows if len(rows) == count else None

    def send(raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", scenario.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", [scenario.address], raw)

    async with running(*all_consumer_services(settings, scenario)):
        await asyncio.to_thread(
            wait_for_port, "127.0.0.1", scenario.smtp_port, timeout=STARTUP_SECONDS
        )
        # Each mail waits for the one before: a reply can only join a thread already stored.
        mails = (
            _mail("first", "<1@example.com>"),
            _mail("reply", "<2@example.com>", "<1@example.com>"),
            _mail("other", "<3@example.com>"),
            _mail("reply to reply", "<4@example.com>", "<1@example.com>", "<2@example.com>"),
        )
        for count, raw in enumerate(mails, start=1):
            await asyncio.to_thread(send, raw)
            rows = await eventually(lambda c=count: stored(c), what=f"{count} mails stored")
    by_subject = {m.subject: m for m in rows}
    first = by_subject["first"]
    assert first.message_id_header == "<1@example.com>"
    assert first.thread_id is not None
    assert by_subject["reply"].thread_id == first.thread_id
    assert by_subject["reply to reply"].thread_id == first.thread_id
    assert by_subject["other"].thread_id not in (None, first.thread_id)
