"""Invisible characters: one definition for what ingest hides and what policy strips."""

from __future__ import annotations

import re

# Unicode 17 Default_Ignorable_Code_Point (which covers every Bidi_Control too), plus C0/C1
# controls other than TAB and LF: none of them draws a glyph, so text hidden in them reaches a
# model while a person reading the mail sees nothing.
INVISIBLE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
INVISIBLE_RUN = re.compile(f"[{INVISIBLE_CLASS}]+")


def strip_invisible(text: str) -> str:
    """``text`` without any invisible character."""
    return INVISIBLE_RUN.sub("", text)
