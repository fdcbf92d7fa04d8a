"""Kill -9 mid-flow: of policy while mail arrives (nothing accepted is lost or duplicated),
and of dispatch as the relay accepts a send (it is never sent twice)."""

from __future__ import annotations

import asyncio
import smtplib
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Message
from mailmoat.common.settings import CommonSettings
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

MAILS = 30
ADDRESS = "steady@agents.mailmoat.localhost"


@pytest.fixture
def separate_processes() -> tuple[str, ...]:
    """The services these tests kill, each in its own process."""
    return ("policy", "dispatch")


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


async def test_dispatch_killed_as_the_relay_accepts_never_sends_twice(
    stack: ProcessStack, api: httpx.AsyncClient, settings: CommonSettings, smtp_sink: SmtpSink
) -> None:
    made = await api.post("/inboxes", json={"slug": "sender", "security_level": "L3"})
    assert made.status_code == 201
    for address in ("bob@example.org", "carol@example.org"):
        assert (await api.post("/allowlist", json={"address": address})).status_code == 201
    await end_cooldowns(settings)

    # The sink kills dispatch a few milliseconds after its 250 leaves: after the relay took the
    # mail, before dispatch can record it and commit its offset.
    def kill_dispatch() -> None:
        smtp_sink.after_data = None
        threading.Timer(0.005, stack.kill, ("dispatch",)).start()

    smtp_sink.after_data = kill_dispatch
    first = await api.post(
        "/inboxes/sender/send", json={"to": ["bob@example.org"], "subject": "one", "text": "1"}
    )
    await eventually(lambda: _count(smtp_sink, 1), what="the relay to take the first mail")
    await eventually(lambda: _gone(stack, "dispatch"), what="dispatch to be killed")
    stack.start("dispatch")  # the approval is redelivered to the new process

    second = await api.post(
        "/inboxes/sender/send", json={"to": ["carol@example.org"], "subject": "two", "text": "2"}
    )

    async def status(outbound_id: str, wanted: tuple[str, ...]) -> str | None:
        found = (await api.get(f"/outbound/{outbound_id}")).json()["status"]
        return found if found in wanted else None

    await eventually(lambda: status(second.json()["id"], ("sent",)), what="the second send")
    await asyncio.sleep(2)  # time for any duplicate to arrive
    assert [e.rcpt_tos for e in smtp_sink.envelopes] == [["bob@example.org"], ["carol@example.org"]]
    # Recorded if dispatch got that far; otherwise still "sending" (later failed as unknown).
    assert await status(first.json()["id"], ("sent", "queued"))


async def _count(sink: SmtpSink, n: int) -> bool:
    return len(sink.envelopes) >= n


async def _gone(stack: ProcessStack, name: str) -> bool:
    return name not in stack.processes
