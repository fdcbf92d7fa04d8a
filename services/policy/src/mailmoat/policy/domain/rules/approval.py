"""Rule 1, continued: a send a person approved is still the draft they approved."""

from __future__ import annotations

from mailmoat.common.mail.draft import content_sha256
from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class ApprovedContent:
    """Refuses a reviewed send whose draft, as it would leave (recipients, subject, text and
    HTML), is not the one the person approved: nothing may change between their decision and
    the relay."""

    name = "approved_content"
    description = "A send a person approved leaves exactly as they approved it."

    def check(self, facts: OutboundFacts) -> Violation | None:
        if not facts.reviewed:
            return None
        leaving = content_sha256(facts.recipients, facts.subject, facts.text, facts.html_sent)
        if leaving == facts.approved_sha256:
            return None
        return Violation(
            self.name,
            "approval_mismatch",
            "The draft is not the one a person approved; it must be approved again",
        )
