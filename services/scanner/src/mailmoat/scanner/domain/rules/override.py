"""Instruction override: text telling the reader to drop the instructions it was given.

Reported speech is let through: an advisory saying attackers send mails that say "ignore
previous instructions" quotes the phrase, with a reporting word before the opening quote and
the quote closed in the same sentence. An injection written that way still meets the other rules
(what it orders after the phrase), so only this one steps aside.
"""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import PatternRule

_I = re.IGNORECASE
# "my"/"our" previous instructions is one person correcting an earlier mail, not an attack.
_NOT_MINE = r"(?:(?!\b(?:my|our)\b)[^.\n]){0,40}?"

# "Why does my assistant forget earlier instructions?" describes a model; it gives no order.
# Checked behind the verb once it matched, so the scan keeps its fast literal start.
_SUBJECTS = ("does", "did", "assistant", "assistants", "model", "models", "agent", "agents", "bot")


def _unless_described(verb: str) -> str:
    return verb + "".join(rf"(?<!{subject}\s{verb})" for subject in _SUBJECTS)


_ENGLISH = re.compile(
    r"\b(?:"
    + "|".join(_unless_described(v) for v in ("ignore", "disregard", "forget"))
    + r"|overrides?|supersedes?|bypass|abandon|set\s+aside|"
    rf"do\s+not\s+follow|don'?t\s+follow|stop\s+following)\b{_NOT_MINE}\b(?:previous|prior|"
    r"preceding|above|"
    r"earlier|former|original|initial|existing|all|any|your|system|developer)\b"
    rf"{_NOT_MINE}\b(?:instructions?|directions|directives?|rules|guidelines|prompts?|"
    r"commands|orders|constraints|guardrails|programming|restrictions)\b",
    _I,
)
_SPANISH = re.compile(
    r"\b(?:ignor|olvid|descart|omit)\w*\s+(?:todas?\s+)?(?:las\s+|tus\s+|sus\s+)?"
    r"(?:instrucciones|indicaciones|reglas|órdenes|directrices)\s+"
    r"(?:anteriores|previas|de\s+arriba)",
    _I,
)
_FRENCH = re.compile(
    r"\b(?:ignor|oubli)\w*\s+(?:toutes\s+)?(?:les\s+|tes\s+|vos\s+)?"
    r"(?:instructions|consignes|règles|directives)\s+(?:précédentes|antérieures|ci-dessus)",
    _I,
)
_GERMAN = re.compile(
    r"\b(?:ignorier|vergiss|vergessen\s+sie|missacht)\w*\s+(?:sie\s+)?(?:alle\s+)?"
    r"(?:vorherigen|bisherigen|vorigen|obigen|früheren)\s+"
    r"(?:Anweisungen|Instruktionen|Regeln|Befehle|Vorgaben)",
    _I,
)
_PORTUGUESE = re.compile(
    r"\b(?:ignor|esqueç|esquec|desconsider|descart)\w*\s+(?:todas\s+)?(?:as\s+|suas\s+)?"
    r"(?:instruções|instrucoes|regras|ordens|diretrizes)\s+(?:anteriores|prévias|previas)",
    _I,
)

_REPORTED = re.compile(
    r"(?:\b(?:say|says|said|saying|like|such\s+as|contain|contains|containing|phrases?|words?|"
    r"text|reads?|e\.g\.|including|called)\s*:?\s*)[\"'\u201c\u2018\u00ab]\s?$",
    _I,
)
_CLOSED = re.compile(r"^[^.!?\n\"\u201d\u00bb]{0,60}[\"'\u201d\u2019\u00bb]", _I)


class ReportedSpeechFilter:
    """An override rule that skips the phrase where it is quoted as reported speech."""

    def __init__(self, rule: PatternRule) -> None:
        self._rule = rule
        self.code, self.description, self.weight = rule.code, rule.description, rule.weight
        self.markup = rule.markup

    def check(self, segment: Segment) -> list[Finding]:
        return [f for f in self._rule.check(segment) if not _reported(segment.text, f)]


def _reported(text: str, finding: Finding) -> bool:
    before = text[max(0, finding.start - 40) : finding.start]
    after = text[finding.end : finding.end + 62]
    return _REPORTED.search(before) is not None and _CLOSED.match(after) is not None


_OVERRIDE = PatternRule(
    code="injection.override",
    description="tells the reader to discard its previous instructions",
    weight=60,
    patterns=(_ENGLISH, _SPANISH, _FRENCH, _GERMAN, _PORTUGUESE),
    anchors=(
        "ignore",
        "ignores",
        "ignoring",
        "ignored",
        "disregard",
        "forget",
        "override",
        "overrides",
        "supersede",
        "supersedes",
        "bypass",
        "abandon",
        "aside",
        "follow",
        "following",
        "ignora",
        "ignorar",
        "ignores",
        "olvida",
        "olvide",
        "olvidar",
        "olvides",
        "descarta",
        "descarte",
        "descartar",
        "omite",
        "omita",
        "omitir",
        "ignorez",
        "ignorer",
        "oublie",
        "oubliez",
        "oublier",
        "ignoriere",
        "ignorieren",
        "ignoriert",
        "vergiss",
        "vergessen",
        "missachte",
        "missachten",
        "esqueça",
        "esqueca",
        "esquecer",
        "desconsidere",
        "desconsiderar",
    ),
)
OVERRIDE = ReportedSpeechFilter(_OVERRIDE)
