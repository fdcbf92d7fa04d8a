"""Policy settings: the sweep of held sends past their review window, and the backfill of
fingerprints for flagged mail stored before the copy check's index existed."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class PolicySettings(CommonSettings):
    """Outbound policy settings (``MAILMOAT_APPROVAL_*``, ``MAILMOAT_FINGERPRINT_*``) and the
    audit chain's sealer (``MAILMOAT_AUDIT_*``)."""

    policy_shadow_file: Path | None = Field(
        default=None,
        description=(
            "A candidate policy file (as for mailmoat replay --policy) judged beside the live "
            "policy on every send: its outcome is recorded in the decision's audit row and "
            "counted, and never decides."
        ),
    )
    approval_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often sends held past their inbox's review window are auto-rejected.",
    )
    approval_sweep_batch: int = Field(
        default=200,
        ge=1,
        description=(
            "Held sends auto-rejected per transaction, the most overdue first; a full batch is "
            "followed at once by the next."
        ),
    )
    fingerprint_backfill_batch: int = Field(
        default=20,
        ge=1,
        description=(
            "Flagged mails stored without a fingerprint (before the copy check's index) given "
            "one per sweep, newest first, until none is left."
        ),
    )
    audit_seal_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often committed audit rows are linked into their workspace's chain.",
    )
    audit_seal_batch: int = Field(
        default=1000, ge=1, description="Audit rows of one workspace sealed per round at most."
    )
    audit_checkpoint_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often, at most, a workspace's chain head is signed (when rows came).",
    )
