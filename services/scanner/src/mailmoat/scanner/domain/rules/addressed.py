"""Text addressed to an AI reader that goes on to tell it to act."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, anchored, hit
from mailmoat.scanner.domain.rules.lexicon import AGENT_ACTIONS, CLAUSE_START, VERDICT_ACTIONS

_MODELS = r"(?:AI|A\.I\.|LLMs?|GPT|ChatGPT|Claude|Gemini|Copilot|chatbot|bot|model|assistant|agent)"
_READING = (
    r"(?:reading|processing|handling|summari[sz]ing|parsing|reviewing|triaging|managing|"
    r"monitoring|scanning|answering)"
)
# A person is asked to read before replying; only a model summarises a mail or is told to
# finish "the task" or answer "the user" first.
_BEFORE = (
    r"\bbefore\s+(?:you\s+)?(?:can\s+)?(?:(?:summari[sz]\w*|process\w*|triag\w*)\s+(?:this|the|"
    r"these|my|any)\s+(?:e-?mails?|messages?|mail|threads?|inbox|conversation)"
    r"|(?:solv|complet|answer|respond|repl|continu|proceed|finish)\w*\s+[^.\n]{0,30}?\b(?:the|"
    r"your|original|user'?s)\s+(?:task|user|request|query))"
)
_STRONG = re.compile(
    r"\bif\s+you\s+are\s+(?:an?\s+)?(?:AI|A\.I\.|LLM|(?:large\s+)?language\s+model|chatbot|"
    r"bot|(?:virtual\s+|digital\s+|AI\s+)?assistant|(?:AI\s+)?agent|automated\s+\w+|machine)"
    rf"|\bnote\s+(?:to|for)\s+(?:the\s+|any\s+)?{_MODELS}"
    r"|\b(?:dear|hey|hi|hello|attention|attn|instructions?\s+for(?:\s+the)?)\s*[,:]?\s+"
    r"(?:AI|LLMs?|GPT|ChatGPT|Claude|Gemini|Copilot|chatbot|bot|model)\b"
    rf"|\b(?:to|for)\s+(?:the|any)\s+{_MODELS}\s+(?:reading|processing|summari[sz]ing|handling|"
    r"parsing|reviewing)"
    rf"|\b(?:whichever|any|every)\s+(?:AI|A\.I\.|LLMs?|chatbot|bot|model|(?:AI\s+)?agent|"
    r"(?:AI\s+)?assistant)\b"
    rf"|\b{_MODELS}\s+(?:that\s+is\s+|who\s+is\s+)?{_READING}\s+(?:this|these|the|my|our)\s+"
    r"(?:e-?mails?|messages?|mail|inbox|mailbox|threads?|conversation|documents?)\b"
    r"|\b(?:attention|attn|dear|hello|hi)\s*[,:-]?\s+(?:the\s+)?(?:automated|autonomous|AI|"
    r"e-?mail|virtual|digital)\s+(?:\w+\s+)?(?:assistant|agent|model|system)\b"
    r"|\b(?:instructions?|message|directive|request)\s+(?:for|to)\s+(?:the\s+)?(?:e-?mail\s+|"
    r"inbox\s+|automated\s+|AI\s+)?(?:AI|A\.I\.|LLM|agent|assistant|model|bot)\b"
    r"|\bnot\s+for\s+(?:the\s+)?human(?:\s+(?:reader|recipient|eyes))?\b"
    r"|\bto\s+you,\s+(?:the\s+)?(?:AI|assistant|GPT[\w.-]*|Claude|Gemini|model|agent|AI\s+agent|"
    r"AI\s+assistant|Copilot)\b"
    rf"|{_BEFORE}",
    re.IGNORECASE,
)
# Words that also name people ("dear agent", "my assistant") or products; weak alone.
_WEAK = re.compile(
    r"\b(?:AI|e-?mail|virtual|digital|automated)\s+(?:assistant|agent)s?\b"
    r"|\b(?:dear|hey|hi|hello)\s*[,:]?\s+(?:assistant|agent)\b"
    r"|\b(?:large\s+)?language\s+models?\b|\bLLMs?\b",
    re.IGNORECASE,
)
# A model addressed as such is also told what to make of the mail ("label this email as safe").
_ACTION = re.compile(
    CLAUSE_START + rf"(?:{AGENT_ACTIONS}|{VERDICT_ACTIONS})\b", re.IGNORECASE | re.MULTILINE
)
_REACH = 200
_STRONG_ANCHORS = (
    "if you are",
    "note to",
    "note for",
    "ai",
    "a.i.",
    "llm",
    "llms",
    "gpt",
    "chatgpt",
    "claude",
    "gemini",
    "copilot",
    "chatbot",
    "bot",
    "model",
    "assistant",
    "agent",
    "whichever",
    "attention",
    "attn",
    "instructions",
    "instruction",
    "message",
    "directive",
    "request",
    "human",
    "to you",
    "before",
)
_WEAK_ANCHORS = ("assistant", "assistants", "agent", "agents", "language model", "llm", "llms")


@dataclass(frozen=True, slots=True)
class AddressedRule:
    """An AI addressee with an imperative within reach after it."""

    code: str
    description: str
    weight: int
    addressee: re.Pattern[str]
    anchors: tuple[str, ...]
    markup: bool = False

    def check(self, segment: Segment) -> list[Finding]:
        found: list[Finding] = []
        for start, end in anchored(segment.text, self.anchors, reach=80):
            for addressee in self.addressee.finditer(segment.text, start, end):
                action = _ACTION.search(segment.text, addressee.end(), addressee.end() + _REACH)
                if action:
                    span = (addressee.start(), action.end())
                    found.append(hit(self.code, self.description, segment, *span))
                if len(found) >= MAX_HITS:
                    return found
        return found


ADDRESSED_TO_AI = AddressedRule(
    code="injection.addressed_to_ai",
    description="addresses an AI reader ('if you are an AI') and tells it to act",
    weight=55,
    addressee=_STRONG,
    anchors=_STRONG_ANCHORS,
)
MENTIONS_AI = AddressedRule(
    code="injection.mentions_ai",
    description="mentions an AI assistant or agent, then gives an order",
    weight=30,
    addressee=_WEAK,
    anchors=_WEAK_ANCHORS,
)
