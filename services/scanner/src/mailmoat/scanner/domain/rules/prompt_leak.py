"""Prompt extraction: requests that the reader show its own prompt, rules or configuration."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_I = re.IGNORECASE
# "Do not reveal your system prompt" is the opposite of an attack.
_NOT_WARNED = r"(?<!\bnot\s)(?<!\bnever\s)(?<!n't\s)"
_VERB = (
    r"(?:reveal|show|share|display|disclose|divulge|tell\s+(?:me|us)|give\s+(?:me|us)|print|"
    r"output|repeat|recite|list|dump|expose|leak|describe|explain|spell\s+out|paste|provide|"
    r"unveil|uncover|lay\s+bare|proclaim|state|revealing|showing|sharing|disclosing|displaying)"
)
_SHOW = rf"{_NOT_WARNED}(?:{_VERB}|what\s+(?:are|were))"
# Base forms only: "researchers showed how hidden instructions work" reports, it does not ask.
_OWNER = r"(?:your|the\s+AI'?s|the\s+assistant'?s|the\s+model'?s|the\s+bot'?s|ur)"
# A person asks for 'your dietary restrictions' or 'your router configuration'; the words
# below describe a model's own set-up, so only they may stand between owner and noun.
_QUALIFIER = (
    r"(?:system|initial|hidden|secret|original|underlying|core|base|internal|complete|full|"
    r"exact|entire|current|operational|operating|confidential|real|true|actual|safety|content|"
    r"ethical|behaviou?ral|guiding|startup|preset|built-in|default|programmed|training|model|"
    r"pre-?prompt|private|raw|verbatim|first|opening)"
)
_NOUN = (
    r"(?:prompts?|instructions|guidelines|restrictions|configuration|config|parameters|"
    r"directives|programming|rules|principles|constraints|initiali[sz]ation(?:\s+text)?|"
    r"system\s+message|training\s+data|limitations)"
)
_OWN_SETUP = re.compile(
    rf"\b{_SHOW}\b[^.\n]{{0,30}}?\b{_OWNER}\s+(?:{_QUALIFIER}\s+){{0,2}}{_NOUN}\b", _I
)
# 'hidden instructions', 'secret guidelines': a model's set-up whoever owns it.
_SECRET_SETUP = re.compile(
    rf"{_NOT_WARNED}\b{_VERB}\b[^.\n]{{0,40}}?\b(?:hidden|secret|internal|confidential|initial|underlying|"
    r"system)\s+(?:prompts?|instructions|guidelines|directives|rules|configuration)\b",
    _I,
)
# "The guidelines that restrict you": the owner named by a clause instead of "your".
_RULES_OVER_YOU = re.compile(
    rf"{_NOT_WARNED}\b{_VERB}\b[^.\n]{{0,30}}?\b(?:the|its)\s+{_NOUN}\s+(?:that|which)\s+"
    r"(?:restrict|govern|guide|control|bind|limit|shape|constrain)\w*\s+(?:you\b|what\s+you\b|your\b)",
    _I,
)
_FOREIGN = re.compile(
    # Stems that begin no English word take any ending; short ones ("qual", "dime", "montr")
    # begin English words ("qualifying", "dimension") and must stand alone.
    r"\b(?:(?:revel|muestr|mostr|desvel|desvend|r[ée]v[èée]l|d[ée]voil|expliqu|enth[üu]ll|zeig|"
    r"verrat|rivel|svel)\w*|dime|diga|dis-moi|qual|cu[aá]l|quel(?:le)?|welche[sr]?|nenne?|"
    r"montre[sz]?)\b"
    r"[^.\n]{0,50}?\b(?:prompt|\w+-Prompt|comando\s+(?:principale|fondamentale|base|de\s+base)|"
    r"commande\s+de\s+base|diretriz\w*|instrucciones|"
    r"indicaciones|directrices|instruções|instrucoes|diretrizes|comando\s+central|consignes|"
    r"invite|Anweisungen|Systemprompt|Richtlinien|Ausbildungsprompt|istruzioni|direttive)\b",
    _I,
)

PROMPT_LEAK = PatternRule(
    code="injection.prompt_leak",
    description="asks the reader to reveal its own prompt, rules or configuration",
    weight=50,
    patterns=(_OWN_SETUP, _SECRET_SETUP, _RULES_OVER_YOU, _FOREIGN),
    # Every match ends on one of these nouns.
    anchors=(
        "prompt",
        "prompts",
        "instructions",
        "guidelines",
        "restrictions",
        "configuration",
        "config",
        "parameters",
        "directives",
        "programming",
        "rules",
        "principles",
        "constraints",
        "initialization",
        "initialisation",
        "system message",
        "training data",
        "limitations",
        "instrucciones",
        "indicaciones",
        "directrices",
        "instruções",
        "instrucoes",
        "diretrizes",
        "comando",
        "consignes",
        "invite",
        "anweisungen",
        "systemprompt",
        "richtlinien",
        "ausbildungsprompt",
        "istruzioni",
        "direttive",
        "commande",
        "diretriz",
        "diretrizes",
    ),
    reach=120,
)
