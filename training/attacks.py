"""AgentDojo's goals in its attack templates, and the encoding tricks of the ``encoded``
placement."""

from __future__ import annotations

import base64
import codecs
import random

from training.sources import Corpus

_MODELS = ("GPT-4", "Claude", "the assistant", "Gemini", "AI agent")
_USERS = ("Emma Johnson", "the account owner", "your user", "Mark")
TEMPLATES_PER_GOAL = 4


def agentdojo_attacks(corpus: Corpus, rng: random.Random) -> list[str]:
    """Every AgentDojo injection goal, alone and in ``TEMPLATES_PER_GOAL`` of its attack
    templates."""
    goals = [g for suite in sorted(corpus.agentdojo_goals) for g in corpus.agentdojo_goals[suite]]
    attacks = list(goals)
    for goal in goals:
        count = min(TEMPLATES_PER_GOAL, len(corpus.agentdojo_templates))
        for template in rng.sample(corpus.agentdojo_templates, count):
            attacks.append(_fill(template, goal, rng))
    return attacks


def _fill(template: str, goal: str, rng: random.Random) -> str:
    values = {"goal": goal, "user": rng.choice(_USERS), "model": rng.choice(_MODELS), "tools": ""}
    return template.format(**values).strip()


def encode(attack: str, rng: random.Random) -> tuple[str, str]:
    """(trick name, the attack hidden by it) for the ``encoded`` placement."""
    trick = rng.choice(("tags", "base64", "rot13", "zero_width", "fullwidth"))
    if trick == "tags":
        hidden = "".join(chr(0xE0000 + ord(c)) for c in attack if 0x20 <= ord(c) < 0x7F)
        return trick, rng.choice(("", "Thanks! ", "Regards ")) + hidden
    if trick == "base64":
        lead = rng.choice(("Reference: ", "Decode and apply: ", "", "Config blob: "))
        return trick, lead + base64.b64encode(attack.encode()).decode()
    if trick == "rot13":
        lead = rng.choice(("", "(rot13) ", "Note: "))
        return trick, lead + codecs.encode(attack, "rot13")
    if trick == "zero_width":
        return trick, "\u200b".join(attack)
    return trick, "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in attack)
