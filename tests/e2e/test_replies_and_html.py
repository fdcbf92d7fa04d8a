"""Replies stay inside their thread, and HTML reaches only recipients allowed it, sanitised:
through the real API, broker, policy, dispatch and SMTP sink."""

from __future__ import annotations

import asyncio
import email
import smtplib
from email.message import Message as MimeMessage
from typing import Any

import httpx
import pytest

from mailmoat.common.settings import CommonSettings
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

INBOX = "helper@agents.mailmoat.localhost"
HTML = '<p onclick="steal()">Hi <b>Alice</b><script>alert(1)</script><img src="https://x.example/?k=1"></p>'


# Once, on SQLite: threading and the HTML rules are policy's, the same on both databases, and
# the other end-to-end tests run every path through PostgreSQL.
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _deliver(port: int) -> None:
    raw = (
        f"From: alice@example.org\r\nTo: {INBOX}\r\nSubject: question\r\n"
        "Message-ID: <q1@example.org>\r\nIn-Reply-To: <q0@example.org>\r\n"
        "References: <q0@example.org>\r\n\r\nCould you send me the agenda?\r\n"
    )
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("alice@example.org", [INBOX], raw.encode())


async def test_replies_stay_in_their_thread_and_html_is_only_for_those_allowed_it(
    stack: ProcessStack, api: httpx.AsyncClient, smtp_sink: SmtpSink, settings: CommonSettings
) -> None:
    assert (await api.post("/inboxes", json={"slug": "helper", "security_level": "L3"})).is_success
    for address, html in (("alice@example.org", True), ("bob@example.org", False)):
        added = await api.post("/allowlist", json={"address": address, "allow_html": html})
        assert added.status_code == 201
    await end_cooldowns(settings)
    await asyncio.to_thread(_deliver, stack.smtp_port)

    async def question() -> str | None:
        items = (await api.get("/inboxes/helper/messages")).json()["items"]
        return items[0]["id"] if items else None

    asked = await eventually(question, what="the question to arrive")

    async def settled(outbound_id: str) -> dict[str, Any] | None:
        body = (await api.get(f"/outbound/{outbound_id}")).json()
        return body if body["status"] in ("sent", "rejected", "failed") else None

    async def send(**fields: Any) -> dict[str, Any]:
        mail = {"subject": "Re: question", "text": "Here it is.", **fields}
        accepted = await api.post("/inboxes/helper/send", json=mail)
        assert accepted.status_code in (200, 202), accepted.text
        return await eventually(lambda: settled(accepted.json()["id"]), what="a decision")

    to_alice = await send(to=["alice@example.org"], in_reply_to=asked, html=HTML)
    widened = await send(to=["bob@example.org"], in_reply_to=asked)
    to_bob = await send(to=["bob@example.org"], html=HTML)

    assert to_alice["status"] == "sent"
    assert widened["status"] == "rejected"
    assert widened["error"]["code"] == "reply_outside_thread"
    assert to_bob["status"] == "sent"
    await eventually(lambda: _at_least(smtp_sink, 2), what="two mails at the sink")
    by_recipient = {
        e.rcpt_tos[0]: email.message_from_bytes(e.original_content) for e in smtp_sink.envelopes
    }
    assert set(by_recipient) == {"alice@example.org", "bob@example.org"}
    html = _part(by_recipient["alice@example.org"], "text/html")
    assert html is not None
    assert "<b>Alice</b>" in html
    for gone in ("onclick", "<script", "alert(", "<img", "x.example"):
        assert gone not in html
    assert _part(by_recipient["bob@example.org"], "text/html") is None
    # The reply names the question it answers, after the thread it came from.
    reply = by_recipient["alice@example.org"]
    assert reply["In-Reply-To"] == "<q1@example.org>"
    assert reply["References"] == "<q0@example.org> <q1@example.org>"
    assert by_recipient["bob@example.org"]["In-Reply-To"] is None
    assert "Here it is." in (_part(by_recipient["bob@example.org"], "text/plain") or "")


def _part(message: MimeMessage, content_type: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return None


async def _at_least(sink: SmtpSink, count: int) -> bool | None:
    return True if len(sink.envelopes) >= count else None
