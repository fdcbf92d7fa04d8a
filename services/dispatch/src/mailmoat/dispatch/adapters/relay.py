"""SMTP relay client: hands one outbound message to the smarthost and reports its reply."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from mailmoat.dispatch.settings import DispatchSettings


@dataclass(frozen=True)
class RelayResult:
    """What the relay said: accepted or not, and its reply text."""

    accepted: bool
    reply: str


class SmtpRelay:
    """Sends through the configured smarthost; STARTTLS unless explicitly turned off."""

    def __init__(self, settings: DispatchSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage, recipients: list[str]) -> RelayResult:
        """One attempt, no retries: a failure is final and reported."""
        try:
            errors, reply = await aiosmtplib.send(
                message,
                recipients=recipients,
                hostname=self._settings.relay_host,
                port=self._settings.relay_port,
                start_tls=self._settings.relay_starttls,
                timeout=self._settings.relay_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return RelayResult(accepted=False, reply=f"{type(exc).__name__}: {exc}")
        if errors:
            refused = "; ".join(f"{rcpt}: {code} {text}" for rcpt, (code, text) in errors.items())
            return RelayResult(accepted=False, reply=f"recipients refused: {refused}")
        return RelayResult(accepted=True, reply=reply)
