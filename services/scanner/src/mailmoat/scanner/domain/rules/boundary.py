"""Forged boundaries: text faking the end of the email (or document, summary, tool output) or
the start of a new turn or a new email, so that what follows reads as the agent's own task.

A closer of the email itself written as markup ("</email>", "[/EMAIL]", "[END OF EMAIL]")
flags alone: no person ends a mail that way, and a model that wraps mail in such tags reads it
as the end of the untrusted part. Every other boundary ("END OF EMAIL", "--- end of message
---", "Email 2:", "</document>", "[END USER INPUT]", "Tool output:", "<tool_result>", "###
Task:", "Assistant: Summary complete. User: ...", a "System:" line) flags only when instruction-
like text follows within ``REACH``: an imperative, words addressed to the reader ("you must",
"your new task") or a new task announced. Mail clients' own separators ("---------- Forwarded
message ---------", "-----Original Message-----", "On <date>, X wrote:", a "-- " signature
line) are none of these shapes.
"""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, anchored, hit
from mailmoat.scanner.domain.rules.lexicon import AGENT_ACTIONS, CLAUSE_START

_I = re.IGNORECASE | re.MULTILINE
REACH = 300
"""How far after a boundary the instruction it introduces may start."""
_LINE = REACH
"""How far a role label's instruction may run on its own line."""

_MAIL = r"(?:e-?mail|mail|message|msg|e-?mail[_-]?(?:content|body|text|message)|inbox[_-]?item)"
_EMAIL_CLOSER = re.compile(
    rf"</\s{{0,2}}{_MAIL}\s{{0,2}}>"
    rf"|\[\s{{0,2}}/\s{{0,2}}{_MAIL}\s{{0,2}}\]"
    r"|\[\s{0,2}end\s+(?:of\s+)?(?:the\s+)?(?:e-?mail|message)\s{0,2}\]"
    r"|<\s{0,2}end[_ -]of[_ -](?:e-?mail|message)\s{0,2}/?>",
    _I,
)
_OPENER = re.compile(rf"<\s{{0,2}}{_MAIL}\b[^<>\n]{{0,80}}>|\[\s{{0,2}}{_MAIL}\s{{0,2}}\]", _I)

_WRAPPED = (
    r"(?:document|doc|context|data|content|input|user[_-]?input|untrusted[\w-]{0,20}|"
    r"external[\w-]{0,20}|summary|text|body|query|instructions?|tool[_-]?(?:result|output|"
    r"response)|function[_-]?(?:results?|output)|result|output|observation|search[_-]?results?|"
    r"conversation|transcript|human|user|assistant)"
)
_ENDED = (
    r"(?:e-?mail|message|document|context|input|user\s+input|data|text|summary|conversation|"
    r"transcript|instructions|prompt|content|thread)"
)
_TAGGED = re.compile(
    rf"</\s{{0,2}}{_WRAPPED}\s{{0,2}}>"
    r"|<\s{0,2}(?:tool[_-]?(?:result|output|response)|function[_-]?(?:results?|output)|"
    r"observation|new[_-]?(?:task|instructions?|e-?mail|message)|instructions?|user[_-]?input|"
    r"admin|system[_-]?(?:message|instructions?|prompt))\s{0,2}>"
    rf"|\[\s{{0,2}}/?\s{{0,2}}(?:end\s+(?:of\s+)?)?(?:the\s+)?(?:{_ENDED}|user\s+input|"
    r"tool\s+(?:output|result))\s{0,2}\]",
    _I,
)
_SHOUTED = re.compile(
    r"\bEND\s+OF\s+(?:THE\s+)?(?:E-?MAIL|MESSAGE|DOCUMENT|CONTEXT|INPUT|USER\s+INPUT|DATA|TEXT|"
    r"SUMMARY|CONVERSATION|TRANSCRIPT|INSTRUCTIONS|PROMPT|CONTENT|THREAD)\b"
)
# Boundaries that stand alone on a line (or open it): read over the whole text, since a "^"
# fails at once everywhere but at a line start.
_ON_LINE = re.compile(
    rf"^[ \t>*#=_~\-\[(<|]{{0,10}}end\s+of\s+(?:the\s+)?{_ENDED}[ \t*#=_~.\-\])>|]*$"
    r"|^[ \t>*#=\-]{0,8}(?:e-?mail|message|document)\s*#?\s*\d{1,2}\s*[:)]"
    r"|^[ \t>*#=\-]{0,8}(?:new|next|another|second|following)\s+(?:e-?mail|message|task|"
    r"instructions?|request|conversation)\s*:"
    r"|^[ \t>*#=\-]{0,8}(?:tool|function)\s+(?:output|result|response|call\s+result)s?\s*:"
    r"|^[ \t>*#=\-]{0,8}observation\s*:"
    r"|^[ \t]*#{1,6}[ \t]*(?:answer|output|new\s+task|task)[ \t]*:?[ \t]*$",
    _I,
)
_INLINE_TURN = re.compile(
    r"\b(?:Assistant|ASSISTANT|AI|Model|System|SYSTEM|Bot)\s*:[^\n]{0,160}?\b"
    r"(?:User|USER|Human|HUMAN)\s*:"
)
# A turn label opening a line; what it says must be an order on that same line.
_ROLE_LINE = re.compile(
    r"^[ \t>*]{0,4}(?-i:System|SYSTEM|User|USER|Human|HUMAN|Assistant|ASSISTANT|Developer|"
    r"DEVELOPER)[ \t]*:",
    re.MULTILINE,
)
_INSTRUCTION = re.compile(
    CLAUSE_START + AGENT_ACTIONS + r"\b(?!\s*#?\s*\d)"  # "Email 2:" is the next boundary
    r"|\byou\s+(?:must|should|shall|will\s+now|need\s+to|have\s+to|are\s+(?:now|to|required|"
    r"instructed))\b"
    r"|\byour\s+(?:new\s+|next\s+|real\s+|actual\s+|only\s+)?(?:task|job|instructions?|goal|"
    r"role|priority)\b"
    r"|\b(?:new|next|updated|additional|real|actual)\s+(?:task|instructions?|request|"
    r"directive|prompt)\b"
    r"|\b(?:the\s+)?user\s+(?:wants|asks|requests|needs|has\s+asked)\b",
    _I,
)
_ROLE_ANCHORS = ("system", "user", "human", "assistant", "developer")
_TURN_ANCHORS = ("assistant", "ai", "model", "system", "bot")


class ForgedBoundaryRule:
    """Fake ends of the mail and fake new turns, read in rendered text: an HTML mail's
    "&lt;/email&gt;" is the "</email>" its reader sees."""

    code = "injection.forged_boundary"
    description = "fakes the end of the email or a new turn, then gives instructions"
    weight = 55
    markup = False

    def check(self, segment: Segment) -> list[Finding]:
        found = [*self._closers(segment), *self._boundaries(segment), *self._role_lines(segment)]
        return found[:MAX_HITS]

    def _closers(self, segment: Segment) -> list[Finding]:
        found = []
        for start, end in anchored(segment.text, ("<", "["), reach=100):
            for closer in _EMAIL_CLOSER.finditer(segment.text, start, end):
                if not _opened_on_line(segment.text, closer.start()):
                    what = "fake end-of-email markup"
                    found.append(hit(self.code, what, segment, *closer.span()))
        return found

    def _boundaries(self, segment: Segment) -> list[Finding]:
        text = segment.text
        found = []
        for boundary in _candidates(text):
            span = _instructed(text, boundary.end(), boundary.end() + REACH)
            if span is not None:
                found.append(hit(self.code, self.description, segment, boundary.start(), span))
        return found

    def _role_lines(self, segment: Segment) -> list[Finding]:
        found = []
        for start, end in anchored(segment.text, _ROLE_ANCHORS, reach=20):
            for label in _ROLE_LINE.finditer(segment.text, start, end):
                line_end = segment.text.find("\n", label.end())
                stop = min(label.end() + _LINE, len(segment.text) if line_end < 0 else line_end)
                span = _instructed(segment.text, label.end(), stop)
                if span is not None:
                    found.append(hit(self.code, self.description, segment, label.start(), span))
        return found


def _candidates(text: str) -> list[re.Match[str]]:
    """Every boundary in the text, each looked for only where it can be."""
    found = [m for s, e in anchored(text, ("<", "["), 100) for m in _TAGGED.finditer(text, s, e)]
    found += [
        m for s, e in anchored(text, _TURN_ANCHORS) for m in _INLINE_TURN.finditer(text, s, e)
    ]
    found += list(_SHOUTED.finditer(text)) if "END" in text else []
    found += list(_ON_LINE.finditer(text))
    return found[: MAX_HITS * 4]


def _instructed(text: str, start: int, stop: int) -> int | None:
    """Where the instruction after a boundary ends, or None when none follows."""
    order = _INSTRUCTION.search(text, start, min(stop, len(text)))
    return order.end() if order else None


def _opened_on_line(text: str, at: int) -> bool:
    """Whether an opening tag stands before the closer on its line: markup being discussed."""
    line_start = text.rfind("\n", 0, at) + 1
    return _OPENER.search(text, line_start, at) is not None


FORGED_BOUNDARY = ForgedBoundaryRule()
