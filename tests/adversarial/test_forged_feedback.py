"""Forged bounces: a report counts against a sender only when it proves it answers our mail (the
envelope sender's MAC), each report once, and only for recipients the send went to. Real bounces,
sent to the envelope sender the relay was given, reach reputation and never an inbox.

The finding: one DSN with 20 failed blocks to ``feedback+<outbound id>@`` suspended a sender with
100 sends a day, while real bounces went to the inbox address as ordinary mail."""

from __future__ import annotations

import asyncio
import email
import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from aiosmtpd.smtp import Envelope
from sqlalchemy import func, select

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import ReputationBucket
from mailmoat.common.events.base import utcnow
from mailmoat.common.topics import Topic
from tests.support.adversary import STATUSES, Adversary
from tests.support.allowlist import end_cooldowns
from tests.support.feedback_events import delivered, publish_all
from tests.support.waiting import eventually

BLOCKS = 20
EARLIER_SENDS = 100


@dataclass(frozen=True)
class Send:
    """One real send through the API, as the relay (the sink) received it."""

    slug: str
    inbox_id: uuid.UUID
    outbound_id: uuid.UUID
    recipient: str
    envelope: Envelope

    @property
    def mail_from(self) -> str:
        return str(self.envelope.mail_from)

    @property
    def message_id(self) -> str:
        raw = self.envelope.original_content or b""
        return str(email.message_from_bytes(raw)["Message-ID"])


@dataclass(frozen=True)
class Counts:
    """What reputation counted against the inbox."""

    hard: int
    soft: int
    complaints: int


def dsn(send: Send, to: str, failed: list[str], *, action: str = "failed") -> bytes:
    """A DSN as a remote MTA writes it, one block per failed address, quoting the original."""
    status = "5.1.1" if action == "failed" else "4.4.1"
    blocks = "".join(
        f"\r\nFinal-Recipient: rfc822; {address}\r\nAction: {action}\r\nStatus: {status}\r\n"
        for address in failed
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.org\r\n{blocks}"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {send.message_id}\r\nSubject: hello\r\n"
        "--B--\r\n"
    ).encode()


def strangers(count: int) -> list[str]:
    return [f"stranger{n}-{uuid.uuid4().hex[:6]}@example.net" for n in range(count)]


async def real_send(adversary: Adversary) -> Send:
    """A fresh L3 inbox sends one mail to an allowlisted recipient; waits for the sink."""
    slug = await adversary.inbox("L3")
    recipient = f"bob-{uuid.uuid4().hex[:8]}@example.org"
    allowed = await adversary.person.post("/allowlist", json={"address": recipient})
    assert allowed.is_success, allowed.text
    await end_cooldowns(adversary.stack.settings, recipient)
    answer = await adversary.sender.post(
        f"/inboxes/{slug}/send", json={"to": [recipient], "subject": "hello", "text": "hi"}
    )
    assert answer.status_code == 202, answer.text
    sink = adversary.sink

    async def relayed() -> Envelope | None:
        return next((e for e in sink.envelopes if recipient in e.rcpt_tos), None)

    envelope = await eventually(relayed, what="the send at the relay")
    outbound_id = answer.json()["id"]

    async def recorded_sent() -> bool:
        # The relay has the mail a moment before dispatch records it sent; a report about a
        # send that has not left counts for nothing, so a bounce sent sooner would be ignored.
        found = await adversary.person.get(f"/outbound/{outbound_id}")
        return found.status_code == 200 and found.json()["status"] == "sent"

    await eventually(recorded_sent, what="the send recorded as sent")
    inbox = (await adversary.person.get(f"/inboxes/{slug}")).json()
    return Send(slug, uuid.UUID(inbox["id"]), uuid.UUID(outbound_id), recipient, envelope)


async def deliver(adversary: Adversary, rcpt: str, raw: bytes) -> tuple[int, int | None]:
    """A report with the null sender: the RCPT reply's code, and DATA's when RCPT passed."""
    return await asyncio.to_thread(_deliver, adversary.stack.smtp_port, rcpt, raw)


def _deliver(port: int, rcpt: str, raw: bytes) -> tuple[int, int | None]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("mx.example.org")
        client.mail("<>")
        code, _ = client.rcpt(rcpt)
        if code != 250:
            return code, None
        return code, client.data(raw)[0]


async def counts(adversary: Adversary, inbox_id: uuid.UUID) -> Counts:
    engine = create_engine(adversary.database_url)
    try:
        async with create_session_factory(engine)() as db:
            row = (
                await db.execute(
                    select(
                        func.coalesce(func.sum(ReputationBucket.hard_bounces), 0),
                        func.coalesce(func.sum(ReputationBucket.soft_bounces), 0),
                        func.coalesce(func.sum(ReputationBucket.complaints), 0),
                    ).where(
                        ReputationBucket.scope == "inbox", ReputationBucket.scope_id == inbox_id
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return Counts(*(int(value) for value in row))


async def counted(adversary: Adversary, send: Send, what: str, **at_least: int) -> Counts:
    """Wait until reputation has counted at least ``at_least`` for the inbox."""

    async def probe() -> Counts | None:
        found = await counts(adversary, send.inbox_id)
        return found if all(getattr(found, k) >= n for k, n in at_least.items()) else None

    return await eventually(probe, what=what)


async def inbox_messages(adversary: Adversary, slug: str) -> list[object]:
    """Whatever the inbox holds, in every status."""
    found: list[object] = []
    for status in STATUSES:
        page = await adversary.person.get(f"/inboxes/{slug}/messages", params={"status": status})
        assert page.status_code == 200, page.text
        found += page.json()["items"]
    return found


async def standing(adversary: Adversary, slug: str) -> str:
    return str((await adversary.person.get(f"/inboxes/{slug}")).json()["sending_status"])


async def test_forged_reports_to_untrusted_addresses_change_nothing(adversary: Adversary) -> None:
    send = await real_send(adversary)
    earlier = delivered(
        uuid.UUID((await adversary.person.get("/workspace")).json()["id"]),
        send.inbox_id,
        EARLIER_SENDS,
        start=utcnow() - timedelta(hours=20),
        step=timedelta(minutes=5),
        prefix=f"earlier-{send.slug}-",
    )
    await publish_all(adversary.stack.settings, Topic.SENT, earlier)
    domain = adversary.domain
    forged = [send.recipient, *strangers(BLOCKS - 1)]
    targets = [
        f"feedback+{send.outbound_id}@{domain}",
        f"bounces+{send.outbound_id}.{'a' * 16}@{domain}",
        f"bounces+{send.outbound_id}@{domain}",
    ]
    for target in targets:
        rcpt, data = await deliver(adversary, target, dsn(send, target, forged))
        assert rcpt == 550 or data == 250, (target, rcpt, data)

    # A genuine bounce after them: once it is counted, anything forged before it would be too.
    genuine = dsn(send, send.mail_from, [send.recipient])
    assert await deliver(adversary, send.mail_from, genuine) == (250, 250)
    found = await counted(adversary, send, "the genuine bounce counted", hard=1)
    assert found == Counts(hard=1, soft=0, complaints=0)
    assert await standing(adversary, send.slug) == "active"
    assert await inbox_messages(adversary, send.slug) == []


async def test_a_genuine_bounce_counts_once_and_only_for_the_real_recipient(
    adversary: Adversary,
) -> None:
    send = await real_send(adversary)
    others = strangers(BLOCKS - 1)
    # The MAC is genuine, but the send never went to the strangers: only the recipient counts.
    bounce = dsn(send, send.mail_from, [*others, send.recipient])
    assert await deliver(adversary, send.mail_from, bounce) == (250, 250)
    assert await deliver(adversary, send.mail_from, bounce) == (250, 250)  # replayed
    assert await deliver(adversary, send.mail_from, dsn(send, send.mail_from, others)) == (
        250,
        250,
    )
    # A report of another kind; reports are not ordered across partitions, so wait for both
    # kinds (a replay counted twice would show as hard=2 whenever it lands).
    delayed = dsn(send, send.mail_from, [send.recipient], action="delayed")
    assert await deliver(adversary, send.mail_from, delayed) == (250, 250)
    found = await counted(adversary, send, "the bounce and the delay counted", hard=1, soft=1)
    assert found == Counts(hard=1, soft=1, complaints=0)
    assert await inbox_messages(adversary, send.slug) == []
