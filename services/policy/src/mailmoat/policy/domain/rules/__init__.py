"""Outbound rules, one module each, applied in the order of ``OUTBOUND_RULES``."""

from mailmoat.policy.domain.rules.allowlist import RecipientAllowlist
from mailmoat.policy.domain.rules.approval import ApprovedContent
from mailmoat.policy.domain.rules.canary import CanaryTokens
from mailmoat.policy.domain.rules.capability import SendingCapability
from mailmoat.policy.domain.rules.caps import SendCaps
from mailmoat.policy.domain.rules.cooldown import RecipientCooldown
from mailmoat.policy.domain.rules.leaks import DataLeaks
from mailmoat.policy.domain.rules.replies import ThreadRecipients
from mailmoat.policy.domain.rules.restrictions import InboxRestrictions
from mailmoat.policy.domain.rules.taint import TaintedContext

OUTBOUND_RULES = (
    SendingCapability(),
    CanaryTokens(),
    ApprovedContent(),
    RecipientAllowlist(),
    RecipientCooldown(),
    SendCaps(),
    InboxRestrictions(),
    ThreadRecipients(),
    TaintedContext(),
    DataLeaks(),
)

__all__ = [
    "OUTBOUND_RULES",
    "ApprovedContent",
    "CanaryTokens",
    "DataLeaks",
    "InboxRestrictions",
    "RecipientAllowlist",
    "RecipientCooldown",
    "SendCaps",
    "SendingCapability",
    "TaintedContext",
    "ThreadRecipients",
]
