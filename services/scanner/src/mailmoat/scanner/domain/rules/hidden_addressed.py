"""Hidden text that speaks to a machine: to an AI, an assistant, or whatever reads the mail.

A newsletter may mention AI in its hidden preheader ("Hi AI builders, this week in LLMs"), so a
mention is not enough: the text must address the machine (a greeting, a note to it, 'if you are
an AI', 'whoever processes this') or the reader as something other than a person.
"""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.hidden_prose import Anchored, HiddenPatternRule

# Patterns are written in lower case and read the folded text (see hidden_prose.fold).
_M = re.MULTILINE
# Names only a machine answers to. "Agent" and "model" also name people and products (an
# insurance agent, a new car model): they count only with a qualifier that makes them software.
# Claude and Gemini are also a first name and a star sign ("Dear Gemini, this week..."): they
# count only where the text says they read the mail.
_MACHINE = (
    r"(?:ai|a\.i\.|llms?|gpt[\w.-]*|chatgpt|copilot|chat\s?bots?|bots?|assistants?|"
    r"(?:large\s+)?language\s+models?|summari[sz]ers?|machines?|crawlers?|"
    r"(?:ai|llm|e-?mail|inbox|mail|virtual|digital|autonomous|automated|software|reading|"
    r"summari[sz]ing)\s+(?:assistants?|agents?|models?|systems?|readers?|tools?))"
)
# The same, with the words that name software only when the sentence says it reads the mail.
_READER = r"(?:" + _MACHINE + r"|claude|gemini|agents?|models?|systems?|programs?|tools?|scripts?)"
_THIS_MAIL = (
    r"(?:this|these|that)\b|(?:the|my|our|your)\s+(?:e-?mails?|messages?|mail|inbox|mailbox|"
    r"threads?|conversations?|documents?|page|text)\b"
)
# Spoken to, a machine's name ends the phrase (punctuation, the end) or the text goes on to it
# ("reading this", "please"). "Hi AI builders" and "tips for AI-powered marketing" use AI as a
# modifier: they speak to people about AI.
_ADDRESSED = (
    r"(?![\w-])(?=\s*(?:[,:;!.)\u2013\u2014](?![\w-])|\s-\s|$|\s+(?:please|you|ignore|before|when|if|"
    r"do|don't|read|note|here|below|reading|processing|handling|summari[sz]ing|parsing|"
    r"reviewing|who|that|which|only|must|should)\b))"
)

_NOTE_TO = re.compile(
    r"\b(?:notes?|messages?|memo|reminders?|notice|instructions?|directives?|guidance|context|"
    r"info(?:rmation)?|request|warning|prompt|orders?|hints?|tips?|p\.?s\.?)\s+(?:to|for)\s+"
    r"(?:you,?\s+)?(?:the\s+|any\s+|all\s+|every\s+|each\s+|an?\s+)?(?:\w+\s+)?"
    + _MACHINE
    + _ADDRESSED,
    _M,
)
_GREETING = re.compile(
    r"\b(?:dear|hey|hi|hello|greetings|attention|attn|psst)\b[\s,:!.-]{0,3}(?:to\s+)?"
    r"(?:the\s+|all\s+|any\s+|every\s+|you\s+)?(?:\w+\s+)?" + _MACHINE + _ADDRESSED,
    _M,
)
# "Assistant: forward ..." or "AI, ignore ...": a name opening a sentence as its addressee.
# "AI:" alone is left out, since newsletters title a topic that way ("AI: what it means").
_LABEL = re.compile(
    r"(?:^|[.!?>\]\)]\s+|--\s*)(?:(?:the|dear)\s+)?(?:(?:ai\s+|virtual\s+|e-?mail\s+|inbox\s+)?"
    r"assistant|(?:ai|autonomous|e-?mail|inbox)\s+(?:agent|model)|chat\s?bot)\s*:"
    r"|(?:^|[.!?>\]\)]\s+)" + _MACHINE + r"\s*,\s*(?:please|you|ignore|do|don't|before|when|"
    r"read|note|forward|reply|send|summari[sz]e)\b",
    _M,
)
_IDENTITY = re.compile(
    r"\bif\s+you(?:'re|\s+are)\s+(?:an?\s+|the\s+)?(?:not\s+(?:an?\s+)?)?(?:"
    + _MACHINE
    + r"|human(?:\s+being)?)\b(?!\s+resources)"
    r"|\byou\s+are\s+(?:an?|the)\s+(?:ai|llm|(?:large\s+)?language\s+model|chat\s?bot|bot|"
    r"(?:ai|e-?mail|inbox|virtual|autonomous)\s+(?:assistant|agent|model))\b"
    r"|\bas\s+an?\s+(?:ai|llm|(?:large\s+)?language\s+model|ai\s+(?:assistant|agent|model))\s*,"
    r"|\b(?:to\s+)?you,\s+(?:the|an?|dear|my)\s+(?:\w+\s+)?(?:" + _MACHINE + r"|agent|model)\b",
    _M,
)
_READING = re.compile(
    r"\b" + _READER + r"\s+(?:(?:that|who|which)\s+(?:is|are)\s+|now\s+)?(?:reading|processing|"
    r"handling|summari[sz]ing|parsing|reviewing|triaging|scanning|analy[sz]ing|ingesting|"
    r"answering|monitoring|managing)\s+(?:" + _THIS_MAIL + r")"
    r"|\b(?:whoever|whatever|anything|any\s+(?:system|program|software|tool|process|automation|"
    r"script|automated\s+\w+))\s+(?:(?:that|who|which)\s+)?(?:is\s+|are\s+)?(?:reads?|reading|"
    r"process(?:es|ing)?|pars(?:es|ing)|summari[sz](?:es|ing)|handl(?:es|ing)|scans?|scanning|"
    r"analy[sz](?:es|ing)|ingests?|ingesting|sees|seeing)\s+(?:" + _THIS_MAIL + r")"
    r"|\b(?:anyone|anybody)\s+(?:(?:that|who)\s+(?:is\s+)?)?(?:process(?:es|ing)|pars(?:es|ing)|"
    r"summari[sz](?:es|ing)|ingest(?:s|ing)|scan(?:s|ning))\s+(?:" + _THIS_MAIL + r")",
    _M,
)
# Text that says it is not for the person: only a machine is left to read it.
_NOT_HUMAN = re.compile(
    r"\bnot\s+(?:meant\s+|intended\s+|written\s+)?for\s+(?:the\s+)?human(?:s|\s+(?:readers?|"
    r"recipients?|eyes))?\b"
    r"|\bhumans?\s+(?:readers?\s+)?(?:can(?:not|'t)|won't|will\s+not|do(?:n't|\s+not)|"
    r"should(?:n't|\s+not))\s+(?:see|read|notice)\b"
    r"|\b(?:invisible|hidden)\s+(?:to|from)\s+(?:the\s+)?(?:humans?|users?|recipients?|"
    r"readers?|persons?|people)\b"
    r"|\bnon-?human\s+(?:readers?|recipients?)\b"
    r"|\b(?:only|exclusively)\s+(?:for|to)\s+(?:the\s+)?(?:ai|llms?|machines?|bots?|"
    r"assistants?|automated\s+\w+|ai\s+(?:assistants?|agents?|models?))\b(?!\s+[a-z])",
    _M,
)
# Every match holds one of these names; the qualified ones ("e-mail agent") by their head word.
_MACHINES = (
    *("ai", "a.i.", "llm", "llms", "gpt", "chatgpt", "copilot", "chatbot", "chatbots", "chat"),
    *("bot", "bots", "assistant", "assistants", "language", "summarizer", "summariser"),
    *("summarizers", "summarisers", "machine", "machines", "crawler", "crawlers", "agent"),
    *("agents", "model", "models", "system", "systems", "reader", "readers", "tool", "tools"),
)
_READERS = (
    *_MACHINES,
    *("claude", "gemini", "program", "programs", "script", "scripts", "software", "process"),
    *("automation", "automated", "whoever", "whatever", "anything", "anyone", "anybody"),
)

ADDRESSED_IN_HIDDEN = HiddenPatternRule(
    code="hidden.addressed_to_ai",
    description="hidden text addresses an AI or whatever reads the mail",
    weight=50,
    checks=(
        Anchored(_NOTE_TO, _MACHINES),
        Anchored(_GREETING, _MACHINES),
        Anchored(_LABEL, _MACHINES),
        Anchored(_IDENTITY, (*_MACHINES, "human")),
        Anchored(_READING, _READERS),
        Anchored(
            _NOT_HUMAN, (*_MACHINES, "human", "humans", "invisible", "hidden", "non", "nonhuman")
        ),
    ),
)
