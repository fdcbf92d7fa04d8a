"""Rule 1, continued: a send carrying the canary token of a workspace inbox is refused,
whoever approved it: the token is only in mail the gateway stored, so the send copies received
mail outward (``mailmoat.common.canary``)."""

from __future__ import annotations

from mailmoat.common.canary import carried
from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class CanaryTokens:
    """Refuses a send whose subject, text or HTML carries an inbox's canary, in any form."""

    name = "canary_tokens"
    description = "No send carries the canary marker placed in received mail."

    def check(self, facts: OutboundFacts) -> Violation | None:
        if tripped(facts) is None:
            return None
        return Violation(
            self.name,
            "canary_tripped",
            "The send carries a marker that only received mail holds: it copies received mail "
            "outward and may not leave",
        )


def tripped(facts: OutboundFacts) -> str | None:
    """The slug of the inbox whose canary the send carries, if any."""
    token = carried(facts.canaries, facts.subject, facts.text, facts.html)
    return None if token is None else facts.canaries[token]
