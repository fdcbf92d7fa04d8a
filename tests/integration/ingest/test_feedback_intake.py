"""Bounces and complaints become ``feedback`` events, never inbox mail, and only when they prove
they answer our mail: a bounce to the send's bounce address (its MAC verifies), or a complaint
to the feedback address about mail carrying our DKIM signature. They count only for recipients
the send went to; unproven feedback addresses are refused at RCPT."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from mailmoat.common.db.tables import OutboundMessage, OutboxRecord
from mailmoat.common.events import FeedbackReceived
from mailmoat.common.topics import Topic
from mailmoat.common.verp import VerpKey
from mailmoat.dispatch.domain.signing import DkimKey, dkim_sign
from tests.support.dkim_keys import new_rsa_key, pem
from tests.support.ingest import Ingest, IngestFactory

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

DOMAIN = "agents.mailmoat.localhost"
FEEDBACK = f"feedback@{DOMAIN}"
GONE = "gone@remote.example"


def _dsn(original_message_id: str, *recipients: str) -> bytes:
    blocks = "".join(
        f"\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        for recipient in recipients
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>\r\n"
        f"To: {FEEDBACK}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.remote.example\r\n{blocks}"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: hello\r\n"
        "--B--\r\n"
    ).encode()


def _arf(reported: bytes) -> bytes:
    return (
        b"From: fbl@isp.example\r\nTo: " + FEEDBACK.encode() + b"\r\nSubject: complaint\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; "
        b'boundary="F"\r\n\r\n--F\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n'
        b"--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: abuse\r\nUser-Agent: fbl/1\r\nVersion: 1\r\n"
        b"Original-Rcpt-To: " + GONE.encode() + b"\r\n\r\n"
        b"--F\r\nContent-Type: message/rfc822\r\n\r\n" + reported + b"\r\n--F--\r\n"
    )


def _original(message_id: str) -> bytes:
    return (
        f"From: agent@{DOMAIN}\r\nTo: {GONE}\r\nSubject: hello\r\n"
        f"Message-ID: {message_id}\r\n\r\nhi\r\n"
    ).encode()


def _verp(ingest: Ingest) -> VerpKey:
    secret = ingest.settings.webhook_secret_key.get_secret_value()
    return VerpKey.derive(secret, ingest.settings.mail_domain)


async def _outbound(ingest: Ingest, message_id: str, *, status: str = "sent") -> OutboundMessage:
    outbound = OutboundMessage(
        id=uuid.uuid4(),
        workspace_id=ingest.scenario.workspace_id,
        inbox_id=ingest.scenario.inbox_id,
        recipients=[GONE],
        subject="hello",
        text="hi",
        source="api",
        status=status,
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


async def test_a_bounce_to_the_send_s_bounce_address_counts_its_own_recipients(
    ingest: Ingest,
) -> None:
    outbound = await _outbound(ingest, "<abc123@agents.mailmoat.localhost>")
    # Another Message-ID, and strangers besides the recipient: the bounce address decides.
    raw = _dsn("<unknown-to-us@somewhere.example>", GONE, "x1@else.example", "x2@else.example")
    code, _ = await ingest.send(raw, mail_from="", rcpts=[_verp(ingest).address(outbound.id)])
    assert code == 250
    assert await ingest.stored() == []  # never delivered to an inbox
    [report] = await ingest.feedback_reports()
    assert (report.kind, report.outbound_id) == ("hard_bounce", outbound.id)
    assert report.note == "2 recipient(s) not counted: not ones the send went to, or repeated"
    [event] = await _feedback_events(ingest)
    assert (event.kind, event.recipient, event.outbound_id) == ("hard_bounce", GONE, outbound.id)
    assert event.inbox_id == ingest.scenario.inbox_id


@pytest.mark.parametrize(
    "address",
    [
        "feedback+{id}@agents.mailmoat.localhost",
        "bounces+{id}.aaaaaaaaaaaaaaaa@agents.mailmoat.localhost",
        "bounces+{id}@agents.mailmoat.localhost",
        "bounces@agents.mailmoat.localhost",
    ],
)
async def test_unproven_feedback_addresses_are_refused_at_rcpt(
    ingest: Ingest, address: str
) -> None:
    outbound = await _outbound(ingest, "<abc123@agents.mailmoat.localhost>")
    raw = _dsn("<abc123@agents.mailmoat.localhost>", GONE)
    code, reply = await ingest.send(raw, mail_from="", rcpts=[address.format(id=outbound.id)])
    assert (code, reply.split()[0]) == (550, "5.1.1")
    assert await ingest.feedback_reports() == []
    assert await _feedback_events(ingest) == []
    assert await ingest.stored() == []


async def test_a_bounce_for_a_send_that_never_left_counts_nothing(ingest: Ingest) -> None:
    outbound = await _outbound(ingest, "<abc123@agents.mailmoat.localhost>", status="failed")
    raw = _dsn("<abc123@agents.mailmoat.localhost>", GONE)
    code, _ = await ingest.send(raw, mail_from="", rcpts=[_verp(ingest).address(outbound.id)])
    assert code == 250
    [report] = await ingest.feedback_reports()
    assert report.outbound_id == outbound.id
    assert report.note == "the send did not leave (it is failed): nothing counts"
    assert await _feedback_events(ingest) == []


async def test_a_complaint_to_the_feedback_address_counts_only_with_our_signature(
    ingest_factory: IngestFactory, tmp_path: Path
) -> None:
    key_file = tmp_path / "mm1.pem"
    key_file.write_bytes(pem(new_rsa_key()))
    keys = {DOMAIN: {"selector": "mm1", "private_key_file": str(key_file)}}
    ours = DkimKey.from_pem(DOMAIN, "mm1", key_file.read_bytes())
    theirs = DkimKey.from_pem(DOMAIN, "mm1", pem(new_rsa_key()))
    async with ingest_factory(dkim_keys=keys) as ingest:
        message_id = "<signed.1@agents.mailmoat.localhost>"
        outbound = await _outbound(ingest, message_id)
        for unproven in (
            _arf(_original(message_id)),  # the right Message-ID, but anyone can write that
            _arf(dkim_sign(_original(message_id), theirs)),  # a key claiming to be ours
            _dsn(message_id, GONE),  # a bounce quoting the Message-ID, to the plain address
        ):
            assert (await ingest.send(unproven, mail_from="", rcpts=[FEEDBACK]))[0] == 250
        assert await _feedback_events(ingest) == []
        reports = await ingest.feedback_reports()
        assert {r.outbound_id for r in reports} == {None}
        assert all("no signature of ours" in (r.note or "") for r in reports)

        genuine = _arf(dkim_sign(_original(message_id), ours))
        assert (await ingest.send(genuine, mail_from="", rcpts=[FEEDBACK]))[0] == 250
        [event] = await _feedback_events(ingest)
        assert (event.kind, event.recipient, event.outbound_id) == ("complaint", GONE, outbound.id)
        assert await ingest.stored() == []


async def test_unmatched_or_unreadable_feedback_is_kept_not_published(ingest: Ingest) -> None:
    raw = _dsn("<never-sent@agents.mailmoat.localhost>", "x@remote.example")
    assert (await ingest.send(raw, mail_from="", rcpts=[FEEDBACK]))[0] == 250
    stray = _dsn("<never-sent@agents.mailmoat.localhost>", "x@remote.example")
    gone = _verp(ingest).address(uuid.uuid4())  # a genuine MAC for a send we do not have
    assert (await ingest.send(stray, mail_from="", rcpts=[gone]))[0] == 250
    plain = b"From: someone@remote.example\r\nSubject: hi\r\n\r\njust text\r\n"
    assert (await ingest.send(plain, mail_from="", rcpts=[FEEDBACK]))[0] == 250
    reports = await ingest.feedback_reports()
    assert sorted(r.kind for r in reports) == ["hard_bounce", "hard_bounce", "unparsed"]
    assert all(r.outbound_id is None and r.note for r in reports)
    assert await _feedback_events(ingest) == []
