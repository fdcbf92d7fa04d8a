"""Rule 1: the kill switch is on, the sender is not suspended and the inbox still exists."""

from __future__ import annotations

from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class SendingCapability:
    """Refuses every send while the workspace kill switch is off, the sender (inbox or
    workspace) is suspended or throttled by reputation, or the inbox was deleted."""

    name = "sending_capability"
    description = (
        "Outbound sending is enabled for the workspace and the sender is in good standing."
    )

    def check(self, facts: OutboundFacts) -> Violation | None:
        if not facts.outbound_enabled:
            return Violation(self.name, "capability_disabled", "Outbound sending is turned off")
        if facts.sending_status == "suspended":
            return Violation(self.name, "capability_disabled", "The sending inbox is suspended")
        if facts.standing_refusal is not None:
            return Violation(self.name, "capability_disabled", facts.standing_refusal)
        if not facts.inbox_active:
            return Violation(self.name, "capability_disabled", "The sending inbox was deleted")
        return None
