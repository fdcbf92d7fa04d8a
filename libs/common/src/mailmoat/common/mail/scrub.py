"""Outbound invisible-character scrubbing: what an agent sends carries no hidden text.

Every invisible code point goes (Default_Ignorable_Code_Point, which covers the bidi controls and
the U+E0000 tag block, and C0/C1 controls), except where the visible text needs one:

- ZWJ and ZWNJ between two letters of a script that shapes with them (Arabic, Syriac, the Indic
  scripts, Myanmar, Khmer, Mongolian);
- ZWJ inside an emoji sequence (an emoji or skin tone before it, an emoji after it);
- VS15/VS16 straight after an emoji or a symbol, choosing text or emoji presentation.

Bidi controls (including LRM, RLM and ALM) are always removed: they reorder what a reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailmoat.common.mail.invisible import INVISIBLE_CLASS

ZWNJ, ZWJ = "\u200c", "\u200d"
VS15, VS16 = "\ufe0e", "\ufe0f"
_JOINERS = frozenset((ZWNJ, ZWJ))
_PRESENTATION = frozenset((VS15, VS16))
_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")

# Scripts whose shaping uses ZWJ/ZWNJ between letters.
_JOINING_SCRIPTS = (
    (0x0600, 0x06FF),  # Arabic
    (0x0700, 0x074F),  # Syriac
    (0x0750, 0x077F),  # Arabic Supplement
    (0x0870, 0x08FF),  # Arabic Extended-B/A
    (0x0900, 0x0DFF),  # Devanagari ... Sinhala
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1800, 0x18AF),  # Mongolian
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
)
_EMOJI = (
    (0x2190, 0x21FF),  # arrows
    (0x2300, 0x23FF),  # technical
    (0x2460, 0x27BF),  # enclosed, shapes, dingbats, miscellaneous symbols
    (0x2900, 0x2BFF),  # arrows, symbols
    (0x1F000, 0x1FAFF),  # emoji blocks
)
_SKIN_TONES = (0x1F3FB, 0x1F3FF)
_SYMBOL_BASES = frozenset("#*0123456789\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\u303d")


@dataclass(frozen=True)
class Scrubbed:
    """The text to send and how many invisible code points were taken out of it."""

    text: str
    removed: int


def scrub(text: str) -> Scrubbed:
    """``text`` without invisible characters, keeping only those its script needs."""
    if not _INVISIBLE.search(text):
        return Scrubbed(text, 0)
    kept: list[str] = []
    for index, char in enumerate(text):
        if not _INVISIBLE.match(char) or _needed(text, index):
            kept.append(char)
    return Scrubbed("".join(kept), len(text) - len(kept))


def _needed(text: str, index: int) -> bool:
    """Judged on the original neighbours, so a run of invisible characters never passes as a
    legitimate one: only a single joiner or selector between visible characters can stay."""
    char = text[index]
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char in _JOINERS:
        if _joining_letter(before) and _joining_letter(after):
            return True
        if char == ZWJ and before == VS16 and index >= 2:
            before = text[index - 2]  # an emoji with its selector, then the joiner
        return char == ZWJ and _emoji_or_tone(before) and _is_emoji(after)
    if char in _PRESENTATION:
        lone = not _INVISIBLE.match(after) or after == ZWJ
        return lone and bool(before) and (_is_emoji(before) or before in _SYMBOL_BASES)
    return False


def _joining_letter(char: str) -> bool:
    if not char:
        return False
    point = ord(char)
    in_script = any(low <= point <= high for low, high in _JOINING_SCRIPTS)
    return in_script and unicodedata.category(char)[0] in "LM"


def _is_emoji(char: str) -> bool:
    return bool(char) and any(low <= ord(char) <= high for low, high in _EMOJI)


def _emoji_or_tone(char: str) -> bool:
    return _is_emoji(char) or (bool(char) and _SKIN_TONES[0] <= ord(char) <= _SKIN_TONES[1])
