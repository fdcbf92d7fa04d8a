"""Inbound journey: a scanned mail stored for the agent (sanitised by what the detectors
located, withheld when they say so), threaded, fingerprinted for the outbound copy checks (and
indexed when flagged), marked with the inbox's canary if it has one, and announced to the inbox's
listeners."""

from __future__ import annotations

import uuid
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.canary import marked
from mailmoat.common.db.tables import Message, RawMessage
from mailmoat.common.events import Consensus, Finding, InboxEventKind, MailScanned, SenderSignal
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.mailtext import html_to_text, read_mail_text
from mailmoat.common.observability.committed import observe_stage_on_commit
from mailmoat.common.outbox import stage_inbox_event
from mailmoat.policy.adapters.copies import keep_fingerprint
from mailmoat.policy.adapters.flagged import FLAGGED, index_flagged
from mailmoat.policy.adapters.repository import PolicyRepository
from mailmoat.policy.domain.fingerprint import fingerprint
from mailmoat.policy.domain.inbound import agent_fields, located, withheld_reason

PRODUCER = "policy"


async def on_mail_scanned(event: MailScanned, session: AsyncSession) -> None:
    """Store the message with its status and tell the inbox's listeners."""
    repo = PolicyRepository(session, event.workspace_id)
    raw = await repo.raw(event.raw_ref)
    verdicts = await repo.verdicts(event.verdict_ids)
    findings = (Finding.model_validate(f) for v in verdicts for f in v.findings)
    shown = agent_fields(*_agent_view(raw), located(findings))
    dropped = any(v.findings_dropped for v in verdicts)
    quarantined = raw.quarantine_reason is not None
    header_id, thread_id = await _thread(repo, raw, event.inbox_id)
    withheld = event.withheld or quarantined or dropped
    inbox = await repo.inbox(event.inbox_id)
    text = marked(shown.text, inbox.canary_token) if inbox.canary_token else shown.text
    message = Message(
        # The id ingest gave the mail (its SMTP "queued as" id, and what its credit charges
        # name): one id for the mail from SMTP reply to API, ledger and audit log.
        id=event.mail_id,
        workspace_id=event.workspace_id,
        inbox_id=event.inbox_id,
        mail_id=event.mail_id,
        raw_id=raw.id,
        from_address=shown.from_address,
        subject=shown.subject,
        text=text,
        status="withheld" if withheld else _inbound_status(event),
        consensus=event.consensus.value,
        risk_score=event.risk_score,
        received_at=raw.received_at,
        withheld_reason=withheld_reason(
            raw.quarantine_reason,
            event.withheld_reason or "detectors",
            withheld=event.withheld,
            dropped=dropped,
        ),
        message_id_header=header_id,
        thread_id=thread_id,
        risk_reasons=[_reason(signal, shown.from_address) for signal in event.sender_signals],
    )
    session.add(message)
    await session.flush()
    found = fingerprint(message.text)  # what the copy checks compare drafts with
    keep_fingerprint(session, message, found)
    if message.status in FLAGGED:
        index_flagged(session, message, found)
    kind = InboxEventKind.MESSAGE_WITHHELD if withheld else InboxEventKind.MESSAGE_RECEIVED
    stage_inbox_event(session, kind, message, producer=PRODUCER)
    observe_stage_on_commit(session, "smtp_to_stored", raw.received_at)


async def _thread(
    repo: PolicyRepository, raw: RawMessage, inbox_id: uuid.UUID
) -> tuple[str | None, uuid.UUID]:
    """The mail's Message-ID and thread: that of the newest earlier message of the same inbox
    it replies to or references, else a new thread."""
    if raw.structured is None:
        return None, uuid.uuid4()
    parsed = StructuredMessage.model_validate(raw.structured)
    refs = [r for r in (parsed.in_reply_to, *parsed.references) if r and _storable(r)]
    found = await repo.thread_of(inbox_id, refs)
    return _header(parsed.message_id), found if found is not None else uuid.uuid4()


def _storable(msg_id: str) -> bool:
    return len(msg_id) <= 998 and msg_id.isascii()


def _header(msg_id: str | None) -> str | None:
    return msg_id if msg_id and _storable(msg_id) else None


def _agent_view(raw: RawMessage) -> tuple[str, str, str, str]:
    """Sender address, sender text (as the detectors read it), subject and visible text: from
    ingest's parse, or from the raw text when ingest could not analyse the mail."""
    parsed = None if raw.structured is None else StructuredMessage.model_validate(raw.structured)
    if parsed is not None and not parsed.stands_in:
        sender = parsed.from_[0].address if parsed.from_ else ""
        return sender, parsed.sender_text(), parsed.subject, parsed.visible_text
    text = read_mail_text(raw.raw)
    body = text.text or html_to_text(text.html)
    return parseaddr(text.from_address)[1], text.from_address, text.subject, body


def _reason(signal: SenderSignal, shown_address: str) -> str:
    # A signal's detail names the sender: once its address is kept from the agent, so is that.
    return f"{signal.code}: {signal.detail}" if shown_address else signal.code


def _inbound_status(event: MailScanned) -> str:
    return "review" if event.consensus is Consensus.REVIEW else "delivered"
