"""The three frozen splits: each with its own seed, carriers and attack strings."""

from __future__ import annotations

import random
from itertools import cycle

from training.attacks import attack_pools
from training.benign import hard_negatives
from training.mailattacks import mail_attacks
from training.sources import Corpus
from training.synth import (
    MAIL_PLACEMENTS,
    PLACEMENTS,
    Carrier,
    Example,
    attack_example,
    benign_example,
    carrier_from_raw,
    hard_negative_example,
    render,
    scan_content,
)
from training.topicmail import topic_mails

SEEDS = {"train": 1101, "validation": 2202, "evaluation": 3303}
SIZES = {  # (hard negatives, chat-prompt negatives, attacks)
    "train": (1200, 200, 4500),
    "validation": (300, 0, 1050),
    "evaluation": (400, 0, 1400),
}
POOL_SEED = 77
MAIL_SIZES = {"train": (1500, 1000), "validation": (400, 250)}
"""(benign topic mails, email-phrased attacks); the evaluation split gets none."""


def raw_carriers(corpus: Corpus, split: str) -> list[tuple[str, bytes]]:
    """(source, raw MIME) of the split's real mail. easy-ham-2 and hard-ham are evaluation-only."""
    spam = corpus.spam_assassin
    ham, junk = spam["easy-ham-1"], spam["spam-1"]
    if split == "evaluation":
        return [("easy-ham-2", r) for r in spam["easy-ham-2"]] + [
            ("hard-ham", r) for r in spam["hard-ham-1"]
        ]
    ham_cut, junk_cut = int(len(ham) * 0.84), int(len(junk) * 0.84)
    if split == "validation":
        return [("easy-ham-1", r) for r in ham[ham_cut:]] + [("spam-1", r) for r in junk[junk_cut:]]
    return [("easy-ham-1", r) for r in ham[:ham_cut]] + [("spam-1", r) for r in junk[:junk_cut]]


def text_carriers(corpus: Corpus, split: str) -> list[Carrier]:
    emails = [Carrier(s, b) for s, b in corpus.bipia_emails]
    if split == "train":
        return emails[:40] + [Carrier(s, b) for s, b in corpus.agentdojo_inbox]
    return emails[40:] if split == "validation" else []


def build_split(corpus: Corpus, split: str) -> list[Example]:
    """Benign carriers as they are, hard negatives, and attacks cycled through every placement."""
    rng = random.Random(SEEDS[split])
    pool = attack_pools(corpus, random.Random(POOL_SEED))[split]
    raws = raw_carriers(corpus, split)
    texts = text_carriers(corpus, split)
    carriers = [carrier_from_raw(raw) for _, raw in raws] + texts
    examples = [benign_example(raw, source) for source, raw in raws]
    examples += [benign_example(render(c), "text-carrier") for c in texts]
    n_hard, n_chat, n_attacks = SIZES[split]
    for negative in hard_negatives(split, rng, n_hard):
        examples.append(hard_negative_example(rng.choice(carriers), negative, rng))
    examples += _chat_negatives(corpus, carriers, rng, n_chat)
    placements = cycle(PLACEMENTS)
    for _ in range(n_attacks):
        source, attack = rng.choice(pool)
        carrier = rng.choice(carriers)
        examples.append(attack_example(carrier, attack, source, next(placements), rng))
    if split in MAIL_SIZES:
        examples += _mail_shaped(split, carriers, pool, random.Random(SEEDS[split] + 1))
    return examples


def _mail_shaped(
    split: str, carriers: list[Carrier], pool: list[tuple[str, str]], rng: random.Random
) -> list[Example]:
    """Benign mail about security/IT/AI, and attacks addressed to the agent or hidden where
    mail keeps them. Their own generator, so the examples above do not change with them."""
    n_benign, n_attacks = MAIL_SIZES[split]
    out = [
        hard_negative_example(rng.choice(carriers), negative, rng)
        for negative in topic_mails(split, rng, n_benign)
    ]
    spots = cycle((*MAIL_PLACEMENTS, *PLACEMENTS))
    for attack in mail_attacks(split, rng, n_attacks):
        source, text = ("mail-agent", attack) if rng.random() < 0.6 else rng.choice(pool)
        out.append(attack_example(rng.choice(carriers), text, source, next(spots), rng))
    return out


def _chat_negatives(
    corpus: Corpus, carriers: list[Carrier], rng: random.Random, count: int
) -> list[Example]:
    """Benign chat prompts pasted into mail, few of them: chat requests are not email."""
    benign = [text for text, label in corpus.slabs["train"] if label == 0]
    out = []
    for prompt in rng.sample(benign, count):
        carrier = rng.choice(carriers)
        mail = Carrier(carrier.subject, f"{prompt}\n\n{carrier.text}", carrier.html)
        out.append(Example(scan_content(render(mail)), 0, "none", "", "chat-benign"))
    return out


def standalone_rows(corpus: Corpus) -> list[tuple[str, int]]:
    """(text, label) read as lone spans beside the mails: every s-labs training row (attacks and
    the benign prompts written to resemble them) and every training attack string. In a mail an
    attack shares its spans with carrier text; alone it teaches the phrasing itself, and the
    s-labs benign rows keep questions about rules and settings from reading as attacks."""
    pool = attack_pools(corpus, random.Random(POOL_SEED))["train"]
    return list(corpus.slabs["train"]) + [(text, 1) for _, text in pool]
