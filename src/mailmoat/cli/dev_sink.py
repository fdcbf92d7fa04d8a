"""``mailmoat dev``'s relay: an SMTP sink where dispatch delivers, keeping each message on disk.

The embedded stack has no smarthost; without this, every approved send fails ``relay_failed``.
It accepts any envelope (no TLS, no AUTH: it listens on loopback only) and answers 250 only once
the message is on disk (``mailmoat.common.dev_outbox``); what it cannot keep gets a 4xx, what is
too big a 552 5.3.4. Run it on the supervisor's loop (``await start()``/``await stop()``) or on a
thread of its own (``start_in_thread()``/``stop_thread()``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from pathlib import Path
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mailmoat.common.dev_outbox import store_mail
from mailmoat.common.events.base import utcnow
from mailmoat.ingest.smtp.replies import with_enhanced_code

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024
BANNER_HOSTNAME = "mailmoat-dev-outbox"
TRY_LATER = "451 4.3.0 The dev outbox could not store the message; try again later"


def too_big(limit: int) -> str:
    return f"552 5.3.4 Message too big for the dev outbox: the limit is {limit} bytes"


class _Keeper:
    """aiosmtpd handler: every recipient is taken; the message is stored before the 250."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        sender, recipients = envelope.mail_from or "", list(envelope.rcpt_tos)
        try:
            mail = await asyncio.to_thread(
                store_mail, self.directory, raw, sender, recipients, now=utcnow()
            )
        except OSError:
            log.exception("dev outbox: could not store a message from %s", sender)
            return TRY_LATER
        log.info("dev outbox: stored %s for %s", mail.id, ", ".join(recipients))
        return f"250 2.0.0 Ok: stored in the dev outbox as {mail.id}"


class _SinkSMTP(SMTP):
    """aiosmtpd's session, its replies given enhanced codes and a plain size refusal."""

    def __init__(self, handler: _Keeper, *, max_message_bytes: int) -> None:
        super().__init__(
            handler,
            hostname=BANNER_HOSTNAME,
            ident="ESMTP",
            data_size_limit=max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
        )
        self._max_message_bytes = max_message_bytes

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            refused = status.startswith("552 ") and "5.3.4" not in status
            await super().push(
                too_big(self._max_message_bytes) if refused else with_enhanced_code(status)
            )
            return
        await super().push(status)


class _ThreadController(Controller):
    def __init__(self, outbox: DevOutbox) -> None:
        super().__init__(outbox.handler, hostname=outbox.host, port=outbox.port)
        self._outbox = outbox

    def factory(self) -> SMTP:
        return self._outbox.session()


class DevOutbox:
    """The sink on ``host:port`` storing into ``directory`` (created private if missing)."""

    def __init__(
        self,
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 2526,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.directory, self.host, self.port = directory, host, port
        self.max_message_bytes = max_message_bytes
        self.handler = _Keeper(directory)
        self._server: asyncio.Server | None = None
        self._controller: _ThreadController | None = None
        self._sessions: weakref.WeakSet[_SinkSMTP] = weakref.WeakSet()

    def session(self) -> SMTP:
        """One SMTP session's protocol object."""
        protocol = _SinkSMTP(self.handler, max_message_bytes=self.max_message_bytes)
        self._sessions.add(protocol)
        return protocol

    async def start(self) -> None:
        """Listen on the running loop; returns once the port is open."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.session, host=self.host, port=self.port)
        log.debug(
            "dev outbox: SMTP on %s:%d, mail kept in %s", self.host, self.port, self.directory
        )

    async def stop(self) -> None:
        """Stop listening and close open sessions (a message mid-DATA is not acknowledged)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for protocol in list(self._sessions):  # a relay keeps its connection open for reuse
            if protocol.transport is not None:
                protocol.transport.close()
        await server.wait_closed()

    def start_in_thread(self) -> None:
        """Listen on a thread and loop of its own, for a caller with no event loop."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._controller = _ThreadController(self)
        self._controller.start()

    def stop_thread(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    async def __aenter__(self) -> DevOutbox:
        await self.start()
        return self

    async def __aexit__(self, *_exc: Any) -> None:
        await self.stop()
