"""The Python SDK against the running gateway: every endpoint through the async client, the
agent's loop through the sync one, problems raised as typed exceptions with their codes, and a
real webhook delivery verified (and a tampered one refused) by the SDK's verifier."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from mailmoat_sdk import (
    AsyncMailmoat,
    AuthenticationError,
    ConflictError,
    Mailmoat,
    MessageEvent,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
    WebhookVerificationError,
    verify_and_parse,
)
from mailmoat_sdk.models import ApprovalSummary, MessageOut, OutboundOut, WithheldOut
from tests.support.agent_mail import ADDRESS, INJECTION, ORDINARY, mail
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually


async def test_the_sdk_drives_every_endpoint(
    stack: ProcessStack,
    settings: CommonSettings,
    smtp_sink: SmtpSink,
    webhooks: WebhookReceiver,
) -> None:
    made = await bootstrap_workspace(
        settings.database_url, name="sdk", plan="enterprise", agent_key=True
    )
    assert made.agent_key is not None
    base = stack.api.removesuffix("/api/v1")
    async with (
        AsyncMailmoat(base, made.api_key) as person,
        AsyncMailmoat(stack.api, made.agent_key) as agent,
    ):
        # The workspace and its inboxes, pages walked by the iterators.
        assert (await person.workspace.get()).plan == "enterprise"
        inbox = await person.inboxes.create("agent", security_level="L4", webhook_url=webhooks.url)
        assert inbox.address == ADDRESS
        for slug in ("second", "third"):
            await person.inboxes.create(slug)
        assert [i.slug async for i in person.inboxes.iterate(limit=1)] == [
            "agent",
            "second",
            "third",
        ]
        assert (await person.inboxes.list(limit=2)).next_cursor is not None
        await person.inboxes.update("third", daily_send_limit=20)
        assert (await person.inboxes.get("third")).daily_send_limit == 20
        await person.inboxes.delete("third")
        with pytest.raises(NotFoundError) as missing:
            await person.inboxes.get("third")
        assert missing.value.code == "not_found"
        with pytest.raises(ValidationError):  # a body the API would refuse is never sent
            await person.inboxes.create("agent-2", approval_timeout_seconds=10**9)
        with pytest.raises(UnprocessableEntityError) as invalid:  # the server's own check
            await person.inboxes.list(limit=500)
        assert invalid.value.problem is not None
        assert invalid.value.problem.errors
        assert invalid.value.problem.errors[0]["field"] == "limit"
        secret = (await person.inboxes.reveal_webhook_secret("agent")).secret
        with pytest.raises(ConflictError) as shown:
            await person.inboxes.reveal_webhook_secret("agent")
        assert shown.value.code == "secret_already_shown"

        # Mail in: the agent's loop on the sync client, in a thread.
        started = datetime.now(UTC) - timedelta(seconds=1)
        with Mailmoat(base, made.agent_key) as sync_agent:
            waiting = asyncio.create_task(
                asyncio.to_thread(
                    sync_agent.wait_for_message,
                    "agent",
                    timeout=60,
                    since=started,
                    poll_interval=0.2,
                )
            )
            await asyncio.to_thread(mail, stack.smtp_port, "ann@example.net", ORDINARY)
            message = await waiting
            assert isinstance(message, MessageOut), message
            assert (message.from_address, message.subject) == ("ann@example.net", "Lunch")
            # Nothing new since: the wait ends empty.
            assert (
                await asyncio.to_thread(
                    sync_agent.wait_for_message, "agent", timeout=0.5, poll_interval=0.2
                )
                is None
            )
        spotlighted = await agent.messages.get(message.id, view="spotlighted")
        assert isinstance(spotlighted, MessageOut)
        assert spotlighted.spotlight is not None
        assert message.thread_id is not None
        assert [m.id for m in (await agent.messages.thread(message.thread_id)).messages] == [
            message.id
        ]
        assert b"Subject: Lunch" in await person.messages.raw(message.id)
        assert (await person.messages.analysis(message.id)).id == message.id
        with pytest.raises(PermissionDeniedError) as scope:
            await agent.messages.raw(message.id)
        assert scope.value.code == "missing_scope"
        senders = await person.inboxes.senders("agent")
        assert "ann@example.net" in {s.sender for s in senders.items}

        # A poisoned mail is withheld: the agent sees a stub, a person releases it.
        await asyncio.to_thread(mail, stack.smtp_port, "mallory@example.net", INJECTION)

        async def withheld() -> list[WithheldOut]:
            page = await agent.messages.list("agent", status="withheld")
            return [m for m in page.items if isinstance(m, WithheldOut)]

        [stub] = await eventually(withheld, what="the poisoned mail withheld")
        assert stub.from_address == "mallory@example.net"
        released = await person.messages.release(stub.id)
        assert released.status == "delivered"

        # Sending: refused off the allowlist; at L4 held for a person, who edits and approves
        # one (it reaches the relay edited) and rejects another (the agent reads the reason).
        refused = await agent.send("agent", to=["eve@example.com"], subject="Hi", text="Hello")
        refused = await _settled(agent, refused, "rejected")
        assert refused.error is not None
        assert refused.error["code"] == "policy_violation"
        assert refused.credits_consumed == 0
        entry = await person.allowlist.add("bob@example.com")
        assert [e.address async for e in person.allowlist.iterate()] == ["bob@example.com"]
        await end_cooldowns(settings, "bob@example.com")
        figures: dict[str, Any] = {
            "to": ["bob@example.com"],
            "subject": "Figures",
            "text": "Sales rose by 10 percent.",
            "reasoning": "Ann asked for the figures.",
            "context_message_ids": [message.id],
            "idempotency_key": "figures-1",
        }
        draft = await agent.outbound.send("agent", **figures)
        again = await agent.send("agent", **figures)
        assert again.id == draft.id  # the same key: the first answer again, not a second send
        discount = await agent.send("agent", to=["bob@example.com"], subject="Deal", text="-50%")
        await _settled(agent, draft, "pending_approval")
        await _settled(agent, discount, "pending_approval")
        held = [a async for a in person.approvals.iterate(inbox="agent", limit=1)]
        assert {a.outbound_id for a in held} == {draft.id, discount.id}
        review = await person.approvals.get(_approval(held, draft))
        assert review.reasoning == "Ann asked for the figures."
        assert review.context_message_ids == [str(message.id)]
        with pytest.raises(PermissionDeniedError):  # an agent's key never approves
            await agent.approvals.approve(review.id)
        await person.approvals.approve(review.id, text="Sales rose by 12 percent.")
        await _settled(agent, draft, "sent")
        await person.approvals.reject(_approval(held, discount), reason="No discounts by mail")
        rejected = await _settled(agent, discount, "rejected")
        assert rejected.error is not None
        assert rejected.error["message"] == "No discounts by mail"
        [relayed] = smtp_sink.envelopes
        assert b"Sales rose by 12 percent." in (relayed.original_content or b"")

        # The kill switch, credits, standing, keys, webhook endpoints, the audit log.
        await person.workspace.update(outbound_enabled=False)
        off = await _settled(
            agent,
            await agent.send("agent", to=["bob@example.com"], subject="x", text="y"),
            "rejected",
        )
        assert off.error is not None
        assert off.error["code"] == "capability_disabled"
        assert (await person.workspace.update(outbound_enabled=True)).outbound_enabled
        credits = await person.workspace.credits()
        charged = [(c.reason, c.ref_id) for c in credits.items]
        assert ("outbound_sent", draft.id) in charged  # the send that left, and only it
        assert [reason for reason, _ in charged].count("outbound_sent") == 1
        with pytest.raises(ConflictError) as standing:
            await person.inboxes.reinstate("agent", reason="never suspended")
        assert standing.value.code == "not_suspended"
        with pytest.raises(ConflictError):
            await person.workspace.reinstate()
        key = await person.keys.create("dashboard", ["read:mail"])
        assert key.id in {k.id async for k in person.keys.iterate()}
        async with AsyncMailmoat(base, key.token) as dashboard:
            assert (await dashboard.inboxes.get("agent")).slug == "agent"
            await person.keys.revoke(key.id)
            with pytest.raises(AuthenticationError) as revoked:
                await dashboard.inboxes.get("agent")
        assert revoked.value.code == "unauthenticated"
        endpoint = await person.webhooks.create(
            webhooks.url_for("/audit"), kind="audit", events=["outbound.*"]
        )
        assert endpoint.secret.startswith("whsec_")
        assert [w.id for w in (await person.webhooks.list()).items] == [endpoint.id]
        await person.webhooks.delete(endpoint.id)
        assert (await person.webhooks.list()).items == []
        await person.allowlist.remove(entry.id)
        actions = {a.action async for a in person.audit.iterate(limit=20)}
        assert {
            "message.released",
            "outbound.edited_and_approved",
            "outbound.rejected_by_reviewer",
        } <= actions
        assert (await person.inboxes.rotate_webhook_secret("agent")).secret != secret

    # The inbox's webhook deliveries: verified with its secret, a tampered one refused.
    async def received() -> list[MessageEvent]:
        events = [verify_and_parse(secret, d.body, d.headers) for d in webhooks.at("/hook")]
        return [e for e in events if isinstance(e, MessageEvent)]

    events = await eventually(received, what="the message webhooks")
    assert message.id in {e.data.message_id for e in events if e.type == "message.received"}
    delivery = webhooks.at("/hook")[0]
    with pytest.raises(WebhookVerificationError):
        verify_and_parse(secret, delivery.body.replace(b"}", b',"x":1}', 1), delivery.headers)


async def _settled(client: AsyncMailmoat, send: OutboundOut, status: str) -> OutboundOut:
    """The send once it reaches ``status``; a different final decision fails with its error."""

    async def reached() -> OutboundOut | None:
        now = await client.outbound.get(send.id)
        assert now.status in (status, "queued", "requested", "pending_approval"), now
        return now if now.status == status else None

    return await eventually(reached, what=f"send {send.id} {status}")


def _approval(held: list[ApprovalSummary], send: OutboundOut) -> UUID:
    return next(a.id for a in held if a.outbound_id == send.id)
