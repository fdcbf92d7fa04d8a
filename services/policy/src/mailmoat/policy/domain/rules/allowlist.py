"""Rule 2: every recipient is on the workspace's explicit allowlist (fail closed)."""

from __future__ import annotations

from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class RecipientAllowlist:
    """Refuses a send if any recipient is missing from the allowlist; no exceptions."""

    name = "recipient_allowlist"
    description = "Every recipient must be on the outbound allowlist."

    def check(self, facts: OutboundFacts) -> Violation | None:
        if not facts.recipients:
            return Violation(self.name, "policy_violation", "The send has no recipient")
        allowed = {entry.address.lower() for entry in facts.allowlist}
        for recipient in facts.recipients:
            if recipient.lower() not in allowed:
                return Violation(
                    self.name,
                    "policy_violation",
                    f"Recipient '{recipient}' is not in the outbound allowlist",
                )
        return None
