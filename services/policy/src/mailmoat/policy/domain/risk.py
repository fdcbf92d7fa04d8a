"""Outbound risk: a score from 0 to 100 with its reasons, computed for every send (approved or
not) so that reviewers and dashboards see why a send looks dangerous.

Signals and their points (the score is their sum, capped at 100):
- a link to a domain that no allowlisted recipient is at: 25; a link carrying a long opaque value
  in its query or path (data leaving through a URL): 20 more;
- a data leak (``domain.leaks``): a private key, an API key of a known format, a card number,
  an IBAN, a national ID or a password in the subject or body (``leak_<kind>``), or a large
  verbatim copy of inbound mail to recipients outside its thread (``leak_inbound_copy``,
  ``adapters.copies``): 40 each;
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
from mailmoat.policy.domain.leaks import KINDS, find_leaks

if TYPE_CHECKING:  # outbound imports this module to score every decision
    from mailmoat.policy.domain.outbound import OutboundFacts

_URL = re.compile(r"https?://([^/\s\"'<>?#:]+)([^\s\"'<>]*)", re.IGNORECASE)
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_%-]{32,}")
LEAK_POINTS = 40
LEAK_KINDS = (*KINDS, "inbound_copy")
"""What the data-leak checks name (``leak_<kind>`` risk reasons)."""


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
    body = draft_body(facts)
    reasons = [*_links(body, facts), *leak_reasons(body, facts), *_copied(facts), *_volume(facts)]
    return Risk(min(100, sum(r.points for r in reasons)), tuple(reasons))


def draft_body(facts: OutboundFacts) -> str:
    """The subject, text and HTML as requested: what the content signals read."""
    return f"{facts.subject}\n{facts.text}\n{facts.html or ''}"


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


def leak_reasons(body: str, facts: OutboundFacts) -> list[RiskReason]:
    """A reason for each kind of secret in the draft (``domain.leaks``), and one for large
    copies of inbound mail to recipients outside their thread."""
    reasons = [
        RiskReason(f"leak_{leak.kind}", LEAK_POINTS, leak.detail) for leak in find_leaks(body)
    ]
    if facts.copied_inbound:
        more = len(facts.copied_inbound) - 1
        detail = facts.copied_inbound[0] + (f" (and {more} more)" if more else "")
        reasons.append(RiskReason("leak_inbound_copy", LEAK_POINTS, detail))
    return reasons


def held_leaks(facts: OutboundFacts, reasons: tuple[RiskReason, ...]) -> list[RiskReason]:
    """The data leaks among ``reasons`` that stop the send (those the inbox does not exempt)."""
    exempt = {f"leak_{kind}" for kind in facts.data_leak_exempt}
    return [r for r in reasons if r.code.startswith("leak_") and r.code not in exempt]


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
