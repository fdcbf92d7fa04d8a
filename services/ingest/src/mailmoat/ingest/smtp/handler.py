"""aiosmtpd handler: recipients checked at RCPT, mail analysed, then committed before the 250."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.mail.addr import is_plausible_address
from mailmoat.common.observability.metrics import SMTP_BYTES, SMTP_TRANSACTIONS
from mailmoat.common.observability.tracing import tracer, within
from mailmoat.ingest.adapters import store
from mailmoat.ingest.adapters.commits import GroupCommitter
from mailmoat.ingest.analysis import Analyser, Analysis
from mailmoat.ingest.domain.rawcheck import count_header_fields, has_bare_line_ending
from mailmoat.ingest.domain.senders import SenderVerdict, judge_sender
from mailmoat.ingest.feedback_intake import FeedbackIntake
from mailmoat.ingest.smtp import replies

log = logging.getLogger(__name__)

NULL_SENDERS = frozenset({"", "<>"})
"""The null reverse-path of bounces and reports (aiosmtpd hands ``MAIL FROM:<>`` on as '<>')."""


@dataclass(frozen=True)
class Acceptance:
    """What the handler accepts: our domains, the feedback address, recipient and header caps."""

    domains: tuple[str, ...]
    max_recipients: int
    max_header_count: int
    enforce_dmarc_reject: bool
    reject_bare_line_endings: bool


class AllRecipientsBlockedError(Exception):
    """Every recipient's inbox blocks this sender: refuse the message at DATA."""


class IngestHandler:
    """Accepts mail only for existing inboxes and answers 250 only once it is committed."""

    def __init__(
        self,
        commits: GroupCommitter,
        analyser: Analyser,
        acceptance: Acceptance,
        feedback: FeedbackIntake,
    ) -> None:
        self._commits = commits
        self._analyser = analyser
        self._accept = acceptance
        self._feedback = feedback

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address not in NULL_SENDERS and not is_plausible_address(address):
            SMTP_TRANSACTIONS.labels("rejected").inc()
            return replies.BAD_SENDER
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return replies.SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = await self._check_recipient(envelope, address.strip())
        if reply is None:
            envelope.rcpt_tos.append(address.strip())
            envelope.rcpt_options.extend(options)
            return replies.RECIPIENT_OK
        SMTP_TRANSACTIONS.labels("rejected").inc()
        return reply

    async def _check_recipient(self, envelope: Envelope, address: str) -> str | None:
        if len(envelope.rcpt_tos) >= self._accept.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        if address.rpartition("@")[2].lower() not in self._accept.domains:
            return replies.RELAY_DENIED
        if self._feedback.refuses(address):  # unproven feedback: the same answer as no inbox
            return replies.UNKNOWN_RECIPIENT
        if self._feedback.is_feedback_address(address):
            return None
        try:
            inbox, rules = await self._commits.read(lambda db: store.recipient(db, address))
        except SQLAlchemyError:
            log.exception("inbox lookup failed")
            return replies.TRY_LATER_LOOKUP
        if inbox is None:
            return replies.UNKNOWN_RECIPIENT
        if (
            judge_sender(rules, [envelope.mail_from or ""], aligned_domain=None)
            is SenderVerdict.BLOCKED
        ):
            return replies.SENDER_BLOCKED
        return None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with tracer().start_as_current_span("smtp DATA", kind=SpanKind.SERVER) as span:
            reply = await self._data(session, envelope)
            span.set_attribute("smtp.reply.code", reply[:3])
            return reply

    async def _data(self, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        refusal = self._refuse_raw(raw)
        if refusal is not None:
            SMTP_TRANSACTIONS.labels("rejected").inc()
            return refusal
        peer = session.peer
        smtp_envelope = store.Envelope(
            mail_from=envelope.mail_from or "",
            client_ip=str(peer[0]) if isinstance(peer, tuple) else "",
            helo=session.host_name or "",
        )
        analysis = await self._analyser.analyse(raw, smtp_envelope)
        dmarc = analysis.authentication.dmarc
        if self._accept.enforce_dmarc_reject and dmarc.disposition == "reject":
            SMTP_TRANSACTIONS.labels("rejected").inc()
            return replies.dmarc_reject(dmarc.from_domain)
        return await self._commit(smtp_envelope, analysis, list(envelope.rcpt_tos), len(raw))

    def _refuse_raw(self, raw: bytes) -> str | None:
        if self._accept.reject_bare_line_endings and has_bare_line_ending(raw):
            return replies.BARE_LINE_ENDING
        count = count_header_fields(raw, stop_after=self._accept.max_header_count + 1)
        if count > self._accept.max_header_count:
            return replies.too_many_headers(count, self._accept.max_header_count)
        return None

    async def _commit(
        self, envelope: store.Envelope, analysis: Analysis, rcpts: list[str], size: int
    ) -> str:
        try:
            mail_ids = await self._store(envelope, analysis, rcpts)
        except AllRecipientsBlockedError:
            SMTP_TRANSACTIONS.labels("rejected").inc()
            return replies.SENDER_BLOCKED
        except SQLAlchemyError:
            log.exception("storing the message failed")
            SMTP_TRANSACTIONS.labels("failed").inc()
            return replies.TRY_LATER_STORE
        SMTP_TRANSACTIONS.labels("accepted").inc()
        SMTP_BYTES.inc(size)
        return replies.queued(mail_ids)

    async def _store(
        self, envelope: store.Envelope, analysis: Analysis, rcpts: list[str]
    ) -> list[str]:
        # One unit of work for every recipient: either all are stored, or the client retries all.
        # The group commit runs it in its own task: under this transaction's trace context.
        here = otel_context.get_current()
        return await self._commits.run(
            lambda db: within(here, self._store_in(db, envelope, analysis, rcpts))
        )

    async def _store_in(
        self, db: AsyncSession, envelope: store.Envelope, analysis: Analysis, rcpts: list[str]
    ) -> list[str]:
        feedback_rcpts = [r for r in rcpts if self._feedback.is_feedback_address(r)]
        inbox_rcpts = [r for r in rcpts if r not in feedback_rcpts]
        ids: list[str] = []
        if feedback_rcpts:
            ids.append(str(await self._feedback.record(db, envelope, analysis, feedback_rcpts)))
        deliveries = await self._deliveries(db, envelope, analysis, inbox_rcpts)
        if not deliveries and not feedback_rcpts:
            raise AllRecipientsBlockedError
        for delivery in deliveries:
            ids.append(str(await store.store_message(db, envelope, analysis, delivery)))
        return ids

    async def _deliveries(
        self, db: AsyncSession, envelope: store.Envelope, analysis: Analysis, rcpts: list[str]
    ) -> list[store.Delivery]:
        deliveries: list[store.Delivery] = []
        blocked = 0
        for rcpt in rcpts:
            inbox, rules = await store.recipient(db, rcpt)
            if inbox is None:  # deleted between RCPT and DATA
                continue
            verdict = judge_sender(
                rules,
                [envelope.mail_from, *analysis.header_senders],
                aligned_domain=analysis.authentication.authenticated_domain,
            )
            blocked += verdict is SenderVerdict.BLOCKED
            deliveries.append(
                store.Delivery(
                    inbox=inbox,
                    rcpt_to=rcpt,
                    quarantine_reason=analysis.quarantine_reason(
                        blocked=verdict is SenderVerdict.BLOCKED
                    ),
                    trusted_sender=verdict is SenderVerdict.TRUSTED,
                )
            )
        if deliveries and blocked == len(deliveries):
            raise AllRecipientsBlockedError
        return deliveries
