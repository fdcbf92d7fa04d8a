"""Hidden text that gives orders: a person cannot see it, so only a model would obey it.

This rule weighs the imperatives preheaders also use ('shop now'); the hidden_addressed,
hidden_orders and hidden_links rules flag what newsletters never hide.
"""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, hidden_kind, hit
from mailmoat.scanner.domain.rules.hidden_prose import NOT_PROSE
from mailmoat.scanner.domain.rules.lexicon import AGENT_ACTIONS, CLAUSE_START

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
        if kind is None or kind in NOT_PROSE:
            return []
        orders = list(_ORDER.finditer(segment.text))[:MAX_HITS]
        return [hit(self.code, self.description, segment, *m.span()) for m in orders]


HIDDEN_ACTION = HiddenActionRule()
