"""Dispatch settings: the smarthost outbound mail is relayed through, and webhook limits."""

from __future__ import annotations

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class DispatchSettings(CommonSettings):
    """Relay and webhook settings (``MAILMOAT_RELAY_*``, ``MAILMOAT_WEBHOOK_*``)."""

    relay_host: str = Field(default="127.0.0.1", description="Smarthost for outbound mail.")
    relay_port: int = Field(default=2526)
    relay_starttls: bool = Field(
        default=True, description="Require STARTTLS; turn off only for a local relay."
    )
    relay_timeout_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
