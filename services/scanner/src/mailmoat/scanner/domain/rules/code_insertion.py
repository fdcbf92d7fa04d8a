"""Code insertion: orders to put a supplied code block into the reader's own code or answer."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_BLOCK = (
    r"(?:the\s+)?(?:following|subsequent|below|above|attached)\s+(?:code\s+)?(?:code|block|"
    r"snippet|section|excerpt|script)s?"
)
_YOURS = (
    r"your\s+(?:own\s+)?(?:code(?:base)?|solution(?:\s+architecture)?|implementation|algorithm|"
    r"program|script|response|answer|reply|elucidation)"
)
_NEAR = r"(?:[^\n]|\n(?!\n)){0,160}?"
_INSERT = re.compile(rf"\b{_BLOCK}\b{_NEAR}\b{_YOURS}\b|\b{_YOURS}\b{_NEAR}\b{_BLOCK}\b", re.I)

CODE_INSERTION = PatternRule(
    code="injection.code_insertion",
    description="orders a supplied code block into the reader's own code or answer",
    weight=50,
    patterns=(_INSERT,),
    anchors=(
        "following",
        "subsequent",
        "below",
        "above",
        "attached",
    ),
)
