"""Bounces and complaints to the feedback address become ``feedback`` events, not inbox mail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mailmoat.common.db.tables import OutboundMessage, OutboxRecord
from mailmoat.common.events import FeedbackReceived
from mailmoat.common.topics import Topic
from tests.support.ingest import Ingest

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

FEEDBACK = "feedback@agents.mailmoat.localhost"


def _dsn(original_message_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>\r\n"
        "To: feedback@agents.mailmoat.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.remote.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: hello\r\n"
        "--B--\r\n"
    ).encode()


async def _outbound(ingest: Ingest, message_id: str) -> OutboundMessage:
    outbound = OutboundMessage(
        id=uuid.uuid4(),
        workspace_id=ingest.scenario.workspace_id,
        inbox_id=ingest.scenario.inbox_id,
        recipients=["gone@remote.example"],
        subject="hello",
        text="hi",
        source="api",
        status="sent",
        smtp_message_id=message_id,
    )
    async with ingest.scenario.sessions() as session, session.begin():
        session.add(outbound)
    return outbound


async def _feedback_events(ingest: Ingest) -> list[FeedbackReceived]:
    async with ingest.scenario.sessions() as session:
        rows = await session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == Topic.FEEDBACK.value)
        )
        return [FeedbackReceived.model_validate_json(row.payload) for row in rows]


async def test_a_bounce_for_our_send_is_published_as_feedback(ingest: Ingest) -> None:
    outbound = await _outbound(ingest, "<abc123@agents.mailmoat.localhost>")
    raw = _dsn("<abc123@agents.mailmoat.localhost>", "gone@remote.example")
    code, _ = await ingest.send(raw, mail_from="", rcpts=[FEEDBACK])
    assert code == 250
    assert await ingest.stored() == []  # never delivered to an inbox
    [report] = await ingest.feedback_reports()
    assert (report.kind, report.outbound_id) == ("hard_bounce", outbound.id)
    [event] = await _feedback_events(ingest)
    assert (event.kind, event.recipient, event.outbound_id) == (
        "hard_bounce",
        "gone@remote.example",
        outbound.id,
    )
    assert event.inbox_id == ingest.scenario.inbox_id


async def test_a_tagged_feedback_address_names_the_send(ingest: Ingest) -> None:
    outbound = await _outbound(ingest, "<other@agents.mailmoat.localhost>")
    raw = _dsn("<unknown-to-us@somewhere.example>", "gone@remote.example")
    tagged = f"feedback+{outbound.id}@agents.mailmoat.localhost"
    assert (await ingest.send(raw, mail_from="", rcpts=[tagged]))[0] == 250
    [event] = await _feedback_events(ingest)
    assert event.outbound_id == outbound.id


async def test_unmatched_or_unreadable_feedback_is_kept_not_published(ingest: Ingest) -> None:
    raw = _dsn("<never-sent@agents.mailmoat.localhost>", "x@remote.example")
    assert (await ingest.send(raw, mail_from="", rcpts=[FEEDBACK]))[0] == 250
    plain = b"From: someone@remote.example\r\nSubject: hi\r\n\r\njust text\r\n"
    assert (await ingest.send(plain, mail_from="", rcpts=[FEEDBACK]))[0] == 250
    reports = await ingest.feedback_reports()
    assert sorted(r.kind for r in reports) == ["hard_bounce", "unparsed"]
    assert all(r.outbound_id is None and r.note for r in reports)
    assert await _feedback_events(ingest) == []
