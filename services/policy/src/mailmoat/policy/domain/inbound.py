"""What policy stores of an inbound mail for the agent: each sender field sanitised by what the
detectors located in it, the status, and the withheld reason as codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mailmoat.common.events import Finding
from mailmoat.common.mail.addr import is_plausible_address
from mailmoat.policy.domain.sanitise import sanitise

TOO_MANY_FINDINGS = "too_many_findings"
"""A deciding verdict dropped findings: their spans are unknown, so the text cannot be made
safe and the mail is withheld."""


@dataclass(frozen=True)
class AgentFields:
    """The sender's text as the agent may be given it."""

    from_address: str
    subject: str
    text: str


def located(findings: Iterable[Finding]) -> dict[str, list[tuple[int, int]]]:
    """The spans the detectors located, by segment (coverage gaps locate nothing)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for finding in findings:
        if not finding.code.startswith("coverage."):
            spans.setdefault(finding.part, []).append((finding.start, finding.end))
    return spans


def agent_fields(
    address: str, sender_text: str, subject: str, text: str, spans: Mapping[str, list[Any]]
) -> AgentFields:
    """Subject and visible text with located instructions removed; the address withheld when
    it is no mailbox or a located instruction covers it in the sender's text."""
    return AgentFields(
        from_address=address if _clean_address(address, sender_text, spans.get("from", [])) else "",
        subject=sanitise(subject, spans.get("subject", [])),
        text=sanitise(text, spans.get("visible", [])),
    )


def _clean_address(address: str, sender_text: str, spans: list[tuple[int, int]]) -> bool:
    if not is_plausible_address(address):
        return False
    places = _occurrences(sender_text.lower(), address.lower())
    return not any(s < p + len(address) and p < e for s, e in spans for p in places)


def _occurrences(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def withheld_reason(
    quarantine: str | None, consensus_reason: str | None, *, withheld: bool, dropped: bool
) -> str | None:
    """Why the mail waits for a person, as codes: ingest's, the consensus's, policy's own."""
    codes = [c for c in (quarantine, consensus_reason if withheld else None) if c]
    if dropped:
        codes.append(TOO_MANY_FINDINGS)
    return ", ".join(codes) or None
