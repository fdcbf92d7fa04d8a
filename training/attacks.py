"""Attack strings per split (train, validation, evaluation never share one) and encoding tricks."""

from __future__ import annotations

import base64
import codecs
import random

from training.sources import Corpus

SPLITS = ("train", "validation", "evaluation")
_TRAIN_SUITES = ("workspace", "travel")
_EVAL_SUITES = ("banking", "slack")
_MODELS = ("GPT-4", "Claude", "the assistant", "Gemini", "AI agent")
_USERS = ("Emma Johnson", "the account owner", "your user", "Mark")


def attack_pools(corpus: Corpus, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(source, attack text) per split. The evaluation pool holds BIPIA code attacks, the
    held-out s-labs test split, a held-out multilingual slice and other AgentDojo suites' goals."""
    slabs = {s: [t for t, label in rows if label == 1] for s, rows in corpus.slabs.items()}
    multi = corpus.multilingual_attacks
    cut1, cut2 = int(len(multi) * 0.7), int(len(multi) * 0.85)
    bipia = corpus.bipia_text_attacks
    pools = {
        "train": [("bipia-text", a) for a in bipia]
        + [("slabs", a) for a in rng.sample(slabs["train"], 2500)]
        + [("multilingual", a) for a in multi[:cut1]]
        + [("agentdojo", a) for a in _agentdojo(corpus, _TRAIN_SUITES, rng, 4)],
        "validation": [("bipia-text", a) for a in bipia]
        + [("slabs", a) for a in slabs["validation"]]
        + [("multilingual", a) for a in multi[cut1:cut2]],
        "evaluation": [("bipia-code", a) for a in corpus.bipia_code_attacks]
        + [("slabs", a) for a in slabs["test"]]
        + [("multilingual", a) for a in multi[cut2:]]
        + [("agentdojo", a) for a in _agentdojo(corpus, _EVAL_SUITES, rng, 3)],
    }
    return {split: _dedupe(pool) for split, pool in pools.items()}


def _agentdojo(corpus: Corpus, suites: tuple[str, ...], rng: random.Random, n: int) -> list[str]:
    goals = [g for s in suites for g in corpus.agentdojo_goals.get(s, [])]
    attacks = list(goals)
    for goal in goals:
        for template in rng.sample(corpus.agentdojo_templates, n):
            attacks.append(_fill(template, goal, rng))
    return attacks


def _fill(template: str, goal: str, rng: random.Random) -> str:
    values = {"goal": goal, "user": rng.choice(_USERS), "model": rng.choice(_MODELS), "tools": ""}
    return template.format(**values).strip()


def _dedupe(pool: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for source, text in pool:
        if text.strip() and text not in seen:
            seen.add(text)
            out.append((source, text.strip()))
    return out


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
