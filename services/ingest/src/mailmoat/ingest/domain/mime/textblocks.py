"""Collects rendered text into visible, quoted and hidden streams, with HTML whitespace rules."""

from __future__ import annotations

import re

from mailmoat.common.mail.structured import HiddenKind
from mailmoat.ingest.domain.mime.limits import MimeLimits

_SPACE_RUN = re.compile(r"[ \t\r\n\f\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class TextSink:
    """Receives text pieces from the renderer; every stream is capped by the limits."""

    def __init__(self, limits: MimeLimits) -> None:
        self._limits = limits
        self._streams: dict[bool, list[str]] = {False: [], True: []}
        self._sizes = {False: 0, True: 0}
        self._fragments: list[tuple[HiddenKind, list[str]]] = []
        self._fragment_size = 0
        self._last_kind: HiddenKind | None = None

    def text(self, data: str, quoted: bool) -> None:
        """Text a person sees (in the quoted history when ``quoted``)."""
        piece = _SPACE_RUN.sub(" ", data)
        if piece.strip():
            self._last_kind = None
        self._append(quoted, piece)

    def line_break(self, quoted: bool) -> None:
        """A block boundary or ``<br>``."""
        self._append(quoted, "\n")

    def hidden(self, kind: HiddenKind, data: str) -> None:
        """Text hidden from a person; consecutive pieces of one kind form one fragment."""
        piece = _SPACE_RUN.sub(" ", data).strip()
        if not piece:
            return
        if self._last_kind == kind and self._fragments:
            pieces = self._fragments[-1][1]
        elif len(self._fragments) < self._limits.max_fragments:
            pieces = []
            self._fragments.append((kind, pieces))
            self._fragment_size = 0
        else:
            return
        self._last_kind = kind
        room = self._limits.max_fragment_chars - self._fragment_size
        if room > 0:
            pieces.append(piece[:room])
            self._fragment_size += len(piece[:room]) + 1

    def visible_text(self) -> str:
        """The visible stream, tidied into lines."""
        return tidy("".join(self._streams[False]))

    def quoted_text(self) -> str:
        """The quoted stream, tidied into lines."""
        return tidy("".join(self._streams[True]))

    def fragments(self) -> tuple[tuple[HiddenKind, str], ...]:
        """Hidden (kind, text) pairs in document order."""
        return tuple((kind, " ".join(pieces)) for kind, pieces in self._fragments)

    def _append(self, quoted: bool, piece: str) -> None:
        room = self._limits.max_text_chars - self._sizes[quoted]
        if room > 0:
            self._streams[quoted].append(piece[:room])
            self._sizes[quoted] += min(room, len(piece))


def tidy(text: str) -> str:
    """Strip each line, keep at most one blank line in a row, and trim the ends."""
    lines = (" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
