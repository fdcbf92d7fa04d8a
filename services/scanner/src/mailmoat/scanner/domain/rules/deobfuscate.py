"""Obfuscated keywords read back: spaced-out letters, leetspeak, look-alike letters, split tokens.

"i g n o r e  a l l", "S.Y.S.T.E.M", "1gn0re", "ignore" in part Cyrillic and "< | im _ start | >"
are written so that keyword rules miss them. This decoder rewrites such runs into plain text around
them (a window of ``CONTEXT`` characters) for every rule to read again; text found there counts
as concealed (``hidden.instructions``), which is the point: nobody writes a mail that way.

Only rewrites that yield a word of ``VOCABULARY`` (the words of injection phrasing) are kept, so
a list "a b c d", a version "v1.0.3", a product "B2B" or a Russian sentence produce no view and
cost no second reading. Look-alike letters mixed into a Latin word are always read back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from mailmoat.common.lookalike import prototypes
from mailmoat.scanner.domain.rules.base import Decoded

CONTEXT = 300
"""Characters of unchanged text kept on each side of a rewrite, for rules reading a phrase."""
HOW = "de-obfuscated text (spaced letters, leetspeak, look-alike letters)"

VOCABULARY = frozenset(
    (
        *("ignore", "disregard", "forget", "override", "bypass", "previous", "prior", "above"),
        *("instructions", "instruction", "rules", "guidelines", "directives", "prompt"),
        *("system", "assistant", "user", "human", "inst", "sys", "admin", "developer"),
        *("jailbreak", "jailbroken", "unrestricted", "forward", "send", "reveal", "password"),
        *("passwords", "secret", "secrets", "credentials", "confidential", "token", "execute"),
        *("email", "emails", "inbox", "mailbox", "contacts", "delete", "reply", "respond"),
        *("all", "any", "your", "the", "you", "are", "now", "new", "task", "to", "and", "of"),
        *("me", "my", "do", "not", "this", "that", "a", "an", "is", "in", "with", "from"),
        *("mode", "dan", "act", "as", "pretend", "output", "print", "show", "tell", "summary"),
        *("important", "urgent", "ai", "model", "agent", "im", "start", "end", "endoftext"),
        *("messages", "message", "data", "api", "key", "keys", "safety", "filter", "filters"),
    )
)
"""Words a rewrite must produce to be kept (short function words only help segmentation)."""
_TRIGGERS = (
    VOCABULARY
    - {"all", "any", "your", "the", "you", "are", "now", "new", "to"}
    - {
        *("and", "of", "me", "my", "do", "not", "this", "that", "a", "an", "is", "in", "with"),
        *("from", "as", "act", "im", "start", "end", "show", "tell", "mode", "data", "key"),
    }
)
_LONGEST = max(len(w) for w in VOCABULARY)
_LEET = str.maketrans({"1": "i", "0": "o", "3": "e", "4": "a", "5": "s", "7": "t"})
_LEET_L = str.maketrans({"1": "l", "0": "o", "3": "e", "4": "a", "5": "s", "7": "t"})
_LEET_SYMBOLS = str.maketrans({"@": "a", "$": "s"})

# Single characters joined by one separator, or by a wider gap between words: "i g n o r e".
_CHAR = r"(?:[^\W_]|[@$])"
_SPACED = re.compile(
    rf"(?<!{_CHAR}){_CHAR}(?:(?:[ .\-_*|/~+\u00b7\u2022]|[ \t]{{2,4}}){_CHAR}(?!{_CHAR})){{3,300}}"
)
_SPACED_SPOT = re.compile(
    r"[ .\-_*|/~+\u00b7\u2022][^\W_][ .\-_*|/~+\u00b7\u2022][^\W_][ .\-_*|/~+\u00b7\u2022]"
)
"""Two single letters between separators: every spaced run of four holds this, prose rarely."""
_PIECE = re.compile(r"\S(?:[ \t]?\S)*")
"""A word of a spaced run: its characters apart by at most one space."""
# A token holding letters and leet digits or symbols side by side: "1gn0re", "@ssistant".
_LEET_SPOT = re.compile(r"[013457@$](?:(?<=[A-Za-z].)|(?=[A-Za-z]))")
_TOKEN_CHARS = frozenset("0123456789@$_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MAX_TOKEN = 30
# Chat-template tokens written apart: "< | im _ start | >", "[ I N S T ]", "<|im\u200bstart|>".
_BRACKET = re.compile(r"(<\s{0,3}\||\[|<)([^<>\[\]\n]{2,60}?)(\|\s{0,3}>|\]|>)")
_PIPE_TOKENS = {
    key.replace("_", ""): f"<|{key}|>"
    for key in (
        *("im_start", "im_end", "im_sep", "system", "user", "assistant", "endoftext"),
        *("eot_id", "eom_id", "start_header_id", "end_header_id", "begin_of_text"),
        *("end_of_turn", "start_of_turn"),
    )
}
_SQUARE_TOKENS = {"inst": "[INST]", "/inst": "[/INST]", "system": "[SYSTEM]", "admin": "[ADMIN]"}
_ANGLE_TOKENS = {"startofturn": "<start_of_turn>", "endofturn": "<end_of_turn>"}
_LOOKALIKE_BLOCKS = ((0x370, 0x3FF), (0x400, 0x52F))
"""Greek and Cyrillic: the scripts whose letters pass for Latin ones in mail."""
_CAPITAL_I = {"\u0399": "I", "\u0406": "I", "\u04c0": "I"}
"""UTS #39 maps these to 'l'; in a phrase they stand for a capital I."""

Edit = tuple[int, int, str, tuple[int, ...]]
"""Replace text[start:end] by a string whose every character has its source position."""


class DeobfuscationDecoder:
    """Windows of text with obfuscated keywords rewritten, each character placed in the source."""

    def decode(self, text: str) -> list[Decoded]:
        mapped, swapped = _lookalikes_read(text)
        edits = _tidy([*_brackets(mapped), *_spaced(mapped), *_leet(mapped)])
        spans = sorted([*((e[0], e[1]) for e in edits), *((at, at + 1) for at in swapped)])
        if not spans:
            return []
        return [_window(mapped, edits, start, end) for start, end in _windows(spans, len(text))]


@cache
def _lookalike_table() -> dict[str, str]:
    table = {
        source: target
        for source, target in prototypes().items()
        if any(low <= ord(source) <= high for low, high in _LOOKALIKE_BLOCKS)
        and len(target) == 1
        and target.isascii()
        and target.isalpha()
    }
    return table | _CAPITAL_I


@cache
def _lookalike_char() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_lookalike_table())) + "]")


_MAX_WORDS = 2_000
"""Words with look-alike letters read per text: a Cyrillic mail has many, all left as they are."""


def _lookalikes_read(text: str) -> tuple[str, list[int]]:
    """The text with look-alike letters made Latin where they pose as Latin, and where."""
    if text.isascii() or _lookalike_char().search(text) is None:
        return text, []
    table = _lookalike_table()
    chars, swapped, last = list(text), [], -1
    for spot in list(_lookalike_char().finditer(text))[:_MAX_WORDS]:
        if spot.start() < last:
            continue
        start, last = _word_around(text, spot.start(), str.isalpha)
        word = text[start:last]
        latin = _as_latin(word, table, _latin_around(text, start, last))
        if latin is not None:
            chars[start:last] = latin
            swapped += [start + i for i, c in enumerate(word) if c != latin[i]]
    return "".join(chars), swapped


def _word_around(text: str, at: int, inside: Callable[[str], bool]) -> tuple[int, int]:
    """The run of characters around ``at`` that ``inside`` accepts, at most 30 each way."""
    start, end = at, at + 1
    while start > 0 and at - start < _MAX_TOKEN and inside(text[start - 1]):
        start -= 1
    while end < len(text) and end - at < _MAX_TOKEN and inside(text[end]):
        end += 1
    return start, end


def _as_latin(word: str, table: dict[str, str], latin_context: bool) -> str | None:
    """The word in Latin letters when it mixes scripts ("ignore" with a Cyrillic i), or is all
    look-alikes in a Latin sentence and then spells a known word ("SYSTEM" in Cyrillic and
    Greek capitals); else None."""
    if word.isascii() or not any(c in table for c in word):
        return None
    latin = "".join(table.get(c, c) for c in word)
    if not latin.isascii():
        return None
    if any(c.isascii() for c in word) or (latin_context and latin.lower() in VOCABULARY):
        return latin
    return None


def _latin_around(text: str, start: int, end: int) -> bool:
    around = text[max(0, start - 60) : start] + text[end : end + 60]
    letters = [c for c in around if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) * 2 > len(letters)


def _brackets(text: str) -> list[Edit]:
    if "<" not in text and "[" not in text:
        return []
    edits = []
    for match in _BRACKET.finditer(text):
        token = _canonical(*match.groups())
        if token is not None and token != match.group():
            start, end = match.span()
            index = tuple(min(start + i, end - 1) for i in range(len(token)))
            edits.append((start, end, token, index))
    return edits


def _canonical(opening: str, inner: str, closing: str) -> str | None:
    key = "".join(c for c in inner.lower() if c.isascii() and (c.isalpha() or c == "/"))
    if "|" in opening and "|" in closing:
        return _PIPE_TOKENS.get(key)
    if opening == "[" and closing == "]":
        spaced = not inner.strip().isalpha()  # "[System]" is a mailing list's subject tag
        return _SQUARE_TOKENS.get(key) if key.endswith("inst") or spaced else None
    if opening == "<" and closing == ">":
        return _ANGLE_TOKENS.get(key)
    return None


def _spaced(text: str) -> list[Edit]:
    edits: list[Edit] = []
    last = -1
    for spot in _SPACED_SPOT.finditer(text):
        if spot.start() < last:
            continue
        # The first spot of a run lies on its first letter or on the separator after it.
        run = _SPACED.match(text, max(0, spot.start() - 1)) or _SPACED.match(text, spot.start() + 1)
        if run is None:
            continue
        last = run.end()
        words = _spaced_words(text, run.start(), run.end())
        if words and any(w.lower() in _TRIGGERS for w, _ in words):
            joined = " ".join(w for w, _ in words)
            index = tuple(i for n, (w, at) in enumerate(words) for i in _with_gap(at, n))
            edits.append((run.start(), run.end(), joined, index))
    return edits


def _with_gap(at: tuple[int, ...], n: int) -> tuple[int, ...]:
    return at if n == 0 else (at[0], *at)


def _spaced_words(text: str, start: int, end: int) -> list[tuple[str, tuple[int, ...]]]:
    """The words a spaced run spells: wide gaps split words, and a run written without gaps
    is cut into known words where it can be ("ignoreall" -> "ignore all")."""
    words: list[tuple[str, tuple[int, ...]]] = []
    for piece in _PIECE.finditer(text, start, end):
        positions = tuple(i for i in range(*piece.span()) if text[i].isalnum() or text[i] in "@$")
        if positions:
            letters = _unleet("".join(text[i] for i in positions))
            words += _split_known(letters, positions)
    return words


def _split_known(letters: str, positions: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    cuts = _segment(letters.lower())
    if cuts is None:
        return [(letters, positions)]
    return [(letters[a:b], positions[a:b]) for a, b in zip((0, *cuts), cuts, strict=False)]


def _segment(word: str) -> tuple[int, ...] | None:
    """End positions of the fewest known words that spell ``word``, or None."""
    if len(word) > 120:
        return None
    best: list[tuple[int, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _LONGEST), end):
            previous = best[start]
            if previous is not None and word[start:end] in VOCABULARY:
                candidate = (*previous, end)
                if best[end] is None or len(candidate) < len(best[end] or ()):
                    best[end] = candidate
    return best[len(word)]


def _unleet(word: str, phrase: bool = True) -> str:
    """The word with leet digits and symbols read as letters when that spells a known word
    (or, for a ``phrase`` of spaced letters, known words)."""
    if word.isalpha():
        return word
    low = word.lower()
    for table in (_LEET, _LEET_L):
        candidate = low.translate(table).translate(_LEET_SYMBOLS)
        known = candidate in VOCABULARY or (phrase and _segment(candidate))
        if candidate.isalpha() and known:
            return "".join(c if c.isalpha() else candidate[i] for i, c in enumerate(word))
    return word


def _leet(text: str) -> list[Edit]:
    edits: list[Edit] = []
    last = -1
    for spot in _LEET_SPOT.finditer(text):
        if spot.start() < last:
            continue
        start, last = _word_around(text, spot.start(), _TOKEN_CHARS.__contains__)
        token = text[start:last]
        read = _unleet(token, phrase=False)
        if read != token and read.lower() in _TRIGGERS:
            edits.append((start, last, read, tuple(range(start, last))))
    return edits


def _tidy(edits: list[Edit]) -> list[Edit]:
    """Edits in order, without overlaps (the first one found at a place wins)."""
    kept: list[Edit] = []
    for edit in sorted(edits, key=lambda e: (e[0], -e[1])):
        if not kept or edit[0] >= kept[-1][1]:
            kept.append(edit)
    return kept


def _windows(
    spans: list[tuple[int, int]], length: int, reach: int = CONTEXT
) -> list[tuple[int, int]]:
    """Each span with ``reach`` around it, overlapping windows merged."""
    windows: list[tuple[int, int]] = []
    for first, last in spans:
        start, end = max(0, first - reach), min(length, last + reach)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _window(text: str, edits: list[Edit], start: int, end: int) -> Decoded:
    chars: list[str] = []
    index: list[int] = []
    at = start
    for e_start, e_end, replacement, where in edits:
        if e_start < start or e_start >= end:
            continue
        chars.append(text[at:e_start])
        index.extend(range(at, e_start))
        chars.append(replacement)
        index.extend(where)
        at = max(at, e_end)
    end = max(end, at)
    chars.append(text[at:end])
    index.extend(range(at, end))
    return Decoded(start, end, "".join(chars), HOW, tuple(index))


DEOBFUSCATION_DECODER = DeobfuscationDecoder()
