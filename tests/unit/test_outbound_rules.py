"""The outbound chokepoint's rules, in order, with their codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailmoat.policy.domain.outbound import AllowedRecipient, OutboundFacts, evaluate_outbound
from mailmoat.policy.domain.rules import OUTBOUND_RULES

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def facts(**changes: object) -> OutboundFacts:
    base: dict[str, object] = {
        "recipients": ("bob@example.com",),
        "outbound_enabled": True,
        "sending_status": "active",
        "allowlist": (AllowedRecipient("bob@example.com", NOW),),
        "now": NOW,
    }
    return OutboundFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_listed_recipient_is_approved() -> None:
    assert evaluate_outbound(facts(), OUTBOUND_RULES).approved


def test_unlisted_recipient_is_refused_even_among_listed_ones() -> None:
    decision = evaluate_outbound(facts(recipients=("bob@example.com", "eve@x.com")), OUTBOUND_RULES)
    assert not decision.approved
    assert decision.violation is not None
    assert decision.violation.code == "policy_violation"
    assert "eve@x.com" in decision.violation.message


def test_kill_switch_and_suspension_come_first() -> None:
    for changes in ({"outbound_enabled": False}, {"sending_status": "suspended"}):
        decision = evaluate_outbound(facts(recipients=("eve@x.com",), **changes), OUTBOUND_RULES)
        assert decision.violation is not None
        assert decision.violation.code == "capability_disabled"


def test_no_recipient_is_refused() -> None:
    assert not evaluate_outbound(facts(recipients=()), OUTBOUND_RULES).approved


def test_a_recipient_in_its_cooldown_is_refused_with_the_time_left() -> None:
    fresh = (AllowedRecipient("bob@example.com", NOW + timedelta(seconds=41.2)),)
    decision = evaluate_outbound(facts(allowlist=fresh), OUTBOUND_RULES)
    assert decision.violation is not None
    assert (decision.violation.rule, decision.violation.code) == (
        "recipient_cooldown",
        "recipient_cooldown",
    )
    assert decision.violation.message.endswith("it can be mailed in 42 s")


def test_a_recipient_is_sendable_from_the_moment_its_cooldown_ends() -> None:
    exactly = (AllowedRecipient("bob@example.com", NOW),)
    assert evaluate_outbound(facts(allowlist=exactly), OUTBOUND_RULES).approved


def test_an_unlisted_recipient_is_refused_by_the_allowlist_before_the_cooldown() -> None:
    fresh = (AllowedRecipient("bob@example.com", NOW + timedelta(seconds=30)),)
    decision = evaluate_outbound(
        facts(recipients=("eve@x.com", "bob@example.com"), allowlist=fresh), OUTBOUND_RULES
    )
    assert decision.violation is not None
    assert decision.violation.code == "policy_violation"


def test_a_deleted_inbox_cannot_send() -> None:
    decision = evaluate_outbound(facts(inbox_active=False), OUTBOUND_RULES)
    assert decision.violation is not None
    assert decision.violation.code == "capability_disabled"
    assert "deleted" in decision.violation.message
