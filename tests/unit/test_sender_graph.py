"""The sender graph's signals and the look-alike skeleton, without a broker: which sender facts
raise the inbound risk, by how much, and when that withholds a mail the detectors let pass."""

from __future__ import annotations

import pytest

from mailmoat.common.events import Consensus
from mailmoat.common.lookalike import domain_skeleton, split_address, unicode_domain
from mailmoat.scanner.domain.consensus import (
    SideVerdict,
    decide_consensus,
    with_sender_signals,
)
from mailmoat.scanner.domain.sender_graph import (
    FIRST_CONTACT,
    FIRST_CONTACT_KNOWN_DOMAIN,
    Edge,
    SenderFacts,
    sender_signals,
)

ALICE = SenderFacts("alice@corp.example", "corp.example", "pass", trusted=False)
SAFE = SideVerdict(score=5, flagged=False)


def _codes(signals: tuple[object, ...]) -> list[tuple[str, int]]:
    return [(s.code, s.points) for s in signals]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("known", "candidate"),
    [
        ("paypal.example", "paypa1.example"),  # digit one for l
        ("microsoft.example", "rnicrosoft.example"),  # r n for m
        ("corp.example", "c0rp.example"),  # zero for o
        ("apple.example", "\u0430pple.example"),  # Cyrillic a
        ("apple.example", "xn--pple-43d.example"),  # the same, as it travels (Punycode)
        ("PayPal.Example", "paypal.example."),  # case and the root dot never matter
    ],
)
def test_lookalike_domains_share_a_skeleton(known: str, candidate: str) -> None:
    assert domain_skeleton(known) == domain_skeleton(candidate)


@pytest.mark.parametrize(
    ("known", "candidate"),
    [("corp.example", "corq.example"), ("paypal.example", "paypal-secure.example")],
)
def test_different_domains_do_not(known: str, candidate: str) -> None:
    assert domain_skeleton(known) != domain_skeleton(candidate)


def test_addresses_are_keyed_lowercase_with_unicode_domains() -> None:
    assert split_address("Alice@Corp.Example") == ("alice@corp.example", "corp.example")
    assert split_address("x@xn--pple-43d.example")[1] == "\u0430pple.example"
    assert split_address("no-domain") == ("", "")
    assert split_address("@corp.example") == ("", "")
    assert unicode_domain("xn--zzzzzzzzz.example") == "xn--zzzzzzzzz.example"  # not Punycode


def test_first_contact_is_a_small_signal_and_smaller_at_a_known_domain() -> None:
    assert _codes(sender_signals(ALICE, None, None, ())) == [("first_contact", FIRST_CONTACT)]
    colleague = sender_signals(ALICE, None, Edge(4, 0, 4), ())
    assert _codes(colleague) == [("first_contact", FIRST_CONTACT_KNOWN_DOMAIN)]
    assert sender_signals(ALICE, Edge(3, 0, 3), Edge(3, 0, 3), ()) == ()


def test_a_trusted_sender_is_never_a_first_contact() -> None:
    trusted = SenderFacts("alice@corp.example", "corp.example", "pass", trusted=True)
    assert sender_signals(trusted, None, None, ()) == ()


def test_past_withholds_of_the_address_or_its_domain() -> None:
    assert _codes(sender_signals(ALICE, Edge(3, 1, 3), Edge(3, 1, 3), ())) == [
        ("past_withheld", 25)
    ]
    assert _codes(sender_signals(ALICE, Edge(2, 0, 2), Edge(9, 4, 9), ())) == [
        ("domain_past_withheld", 15)
    ]


def test_a_known_sender_that_stops_authenticating() -> None:
    spoofed = SenderFacts("alice@corp.example", "corp.example", "fail", trusted=False)
    assert _codes(sender_signals(spoofed, Edge(5, 0, 5), Edge(5, 0, 5), ())) == [
        ("known_sender_unauthenticated", 30)
    ]
    never_signed = sender_signals(spoofed, Edge(5, 0, 0), Edge(5, 0, 0), ())
    assert never_signed == ()  # nothing to contrast: its mail never passed DMARC


def test_a_lookalike_of_a_correspondent_is_withheld_though_the_detectors_pass() -> None:
    mimic = SenderFacts("ceo@c0rp.example", "c0rp.example", "pass", trusted=False)
    signals = sender_signals(mimic, None, None, ("corp.example",))
    assert _codes(signals) == [("lookalike_domain", 70), ("first_contact", 5)]
    assert "corp.example" in signals[0].detail
    decision = with_sender_signals(decide_consensus(SAFE, SAFE), signals)
    assert decision.consensus is Consensus.PASS  # the detectors' word is kept
    assert decision.risk_score == 5 + 70 + 5
    assert decision.withheld
    assert decision.withheld_reason == "lookalike_domain, first_contact"


def test_a_lookalike_domain_that_has_had_mail_delivered_is_a_correspondent_itself() -> None:
    mimic = SenderFacts("ceo@c0rp.example", "c0rp.example", "pass", trusted=False)
    assert sender_signals(mimic, Edge(2, 0, 2), Edge(2, 0, 2), ("corp.example",)) == ()
    withheld_before = sender_signals(mimic, Edge(1, 1, 1), Edge(1, 1, 1), ("corp.example",))
    assert _codes(withheld_before) == [("lookalike_domain", 70), ("past_withheld", 25)]


def test_a_missing_side_still_gives_review_for_a_stranger() -> None:
    missing = decide_consensus(SideVerdict(100, True), SideVerdict(10, False))  # risk 64
    stranger = with_sender_signals(missing, sender_signals(ALICE, None, None, ()))
    assert (stranger.consensus, stranger.risk_score, stranger.withheld) == (
        Consensus.REVIEW,
        69,
        False,
    )


def test_a_lookalike_alone_crosses_the_line() -> None:
    mimic = SenderFacts("ceo@c0rp.example", "c0rp.example", "none", trusted=False)
    clean = decide_consensus(SideVerdict(0, False), SideVerdict(0, False))
    decision = with_sender_signals(clean, sender_signals(mimic, None, None, ("corp.example",)))
    assert (decision.risk_score, decision.withheld) == (75, True)


def test_signals_add_to_the_risk_up_to_the_line() -> None:
    review = decide_consensus(SideVerdict(70, True), SideVerdict(40, False))  # risk 58
    assert (review.risk_score, review.withheld) == (58, False)
    stranger = with_sender_signals(review, sender_signals(ALICE, None, None, ()))
    assert (stranger.risk_score, stranger.withheld) == (63, False)
    repeat = with_sender_signals(review, sender_signals(ALICE, Edge(2, 1, 2), None, ()))
    # Only a look-alike's points cross the line: a repeat sender's single flag stays REVIEW.
    assert (repeat.risk_score, repeat.withheld, repeat.withheld_reason) == (70, False, None)
    flagged = with_sender_signals(
        decide_consensus(SideVerdict(90, True), SideVerdict(90, True)), ()
    )
    assert flagged.withheld_reason == "detectors"
    capped = with_sender_signals(flagged, sender_signals(ALICE, Edge(2, 1, 2), None, ()))
    assert (capped.risk_score, capped.withheld_reason) == (100, "detectors")


def test_a_mail_without_a_sender_address_has_no_signals() -> None:
    nobody = SenderFacts("", "", "none", trusted=False)
    assert sender_signals(nobody, None, None, ("corp.example",)) == ()
