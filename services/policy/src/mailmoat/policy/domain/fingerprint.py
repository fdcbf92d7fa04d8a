"""Fingerprints of mail text for the outbound copy check: a bounded sample of its shingles.

A shingle is eight words in a row, lower-cased (what the copy check calls repeated text); its
hash is the first 63 bits of its BLAKE2b digest, so it fits a signed 64-bit column. A text's
fingerprint keeps its ``size`` smallest shingle hashes (a bottom-k sketch) and how many distinct
shingles it has. Every text samples the same way, so two fingerprints compare without either
text: below the lower of their two reaches (the largest hash each still answers for) a hash is
in both fingerprints exactly when its shingle is in both texts. A text with no more shingles
than ``size`` is kept whole and compares exactly; a longer one is a uniform sample of it.

A flagged inbound mail keeps ``SKETCH_SIZE`` hashes (about 1 KB however long the mail is); a
draft is looked up with up to ``PROBE_SIZE`` of its own, so a decision reads a bounded number of
index rows whatever the workspace has received.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass

SHINGLE = 8
SKETCH_SIZE = 128
"""Hashes kept of an inbound mail: a copy of 3% of a long mail is seen with 98% odds."""
PROBE_SIZE = 1024
"""Hashes of a draft looked up: every shingle of a draft up to about 1,000 words."""
MAX_TEXT = 2_000_000
"""Characters of a text fingerprinted (half a second of one core): a longer inbound text is
sampled from its first two million characters. A draft (at most 1 MB) is never cut."""
_TOP = (1 << 63) - 1
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    """The smallest shingle hashes of a text (ascending) and how many distinct shingles it has."""

    hashes: tuple[int, ...] = ()
    shingles: int = 0

    @property
    def complete(self) -> bool:
        """Every shingle of the text is in the fingerprint."""
        return len(self.hashes) >= self.shingles

    @property
    def reach(self) -> int:
        """The largest hash for which the fingerprint says whether the text has it."""
        return _TOP if self.complete else self.hashes[-1]


NO_TEXT = Fingerprint()
"""The fingerprint of a text with no shingle (fewer than eight words)."""


def fingerprint(text: str, size: int = SKETCH_SIZE) -> Fingerprint:
    """The fingerprint of ``text`` (its first ``MAX_TEXT`` characters), ``size`` hashes at most."""
    hashes = shingle_hashes(text[:MAX_TEXT])
    return Fingerprint(tuple(heapq.nsmallest(size, hashes)), len(hashes))


def shingle_hashes(text: str) -> set[int]:
    """The hash of every shingle of ``text``."""
    words = [w.lower() for w in _WORDS.findall(text)]
    joined = " ".join(words)
    starts, at = [], 0
    for word in words:
        starts.append(at)
        at += len(word) + 1
    ends = [start + len(word) for start, word in zip(starts, words, strict=True)]
    digest, number, last = hashlib.blake2b, int.from_bytes, SHINGLE - 1
    return {
        number(digest(joined[starts[i] : ends[i + last]].encode(), digest_size=8).digest()) >> 1
        for i in range(len(words) - last)
    }


def containment(part: Fingerprint, whole: Fingerprint) -> float:
    """The estimated share of ``part``'s shingles that ``whole``'s text also has (0 to 1):
    among ``part``'s hashes both fingerprints answer for, the share ``whole`` holds."""
    reach = min(part.reach, whole.reach)
    sample = [h for h in part.hashes if h <= reach]
    if not sample:
        return 0.0
    theirs = set(whole.hashes)
    return sum(h in theirs for h in sample) / len(sample)


def repeats(draft: Fingerprint, flagged: Fingerprint) -> bool:
    """Whether the draft repeats a shingle of the flagged mail, as far as the two samples
    tell: always seen when both texts are kept whole, else with odds growing with the share
    copied."""
    return containment(flagged, draft) > 0
