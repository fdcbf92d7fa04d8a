"""Unicode tag characters (U+E0000 block): invisible ASCII that models read; decoded here."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, Decoded, has_unusual, hit

_RUN = re.compile("[\U000e0000-\U000e007f]+")
# Subdivision flags (England, Scotland, Wales) are a black flag followed by tag letters and a
# cancel tag: the one legitimate use of the block in mail.
_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")
_OFFSET = 0xE0000


def tag_runs(text: str) -> list[tuple[int, int, str]]:
    """Each run of tag characters outside emoji flags, with the ASCII it spells."""
    if not has_unusual(text) or not _RUN.search(text):
        return []
    flags = [m.span() for m in _FLAG.finditer(text)]
    runs = []
    for run in _RUN.finditer(text):
        if any(start <= run.start() and run.end() <= end for start, end in flags):
            continue
        runs.append((run.start(), run.end(), _spell(run.group())))
    return runs


def _spell(run: str) -> str:
    return "".join(chr(ord(ch) - _OFFSET) for ch in run if 0x20 <= ord(ch) - _OFFSET <= 0x7E)


class TagBlockRule:
    """Any tag-character run outside a flag emoji, reported with the text it spells."""

    code = "unicode.tag_block"
    description = "text hidden in Unicode tag characters"
    weight = 60
    markup = True

    def check(self, segment: Segment) -> list[Finding]:
        found = []
        for start, end, spelled in tag_runs(segment.text)[:MAX_HITS]:
            what = f"{self.description}, decoded"
            found.append(hit(self.code, what, segment, start, end, shown=spelled))
        return found


class TagDecoder:
    """The ASCII behind each tag run, for the other rules to read."""

    def decode(self, text: str) -> list[Decoded]:
        return [
            Decoded(start, end, spelled, "Unicode tag characters")
            for start, end, spelled in tag_runs(text)
            if spelled.strip()
        ]


TAG_BLOCK = TagBlockRule()
TAG_DECODER = TagDecoder()
