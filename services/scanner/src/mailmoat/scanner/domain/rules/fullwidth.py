"""Fullwidth Latin text (U+FF01-U+FF5E): ASCII in another code block, read back by the rules."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import Decoded

# East Asian mail uses fullwidth digits, punctuation and the odd short word (a fullwidth
# "PDF"); only
# runs long enough to be a sentence are decoded.
_RUN = re.compile("[\uff01-\uff5e][\uff01-\uff5e\u3000 ]{15,}")
_MIN_LETTERS = 12
_SHIFT = 0xFEE0


def _is_letter(ch: str) -> bool:
    return "\uff21" <= ch <= "\uff3a" or "\uff41" <= ch <= "\uff5a"


def _ascii(run: str) -> str:
    return "".join(" " if ch in " \u3000" else chr(ord(ch) - _SHIFT) for ch in run)


class FullwidthDecoder:
    """The ASCII behind each long fullwidth run; characters map one to one, so spans hold."""

    def decode(self, text: str) -> list[Decoded]:
        if text.isascii():
            return []
        found = []
        for run in _RUN.finditer(text):
            if sum(_is_letter(ch) for ch in run.group()) >= _MIN_LETTERS:
                index = tuple(range(run.start(), run.end()))
                found.append(
                    Decoded(run.start(), run.end(), _ascii(run.group()), "fullwidth", index)
                )
        return found


FULLWIDTH_DECODER = FullwidthDecoder()
