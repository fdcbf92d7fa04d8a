"""Rule 5: a reply goes only to people already in the thread it answers (and, by rule 2, on the
allowlist): a hijacked agent cannot widen a conversation by answering it."""

from __future__ import annotations

from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class ThreadRecipients:
    """Refuses a reply to anyone outside the thread's participants."""

    name = "reply_recipients"
    description = "A reply's recipients must be participants of the thread it answers."

    def check(self, facts: OutboundFacts) -> Violation | None:
        if facts.reply_participants is None:
            return None
        for recipient in facts.recipients:
            if recipient.lower() not in facts.reply_participants:
                return Violation(
                    self.name,
                    "reply_outside_thread",
                    f"Recipient '{recipient}' is not a participant of the thread being answered",
                )
        return None
