"""Fingerprints for the copy check: bounded whatever the text's size, exact for short texts,
and estimating how much of a long flagged mail a draft repeats close to the exact share."""

from __future__ import annotations

import random

import pytest

from mailmoat.policy.domain.fingerprint import (
    PROBE_SIZE,
    SKETCH_SIZE,
    containment,
    fingerprint,
    repeats,
    shingle_hashes,
)

QUOTED = "please wire the outstanding balance to the new account number listed below today"


def prose(words: int, seed: int) -> list[str]:
    """``words`` words drawn at random from a vocabulary of 5,000 made-up words."""
    draw = random.Random(seed)
    vocabulary = [
        "".join(draw.choices("abcdefghijklmnop", k=draw.randint(3, 9))) for _ in range(5000)
    ]
    return draw.choices(vocabulary, k=words)


def exact(part: str, whole: str) -> float:
    mine = shingle_hashes(part)
    return len(mine & shingle_hashes(whole)) / len(mine)


def test_a_shingle_is_eight_words_in_a_row_whatever_the_case_and_spacing() -> None:
    assert shingle_hashes("one two three four five six seven") == set()
    assert len(shingle_hashes("one two three four five six seven eight nine")) == 2
    assert shingle_hashes("One  two,three four\nfive six seven EIGHT") == shingle_hashes(
        "one two three four five six seven eight"
    )


def test_a_two_megabyte_mail_keeps_a_bounded_fingerprint() -> None:
    words = prose(330_000, seed=1)
    text = " ".join(words)
    assert len(text) > 2_000_000
    found = fingerprint(text)
    assert len(found.hashes) == SKETCH_SIZE
    assert list(found.hashes) == sorted(found.hashes)
    assert all(0 <= h < 2**63 for h in found.hashes)  # a signed 64-bit column holds each
    assert found.shingles > 250_000
    assert not found.complete


def test_a_short_text_is_kept_whole_and_compared_exactly() -> None:
    flagged = fingerprint(f"Hi, {QUOTED}. Thanks")
    assert flagged.complete
    assert repeats(fingerprint(f"As asked: {QUOTED}.", PROBE_SIZE), flagged)
    eight = " ".join(QUOTED.split()[3:11])
    assert repeats(fingerprint(f"Note: {eight}", PROBE_SIZE), flagged)
    seven = " ".join(QUOTED.split()[3:10])
    assert not repeats(fingerprint(f"Note: {seven}", PROBE_SIZE), flagged)


@pytest.mark.parametrize("share", [0.3, 0.6, 1.0])
def test_the_share_of_a_long_flagged_mail_a_draft_repeats_is_estimated_closely(
    share: float,
) -> None:
    words = prose(20_000, seed=2)
    mail = " ".join(words)
    copied = words[2_000 : 2_000 + int(len(words) * share)] if share < 1 else words
    draft = "As you asked, here it is: " + " ".join(copied) + " Kind regards"
    estimate = containment(fingerprint(mail), fingerprint(draft, PROBE_SIZE))
    assert abs(estimate - exact(mail, draft)) < 0.12, (estimate, exact(mail, draft))
    assert repeats(fingerprint(draft, PROBE_SIZE), fingerprint(mail))


@pytest.mark.parametrize("share", [0.3, 0.6, 1.0])
def test_the_share_of_a_draft_copied_from_a_flagged_mail_is_estimated_closely(
    share: float,
) -> None:
    own = prose(4_000, seed=3)
    mail = prose(4_000, seed=4)
    taken = int(len(own) * share)
    draft = " ".join([*mail[:taken], *own[taken:]])
    estimate = containment(fingerprint(draft, PROBE_SIZE), fingerprint(" ".join(mail)))
    assert abs(estimate - exact(draft, " ".join(mail))) < 0.12


def test_unrelated_texts_share_nothing() -> None:
    mail = fingerprint(" ".join(prose(50_000, seed=5)))
    draft = fingerprint(" ".join(prose(3_000, seed=6)), PROBE_SIZE)
    assert containment(mail, draft) == 0.0
    assert not repeats(draft, mail)
