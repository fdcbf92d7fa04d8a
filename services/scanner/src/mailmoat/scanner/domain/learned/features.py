"""Text features of the learned detector: one normaliser and n-gram tokenizer, shared with training.

Training imports these functions, so the features a model was fitted on are exactly the features
it sees in production.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

CHAR_SIZES = (4,)
MAX_DECODED_RUNS = 8

# Tag characters spell ASCII invisibly ("ASCII smuggling"): read them as the letters they encode.
_TAG_RUN = re.compile("[\U000e0020-\U000e007e]+")
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff"
    "\U000e0000-\U000e0fff]"
)
_COMMENT_MARK = re.compile(r"<!--|-->")
_MARKUP = re.compile(r"<[^<>]{0,500}>")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
# Frequent English words and their rot13 forms: rot13 text is full of the second kind.
_COMMON = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "to",
        "of",
        "all",
        "is",
        "this",
        "that",
        "for",
        "with",
        "please",
        "now",
        "ignore",
        "instructions",
        "send",
        "previous",
        "system",
        "following",
    ]
)
_COMMON_ROT13 = frozenset(codecs.encode(word, "rot13") for word in _COMMON)


def normalize(text: str) -> str:
    """Lower-cased, NFKC text without markup or invisible characters, with hidden encodings
    (tag characters, base64, rot13) decoded and appended so the model reads what they say."""
    text = _TAG_RUN.sub(_untag, text)
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    if "<" in text:
        text = _MARKUP.sub(" ", _COMMENT_MARK.sub(" ", text))
    if "&" in text:
        text = html.unescape(text)
    text = _SPACE.sub(" ", text).strip()
    decoded = _decoded_base64(text)
    lower = text.lower()
    return " ".join((lower, *decoded, *_decoded_rot13(lower))).strip()


def word_grams(norm: str) -> list[str]:
    """Word unigrams and bigrams of normalised text."""
    words = _WORD.findall(norm)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def char_grams(norm: str) -> list[str]:
    """Character n-grams (sizes ``CHAR_SIZES``) of normalised text, spaces included."""
    padded = f" {norm} "
    last = len(padded)
    return [padded[i : i + n] for n in CHAR_SIZES for i in range(last - n + 1)]


@dataclass(frozen=True, slots=True)
class Featurizer:
    """Maps text to a sparse TF-IDF vector over a fixed vocabulary, L2-normalised but never
    divided by less than ``floor``.

    Word grams and character grams live in separate vocabularies (a character trigram may
    spell a word); character indices follow the word indices. The floor keeps a short text
    short: a lone "ignore" or "SYSTEM" is a vector of a few grams, and stretched to unit length
    it would weigh as much as a whole sentence of instructions.
    """

    words: dict[str, int]
    chars: dict[str, int]
    idf: npt.NDArray[np.float32]
    floor: float = 0.0

    @property
    def size(self) -> int:
        return len(self.idf)

    def vector(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """(sorted column indices, values) of ``text``; empty arrays when nothing is known."""
        return self.vector_of_normalized(normalize(text))

    def vector_of_normalized(
        self, norm: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        return self.vector_of_grams(self.grams(norm))

    def grams(self, norm: str) -> npt.NDArray[np.int64]:
        """Column of every known gram of ``norm``, repeats kept. Newlines (which normalised text
        never holds) separate parts read on their own: a window is the spans it groups."""
        word, char = self.words.get, self.chars.get
        found: list[int] = []
        for part in norm.split("\n"):
            found += [i for g in word_grams(part) if (i := word(g)) is not None]
            found += [i for g in char_grams(part) if (i := char(g)) is not None]
        return np.asarray(found, dtype=np.int64)

    def vector_of_grams(
        self, found: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """(sorted column indices, normalised TF-IDF values) of the grams ``found``."""
        if not found.size:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        cols, counts = np.unique(found, return_counts=True)
        values = ((1.0 + np.log(counts)) * self.idf[cols]).astype(np.float32)
        return cols, values / np.float32(max(float(np.linalg.norm(values)), self.floor))


def _untag(match: re.Match[str]) -> str:
    return " " + "".join(chr(ord(c) - 0xE0000) for c in match.group()) + " "


def _decoded_base64(text: str) -> list[str]:
    found: list[str] = []
    for match in _BASE64_RUN.finditer(text):
        if len(found) >= MAX_DECODED_RUNS:
            break
        if decoded := _printable_base64(match.group()):
            found.append(decoded)
    return found


def _printable_base64(run: str) -> str | None:
    try:
        raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(c.isprintable() or c.isspace() for c in decoded)
    if " " not in decoded or printable < 0.95 * len(decoded):
        return None
    return _SPACE.sub(" ", decoded).lower()


def _decoded_rot13(text: str) -> list[str]:
    words = _WORD.findall(text)
    hits = sum(word in _COMMON_ROT13 for word in words)
    if hits < 3 or hits <= sum(word in _COMMON for word in words):
        return []
    return [codecs.encode(text, "rot13")]
