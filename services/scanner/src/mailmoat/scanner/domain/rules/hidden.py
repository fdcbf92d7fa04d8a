"""Hidden text that gives orders: a person cannot see it, so only a model would obey it."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, hidden_kind, hit
from mailmoat.scanner.domain.rules.lexicon import AGENT_ACTIONS, CLAUSE_START

# Style and script sources are code, and invisible-character runs carry no words of their own
# (the tag-block and bidi rules decode those); the other hidden kinds hold prose.
_NOT_PROSE = frozenset({"style", "script", "invisible_chars"})
_ORDER = re.compile(CLAUSE_START + AGENT_ACTIONS + r"\b", re.IGNORECASE | re.MULTILINE)


class HiddenActionRule:
    """Imperatives in hidden prose. Weak alone, since newsletter preheaders say 'shop now' too;
    the checker adds ``hidden.instructions`` when a stronger rule fires in hidden text."""

    code = "hidden.action_text"
    description = "hidden text gives an order"
    weight = 35
    markup = False

    def check(self, segment: Segment) -> list[Finding]:
        kind = hidden_kind(segment.part)
        if kind is None or kind in _NOT_PROSE:
            return []
        orders = list(_ORDER.finditer(segment.text))[:MAX_HITS]
        return [hit(self.code, self.description, segment, *m.span()) for m in orders]


HIDDEN_ACTION = HiddenActionRule()
