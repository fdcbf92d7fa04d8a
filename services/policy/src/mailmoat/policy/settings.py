"""Policy settings: how often held sends are checked against their review window."""

from __future__ import annotations

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class PolicySettings(CommonSettings):
    """Outbound policy settings (``MAILMOAT_APPROVAL_*``)."""

    approval_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often sends held past their inbox's review window are auto-rejected.",
    )
