"""An audit endpoint hears only the actions its ``events`` name."""

from __future__ import annotations

import pytest

from mailmoat.dispatch.webhooks import audit_subscribed


@pytest.mark.parametrize(
    ("patterns", "action", "heard"),
    [
        (["*"], "outbound.sent", True),
        (["outbound.sent"], "outbound.sent", True),
        (["outbound.sent"], "outbound.rejected_by_reviewer", False),
        (["outbound.*"], "outbound.approval.timed_out", True),
        (["outbound.*"], "outboundx.sent", False),
        (["outbound.*"], "outbound", False),
        (["message.released", "api_key.*"], "api_key.created", True),
        (["message.released", "api_key.*"], "inbox.deleted", False),
    ],
)
def test_audit_endpoints_hear_only_what_they_subscribed_to(
    patterns: list[str], action: str, heard: bool
) -> None:
    assert audit_subscribed(patterns, action) is heard
