"""Every source the detectors learn from, grouped into families by where its text came from.

Evaluation leaves one attack family and one benign family out of training at a time (see
``training.protocol``), so each figure in EVALUATION.md is measured on text whose source the model
never saw. SpamAssassin's easy_ham_2 and hard_ham, BIPIA's test split and LLMail-Inject are not
read here at all: they are kept for an independent judge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypeVar

from training.attacks import agentdojo_attacks
from training.benign import HardNegative, hard_negatives
from training.listmail import list_mails
from training.mailattacks import mail_attacks
from training.sources import Corpus
from training.synth import Carrier, carrier_from_raw, render
from training.topicmail import topic_mails
from training.variety import fake_structure_attacks, outward_attacks, translated_attacks

ATTACK_FAMILIES = (
    "bipia-text",
    "bipia-code",
    "slabs",
    "multilingual",
    "agentdojo",
    "mail-agent",
    "outward",
    "fake-structure",
    "translated",
)
BENIGN_FAMILIES = (
    "easy-ham-1",
    "spam-1",
    "bipia-email",
    "agentdojo-inbox",
    "hard-negatives",
    "topic-mail",
    "list-mail",
)
CAP = 700
"""Most strings or mails one family contributes, so the large sources do not drown the small."""
GENERATED = 700
FAMILY_SEED = 4242
T = TypeVar("T")


@dataclass(frozen=True)
class Mail:
    """A benign mail: its raw MIME as it arrives, and its text to carry an attack."""

    raw: bytes
    carrier: Carrier


@dataclass(frozen=True)
class Families:
    """Attack strings and benign mails per family, and the chat prompts read as lone rows."""

    attacks: dict[str, list[str]]
    benign: dict[str, list[Mail]]
    lone_benign: list[str]
    """s-labs' benign prompts (written to resemble attacks), read as lone spans in training."""


def load_families(corpus: Corpus) -> Families:
    rng = random.Random(FAMILY_SEED)
    slabs = [t for rows in corpus.slabs.values() for t, label in rows if label == 1]
    attacks = {
        "bipia-text": corpus.bipia_text_attacks,
        "bipia-code": corpus.bipia_code_attacks,
        "slabs": slabs,
        "multilingual": corpus.multilingual_attacks,
        "agentdojo": agentdojo_attacks(corpus, rng),
        "mail-agent": mail_attacks("train", rng, GENERATED // 2)
        + mail_attacks("validation", rng, GENERATED // 2),
        "outward": outward_attacks(rng, GENERATED),
        "fake-structure": fake_structure_attacks(rng, GENERATED),
        "translated": translated_attacks(rng, GENERATED),
    }
    spam = corpus.spam_assassin
    benign = {
        "easy-ham-1": [_real(raw) for raw in _capped(spam["easy-ham-1"], rng)],
        "spam-1": [_real(raw) for raw in _capped(spam["spam-1"], rng)],
        "bipia-email": [_written(Carrier(s, b)) for s, b in corpus.bipia_emails],
        "agentdojo-inbox": [_written(Carrier(s, b)) for s, b in corpus.agentdojo_inbox],
        "hard-negatives": _composed(
            hard_negatives("train", rng, GENERATED // 2)
            + hard_negatives("evaluation", rng, GENERATED // 2)
        ),
        "topic-mail": _composed(
            topic_mails("train", rng, GENERATED // 2)
            + topic_mails("validation", rng, GENERATED // 2)
        ),
        "list-mail": _composed(list_mails(rng, GENERATED)),
    }
    lone = [t for rows in corpus.slabs.values() for t, label in rows if label == 0]
    return Families(
        attacks={f: _capped(_unique(a), rng) for f, a in attacks.items()},
        benign=benign,
        lone_benign=_capped(lone, rng, 3 * CAP),
    )


def _real(raw: bytes) -> Mail:
    return Mail(raw, carrier_from_raw(raw))


def _written(carrier: Carrier) -> Mail:
    return Mail(render(carrier), carrier)


def _composed(negatives: list[HardNegative]) -> list[Mail]:
    return [_written(Carrier(n.subject, n.text, n.html)) for n in negatives]


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def _capped(items: list[T], rng: random.Random, cap: int = CAP) -> list[T]:
    return rng.sample(items, cap) if len(items) > cap else list(items)
