"""Obfuscations a person writes by hand to slip an instruction past a matcher: spaced or dotted
letters, leetspeak and look-alike letters from other scripts."""

from __future__ import annotations

import random

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Cyrillic and Greek letters that render like Latin ones.
_HOMOGLYPHS = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "x": "\u0445",
    "y": "\u0443",
    "i": "\u0456",
    "v": "\u03bd",
}


def obfuscate(text: str, rng: random.Random) -> str:
    """``text`` with one hand-made obfuscation applied to some or all of its words."""
    how = rng.choice((_spaced, _leet, _homoglyphs))
    words = text.split(" ")
    share = rng.choice((0.3, 0.6, 1.0))
    return " ".join(how(w, rng) if rng.random() < share else w for w in words)


def _spaced(word: str, rng: random.Random) -> str:
    return rng.choice((" ", ".", "-", "  ")).join(word) if len(word) > 2 else word


def _leet(word: str, rng: random.Random) -> str:
    return "".join(_LEET.get(c, c) if rng.random() < 0.7 else c for c in word)


def _homoglyphs(word: str, rng: random.Random) -> str:
    return "".join(_HOMOGLYPHS.get(c, c) if rng.random() < 0.6 else c for c in word)
