"""Ingest settings: where the SMTP server listens and what it accepts."""

from __future__ import annotations

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class IngestSettings(CommonSettings):
    """SMTP listener settings (``MAILMOAT_SMTP_*``)."""

    smtp_host: str = Field(default="127.0.0.1")
    smtp_port: int = Field(default=2525)
    smtp_hostname: str = Field(default="mx.mailmoat.localhost", description="Name in the banner.")
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
