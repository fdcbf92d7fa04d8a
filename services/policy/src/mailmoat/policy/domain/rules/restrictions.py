"""Rule 4, continued: an inbox's own restrictions, which can only tighten the workspace's. An
inbox may limit the recipient domains it mails (an entry covers its subdomains) and name terms
its mail may not contain (whole words or phrases, any case, in the subject, the text, or the
HTML's text and attribute values, decoded and with invisible characters removed, so neither a
character reference nor a zero-width character inside a term hides it)."""

from __future__ import annotations

import re
import unicodedata

from mailmoat.common.mail.html import read_html
from mailmoat.common.mail.invisible import strip_invisible
from mailmoat.policy.domain.outbound import OutboundFacts, Violation


class InboxRestrictions:
    """Refuses a send to a domain the inbox may not mail, or containing a blocked term."""

    name = "inbox_restrictions"
    description = (
        "Recipients must be in the inbox's allowed domains, if it names any, and the message "
        "may not contain the inbox's blocked keywords."
    )

    def check(self, facts: OutboundFacts) -> Violation | None:
        if facts.allowed_domains is not None:
            for recipient in facts.recipients:
                domain = recipient.rpartition("@")[2].lower()
                if not any(_within(domain, allowed) for allowed in facts.allowed_domains):
                    return Violation(
                        self.name,
                        "policy_violation",
                        f"Recipient domain '{domain}' is not in the inbox's allowed domains",
                    )
        if facts.blocked_keywords:
            content = _normalise("\n".join((facts.subject, facts.text, *_html_texts(facts.html))))
            for keyword in facts.blocked_keywords:
                if keyword_pattern(keyword).search(content):
                    return Violation(
                        self.name,
                        "policy_violation",
                        f"The message contains the blocked term '{keyword}'",
                    )
        return None


def _html_texts(html: str | None) -> tuple[str, ...]:
    """The HTML's text read two ways, since a tag may or may not break a word (``pass<b></b>word``
    is one word on screen), and its attribute values (link targets, titles)."""
    if not html:
        return ()
    reading = read_html(html)
    return (reading.joined, reading.spaced, *reading.values)


def _within(domain: str, allowed: str) -> bool:
    allowed = allowed.lower().strip(".")
    return domain == allowed or domain.endswith(f".{allowed}")


def _normalise(text: str) -> str:
    # Compatibility forms (fullwidth letters, ligatures), case and invisible characters (even a
    # joiner the script may keep on screen) must not hide a term.
    folded = unicodedata.normalize("NFKC", strip_invisible(text)).casefold()
    return strip_invisible(folded)


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The term as a whole word or phrase; any run of whitespace matches a space."""
    words = _normalise(keyword).split()
    body = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?!\w)")
