"""Fake chat-template tokens: text posing as a system, user or assistant turn."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, PatternRule, hit, lowered

_TEMPLATE = re.compile(
    r"<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|eom_id|"
    r"start_header_id|end_header_id|begin_of_text|end_of_turn|start_of_turn)\|>"
    r"|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>"
    r"|^[ \t]*#{2,}[ \t]*(?:System|Instruction|Response|Assistant|Human|User)[ \t]*:",
    re.MULTILINE,
)
# In HTML source <s>, </s> and <system> could be markup; in text they are model tokens.
_PLAIN_ONLY = re.compile(r"</s>|<\|?/?(?:system|assistant)\|?>")
_HUMAN_TURN = re.compile(r"^[ \t]*(?:Human|User)[ \t]*:", re.MULTILINE)
_MODEL_TURN = re.compile(r"^[ \t]*(?:Assistant|AI|System)[ \t]*:", re.MULTILINE)

_ANCHORS = ("<|", "[inst", "[/inst", "<<sys", "<</sys", "_of_turn>", "##")
_DESCRIPTION = "fake chat-role or template token"


class RoleTokenRule:
    """Chat-template tokens, and a dialogue of Human:/Assistant: turns written into a mail."""

    code = "injection.role_token"
    description = _DESCRIPTION
    weight = 70
    markup = True

    def __init__(self) -> None:
        self._tokens = PatternRule(self.code, _DESCRIPTION, self.weight, (_TEMPLATE,), _ANCHORS)

    def check(self, segment: Segment) -> list[Finding]:
        found = self._tokens.check(segment)
        if segment.part != "html":
            found += [hit(self.code, _DESCRIPTION, segment, *m.span()) for m in _plain(segment)]
        found += self._turns(segment)
        return found[:MAX_HITS]

    def _turns(self, segment: Segment) -> list[Finding]:
        low = lowered(segment.text)
        if "human" not in low and "user" not in low:
            return []
        human = _HUMAN_TURN.search(segment.text)
        model = _MODEL_TURN.search(segment.text)
        if not (human and model):
            return []
        what = "fake Human/Assistant dialogue turns"
        return [
            hit(self.code, what, segment, *human.span()),
            hit(self.code, what, segment, *model.span()),
        ]


def _plain(segment: Segment) -> list[re.Match[str]]:
    if "<" not in segment.text:
        return []
    return list(_PLAIN_ONLY.finditer(segment.text))[:MAX_HITS]


ROLE_TOKEN = RoleTokenRule()
