"""Per-inbox inbound sender rules: blocked senders are refused, allowed ones trusted if aligned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class SenderVerdict(StrEnum):
    BLOCKED = "blocked"
    TRUSTED = "trusted"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SenderRule:
    """``pattern`` is an address (``a@b.example``) or a domain covering its subdomains."""

    pattern: str
    action: str  # "allow" | "block"


def matches(pattern: str, address: str) -> bool:
    """Whether ``address`` is the pattern's address, or in the pattern's domain or below it."""
    pattern, address = pattern.strip().lower(), address.strip().lower()
    if not pattern or not address:
        return False
    if "@" in pattern:
        return pattern == address
    domain = address.rpartition("@")[2]
    return domain == pattern or domain.endswith("." + pattern)


def judge_sender(
    rules: Iterable[SenderRule], identities: Iterable[str], *, aligned_domain: str | None
) -> SenderVerdict:
    """Block when any identity (envelope or header sender) matches a block rule.

    An allow rule makes the sender trusted only when DMARC vouches for the header From domain
    (``aligned_domain``) and the allow rule covers it: an allowlisted name is easy to forge.
    """
    rules = tuple(rules)
    identities = tuple(i for i in identities if i)
    if any(r.action == "block" and matches(r.pattern, i) for r in rules for i in identities):
        return SenderVerdict.BLOCKED
    if aligned_domain is None:
        return SenderVerdict.UNKNOWN
    aligned = [i for i in identities if i.lower().rpartition("@")[2] == aligned_domain.lower()]
    if any(r.action == "allow" and matches(r.pattern, i) for r in rules for i in aligned):
        return SenderVerdict.TRUSTED
    return SenderVerdict.UNKNOWN
