"""Output manipulation: commands about what the reader's own answer or reply must contain."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule
from mailmoat.scanner.domain.rules.lexicon import CLAUSE_START

_I = re.IGNORECASE | re.MULTILINE
_ANSWER = (
    r"your\s+(?:(?:final|next|own)\s+)?(?:answer|response|reply|output|summary|message)(?:'s)?"
)
# Verbs that rewrite an answer; a person asks for an answer, not for it to be altered. Verbs
# about an answer's layout (start, begin, format, translate) are left out: business mail uses
# them ("start your reply with the ticket number").
_REWRITE = (
    r"(?:modify|augment|enhance|integrate|incorporate|misspell|scramble|jumble|rearrange|"
    r"anagram|substitute|render|tease|hint|weave|embed|append|introduce|replace|convert|group|"
    r"combine|remove|encode|reverse|prepend|inject|insert)"
)
# Generic verbs count only with a piece of content as object ("add a sentence", not "add
# the invoice number"), so "include the PO number in your reply" stays benign.
_GENERIC = r"(?:add|include|mention|use|provide|suggest|write|say|put|recommend|promote)"
_CONTENT = (
    r"(?:an?\s+|the\s+following\s+|this\s+|these\s+)?(?:\w+\s+){0,3}?(?:sentence|statement|"
    r"reminder|tip|recommendation|headline|appeal|link|phrase|paragraph|line|reason|quote|"
    r"joke|poem|url|website|advertisement|ad|slogan|message|note|numbers|symbols|typos|"
    r"misspellings|anagrams|emojis?)\b|[\"'\u201c]"
)

# Within one sentence; a dot inside a domain name ("www.example.com") does not end it.
_SAME_SENTENCE = r"(?:[^.\n]|\.(?=\S)){0,120}?"
_REWRITE_ANSWER = re.compile(
    CLAUSE_START + _REWRITE + r"\b" + _SAME_SENTENCE + r"\b" + _ANSWER + r"\b", _I
)
_GENERIC_ANSWER = re.compile(
    CLAUSE_START + _GENERIC + r"\s+(?:" + _CONTENT + ")" + _SAME_SENTENCE + r"\b" + _ANSWER + r"\b",
    _I,
)
_VERB_THEN_ANSWER = re.compile(
    CLAUSE_START + _GENERIC + r"\s+" + _ANSWER + r"\s+(?:using|with|without|in|as)\b", _I
)
_LETTER_GAMES = re.compile(
    CLAUSE_START + r"(?:replace|substitute|swap|convert|scramble|jumble|shuffle|reverse)\s+"
    r"(?:(?:every|each|all|the|its|their|your)\s+)?(?:\w+\s+){0,2}?(?:letters?|vowels?|"
    r"consonants?|characters?)\b",
    _I,
)
_IN_ANSWER = re.compile(
    CLAUSE_START + r"(?:in|within|throughout|for)\s+" + _ANSWER + r"\s*,\s*\w+", _I
)

OUTPUT_MANIPULATION = PatternRule(
    code="injection.output_manipulation",
    description="tells the reader what to put in, or how to alter, its own answer",
    weight=50,
    patterns=(_REWRITE_ANSWER, _GENERIC_ANSWER, _VERB_THEN_ANSWER, _IN_ANSWER, _LETTER_GAMES),
    anchors=(
        "your answer",
        "your response",
        "your reply",
        "your output",
        "your summary",
        "your message",
        "your final",
        "your next",
        "your own",
        "letter",
        "letters",
        "vowel",
        "vowels",
        "consonant",
        "consonants",
        "character",
        "characters",
    ),
)
