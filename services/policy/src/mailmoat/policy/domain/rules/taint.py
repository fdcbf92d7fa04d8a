"""Rule 9: a send that answers or draws on suspicious inbound mail (held for REVIEW, WITHHELD,
or failing DMARC) needs a person's approval even on L3; with nobody able to approve, it is
refused. The decision then holds it for approval (``needs_approval``)."""

from __future__ import annotations

from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class TaintedContext:
    """Refuses a tainted send when no person can approve it."""

    name = "tainted_context"
    description = (
        "Sends whose context is suspicious inbound mail need human approval; without an "
        "approver they are refused."
    )

    def check(self, facts: OutboundFacts) -> Violation | None:
        if facts.tainted_by and not facts.reviewed and not facts.has_approver:
            return Violation(
                self.name,
                "tainted_context",
                f"This send draws on {facts.tainted_by[0]}; it needs a person's approval and "
                "no key with approve:mail exists",
            )
        return None
