"""Leave-one-family-out: the folds of the evaluation and the data of each.

Fold *k* holds out one attack family and one benign family. Its test mails are the held-out
benign family's mails as they are, and the held-out attack family's strings placed into those
same mails, so a test attack is unseen text in an unseen carrier. The model is fitted on every
other family; its span offset, calibration and threshold are chosen on a validation slice of
those families, never on the held-out ones. The shipped model is the fold that holds nothing
out (``ALL``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import cycle
from typing import TypeVar

from training.families import ATTACK_FAMILIES, BENIGN_FAMILIES, Families, Mail
from training.synth import (
    MAIL_PLACEMENTS,
    PLACEMENTS,
    Example,
    attack_example,
    benign_example,
)

SEED = 1101
VALIDATION_SHARE = 0.2


@dataclass(frozen=True)
class Sizes:
    """How many mails a fold makes: training and validation attack mails per attack family (a
    family's strings reused at other placements), and the most held-out attacks and benign
    mails it is judged on."""

    train_attacks: int = 550
    validation_attacks: int = 150
    test_attacks: int = 350
    test_benign: int = 500


SIZES = Sizes()
ALL_PLACEMENTS = (*PLACEMENTS, *MAIL_PLACEMENTS)
T = TypeVar("T")


@dataclass(frozen=True)
class Fold:
    """The families one fold holds out (none for the shipped model)."""

    attack: str | None
    benign: str | None

    @property
    def name(self) -> str:
        return f"{self.attack or 'none'} + {self.benign or 'none'}"


ALL = Fold(None, None)


@dataclass(frozen=True)
class LoneRow:
    """A string read as a lone span in training, outside any mail, and its family."""

    text: str
    label: int
    family: str


@dataclass(frozen=True)
class FoldData:
    """A fold's training and validation mails, the lone rows read as spans, and its test."""

    train: list[Example]
    validation: list[Example]
    lone: list[LoneRow]
    test: list[Example]


def folds() -> list[Fold]:
    """One fold per attack family; the benign families are held out in turn beside them."""
    return [
        Fold(attack, BENIGN_FAMILIES[i % len(BENIGN_FAMILIES)])
        for i, attack in enumerate(ATTACK_FAMILIES)
    ]


def fold_data(families: Families, fold: Fold, sizes: Sizes = SIZES) -> FoldData:
    rng = random.Random(f"{SEED}:{fold.name}")
    attacks = {f: _halves(s, f) for f, s in families.attacks.items() if f != fold.attack}
    benign = {f: _halves(m, f) for f, m in families.benign.items() if f != fold.benign}
    train = _mails(
        {f: h[0] for f, h in attacks.items()},
        {f: h[0] for f, h in benign.items()},
        sizes.train_attacks,
        rng,
    )
    validation = _mails(
        {f: h[1] for f, h in attacks.items()},
        {f: h[1] for f, h in benign.items()},
        sizes.validation_attacks,
        rng,
    )
    lone = [LoneRow(t, 0, "chat-benign") for t in families.lone_benign] + [
        LoneRow(t, 1, family) for family, (strings, _) in attacks.items() for t in strings
    ]
    test: list[Example] = []
    if fold.attack is not None and fold.benign is not None:
        held = families.attacks[fold.attack], families.benign[fold.benign]
        test = _test(*held, fold, sizes, rng)
    return FoldData(train, validation, lone, test)


def _halves(items: list[T], family: str) -> tuple[list[T], list[T]]:
    """(training, validation) of a family: a fixed shuffle, the last fifth for validation."""
    order = list(items)
    random.Random(f"{SEED}:{family}").shuffle(order)
    cut = max(1, round(len(order) * (1 - VALIDATION_SHARE)))
    return order[:cut], order[cut:] or order[:1]


def _mails(
    attacks: dict[str, list[str]],
    benign: dict[str, list[Mail]],
    per_family: int,
    rng: random.Random,
) -> list[Example]:
    """Every benign mail as it is, and each attack family's strings placed into them."""
    carriers = [m.carrier for mails in benign.values() for m in mails]
    out = [benign_example(m.raw, family) for family, mails in benign.items() for m in mails]
    placements = cycle(ALL_PLACEMENTS)
    for family, strings in attacks.items():
        count = round(per_family * (len(strings) / (len(strings) + 20)))
        for i in range(count):
            text = strings[i % len(strings)]
            out.append(attack_example(rng.choice(carriers), text, family, next(placements), rng))
    return out


def _test(
    strings: list[str], mails: list[Mail], fold: Fold, sizes: Sizes, rng: random.Random
) -> list[Example]:
    benign_family = fold.benign or ""
    chosen = rng.sample(mails, sizes.test_benign) if len(mails) > sizes.test_benign else mails
    out = [benign_example(m.raw, benign_family) for m in chosen]
    placements = cycle(ALL_PLACEMENTS)
    count = min(sizes.test_attacks, len(strings) * len(ALL_PLACEMENTS))
    for i in range(count):
        carrier = rng.choice(mails).carrier
        text = strings[i % len(strings)]
        out.append(attack_example(carrier, text, fold.attack or "", next(placements), rng))
    return out
