"""An inbox's blocked keywords against hidden characters: a character reference or an invisible
character inside a term does not hide it, in the subject, the text, the HTML or its links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailmoat.policy.domain.outbound import AllowedRecipient, OutboundFacts
from mailmoat.policy.domain.rules import InboxRestrictions

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BLOCKED = ("password", "wire transfer")


def _blocked(keywords: tuple[str, ...] = BLOCKED, **content: str | None) -> str | None:
    """The term the rule refused the send for, or None when it let it through."""
    facts = OutboundFacts(
        recipients=("bob@example.com",),
        outbound_enabled=True,
        sending_status="active",
        allowlist=(AllowedRecipient("bob@example.com", NOW, allow_html=True),),
        now=NOW,
        blocked_keywords=keywords,
        **content,  # type: ignore[arg-type]
    )
    violation = InboxRestrictions().check(facts)
    if violation is None:
        return None
    assert violation.code == "policy_violation"
    return violation.message.split("'")[1]


@pytest.mark.parametrize(
    "markup",
    [
        "<p>The pass&#8203;word is</p>",
        "<p>The pass&#x200B;word is</p>",
        "<p>The p&#97;ssword is</p>",
        "<p>The &#x70;&#x61;ssword is</p>",
        "<p>The PASS&shy;WORD is</p>",
        "<p>The pass&ZeroWidthSpace;word is</p>",
        "<p>The pass&zwnj;word is</p>",
        "<p>The pass&#8238;word is</p>",
        "<p>The pass&#917505;&#xE0041;word is</p>",
        "<p>The pass\u200bword is</p>",
        "<p>The pass<b>&#8203;</b>word is</p>",
        "<p>The pass<b></b>word is</p>",
        "<p>The \uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44 is</p>",
        '<p><a href="https://example.org/">it</a></p><abbr title="pass&#8203;word">pw</abbr>',
        '<a href="https://example.org/pass&#8203;word">it</a>',
        '<a href="https://example.org/?q=p%61ss%E2%80%8Bword">it</a>',
        "<p>Make a wire&#8203; transfer</p>",
        "<p>Make a wire</p><p>transfer</p>",
    ],
)
def test_a_term_hidden_in_the_html_is_found(markup: str) -> None:
    assert _blocked(html=markup) is not None


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("The pass\u200bword", ""),
        ("The PASS\u00adWORD", ""),
        ("", "The pass\U000e0041word is"),
        ("", "The pass\u202eword is"),
        ("", "Make a wire\u2060 transfer"),
    ],
)
def test_a_term_hidden_in_the_subject_or_text_is_found(subject: str, text: str) -> None:
    assert _blocked(subject=subject, text=text) == (
        "wire transfer" if "wire" in text else "password"
    )


def test_a_keyword_written_with_an_invisible_character_still_matches() -> None:
    assert _blocked(("pass\u200bword",), text="the password") == "pass\u200bword"


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Store passwords safely</p>",
        "<p>We wired the transfer</p>",
        "<p>pass &amp;#8203; word</p>",  # a reference spelt out is text a reader sees
        "<script>password</script><p>hello</p>",  # dropped by sanitising: never sent
    ],
)
def test_what_a_reader_does_not_meet_is_not_blocked(markup: str) -> None:
    assert _blocked(html=markup) is None


def test_a_link_relation_added_by_sanitising_is_not_read() -> None:
    assert _blocked(("nofollow",), html='<a href="https://example.org/">it</a>') is None
