"""Outbound risk: each signal fires on its evidence and stays quiet without it."""

from __future__ import annotations

import pytest

from mailmoat.policy.domain.fingerprint import PROBE_SIZE, fingerprint
from mailmoat.policy.domain.outbound import OutboundFacts, evaluate_outbound
from mailmoat.policy.domain.risk import assess_risk
from mailmoat.policy.domain.rules import OUTBOUND_RULES
from tests.unit.test_outbound_rules import facts

QUOTED = "please wire the outstanding balance to the new account number listed below today"


def drafted(*, flagged: tuple[str, ...] = (), **changes: object) -> OutboundFacts:
    """Facts as policy gathers them: the draft's fingerprint, and those of ``flagged`` mails."""
    draft = facts(**changes)
    return facts(
        **changes,
        draft_fingerprint=fingerprint(f"{draft.subject}\n{draft.text}", PROBE_SIZE),
        flagged_inbound=tuple(fingerprint(text) for text in flagged),
    )


def codes(*, flagged: tuple[str, ...] = (), **changes: object) -> list[str]:
    return [r.code for r in assess_risk(drafted(flagged=flagged, **changes)).reasons]


def test_ordinary_mail_scores_zero() -> None:
    risk = assess_risk(facts(subject="Agenda", text="See you at 10. https://example.com/agenda"))
    assert (risk.score, risk.reasons) == (0, ())


def test_links_to_unlisted_domains_and_links_carrying_data() -> None:
    assert codes(text="Report: https://files.example.net/r") == ["link_unlisted_domain"]
    leak = "https://example.com/p?d=" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw"
    assert codes(text=leak) == ["link_carries_data"]
    assert codes(html='<a href="https://sub.example.com/x">x</a>') == []


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "leak_api_key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "leak_private_key"),
        ("password: hunter2hunter2", "leak_password"),
        ("api_key=sk_live_abcdef123456", "leak_api_key"),
        ("ghp_" + "a" * 36, "leak_api_key"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "leak_api_key",
        ),
        ("4111 1111 1111 1111", "leak_card_number"),
        ("DE89 3704 0044 0532 0130 00", "leak_iban"),
        ("123-45-6789", "leak_national_id"),
    ],
)
def test_secrets_in_the_body(secret: str, code: str) -> None:
    assert codes(text=f"Here you go: {secret}") == [code]


def test_the_word_password_alone_is_not_a_secret() -> None:
    assert codes(text="Reset your password from the settings page.") == []


def test_text_copied_from_flagged_inbound_mail() -> None:
    assert codes(text=f"As asked: {QUOTED}.", flagged=(f"Hi, {QUOTED}. Thanks",)) == [
        "copies_flagged_inbound"
    ]
    assert codes(text="please wire the money", flagged=(QUOTED,)) == []


def test_volume_near_the_caps() -> None:
    assert codes(workspace_sent_24h=400) == ["volume_near_cap"]
    assert codes(recipient_sent_24h={"bob@example.com": 4}) == ["recipient_near_cap"]


def test_the_score_is_capped_and_reported_even_when_a_rule_refuses() -> None:
    text = f"{QUOTED} password: hunter2hunter2 https://evil.example.net/?q={'A' * 40}"
    decision = evaluate_outbound(
        drafted(text=text, flagged=(QUOTED,), outbound_enabled=False), OUTBOUND_RULES
    )
    assert decision.violation is not None
    assert decision.risk_score == 100
    assert {r.split(":")[0] for r in decision.risk_reasons} == {
        "link_unlisted_domain",
        "link_carries_data",
        "leak_password",
        "copies_flagged_inbound",
    }
