"""Rule 7: an inbox set to reject data leaks refuses a send carrying one (by default a leak
holds the send for a person instead: ``OutboundDecision.held_reasons``)."""

from __future__ import annotations

from mailmoat.policy.domain.outbound import OutboundFacts, Violation
from mailmoat.policy.domain.risk import draft_body, held_leaks, leak_reasons


class DataLeaks:
    """Refuses a send carrying a secret, or a large copy of inbound mail, from an inbox whose
    ``data_leak_action`` is ``reject``; a person's approved edit is judged, not refused."""

    name = "data_leaks"
    description = (
        "Sends carrying secrets or large copies of inbound mail are held for a person, or "
        "refused where the inbox says so."
    )

    def check(self, facts: OutboundFacts) -> Violation | None:
        if facts.data_leak_action != "reject" or facts.reviewed:
            return None
        leaks = held_leaks(facts, tuple(leak_reasons(draft_body(facts), facts)))
        if not leaks:
            return None
        return Violation(
            self.name, "data_leak", f"The send carries {leaks[0].detail}; this inbox refuses it"
        )
