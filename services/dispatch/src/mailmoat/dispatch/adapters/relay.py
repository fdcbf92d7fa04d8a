"""SMTP relay client: hands one outbound message to the smarthost and reports its reply.

One connection is kept open and reused (EHLO and STARTTLS once, not per message); before reuse a
NOOP proves it is alive, and a dead one is replaced before anything is sent. Once a transaction
has started, a failure is final: nothing is retried silently.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiosmtplib

from mailmoat.dispatch.settings import DispatchSettings

IDLE_SECONDS = 30.0  # a connection idle longer is closed rather than trusted


@dataclass(frozen=True)
class RelayResult:
    """What the relay said: accepted or not, and its reply text."""

    accepted: bool
    reply: str


class SmtpRelay:
    """Sends through the configured smarthost; STARTTLS unless explicitly turned off."""

    def __init__(self, settings: DispatchSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0
        self._lock = asyncio.Lock()
        self.connections_opened = 0

    async def send(
        self, message: bytes, envelope_sender: str, recipients: list[str]
    ) -> RelayResult:
        """One attempt, no retries: a failure is final and reported. ``envelope_sender`` is the
        MAIL FROM, where bounces go: the send's bounce address, not the header From."""
        async with self._lock:
            try:
                client = await self._ready()
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._drop()
                return RelayResult(accepted=False, reply=f"{type(exc).__name__}: {exc}")
            try:
                errors, reply = await client.sendmail(envelope_sender, recipients, message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._drop()
                return RelayResult(accepted=False, reply=f"{type(exc).__name__}: {exc}")
            finally:
                self._last_used = time.monotonic()
        if errors:
            refused = "; ".join(f"{rcpt}: {code} {text}" for rcpt, (code, text) in errors.items())
            return RelayResult(accepted=False, reply=f"recipients refused: {refused}")
        return RelayResult(accepted=True, reply=reply)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    async def _ready(self) -> aiosmtplib.SMTP:
        client = self._client
        fresh = time.monotonic() - self._last_used < IDLE_SECONDS
        if client is not None and client.is_connected and fresh:
            try:
                await client.noop()
                return client
            except (aiosmtplib.SMTPException, OSError):
                await self._drop()
        elif client is not None:
            await self._drop()
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.relay_host,
            port=settings.relay_port,
            start_tls=settings.relay_starttls,
            timeout=settings.relay_timeout_seconds,
        )
        await client.connect()
        self._client = client
        self.connections_opened += 1
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
