"""The outbound chokepoint's rules, in order, with their codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailmoat.common.mail.draft import content_sha256
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


def reviewed(**changes: object) -> OutboundFacts:
    """Facts of a send a person approved as it stands (the fingerprint of its draft stored)."""
    draft = facts(reviewed=True, **changes)
    approved = content_sha256(draft.recipients, draft.subject, draft.text, draft.html_sent)
    return replace(draft, approved_sha256=approved)


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


def _cap_violation(**changes: object) -> str | None:
    decision = evaluate_outbound(facts(**changes), OUTBOUND_RULES)
    if decision.violation is None:
        return None
    assert decision.violation.code == "cap_exceeded", decision.violation
    return decision.violation.message


def test_the_workspace_cap_allows_the_500th_message_and_refuses_the_501st() -> None:
    assert _cap_violation(workspace_sent_24h=499) is None
    message = _cap_violation(workspace_sent_24h=500)
    assert message is not None
    assert "500" in message


def test_a_send_to_several_recipients_counts_each_one() -> None:
    two = ("bob@example.com", "carol@example.com")
    listed = tuple(AllowedRecipient(a, NOW) for a in two)
    assert _cap_violation(recipients=two, allowlist=listed, workspace_sent_24h=498) is None
    assert _cap_violation(recipients=two, allowlist=listed, workspace_sent_24h=499) is not None


def test_the_recipient_cap_allows_five_per_day() -> None:
    assert _cap_violation(recipient_sent_24h={"bob@example.com": 4}) is None
    message = _cap_violation(recipient_sent_24h={"bob@example.com": 5})
    assert message is not None
    assert "bob@example.com" in message


def test_inbox_limits_only_tighten() -> None:
    assert _cap_violation(inbox_sent_1h=2, inbox_hourly_limit=3) is None
    assert _cap_violation(inbox_sent_1h=3, inbox_hourly_limit=3) is not None
    assert _cap_violation(inbox_sent_24h=9, inbox_daily_limit=10) is None
    assert _cap_violation(inbox_sent_24h=10, inbox_daily_limit=10) is not None
    # A limit above the server cap changes nothing: the cap still refuses.
    assert _cap_violation(workspace_sent_24h=500, inbox_daily_limit=10_000) is not None


def test_a_reply_may_only_go_to_the_threads_participants() -> None:
    two = ("bob@example.com", "carol@example.com")
    listed = tuple(AllowedRecipient(a, NOW) for a in two)
    inside = facts(reply_participants=frozenset({"bob@example.com"}))
    assert evaluate_outbound(inside, OUTBOUND_RULES).approved
    widened = facts(
        recipients=two, allowlist=listed, reply_participants=frozenset({"bob@example.com"})
    )
    decision = evaluate_outbound(widened, OUTBOUND_RULES)
    assert decision.violation is not None
    assert decision.violation.code == "reply_outside_thread"
    assert "carol@example.com" in decision.violation.message


def test_a_reply_to_an_unknown_message_goes_to_nobody() -> None:
    decision = evaluate_outbound(facts(reply_participants=frozenset()), OUTBOUND_RULES)
    assert decision.violation is not None
    assert decision.violation.code == "reply_outside_thread"


def test_every_l4_send_waits_for_a_person() -> None:
    decision = evaluate_outbound(facts(security_level="L4", has_approver=True), OUTBOUND_RULES)
    assert (decision.approved, decision.needs_approval) == (True, True)
    assert not evaluate_outbound(facts(), OUTBOUND_RULES).needs_approval


def test_a_tainted_send_needs_a_person_even_on_l3() -> None:
    tainted = ("inbound message 1, held as review",)
    held = evaluate_outbound(facts(tainted_by=tainted, has_approver=True), OUTBOUND_RULES)
    assert (held.approved, held.needs_approval) == (True, True)
    refused = evaluate_outbound(facts(tainted_by=tainted, has_approver=False), OUTBOUND_RULES)
    assert refused.violation is not None
    assert refused.violation.code == "tainted_context"
    assert "held as review" in refused.violation.message


def test_the_decision_lists_the_rules_passed_and_why_it_is_held() -> None:
    tainted = ("inbound message 1, held as review",)
    held = evaluate_outbound(
        facts(security_level="L4", tainted_by=tainted, has_approver=True), OUTBOUND_RULES
    )
    assert held.checks == tuple(rule.name for rule in OUTBOUND_RULES)
    assert held.held_reasons == (
        "L4: every send from this inbox needs a person's approval",
        "tainted_context: draws on inbound message 1, held as review",
    )
    refused = evaluate_outbound(facts(recipients=("eve@x.com",)), OUTBOUND_RULES)
    assert refused.checks == ("sending_capability", "canary_tokens", "approved_content")


def test_a_send_a_person_approved_is_judged_again_but_not_held_again() -> None:
    tainted = ("inbound message 1, held as review",)
    again = evaluate_outbound(reviewed(security_level="L4", tainted_by=tainted), OUTBOUND_RULES)
    assert (again.approved, again.needs_approval, again.held_reasons) == (True, False, ())
    # The rules still apply: an edit that adds an unlisted recipient is refused.
    edited = evaluate_outbound(
        reviewed(security_level="L4", recipients=("eve@x.com",)), OUTBOUND_RULES
    )
    assert edited.violation is not None
    assert edited.violation.code == "policy_violation"


def test_a_reviewed_send_leaves_only_as_the_person_approved_it() -> None:
    approved = reviewed(subject="Numbers", text="As discussed.", html_sent="<p>As discussed.</p>")
    assert evaluate_outbound(approved, OUTBOUND_RULES).approved
    for change in (
        {"recipients": ("bob@example.com", "ann@example.com")},
        {"subject": "Numbers!"},
        {"text": "As discussed. Also, the keys."},
        {"html_sent": None},
        {"approved_sha256": None},
    ):
        decision = evaluate_outbound(replace(approved, **change), OUTBOUND_RULES)  # type: ignore[arg-type]
        assert decision.violation is not None, change
        assert decision.violation.code == "approval_mismatch", change
    # A send nobody reviewed has no person's fingerprint to match.
    assert evaluate_outbound(facts(), OUTBOUND_RULES).approved


def test_an_inbox_may_restrict_recipient_domains_subdomains_included() -> None:
    listed = (
        AllowedRecipient("bob@example.com", NOW),
        AllowedRecipient("ann@eu.example.com", NOW),
        AllowedRecipient("eve@competitor.com", NOW),
    )
    allowed = ("example.com",)
    for ok in (("bob@example.com",), ("ann@eu.example.com",)):
        decision = evaluate_outbound(
            facts(recipients=ok, allowlist=listed, allowed_domains=allowed), OUTBOUND_RULES
        )
        assert decision.approved, ok
    refused = evaluate_outbound(
        facts(
            recipients=("bob@example.com", "eve@competitor.com"),
            allowlist=listed,
            allowed_domains=allowed,
        ),
        OUTBOUND_RULES,
    )
    assert refused.violation is not None
    assert (refused.violation.rule, refused.violation.code, refused.violation.message) == (
        "inbox_restrictions",
        "policy_violation",
        "Recipient domain 'competitor.com' is not in the inbox's allowed domains",
    )
    # A look-alike that merely ends with the name is not a subdomain.
    lookalike = (AllowedRecipient("x@badexample.com", NOW),)
    assert not evaluate_outbound(
        facts(recipients=("x@badexample.com",), allowlist=lookalike, allowed_domains=allowed),
        OUTBOUND_RULES,
    ).approved


def test_an_inbox_may_block_keywords_in_any_case_or_width() -> None:
    blocked = ("password", "wire transfer")
    for subject, text, html in (
        ("Your PASSWORD", "", None),
        ("Hi", "Please make a wire\n  transfer today", None),
        ("Hi", "", "<p>the pass<b></b>word is</p>"),
        ("Hi", "", "<p>the &#112;assword is</p>"),
        ("\uff30\uff41\uff53\uff53\uff57\uff4f\uff52\uff44 reset", "", None),  # fullwidth
    ):
        decision = evaluate_outbound(
            facts(subject=subject, text=text, html=html, blocked_keywords=blocked),
            OUTBOUND_RULES,
        )
        assert decision.violation is not None, (subject, text, html)
        assert decision.violation.code == "policy_violation"
        assert decision.violation.message.startswith("The message contains the blocked term")
    # Whole words only: "passwords" is a different word, "wired" is not "wire".
    for text in ("Store passwords safely", "We wired the transfer"):
        decision = evaluate_outbound(facts(text=text, blocked_keywords=blocked), OUTBOUND_RULES)
        assert decision.approved, text


def test_a_data_leak_holds_the_send_for_a_person_at_l3() -> None:
    leaking = facts(text="Card 4111 1111 1111 1111, and the password is hunter2!")
    held = evaluate_outbound(leaking, OUTBOUND_RULES)
    assert (held.approved, held.needs_approval) == (True, True)
    assert held.held_reasons == (
        "data_leak: a card number ending 1111",
        "data_leak: a password given in the text",
    )
    assert {r.partition(":")[0] for r in held.risk_reasons} == {"leak_card_number", "leak_password"}
    copied = "repeats about 60 words of inbound message 1 (from carol@example.org) ..."
    held = evaluate_outbound(facts(copied_inbound=(copied,)), OUTBOUND_RULES)
    assert held.held_reasons == (f"data_leak: {copied}",)
    # Nothing to hold in an ordinary send.
    assert not evaluate_outbound(facts(text="See you at noon."), OUTBOUND_RULES).needs_approval


def test_an_inbox_may_reject_leaks_or_exempt_a_kind_but_a_person_decides() -> None:
    leaking = facts(text="IBAN DE89 3704 0044 0532 0130 00", data_leak_action="reject")
    refused = evaluate_outbound(leaking, OUTBOUND_RULES)
    assert refused.violation is not None
    assert refused.violation.code == "data_leak"
    assert "an IBAN (DE) ending 3000" in refused.violation.message
    assert "3704" not in refused.violation.message
    # An invoicing inbox exempts IBANs: they only raise the score.
    for action in ("hold", "reject"):
        exempt = replace(leaking, data_leak_action=action, data_leak_exempt=("iban",))
        decision = evaluate_outbound(exempt, OUTBOUND_RULES)
        assert (decision.approved, decision.needs_approval) == (True, False)
        assert decision.risk_score == 40
    # A person's approval of a leaking draft is not held or refused again.
    approved = reviewed(text="IBAN DE89 3704 0044 0532 0130 00", data_leak_action="reject")
    assert evaluate_outbound(approved, OUTBOUND_RULES).approved


def test_a_send_carrying_a_canary_is_refused_even_when_a_person_approved_it() -> None:
    canaries = {"mmc-k3v9q2x7pdh4": "support"}
    copied = "Forwarding:\nHello.\n\n[ref mmc-k3v9q2x7pdh4]\n"
    for sent in (facts(text=copied, canaries=canaries), reviewed(text=copied, canaries=canaries)):
        decision = evaluate_outbound(sent, OUTBOUND_RULES)
        assert decision.violation is not None
        assert decision.violation.code == "canary_tripped"
        assert "mmc-" not in decision.violation.message
    assert evaluate_outbound(facts(text="Hello.", canaries=canaries), OUTBOUND_RULES).approved
