"""Invisible-character smuggling vectors and the Trojan Source samples through the outbound
scrubber: no default-ignorable or bidi-control code point is left, and the hidden text cannot
be read back. Legitimate joiners (Indic, Persian, emoji sequences) survive."""

from __future__ import annotations

import json

import pytest

from mailmoat.common.mail.scrub import scrub
from tests.support.external import external, report

RANGES = json.loads(external("unicode", "invisible_ranges.json").read_text())
FORBIDDEN = [
    (low, high)
    for name in ("Default_Ignorable_Code_Point", "Bidi_Control")
    for low, high in RANGES[name]
]


def _forbidden(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if any(lo <= ord(c) <= hi for lo, hi in FORBIDDEN)]


def _untag(text: str) -> str:
    return "".join(chr(ord(c) - 0xE0000) for c in text if 0xE0020 <= ord(c) <= 0xE007E)


def test_smuggling_vectors_leave_nothing_behind() -> None:
    data = json.loads(external("unicode", "smuggling_vectors.json").read_text())
    vectors = next(v for k, v in data.items() if k != "_doc")
    for vector in vectors:
        clean = scrub(vector["text"]).text
        assert _forbidden(clean) == [], vector["id"]
        if vector["hidden"]:
            assert vector["hidden"] not in clean, vector["id"]
            assert _untag(clean) == "", vector["id"]
    report("outbound scrub smuggling vectors", len(vectors), len(vectors))


def test_trojan_source_samples_lose_their_bidi_controls() -> None:
    samples = json.loads(external("unicode", "trojan_source_samples.json").read_text())
    clean = [scrub(s["text"]).text for s in samples]
    left = {s["path"]: _forbidden(c) for s, c in zip(samples, clean, strict=True) if _forbidden(c)}
    assert left == {}
    report("outbound scrub trojan source", len(samples), len(samples))


@pytest.mark.parametrize(
    "text",
    [
        "\u0915\u094d\u200d\u0937",  # Devanagari half form with ZWJ
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian ZWNJ
        "\U0001f469\u200d\U0001f4bb",  # woman technologist
        "\u2764\ufe0f\u200d\U0001f525",  # heart on fire
        "\U0001f44d\U0001f3fd",  # thumbs up, medium skin tone
        "Caf\u00e9 \u2764\ufe0f",
    ],
)
def test_joiners_the_script_needs_are_kept(text: str) -> None:
    result = scrub(text)
    assert (result.text, result.removed) == (text, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay\u200bpal", "paypal"),
        ("a\u200db", "ab"),  # a joiner between Latin letters joins nothing
        ("\u0915\u200c\u200d\u200c\u0937", "\u0915\u0937"),  # a run of joiners is a payload
        ("\U0001f600\ufe01\ufe02\ufe0f", "\U0001f600"),  # selectors as bytes after an emoji
        ("\u05e9\u05dc\u05d5\u05dd\u200f!", "\u05e9\u05dc\u05d5\u05dd!"),  # bidi marks go
        ("ok\U000e0041\U000e0042", "ok"),
    ],
)
def test_hidden_characters_are_removed(text: str, expected: str) -> None:
    result = scrub(text)
    assert result.text == expected
    assert result.removed == len(text) - len(expected)
