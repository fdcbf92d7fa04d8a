"""Outbound rules, one module each, applied in the order of ``OUTBOUND_RULES``."""

from mailmoat.policy.domain.rules.allowlist import RecipientAllowlist
from mailmoat.policy.domain.rules.capability import SendingCapability

OUTBOUND_RULES = (SendingCapability(), RecipientAllowlist())

__all__ = ["OUTBOUND_RULES", "RecipientAllowlist", "SendingCapability"]
