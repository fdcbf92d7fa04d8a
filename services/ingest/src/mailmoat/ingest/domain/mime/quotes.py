"""Splits quoted reply history off the new text of a message."""

from __future__ import annotations

import re

_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|Am|El)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(wrote|a écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von|De)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Envoyé)\s*:\*?\s+\S", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_QUOTED_LINE = re.compile(r"^\s*>")
_ATTRIBUTION_LINES = 3
_OUTLOOK_LINES = 5


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history): history starts at the first reply header; ``>`` lines
    before it are history too."""
    lines = text.split("\n")
    cut = _first_history_line(lines)
    fresh = [line for line in lines[:cut] if not _QUOTED_LINE.match(line)]
    history = [line for line in lines[:cut] if _QUOTED_LINE.match(line)] + lines[cut:]
    return "\n".join(fresh).strip(), "\n".join(history).strip()


def _first_history_line(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _ORIGINAL.match(line) or _is_attribution(lines, index):
            return index
        if _is_outlook_header(lines, index):
            return index - 1 if index and _RULE.match(lines[index - 1]) else index
    return len(lines)


def _is_attribution(lines: list[str], index: int) -> bool:
    if not _ATTRIBUTION_START.match(lines[index]):
        return _introduces_quote(lines, index)
    # Clients wrap long attributions ("On ..., Name <addr>\nwrote:"): look a few lines on,
    # within the same paragraph.
    for line in lines[index : index + _ATTRIBUTION_LINES]:
        if _ATTRIBUTION_END.search(line):
            return True
        if not line.strip():
            return False
    return False


def _introduces_quote(lines: list[str], index: int) -> bool:
    """A bare "Name wrote:" line counts when quoted lines follow it."""
    if not _ATTRIBUTION_END.search(lines[index]):
        return False
    following = next((line for line in lines[index + 1 : index + 6] if line.strip()), "")
    return bool(_QUOTED_LINE.match(following))


def _is_outlook_header(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[index]):
        return False
    following = lines[index + 1 : index + _OUTLOOK_LINES]
    return any(_OUTLOOK_SENT.match(line) for line in following)
