"""Outbound risk: a score from 0 to 100 with its reasons, computed for every send (approved or
not) so that reviewers and dashboards see why a send looks dangerous.

Signals and their points (the score is their sum, capped at 100):
- a link to a domain that no allowlisted recipient is at: 25; a link carrying a long opaque value
  in its query or path (data leaving through a URL): 20 more;
- something that looks like a secret or credential in the subject or body: 40;
- text copied from inbound mail that was held for REVIEW or WITHHELD (eight words in a row, as
  the two texts' fingerprints tell: exactly for short mails and drafts, by sample for long ones;
  see ``domain.fingerprint``): 35;
- volume close to the caps: the workspace past 80% of its 24 h cap, 10; a recipient at its
  last slot, 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WORKSPACE_DAILY_CAP
from mailmoat.policy.domain.fingerprint import repeats

if TYPE_CHECKING:  # outbound imports this module to score every decision
    from mailmoat.policy.domain.outbound import OutboundFacts

_URL = re.compile(r"https?://([^/\s\"'<>?#:]+)([^\s\"'<>]*)", re.IGNORECASE)
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_%-]{32,}")
_SECRETS = (
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+")),
    (
        "credential",
        re.compile(
            r"\b(?:password|passwd|passcode|api[_ -]?key|secret|access[_ -]?token|token)\b"
            r"\s*[:=]\s*\S{6,}",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True)
class RiskReason:
    """One signal: a stable code, its points and what was seen."""

    code: str
    points: int
    detail: str


@dataclass(frozen=True)
class Risk:
    """The score (0-100) and the reasons that make it up."""

    score: int
    reasons: tuple[RiskReason, ...]


def assess_risk(facts: OutboundFacts) -> Risk:
    """Every signal that fires for this send, summed and capped at 100."""
    body = f"{facts.subject}\n{facts.text}\n{facts.html or ''}"
    reasons = [*_links(body, facts), *_secrets(body), *_copied(facts), *_volume(facts)]
    return Risk(min(100, sum(r.points for r in reasons)), tuple(reasons))


def _links(body: str, facts: OutboundFacts) -> list[RiskReason]:
    known = {entry.address.rpartition("@")[2].lower() for entry in facts.allowlist}
    foreign: list[str] = []
    carrying = False
    for match in _URL.finditer(body):
        host = match.group(1).lower().rstrip(".")
        if not any(host == d or host.endswith("." + d) for d in known) and host not in foreign:
            foreign.append(host)
        carrying = carrying or bool(_OPAQUE.search(match.group(2)))
    reasons = []
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        reasons.append(RiskReason("link_unlisted_domain", 25, f"links to {shown}"))
    if carrying:
        reasons.append(RiskReason("link_carries_data", 20, "a link carries a long opaque value"))
    return reasons


def _secrets(body: str) -> list[RiskReason]:
    found = [name for name, pattern in _SECRETS if pattern.search(body)]
    if not found:
        return []
    return [RiskReason("secret_in_body", 40, f"looks like a {found[0]}")]


def _copied(facts: OutboundFacts) -> list[RiskReason]:
    if not any(repeats(facts.draft_fingerprint, f) for f in facts.flagged_inbound):
        return []
    return [
        RiskReason(
            "copies_flagged_inbound",
            35,
            "repeats text from inbound mail held for REVIEW or WITHHELD",
        )
    ]


def _volume(facts: OutboundFacts) -> list[RiskReason]:
    reasons = []
    if facts.workspace_sent_24h + len(facts.recipients) > 0.8 * WORKSPACE_DAILY_CAP:
        detail = f"{facts.workspace_sent_24h} messages in 24 h of {WORKSPACE_DAILY_CAP}"
        reasons.append(RiskReason("volume_near_cap", 10, detail))
    if any(n >= RECIPIENT_DAILY_CAP - 1 for n in facts.recipient_sent_24h.values()):
        reasons.append(RiskReason("recipient_near_cap", 5, "a recipient is at its last slot"))
    return reasons
