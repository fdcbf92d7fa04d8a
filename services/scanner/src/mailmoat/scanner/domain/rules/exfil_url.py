"""Exfiltration by URL: links or images whose address is built to carry the reader's data."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, hit

_URL = re.compile(r"https?://[^\s\"'<>\]]{3,2000}")
_PLACEHOLDER = re.compile(
    r"\{\{?\s*[A-Za-z_][\w.\s-]{0,40}\}\}?|%7B%7B?[A-Za-z_][\w.-]{0,40}%7D|\$\{?[A-Z_]{3,}\b"
    r"|\[(?:INSERT|DATA|PASSWORD|SECRET|EMAIL|CONTENT|SUMMARY|CONVERSATION)[^\]]{0,40}\]"
    r"|<(?:password|secret|data|email|summary|conversation|api[_ ]?key)[^>]{0,30}>",
    re.IGNORECASE,
)
_MD_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\(\s*(https?://[^)\s]{3,2000})", re.IGNORECASE)
_LONG_VALUE = re.compile(r"[?&][\w.-]{1,40}=[A-Za-z0-9+/=_%.-]{32,}")
_DESCRIPTION = "URL built to carry data out"


def _has_placeholder(text: str, url: re.Match[str]) -> bool:
    """A placeholder starting inside the URL's path or query; it may run past the URL's end,
    since '[INSERT CONVERSATION HERE]' holds spaces no URL does."""
    path = url.group().find("/", 8)
    if path == -1:
        return False
    placeholder = _PLACEHOLDER.search(text, url.start() + path, url.end() + 60)
    return placeholder is not None and placeholder.start() < url.end()


class ExfilUrlRule:
    """URLs with template placeholders, and markdown images whose query carries data."""

    code = "exfil.url_data"
    description = _DESCRIPTION
    weight = 50
    markup = True

    def check(self, segment: Segment) -> list[Finding]:
        found = self._placeholders(segment) + self._images(segment)
        return found[:MAX_HITS]

    def _placeholders(self, segment: Segment) -> list[Finding]:
        if "http" not in segment.text:
            return []
        return [
            hit(self.code, "URL with a data placeholder", segment, *url.span())
            for url in _URL.finditer(segment.text)
            if _has_placeholder(segment.text, url)
        ][:MAX_HITS]

    def _images(self, segment: Segment) -> list[Finding]:
        if "![" not in segment.text:
            return []
        return [
            hit(self.code, "markdown image whose URL carries data", segment, *image.span())
            for image in _MD_IMAGE.finditer(segment.text)
            if _LONG_VALUE.search(image.group(1)) or _PLACEHOLDER.search(image.group(1))
        ][:MAX_HITS]


EXFIL_URL = ExfilUrlRule()
