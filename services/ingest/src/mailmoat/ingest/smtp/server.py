"""aiosmtpd's server with the limits a public MX needs: connections, time, lines, replies."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from mailmoat.common.observability.metrics import SMTP_REFUSALS, SMTP_SESSIONS
from mailmoat.ingest.smtp import replies
from mailmoat.ingest.smtp.limits import ConnectionLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection limits, from the ingest settings."""

    max_message_bytes: int
    max_line_bytes: int
    max_transactions: int
    max_recipients: int
    command_timeout: float
    data_timeout: float
    session_timeout: float


class HardenedSMTP(SMTP):
    """One SMTP session, refused early when its address already has too many open."""

    def __init__(
        self,
        handler: Any,
        *,
        limits: ServerLimits,
        limiter: ConnectionLimiter,
        hostname: str,
        tls_context: ssl.SSLContext | None,
        require_tls: bool,
        authenticator: Any | None,
    ) -> None:
        # aiosmtpd sizes its stream reader from this attribute inside __init__.
        self.line_length_limit = limits.max_line_bytes
        super().__init__(
            handler,
            hostname=hostname,
            ident="ESMTP",  # the banner names the host, not the software and its version
            data_size_limit=limits.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=tls_context,
            require_starttls=require_tls,
            authenticator=authenticator,
            auth_required=False,
            auth_require_tls=True,
            timeout=limits.command_timeout,
            command_call_limit={
                "MAIL": limits.max_transactions,
                "RCPT": limits.max_transactions * limits.max_recipients,
                # RSET, NOOP and the rest: plenty for honest sessions, a bound for floods.
                "*": 4 * limits.max_transactions,
            },
        )
        self._limits = limits
        self._limiter = limiter
        self._peer_ip: str | None = None
        self._refused = False
        self._session_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._peer_ip is None and not self._refused:
            SMTP_SESSIONS.inc()
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else "unknown"
            if not self._limiter.acquire(ip):
                self._refuse(transport, ip)
                return
            self._peer_ip = ip
            self._session_timer = asyncio.get_running_loop().call_later(
                self._limits.session_timeout, self._timeout_cb
            )
        super().connection_made(transport)

    def _refuse(self, transport: asyncio.BaseTransport, ip: str) -> None:
        log.warning("refusing connection from %s: connection limit", ip)
        self._refused = True
        write = getattr(transport, "write", None)
        if write is not None:
            write(f"{replies.TOO_MANY_CONNECTIONS}\r\n".encode())
        _count_refusal(replies.TOO_MANY_CONNECTIONS)
        transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._session_timer is not None:
            self._session_timer.cancel()
        if self._peer_ip is not None:
            self._limiter.release(self._peer_ip)
            self._peer_ip = None
        super().connection_lost(error)

    def _timeout_cb(self) -> None:
        transport = self.transport
        if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
            transport.write(f"{replies.TIMEOUT}\r\n".encode())
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def smtp_DATA(self, arg: str) -> None:
        # The command timer bounds idle time; the whole transfer gets its own, longer bound.
        self._reset_timeout(self._limits.data_timeout)
        await super().smtp_DATA(arg)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            _count_refusal(status)
            await super().push(replies.with_enhanced_code(status))
            return
        await super().push(status)


def _count_refusal(reply: str) -> None:
    """``mailmoat_smtp_refusals_total`` by reply code, for a 4xx or 5xx reply."""
    code = reply[:3]
    if code.isdigit() and code[0] in "45":
        SMTP_REFUSALS.labels(code).inc()
