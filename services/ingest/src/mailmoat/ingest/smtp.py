"""aiosmtpd handler: recipients checked at RCPT, mail committed before the 250 at end of DATA."""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from mailmoat.common.db.session import SessionFactory
from mailmoat.common.observability.metrics import SMTP_BYTES, SMTP_TRANSACTIONS
from mailmoat.ingest.adapters.store import find_inbox, store_message

log = logging.getLogger(__name__)

UNKNOWN_RECIPIENT = "550 5.1.1 Recipient address rejected: no such inbox"
TRY_LATER = "451 4.3.0 Temporary failure storing the message; try again later"


class IngestHandler:
    """Accepts mail only for existing inboxes and answers 250 only once it is committed."""

    def __init__(self, sessions: SessionFactory, on_committed: Any) -> None:
        self._sessions = sessions
        self._on_committed = on_committed

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        try:
            async with self._sessions() as db, db.begin():
                inbox = await find_inbox(db, address)
        except SQLAlchemyError:
            log.exception("inbox lookup failed")
            return "451 4.3.0 Temporary failure looking up the recipient; try again later"
        if inbox is None:
            SMTP_TRANSACTIONS.labels("rejected").inc()
            return UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            mail_ids = await self._store(envelope, raw)
        except SQLAlchemyError:
            log.exception("storing the message failed")
            SMTP_TRANSACTIONS.labels("failed").inc()
            return TRY_LATER
        self._on_committed()
        SMTP_TRANSACTIONS.labels("accepted").inc()
        SMTP_BYTES.inc(len(raw))
        return f"250 2.0.0 Ok: queued as {' '.join(str(i) for i in mail_ids)}"

    async def _store(self, envelope: Envelope, raw: bytes) -> list[Any]:
        mail_from = envelope.mail_from or ""
        # One transaction for every recipient: either all are stored, or the client retries all.
        async with self._sessions() as db, db.begin():
            mail_ids = []
            for rcpt in envelope.rcpt_tos:
                inbox = await find_inbox(db, rcpt)
                if inbox is None:  # deleted between RCPT and DATA
                    continue
                mail_ids.append(
                    await store_message(db, inbox, mail_from=mail_from, rcpt_to=rcpt, raw=raw)
                )
            return mail_ids
