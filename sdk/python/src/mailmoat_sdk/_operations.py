"""Every operation of the API once, as a function from its arguments to a ``Call``; the clients
run them (``client.py``). Bodies are validated against the generated request models before
anything is sent, so a misspelt field fails here, not as a 422."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any, Literal

from mailmoat_sdk import models as m
from mailmoat_sdk._core import Call, content, model, nothing

Id = uuid.UUID | str
Level = Literal["L1", "L2", "L3", "L4"]
Status = Literal["delivered", "review", "withheld"]
Message = m.MessageOut | m.WithheldOut


def _page(cursor: str | None, limit: int | None, **more: Any) -> dict[str, Any]:
    return {"cursor": cursor, "limit": limit, **more}


# The workspace


def get_workspace() -> Call[m.WorkspaceOut]:
    """The workspace the key belongs to: plan, outbound switch, caps."""
    return Call("GET", "/workspace", model(m.WorkspaceOut))


def update_workspace(**fields: Any) -> Call[m.WorkspaceOut]:
    """Change the workspace (``outbound_enabled``: the kill switch)."""
    body = m.WorkspacePatch.model_validate(fields)
    return Call("PATCH", "/workspace", model(m.WorkspaceOut), body=body)


def list_credits(*, cursor: str | None = None, limit: int | None = None) -> Call[m.CreditPage]:
    """This month's credit balance and its ledger, newest first."""
    return Call("GET", "/workspace/credits", model(m.CreditPage), params=_page(cursor, limit))


def reinstate_workspace(reason: str = "") -> Call[m.StandingOut]:
    """Let a suspended workspace send again (a person's decision, audited)."""
    body = m.ReinstateRequest(reason=reason)
    return Call("POST", "/workspace/reinstate", model(m.StandingOut), body=body)


# Keys


def create_key(
    name: str, scopes: builtins.list[str], *, idempotency_key: str | None = None, **fields: Any
) -> Call[m.KeyCreated]:
    """A new key; its ``token`` is shown only in this answer."""
    body = m.KeyCreate.model_validate({"name": name, "scopes": scopes, **fields})
    return Call("POST", "/keys", model(m.KeyCreated), body=body, creates=True,
                idempotency_key=idempotency_key)  # fmt: skip


def list_keys(*, cursor: str | None = None, limit: int | None = None) -> Call[m.KeyPage]:
    return Call("GET", "/keys", model(m.KeyPage), params=_page(cursor, limit))


def revoke_key(key_id: Id) -> Call[None]:
    return Call("DELETE", f"/keys/{key_id}", nothing)


# Inboxes


def create_inbox(
    slug: str, *, idempotency_key: str | None = None, **settings: Any
) -> Call[m.InboxOut]:
    """A new inbox ``<slug>@<mail domain>``; ``settings`` are ``InboxCreate``'s fields
    (``security_level``, ``webhook_url``, limits and lists)."""
    body = m.InboxCreate.model_validate({"slug": slug, **settings})
    return Call("POST", "/inboxes", model(m.InboxOut), body=body, creates=True,
                idempotency_key=idempotency_key)  # fmt: skip


def list_inboxes(*, cursor: str | None = None, limit: int | None = None) -> Call[m.InboxPage]:
    return Call("GET", "/inboxes", model(m.InboxPage), params=_page(cursor, limit))


def get_inbox(slug: str) -> Call[m.InboxOut]:
    return Call("GET", f"/inboxes/{slug}", model(m.InboxOut))


def update_inbox(slug: str, **settings: Any) -> Call[m.InboxOut]:
    """Change an inbox; ``settings`` are ``InboxPatch``'s fields (None lifts a restriction)."""
    body = m.InboxPatch.model_validate(settings)
    return Call("PATCH", f"/inboxes/{slug}", model(m.InboxOut), body=body)


def delete_inbox(slug: str) -> Call[None]:
    return Call("DELETE", f"/inboxes/{slug}", nothing)


def reinstate_inbox(slug: str, reason: str = "") -> Call[m.StandingOut]:
    """Let a suspended inbox send again (a person's decision, audited)."""
    body = m.ReinstateRequest(reason=reason)
    return Call("POST", f"/inboxes/{slug}/reinstate", model(m.StandingOut), body=body)


def list_senders(
    slug: str,
    *,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[m.SenderPage]:
    """The inbox's external senders (addresses or whole domains) and what is known of them."""
    params = _page(cursor, limit, kind=kind)
    return Call("GET", f"/inboxes/{slug}/senders", model(m.SenderPage), params=params)


def reveal_webhook_secret(slug: str) -> Call[m.WebhookSecretOut]:
    """The inbox's webhook signing secret, once (a second read is 409 ``secret_already_shown``)."""
    return Call("GET", f"/inboxes/{slug}/webhook-secret", model(m.WebhookSecretOut))


def rotate_webhook_secret(slug: str) -> Call[m.WebhookSecretOut]:
    """A new signing secret for the inbox, shown once; the old one stops signing."""
    return Call("POST", f"/inboxes/{slug}/webhook-secret", model(m.WebhookSecretOut))


# Messages and threads


def list_messages(
    slug: str,
    *,
    status: Status | None = None,
    since: datetime | None = None,
    sender: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[m.MessagePage]:
    """An inbox's mail, newest first; a withheld one is a ``WithheldOut`` (no subject or text)."""
    params = _page(cursor, limit, status=status, since=since and since.isoformat())
    params["from"] = sender
    return Call("GET", f"/inboxes/{slug}/messages", model(m.MessagePage), params=params)


def get_message(
    message_id: Id, *, view: Literal["plain", "spotlighted"] = "plain"
) -> Call[Message]:
    """One message as the agent may read it; ``spotlighted`` adds the datamarked body."""
    params = {"view": view if view != "plain" else None}
    return Call("GET", f"/messages/{message_id}", model(Message), params=params)


def get_raw_message(message_id: Id) -> Call[bytes]:
    """The original RFC 5322 bytes (a person's scope ``read:mail.raw``; audited)."""
    return Call("GET", f"/messages/{message_id}/raw", content)


def get_analysis(message_id: Id) -> Call[m.AnalysisOut]:
    """What the pipeline found in a message (a person's view; audited)."""
    return Call("GET", f"/messages/{message_id}/analysis", model(m.AnalysisOut))


def release_message(message_id: Id) -> Call[m.MessageOut]:
    """Release a withheld or review message to the agent (a person's decision, audited)."""
    return Call("POST", f"/messages/{message_id}/release", model(m.MessageOut))


def get_thread(thread_id: Id) -> Call[m.ThreadOut]:
    return Call("GET", f"/threads/{thread_id}", model(m.ThreadOut))


# Sending and approvals


def send(
    slug: str,
    *,
    to: builtins.list[str],
    subject: str,
    text: str,
    html: str | None = None,
    in_reply_to: Id | None = None,
    reasoning: str | None = None,
    context_message_ids: builtins.list[Id] | None = None,
    idempotency_key: str | None = None,
) -> Call[m.OutboundOut]:
    """Ask to send from an inbox. The answer's ``status`` is the gate's decision: ``queued``,
    ``pending_approval``, ``rejected`` (``error`` names the rule; nothing is charged), later
    ``sent`` or ``failed``. ``in_reply_to`` threads it under an inbound message; ``reasoning``
    and ``context_message_ids`` are shown to the person who reviews it."""
    fields: dict[str, Any] = {"to": to, "subject": subject, "text": text}
    if html is not None:
        fields["html"] = html
    if in_reply_to is not None:
        fields["in_reply_to"] = in_reply_to
    if reasoning is not None or context_message_ids is not None:
        fields["metadata"] = {"reasoning": reasoning, "context_message_ids": context_message_ids}
    body = m.SendRequest.model_validate(fields)
    return Call("POST", f"/inboxes/{slug}/send", model(m.OutboundOut), body=body, creates=True,
                idempotency_key=idempotency_key)  # fmt: skip


def get_outbound(outbound_id: Id) -> Call[m.OutboundOut]:
    """Where a send stands now."""
    return Call("GET", f"/outbound/{outbound_id}", model(m.OutboundOut))


def list_approvals(
    *, inbox: str | None = None, cursor: str | None = None, limit: int | None = None
) -> Call[m.ApprovalPage]:
    """Sends held for a person, oldest first."""
    params = _page(cursor, limit, inbox=inbox)
    return Call("GET", "/approvals", model(m.ApprovalPage), params=params)


def get_approval(approval_id: Id) -> Call[m.ApprovalOut]:
    """A held send in full: the draft, the risk and its reasons, the checks, the reasoning."""
    return Call("GET", f"/approvals/{approval_id}", model(m.ApprovalOut))


def approve(approval_id: Id, **edits: Any) -> Call[m.OutboundOut]:
    """Approve a held send, optionally edited (``ApproveRequest``'s fields: subject, text...).
    A person's key only: an agent's key is refused."""
    body = m.ApproveRequest.model_validate(edits)
    return Call("POST", f"/approvals/{approval_id}/approve", model(m.OutboundOut), body=body)


def reject(approval_id: Id, reason: str) -> Call[m.OutboundOut]:
    """Refuse a held send; the agent is told ``reason``."""
    body = m.RejectRequest(reason=reason)
    return Call("POST", f"/approvals/{approval_id}/reject", model(m.OutboundOut), body=body)


# The allowlist, webhooks, the audit log


def list_allowlist(*, cursor: str | None = None, limit: int | None = None) -> Call[m.AllowlistPage]:
    return Call("GET", "/allowlist", model(m.AllowlistPage), params=_page(cursor, limit))


def allow(
    address: str, *, allow_html: bool = False, idempotency_key: str | None = None
) -> Call[m.AllowlistOut]:
    """Allow mail to ``address``; it may be mailed from ``active_from`` (60 s later)."""
    body = m.AllowlistCreate.model_validate({"address": address, "allow_html": allow_html})
    return Call("POST", "/allowlist", model(m.AllowlistOut), body=body, creates=True,
                idempotency_key=idempotency_key)  # fmt: skip


def disallow(entry_id: Id) -> Call[None]:
    return Call("DELETE", f"/allowlist/{entry_id}", nothing)


def create_webhook(
    url: str, *, idempotency_key: str | None = None, **fields: Any
) -> Call[m.WebhookCreated]:
    """A webhook endpoint (``WebhookCreate``'s fields: kind, events, format); its ``secret`` is
    shown only in this answer."""
    body = m.WebhookCreate.model_validate({"url": url, **fields})
    return Call("POST", "/webhooks", model(m.WebhookCreated), body=body, creates=True,
                idempotency_key=idempotency_key)  # fmt: skip


def list_webhooks(*, cursor: str | None = None, limit: int | None = None) -> Call[m.WebhookPage]:
    return Call("GET", "/webhooks", model(m.WebhookPage), params=_page(cursor, limit))


def delete_webhook(webhook_id: Id) -> Call[None]:
    return Call("DELETE", f"/webhooks/{webhook_id}", nothing)


def list_audit(
    *,
    action: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[m.AuditPage]:
    """The audit log, newest first."""
    params = _page(cursor, limit, action=action, since=since and since.isoformat())
    return Call("GET", "/audit", model(m.AuditPage), params=params)


def verify_audit(*, expect: tuple[int, str] | None = None) -> Call[m.ChainCheck]:
    """Check the workspace's audit chain from its first row. ``expect``: a checkpoint's (seq,
    sha256) kept outside the gateway (from the audit stream), which alone shows rows cut from
    the chain's end."""
    params = {} if expect is None else {"expect_seq": expect[0], "expect_sha256": expect[1]}
    return Call("GET", "/audit/verify", model(m.ChainCheck), params=params)
