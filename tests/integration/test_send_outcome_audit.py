"""Every outcome of a send has its own audit row, written with the status change: policy's
refusal (with the rule and its reason), its hold for a person, its queueing for dispatch; and,
unchanged, dispatch's sent, relay failure, send-time refusal and interrupted send, the review
window's auto-rejection and a bounce coming back. (A person's approval and rejection are in
``tests/e2e/test_approval_holds.py``.)"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import select, update

from mailmoat.common.audit_chain import CHECKPOINT_ACTION
from mailmoat.common.db.tables import (
    AllowlistEntry,
    AuditEntry,
    Inbox,
    OutboundMessage,
    Workspace,
)
from mailmoat.common.events import SendApproved, SendRequested
from mailmoat.common.events.base import Event, utcnow
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.common.verp import VerpKey
from mailmoat.dispatch.app import build_service as build_dispatch
from mailmoat.dispatch.mail import fail_interrupted_sends
from mailmoat.dispatch.settings import DispatchSettings
from mailmoat.policy.app import build_service as build_policy
from mailmoat.policy.settings import PolicySettings
from mailmoat.policy.sweeps import reject_overdue_approvals
from tests.support.ingest import Ingest
from tests.support.inprocess import running
from tests.support.outbound import approved_sends
from tests.support.peers import SmtpSink
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

NUMBERS = hashlib.sha256(b"Numbers").hexdigest()


async def publish(settings: CommonSettings, topic: Topic, event: Event, key: uuid.UUID) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic(topic.value), event.to_bytes(), key=str(key).encode()
        )
    finally:
        await producer.stop()


async def requested(scenario: Scenario, level: str, to: str) -> uuid.UUID:
    """A send as the API leaves it, from the scenario's inbox at ``level``; bob@example.org is
    on the allowlist (past his cooldown), nobody else."""
    outbound_id = uuid.uuid4()
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(Inbox).where(Inbox.id == scenario.inbox_id).values(security_level=level)
        )
        allowlisted = await db.scalar(
            select(AllowlistEntry).where(AllowlistEntry.workspace_id == scenario.workspace_id)
        )
        if allowlisted is None:
            db.add(
                AllowlistEntry(
                    workspace_id=scenario.workspace_id,
                    address="bob@example.org",
                    active_from=utcnow() - timedelta(minutes=5),
                )
            )
        db.add(
            OutboundMessage(
                id=outbound_id,
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                recipients=[to],
                subject="Numbers",
                text="The numbers are below.\n",
                source="api",
                status="requested",
            )
        )
    return outbound_id


async def decided(settings: CommonSettings, scenario: Scenario, outbound_id: uuid.UUID) -> str:
    """Run policy on the requested send; its status once decided."""
    event = SendRequested(
        mail_id=outbound_id,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        source="api",
    )

    async def status() -> str | None:
        async with scenario.sessions() as db:
            row = await db.get(OutboundMessage, outbound_id)
        return None if row is None or row.status == "requested" else row.status

    async with running(build_policy(PolicySettings(**settings.model_dump()))):
        await publish(settings, Topic.SEND_REQUESTED, event, outbound_id)
        return await eventually(status, what="policy's decision")


async def audit_rows(scenario: Scenario) -> list[AuditEntry]:
    """The workspace's audit rows but the checkpoints policy's audit sealer signs of its chain
    (a send's outcome is not one, and one lands whenever the sealer's round comes)."""
    async with scenario.sessions() as db:
        query = select(AuditEntry).where(
            AuditEntry.workspace_id == scenario.workspace_id,
            AuditEntry.action != CHECKPOINT_ACTION,
        )
        return list(await db.scalars(query.order_by(AuditEntry.created_at)))


def row_of(row: AuditEntry) -> dict[str, Any]:
    """What an audit row says, but its id and time."""
    return {
        "action": row.action,
        "actor": row.actor,
        "source": row.source,
        "provider": row.provider,
        "target": row.target,
        "subject_sha256": row.subject_sha256,
        "detail": row.detail,
    }


async def test_a_send_refused_by_policy_is_audited_with_its_rule_and_reason(
    settings: CommonSettings, scenario: Scenario
) -> None:
    outbound_id = await requested(scenario, "L3", "eve@example.org")
    assert await decided(settings, scenario, outbound_id) == "rejected"
    [row] = await audit_rows(scenario)
    assert row.action == "outbound.rejected_by_policy"
    assert (row.actor, row.source, row.target) == ("system:policy", "api", "eve@example.org")
    assert (row.provider, row.subject_sha256) == (None, NUMBERS)
    assert row.detail is not None
    assert row.detail["send_id"] == str(outbound_id)
    assert (row.detail["rule"], row.detail["code"]) == ("recipient_allowlist", "policy_violation")
    assert row.detail["reason"] == "Recipient 'eve@example.org' is not in the outbound allowlist"
    async with scenario.sessions() as db:
        outbound = await db.get(OutboundMessage, outbound_id)
    assert outbound is not None  # the row says what the agent was told
    assert (row.detail["code"], row.detail["reason"]) == (
        outbound.decision_code,
        outbound.decision_message,
    )
    assert row.detail["risk_score"] == outbound.risk_score


async def test_a_send_held_for_approval_is_audited_with_why_and_until_when(
    settings: CommonSettings, scenario: Scenario
) -> None:
    outbound_id = await requested(scenario, "L4", "bob@example.org")
    assert await decided(settings, scenario, outbound_id) == "pending_approval"
    [row] = await audit_rows(scenario)
    assert row.action == "outbound.held_for_approval"
    assert (row.actor, row.source, row.target) == ("system:policy", "api", "bob@example.org")
    assert row.detail is not None
    assert row.detail["send_id"] == str(outbound_id)
    assert any(reason.startswith("L4:") for reason in row.detail["reasons"])
    async with scenario.sessions() as db:
        outbound = await db.get(OutboundMessage, outbound_id)
    assert outbound is not None
    assert outbound.expires_at is not None
    assert row.detail["expires_at"] == outbound.expires_at.isoformat()


async def test_a_send_queued_for_dispatch_is_audited_with_the_checks_it_passed(
    settings: CommonSettings, scenario: Scenario
) -> None:
    outbound_id = await requested(scenario, "L3", "bob@example.org")
    assert await decided(settings, scenario, outbound_id) == "approved"
    [row] = await audit_rows(scenario)
    assert row.action == "outbound.queued"
    assert (row.actor, row.source, row.target) == ("system:policy", "api", "bob@example.org")
    assert row.subject_sha256 == NUMBERS
    assert row.detail is not None
    assert row.detail["send_id"] == str(outbound_id)
    assert row.detail["checks"]  # the rules it passed, in order


async def test_the_rows_of_dispatch_and_the_review_window_are_unchanged(
    settings: CommonSettings, scenario: Scenario
) -> None:
    """Sent, relay failure, refused at send time (the kill switch), interrupted, timed out:
    each exactly as before policy's rows were added."""
    with SmtpSink() as sink:
        relay = DispatchSettings(
            **settings.model_dump(), relay_port=sink.port, relay_starttls=False
        )
        async with running(build_dispatch(relay)):
            [sent] = await approved_sends(scenario, ["bob@example.org"])
            await _dispatch(settings, scenario, sent)
            async with scenario.sessions() as db, db.begin():
                await db.execute(
                    update(Workspace)
                    .where(Workspace.id == scenario.workspace_id)
                    .values(outbound_enabled=False)
                )
            [killed] = await approved_sends(scenario, ["carol@example.org"])
            await _dispatch(settings, scenario, killed)
    nobody = DispatchSettings(**settings.model_dump(), relay_port=free_port(), relay_starttls=False)
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(Workspace)
            .where(Workspace.id == scenario.workspace_id)
            .values(outbound_enabled=True)
        )
    async with running(build_dispatch(nobody)):
        [unrelayed] = await approved_sends(scenario, ["dan@example.org"])
        await _dispatch(settings, scenario, unrelayed)
    [stuck] = await approved_sends(scenario, ["erin@example.org"])
    [held] = await approved_sends(scenario, ["frank@example.org"])
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == stuck)
            .values(status="sending", updated_at=utcnow() - timedelta(hours=1))
        )
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == held)
            .values(status="pending_approval", expires_at=utcnow() - timedelta(seconds=1))
        )
    async with scenario.sessions() as db, db.begin():
        assert await fail_interrupted_sends(db, utcnow() - timedelta(minutes=10)) == 1
        assert await reject_overdue_approvals(db, utcnow(), batch=10) == 1

    def expected(
        action: str, actor: str, source: str, to: str, provider: str | None
    ) -> dict[str, Any]:
        return {
            "action": action,
            "actor": actor,
            "source": source,
            "provider": provider,
            "target": to,
            "subject_sha256": NUMBERS,
            "detail": None,
        }

    dispatch = "system:dispatch"
    assert [row_of(r) for r in await audit_rows(scenario)] == [
        expected(
            "outbound.sent", dispatch, "api", "bob@example.org", f"smtp:127.0.0.1:{sink.port}"
        ),
        expected("outbound.refused", dispatch, "api", "carol@example.org", None),
        expected(
            "outbound.failed",
            dispatch,
            "api",
            "dan@example.org",
            f"smtp:{nobody.relay_host}:{nobody.relay_port}",
        ),
        expected("outbound.failed", dispatch, "api", "erin@example.org", None),
        expected(
            "outbound.approval_timed_out",
            "system:approval_timeout",
            "cron:approval_sweep",
            "frank@example.org",
            None,
        ),
    ]


async def _dispatch(settings: CommonSettings, scenario: Scenario, outbound_id: uuid.UUID) -> None:
    event = SendApproved(
        mail_id=outbound_id,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        risk_score=0,
    )
    await publish(settings, Topic.SEND_APPROVED, event, outbound_id)

    async def settled() -> str | None:
        async with scenario.sessions() as db:
            row = await db.get(OutboundMessage, outbound_id)
        return row.status if row is not None and row.status in ("sent", "failed") else None

    await eventually(settled, what="dispatch's outcome")


async def test_a_bounce_of_a_sent_message_is_audited_as_before(ingest: Ingest) -> None:
    scenario = ingest.scenario
    [sent] = await approved_sends(scenario, ["gone@remote.example"])
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == sent)
            .values(status="sent", smtp_message_id="<abc@agents.mailmoat.localhost>")
        )
    secret = ingest.settings.webhook_secret_key.get_secret_value()
    bounces_to = VerpKey.derive(secret, ingest.settings.mail_domain).address(sent)
    dsn = (
        b"From: MAILER-DAEMON@mx.remote.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.remote.example\r\n\r\n"
        b"Final-Recipient: rfc822; gone@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B--\r\n"
    )
    code, _ = await ingest.send(dsn, mail_from="", rcpts=[bounces_to])
    assert code == 250
    assert [row_of(r) for r in await audit_rows(scenario)] == [
        {
            "action": "feedback.hard_bounce",
            "actor": "feedback:mx.remote.example",
            "source": "smtp",
            "provider": None,
            "target": f"outbound:{sent}",
            "subject_sha256": None,
            "detail": None,
        }
    ]
