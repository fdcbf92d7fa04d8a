"""Fake authority: bracketed system or admin notices and 'debug mode' switches in a mail."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_WHO = r"(?:SYSTEM|ADMIN|ADMINISTRATOR|OVERRIDE|BYPASS|ROOT|DEBUG|DEVELOPER|SUDO|SYS)"
# Upper case only: mailing lists tag subjects "[Admin]" or "[System]"; shouting is the tell.
_NOTICE = re.compile(
    rf"\[{_WHO}(?:[ _-](?:MESSAGE|NOTE|OVERRIDE|COMMAND|REQUEST|MODE|PROMPT|INSTRUCTION|"
    r"NOTICE|ACCESS))?\s*[:\]]"
    rf"|\b{_WHO}_(?:REQUEST|OVERRIDE|COMMAND|MODE|MESSAGE|INSTRUCTION|ACCESS)\s*:?"
    r"|#{2,}\s*\(\s*system_message\s*\)"
)
_SWITCH = re.compile(
    r"\b(?:debug|developer|admin|administrator|god|sudo|diagnostic|root|unrestricted)\s+"
    r"(?:mode|access)\b[^.\n]{0,40}?\b(?:show|reveal|display|print|dump|output|list|disclose)"
    r"|\broot\s+access\s+granted\b",
    re.IGNORECASE,
)

FAKE_AUTHORITY = PatternRule(
    code="injection.fake_authority",
    description="poses as a system or administrator notice addressed to the reader",
    weight=50,
    patterns=(_NOTICE, _SWITCH),
    anchors=(
        "[",
        "_request",
        "_override",
        "_command",
        "_mode",
        "_message",
        "_instruction",
        "_access",
        "##",
        "mode",
        "access",
    ),
    reach=120,
)
