"""Invisible characters: removed from what a person sees, and kept for the scanner."""

from __future__ import annotations

import re

from mailmoat.common.mail.invisible import INVISIBLE_RUN, strip_invisible

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}")


def split_invisible(text: str) -> tuple[str, tuple[str, ...]]:
    """The text without invisible characters, and each removed run of them in order."""
    runs = tuple(match.group() for match in INVISIBLE_RUN.finditer(text))
    if not runs:
        return text, ()
    return strip_invisible(text), runs


def clean_header_text(value: str, cap: int) -> str:
    """One display line: control and invisible characters gone, spaces collapsed, capped."""
    flat = _CONTROL.sub(lambda m: " " if m.group() in "\r\n" else "", value)
    visible = strip_invisible(flat)
    return _SPACES.sub(" ", visible).strip()[:cap]
