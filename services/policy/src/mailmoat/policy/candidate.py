"""A candidate policy: inbox settings and allowlist changes judged beside (never instead of)
today's, by ``mailmoat replay --policy`` on stored sends and by policy's live shadow
(``MAILMOAT_POLICY_SHADOW_FILE``) on every send.

The file (YAML or JSON) overrides inbox settings for every inbox (``"*"``) or by slug, and adds
or removes allowlist entries:

    inboxes:
      "*": {data_leak_action: reject}
      support: {security_level: L4, blocked_keywords: [refund], daily_send_limit: 50}
    allowlist:
      add: [{address: partner@example.org, allow_html: true}]
      remove: [old@example.com]
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from mailmoat.policy.domain.outbound import AllowedRecipient, OutboundDecision, OutboundFacts


class InboxOverride(BaseModel):
    """Inbox settings a candidate policy changes (those it leaves out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    security_level: Literal["L3", "L4"] | None = None
    allowed_recipient_domains: list[str] | None = None
    blocked_keywords: list[str] | None = None
    hourly_send_limit: int | None = Field(default=None, ge=1)
    daily_send_limit: int | None = Field(default=None, ge=1)
    data_leak_action: Literal["hold", "reject"] | None = None
    data_leak_exempt: list[str] | None = None


class AllowlistAddition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: EmailStr
    allow_html: bool = False


class AllowlistChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[AllowlistAddition] = Field(default_factory=list)
    remove: list[EmailStr] = Field(default_factory=list)


class CandidatePolicy(BaseModel):
    """A candidate policy file."""

    model_config = ConfigDict(extra="forbid")

    inboxes: dict[str, InboxOverride] = Field(default_factory=dict)
    allowlist: AllowlistChange = Field(default_factory=AllowlistChange)

    @classmethod
    def load(cls, path: Path) -> CandidatePolicy:
        return cls.model_validate(yaml.safe_load(path.read_text()) or {})

    def apply(self, facts: OutboundFacts, slug: str) -> OutboundFacts:
        """``facts`` as the candidate would have seen them."""
        changes: dict[str, Any] = {}
        for override in (self.inboxes.get("*"), self.inboxes.get(slug)):
            if override is not None:
                changes.update(override.model_dump(exclude_unset=True))
        facts = _with_settings(facts, changes)
        removed = {address.lower() for address in self.allowlist.remove}
        kept = [entry for entry in facts.allowlist if entry.address.lower() not in removed]
        added = [
            AllowedRecipient(str(a.address).lower(), facts.now, a.allow_html)
            for a in self.allowlist.add
        ]
        return replace(facts, allowlist=tuple(kept + added))


def _with_settings(facts: OutboundFacts, changes: dict[str, Any]) -> OutboundFacts:
    fields: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "hourly_send_limit":
            fields["inbox_hourly_limit"] = value
        elif name == "daily_send_limit":
            fields["inbox_daily_limit"] = value
        elif name == "allowed_recipient_domains":
            fields["allowed_domains"] = None if value is None else tuple(value)
        elif name in ("blocked_keywords", "data_leak_exempt"):
            fields[name] = tuple(value or ())
        else:
            fields[name] = value
    return replace(facts, **fields)


def outcome(decision: OutboundDecision) -> str:
    """``refused:<code>``, ``held:<first reason>`` or ``approved``."""
    if decision.violation is not None:
        return f"refused:{decision.violation.code}"
    if decision.needs_approval:
        return f"held:{decision.held_reasons[0].partition(':')[0]}"
    return "approved"
