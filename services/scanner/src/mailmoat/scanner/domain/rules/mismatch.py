"""Text/HTML mismatch: one version of the body carries instruction words the other lacks."""

from __future__ import annotations

import html
import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.domain.rules.base import lowered, words

_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>|<!--|-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W\d_]{3,}")
# Words of an injection, not of ordinary mail or newsletter footers ("forward to a friend").
_INSTRUCTION_WORDS = frozenset(
    {"ignore", "disregard", "instructions", "instruction", "assistant", "prompt", "model"}
    | {"llm", "agent", "reveal", "password", "passwords", "credentials", "secret", "secrets"}
    | {"execute", "exfiltrate", "previous", "answer", "response", "system", "override"}
)
_MIN_WORDS = 3
_MIN_ONE_SIDED = 6


def _suspect(text: str) -> bool:
    """Cheap pre-check: enough instruction words occur at all to make a difference possible."""
    return len(_INSTRUCTION_WORDS & words(text)) >= _MIN_WORDS


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _html_words(source: str) -> set[str]:
    return _words(html.unescape(_TAG.sub(" ", _DROP.sub(" ", source))))


class TextHtmlMismatchRule:
    """Compares the word sets of the text/plain and text/html bodies; a large one-sided
    difference full of instruction words means one reader is told something the other is not."""

    code = "mismatch.text_html"
    description = "one body version carries instructions the other lacks"
    weight = 30

    def check(self, content: ScanContent) -> list[Finding]:
        text, source = content.segment("text"), content.segment("html")
        if text is None or source is None or not (_suspect(text.text) or _suspect(source.text)):
            return []
        plain, rendered = _words(text.text), _html_words(source.text)
        for part, extra, other in (
            ("html", rendered - plain, plain - rendered),
            ("text", plain - rendered, rendered - plain),
        ):
            odd = sorted(extra & _INSTRUCTION_WORDS)
            if len(odd) >= _MIN_WORDS and len(extra) >= _MIN_ONE_SIDED and len(other) < len(extra):
                reason = f"{self.description}: only the {part} body says {', '.join(odd)}"
                body = text if part == "text" else source
                start = max(0, lowered(body.text).find(odd[0]))
                end = start + len(odd[0])
                return [Finding(code=self.code, reason=reason, part=part, start=start, end=end)]
        return []


TEXT_HTML_MISMATCH = TextHtmlMismatchRule()
