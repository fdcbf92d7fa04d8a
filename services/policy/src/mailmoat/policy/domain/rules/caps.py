"""Rule 4: the caps. 500 messages per rolling 24 h per workspace and 5 per recipient are server
constants; an inbox's own hourly and daily limits can only be lower. Each recipient of a send is
one message. The counts come from the reservation ledger, read under the workspace's lock."""

from __future__ import annotations

from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WORKSPACE_DAILY_CAP
from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class SendCaps:
    """Refuses a send that would take any count past its cap (``cap_exceeded``)."""

    name = "send_caps"
    description = (
        f"At most {WORKSPACE_DAILY_CAP} messages per workspace and {RECIPIENT_DAILY_CAP} per "
        "recipient in any 24 hours, and within the inbox's own limits."
    )

    def check(self, facts: OutboundFacts) -> Violation | None:
        count = len(facts.recipients)
        if facts.workspace_sent_24h + count > WORKSPACE_DAILY_CAP:
            return self._refuse(
                f"The workspace has sent {facts.workspace_sent_24h} of its "
                f"{WORKSPACE_DAILY_CAP} messages in the last 24 h; this send needs {count}"
            )
        for recipient in facts.recipients:
            sent = facts.recipient_sent_24h.get(recipient.lower(), 0)
            if sent + 1 > RECIPIENT_DAILY_CAP:
                return self._refuse(
                    f"Recipient '{recipient}' has had {sent} messages in the last 24 h; "
                    f"the cap is {RECIPIENT_DAILY_CAP}"
                )
        for sent, limit, period in (
            (facts.inbox_sent_1h, facts.inbox_hourly_limit, "hour"),
            (facts.inbox_sent_24h, facts.inbox_daily_limit, "24 h"),
        ):
            if limit is not None and sent + count > limit:
                return self._refuse(
                    f"The inbox has sent {sent} of its {limit} messages per {period}; "
                    f"this send needs {count}"
                )
        return None

    def _refuse(self, message: str) -> Violation:
        return Violation(self.name, "cap_exceeded", message)
