"""Kill -9 of the policy process while mail flows: nothing accepted is lost or duplicated."""

from __future__ import annotations

import asyncio
import smtplib
from typing import Any

import httpx
from sqlalchemy import func, select

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Message
from mailmoat.common.settings import CommonSettings
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

MAILS = 30
ADDRESS = "steady@agents.mailmoat.localhost"


def send_numbered(port: int, numbers: range) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for n in numbers:
            body = f"From: a@example.com\r\nSubject: mail {n}\r\n\r\nhello {n}\r\n".encode()
            assert client.sendmail("a@example.com", [ADDRESS], body) == {}


async def test_policy_killed_mid_flow_loses_and_duplicates_nothing(
    stack: ProcessStack, api: httpx.AsyncClient, settings: CommonSettings
) -> None:
    assert (await api.post("/inboxes", json={"slug": "steady"})).status_code == 201

    async def listed() -> list[dict[str, Any]]:
        page = await api.get("/inboxes/steady/messages", params={"limit": 200})
        return page.json()["items"]

    await asyncio.to_thread(send_numbered, stack.smtp_port, range(0, 10))
    await eventually(listed, what="policy to store the first mail")
    stack.kill("policy")
    await asyncio.to_thread(send_numbered, stack.smtp_port, range(10, MAILS))
    stack.start("policy")

    async def all_listed() -> list[dict[str, Any]] | None:
        items = await listed()
        return items if len(items) >= MAILS else None

    items = await eventually(all_listed, timeout=90, what=f"all {MAILS} mails to be stored")
    subjects = sorted(item["subject"] for item in items)
    assert subjects == sorted(f"mail {n}" for n in range(MAILS))

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            stored = await session.scalar(select(func.count()).select_from(Message))
    finally:
        await engine.dispose()
    assert stored == MAILS
