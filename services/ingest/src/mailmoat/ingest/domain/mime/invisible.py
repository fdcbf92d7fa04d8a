"""Invisible characters: removed from what a person sees, and kept for the scanner."""

from __future__ import annotations

import re

# Unicode 17 Default_Ignorable_Code_Point (which covers every Bidi_Control too), plus C0/C1
# controls other than TAB and LF: none of them draws a glyph, so text hidden in them reaches a
# model while a person reading the mail sees nothing.
_INVISIBLE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE_RUN = re.compile(f"[{_INVISIBLE_CLASS}]+")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}")


def split_invisible(text: str) -> tuple[str, tuple[str, ...]]:
    """The text without invisible characters, and each removed run of them in order."""
    runs = tuple(match.group() for match in _INVISIBLE_RUN.finditer(text))
    if not runs:
        return text, ()
    return _INVISIBLE_RUN.sub("", text), runs


def clean_header_text(value: str, cap: int) -> str:
    """One display line: control and invisible characters gone, spaces collapsed, capped."""
    flat = _CONTROL.sub(lambda m: " " if m.group() in "\r\n" else "", value)
    visible = _INVISIBLE_RUN.sub("", flat)
    return _SPACES.sub(" ", visible).strip()[:cap]
