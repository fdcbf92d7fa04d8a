"""The outbound chokepoint's pure core: facts in, a structured decision out, rules in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mailmoat.policy.domain.fingerprint import NO_TEXT, Fingerprint
from mailmoat.policy.domain.risk import RiskReason, assess_risk, held_leaks


@dataclass(frozen=True)
class AllowedRecipient:
    """An allowlist row as the rules see it."""

    address: str
    active_from: datetime
    allow_html: bool = False


@dataclass(frozen=True)
class OutboundFacts:
    """Everything the rules need to judge one send, gathered before evaluation."""

    recipients: tuple[str, ...]
    outbound_enabled: bool
    sending_status: str
    allowlist: tuple[AllowedRecipient, ...]
    now: datetime
    inbox_active: bool = True
    standing_refusal: str | None = None
    """Why reputation forbids the sender now (suspended, or throttled after a burst)."""
    workspace_sent_24h: int = 0
    recipient_sent_24h: Mapping[str, int] = field(default_factory=dict)
    inbox_sent_1h: int = 0
    inbox_sent_24h: int = 0
    inbox_hourly_limit: int | None = None
    inbox_daily_limit: int | None = None
    allowed_domains: tuple[str, ...] | None = None
    """Recipient domains the inbox may mail (None: any allowlisted address)."""
    blocked_keywords: tuple[str, ...] = ()
    """Terms the inbox's mail may not contain."""
    reply_participants: frozenset[str] | None = None
    """Addresses of the thread a reply answers (None: not a reply)."""
    subject: str = ""
    text: str = ""
    html: str | None = None
    """The HTML as requested (what the risk signals and the inbox's restrictions read)."""
    html_sent: str | None = None
    """The HTML as it would leave: sanitised, and None unless every recipient may receive it."""
    draft_fingerprint: Fingerprint = NO_TEXT
    """The fingerprint of the subject and text (``domain.fingerprint``, ``PROBE_SIZE`` hashes)."""
    flagged_inbound: tuple[Fingerprint, ...] = ()
    """Fingerprints of the workspace's recent inbound mail held for REVIEW or WITHHELD that
    share a hash with the draft's (the others cannot be repeated by it)."""
    canaries: Mapping[str, str] = field(default_factory=dict)
    """The canary tokens of the workspace's inboxes, each with its inbox's slug."""
    copied_inbound: tuple[str, ...] = ()
    """Inbound mails the draft repeats at length to recipients outside their thread (what was
    seen, ``adapters.copies``)."""
    data_leak_action: str = "hold"
    """What a data leak does to the send: ``hold`` it for a person, or ``reject`` it."""
    data_leak_exempt: tuple[str, ...] = ()
    """Kinds of data leak that only raise the risk score for this inbox (``domain.leaks``)."""
    security_level: str = "L3"
    tainted_by: tuple[str, ...] = ()
    """Why the send's context is tainted: the inbound mail it answers or draws on was held
    for REVIEW, WITHHELD or failed DMARC."""
    has_approver: bool = False
    """Whether a person can approve sends: an active key holding ``approve:mail``."""
    reviewed: bool = False
    """A person already approved this send (perhaps edited); it is judged again, not held."""
    approved_sha256: str | None = None
    """The fingerprint of the draft the person approved (``mail.draft.content_sha256``)."""


@dataclass(frozen=True)
class Violation:
    """Why a rule refused the send: a stable code and a message for the agent."""

    rule: str
    code: str
    message: str


@dataclass(frozen=True)
class OutboundDecision:
    """The chokepoint's answer."""

    approved: bool
    risk_score: int
    violation: Violation | None = None
    risk_reasons: tuple[str, ...] = ()
    """``code: detail`` of each risk signal that fired."""
    needs_approval: bool = False
    """Approved by the rules, but a person must approve it before it leaves (L4, or taint)."""
    checks: tuple[str, ...] = ()
    """Names of the rules the send passed, in order."""
    held_reasons: tuple[str, ...] = ()
    """Why a person must approve it (set when ``needs_approval``)."""


class Rule(Protocol):
    """One outbound rule: a name, a description, and a check returning a violation or None."""

    name: str
    description: str

    def check(self, facts: OutboundFacts) -> Violation | None:
        """Refuse the send with a violation, or let it through with None."""
        ...


def evaluate_outbound(facts: OutboundFacts, rules: tuple[Rule, ...]) -> OutboundDecision:
    """Score the send's risk, then apply ``rules`` in order; the first violation rejects it."""
    risk = assess_risk(facts)
    reasons = tuple(f"{r.code}: {r.detail}" for r in risk.reasons)
    passed: list[str] = []
    for rule in rules:
        if (violation := rule.check(facts)) is not None:
            return OutboundDecision(False, risk.score, violation, reasons, checks=tuple(passed))
        passed.append(rule.name)
    held = () if facts.reviewed else _held_reasons(facts, risk.reasons)
    return OutboundDecision(
        True,
        risk.score,
        None,
        reasons,
        needs_approval=bool(held),
        checks=tuple(passed),
        held_reasons=held,
    )


def _held_reasons(facts: OutboundFacts, risk: tuple[RiskReason, ...]) -> tuple[str, ...]:
    level = ("L4: every send from this inbox needs a person's approval",)
    tainted = tuple(f"tainted_context: draws on {why}" for why in facts.tainted_by)
    leaks = tuple(f"data_leak: {leak.detail}" for leak in held_leaks(facts, risk))
    return (level if facts.security_level == "L4" else ()) + tainted + leaks
