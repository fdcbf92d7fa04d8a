"""Dispatch, the last line of defence: what changed since policy approved a send is checked again
at the moment of sending, mail is DKIM-signed with the domain's key, one relay connection is
reused, and the outcome is written to the send, its cap reservations and the ``sent`` topic."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import dkim
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, update

from mailmoat.common.db.tables import (
    AuditEntry,
    Inbox,
    OutboundMessage,
    SendReservation,
    WebhookEndpoint,
    Workspace,
)
from mailmoat.common.events import SendApproved
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.dispatch.app import build_service
from mailmoat.dispatch.mail import fail_interrupted_sends
from mailmoat.dispatch.settings import DispatchSettings
from tests.support.commits import counted_commits
from tests.support.dkim_keys import new_rsa_key, rsa_record
from tests.support.inprocess import running
from tests.support.outbound import approved_sends
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.scenario import Scenario
from tests.support.waiting import eventually


async def approved(scenario: Scenario, to: str, *, reserve: bool = True) -> uuid.UUID:
    """An outbound message as policy leaves it: approved, its recipient reserved."""
    [outbound_id] = await approved_sends(scenario, [to], reserve=reserve)
    return outbound_id


async def publish(settings: CommonSettings, scenario: Scenario, outbound_id: uuid.UUID) -> None:
    event = SendApproved(
        mail_id=outbound_id,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        risk_score=0,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = settings.topic(Topic.SEND_APPROVED.value)
        await producer.send_and_wait(topic, event.to_bytes(), key=str(outbound_id).encode())
    finally:
        await producer.stop()


async def settled(scenario: Scenario, outbound_id: uuid.UUID) -> OutboundMessage | None:
    async with scenario.sessions() as db:
        row = await db.get(OutboundMessage, outbound_id)
    return row if row is not None and row.status in ("sent", "failed") else None


async def outcomes(scenario: Scenario, outbound_id: uuid.UUID) -> list[str | None]:
    async with scenario.sessions() as db:
        rows = await db.scalars(
            select(SendReservation.outcome).where(SendReservation.outbound_id == outbound_id)
        )
        return list(rows)


async def test_dispatch_signs_reuses_its_connection_and_rechecks_at_send_time(
    settings: CommonSettings, scenario: Scenario, tmp_path: Path
) -> None:
    key = new_rsa_key()
    key_file = tmp_path / "mm1.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with SmtpSink() as sink:
        dispatch = DispatchSettings(
            **settings.model_dump(),
            relay_port=sink.port,
            relay_starttls=False,
            dkim_keys={
                settings.mail_domain: {"selector": "mm1", "private_key_file": str(key_file)}
            },
        )
        async with running(build_service(dispatch)):
            # Two ordinary sends: both signed, one SMTP connection.
            first = await approved(scenario, "bob@example.org")
            second = await approved(scenario, "carol@example.org")
            for outbound_id in (first, second):
                await publish(settings, scenario, outbound_id)
                sent = await eventually(
                    lambda sent_id=outbound_id: settled(scenario, sent_id), what="the send"
                )
                assert sent.status == "sent", sent.relay_reply
                assert await outcomes(scenario, outbound_id) == ["sent"]
            assert len(sink.envelopes) == 2
            assert sink.connections == 1

            # The kill switch turned off after approval: failed, never relayed.
            async with scenario.sessions() as db, db.begin():
                await db.execute(
                    update(Workspace)
                    .where(Workspace.id == scenario.workspace_id)
                    .values(outbound_enabled=False)
                )
            killed = await approved(scenario, "dan@example.org")
            await publish(settings, scenario, killed)
            row = await eventually(lambda: settled(scenario, killed), what="the refusal")
            assert (row.status, row.decision_code) == ("failed", "capability_disabled")
            assert await outcomes(scenario, killed) == ["refused"]  # the slot stays taken
            async with scenario.sessions() as db, db.begin():
                await db.execute(
                    update(Workspace)
                    .where(Workspace.id == scenario.workspace_id)
                    .values(outbound_enabled=True)
                )

            # The sender suspended by reputation after approval.
            async with scenario.sessions() as db, db.begin():
                await db.execute(
                    update(Inbox)
                    .where(Inbox.id == scenario.inbox_id)
                    .values(sending_status="suspended")
                )
            suspended = await approved(scenario, "erin@example.org")
            await publish(settings, scenario, suspended)
            row = await eventually(lambda: settled(scenario, suspended), what="the refusal")
            assert (row.status, row.decision_code) == ("failed", "capability_disabled")
            async with scenario.sessions() as db, db.begin():
                await db.execute(
                    update(Inbox)
                    .where(Inbox.id == scenario.inbox_id)
                    .values(sending_status="active")
                )

            # An approval with no cap reservation behind it never goes out.
            unreserved = await approved(scenario, "frank@example.org", reserve=False)
            await publish(settings, scenario, unreserved)
            row = await eventually(lambda: settled(scenario, unreserved), what="the refusal")
            assert (row.status, row.decision_code) == ("failed", "cap_exceeded")
            assert "frank@example.org" in (row.decision_message or "")

            # A redelivered approval of a send already made sends nothing more.
            await publish(settings, scenario, first)
            await asyncio.sleep(1)

    assert [e.rcpt_tos for e in sink.envelopes] == [["bob@example.org"], ["carol@example.org"]]
    name = f"mm1._domainkey.{settings.mail_domain}."
    record = rsa_record(key).encode()
    for envelope in sink.envelopes:
        assert envelope.original_content is not None
        assert envelope.original_content.startswith(b"DKIM-Signature:")
        assert dkim.verify(
            envelope.original_content,
            dnsfunc=lambda q, timeout=5: record if q.decode() == name else b"",
        )


async def test_a_send_left_mid_exchange_is_failed_as_unknown_never_retried(
    scenario: Scenario,
) -> None:
    stuck = await approved(scenario, "bob@example.org")
    recent = await approved(scenario, "carol@example.org")
    long_ago = utcnow() - timedelta(minutes=30)
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == stuck)
            .values(status="sending", updated_at=long_ago)
        )
        await db.execute(
            update(OutboundMessage).where(OutboundMessage.id == recent).values(status="sending")
        )
    async with scenario.sessions() as db, db.begin():
        assert await fail_interrupted_sends(db, utcnow() - timedelta(minutes=10)) == 1
    row = await settled(scenario, stuck)
    assert row is not None
    assert row.status == "failed"
    assert (row.relay_reply or "").startswith("interrupted:")
    assert await outcomes(scenario, stuck) == ["unknown"]  # the slot stays taken
    async with scenario.sessions() as db:
        still = await db.get(OutboundMessage, recent)
    assert still is not None
    assert still.status == "sending"  # a send in progress is left alone


async def test_every_send_is_audited_and_streamed_with_its_provider_and_no_subject(
    settings: CommonSettings, scenario: Scenario
) -> None:
    with SmtpSink() as sink, WebhookReceiver() as receiver:
        async with scenario.sessions() as db, db.begin():
            db.add(
                WebhookEndpoint(
                    workspace_id=scenario.workspace_id,
                    url=receiver.url,
                    kind="audit",
                    format="json",
                    events=["*"],
                    secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
                )
            )
        dispatch = DispatchSettings(
            **settings.model_dump(),
            relay_port=sink.port,
            relay_starttls=False,
            egress_allowed_networks=["127.0.0.0/8"],
        )
        async with running(build_service(dispatch)):
            sent_id = await approved(scenario, "bob@example.org")
            await publish(settings, scenario, sent_id)
            await eventually(lambda: settled(scenario, sent_id), what="the send")
            refused_id = await approved(scenario, "carol@example.org", reserve=False)
            await publish(settings, scenario, refused_id)

            async def streamed() -> list[dict[str, object]] | None:
                data = [d.json()["data"] for d in receiver.deliveries]
                return data if len(data) >= 2 else None

            stream = await eventually(streamed, what="the audit stream", timeout=10)
    provider = f"smtp:127.0.0.1:{sink.port}"
    numbers = hashlib.sha256(b"Numbers").hexdigest()
    assert sorted((d["action"], d["target"], d["provider"]) for d in stream) == [
        ("outbound.refused", "carol@example.org", None),
        ("outbound.sent", "bob@example.org", provider),
    ]
    assert all(d["source"] == "api" and d["subject_sha256"] == numbers for d in stream)
    assert all(b"Numbers" not in d.body for d in receiver.deliveries)
    async with scenario.sessions() as db:
        rows = list(
            await db.scalars(select(AuditEntry).where(AuditEntry.action.like("outbound.%")))
        )
    assert sorted((r.action, r.provider, r.source, r.subject_sha256) for r in rows) == [
        ("outbound.refused", None, "api", numbers),
        ("outbound.sent", provider, "api", numbers),
    ]


async def test_a_burst_of_approvals_is_claimed_and_recorded_a_batch_at_a_time(
    settings: CommonSettings, scenario: Scenario
) -> None:
    recipients = [f"person{n}@example.org" for n in range(30)]
    ids = await approved_sends(scenario, recipients)
    unreserved = await approved(scenario, "nobody@example.org", reserve=False)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for outbound_id in [*ids[:15], unreserved, *ids[15:]]:
            event = SendApproved(
                mail_id=outbound_id,
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                risk_score=0,
            )
            topic = settings.topic(Topic.SEND_APPROVED.value)
            await producer.send(topic, event.to_bytes(), key=b"one-partition")
        await producer.flush()
    finally:
        await producer.stop()
    with SmtpSink() as sink, counted_commits("UPDATE outbound_messages") as commits:
        dispatch = DispatchSettings(
            **settings.model_dump(), relay_port=sink.port, relay_starttls=False
        )
        async with running(build_service(dispatch)):
            for outbound_id in [*ids, unreserved]:
                await eventually(
                    lambda sent_id=outbound_id: settled(scenario, sent_id), what="a send"
                )
        # Each send in the batch is relayed once; the one without its reservation alone fails.
        assert sorted(rcpt for envelope in sink.envelopes for rcpt in envelope.rcpt_tos) == sorted(
            recipients
        )
    refused = await settled(scenario, unreserved)
    assert refused is not None
    assert refused.decision_code == "cap_exceeded"
    # A claim and an outcome per batch of up to 20, where each send took two commits of its own.
    assert commits[0] <= 12, commits[0]
