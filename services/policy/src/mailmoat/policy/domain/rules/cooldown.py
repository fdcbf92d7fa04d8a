"""Rule 3: a recipient added to the allowlist less than 60 s ago cannot be mailed yet."""

from __future__ import annotations

import math

from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class RecipientCooldown:
    """Refuses a send to any recipient whose allowlist row is not active yet, saying how long
    is left. The pause stops a hijacked agent from adding an address and mailing it at once."""

    name = "recipient_cooldown"
    description = "A newly allowed recipient becomes sendable 60 s after it was added."

    def check(self, facts: OutboundFacts) -> Violation | None:
        active_from = {entry.address.lower(): entry.active_from for entry in facts.allowlist}
        for recipient in facts.recipients:
            start = active_from.get(recipient.lower())
            if start is not None and facts.now < start:
                left = math.ceil((start - facts.now).total_seconds())
                return Violation(
                    self.name,
                    "recipient_cooldown",
                    f"Recipient '{recipient}' was added to the allowlist less than 60 s ago; "
                    f"it can be mailed in {left} s",
                )
        return None
