"""The rule checker's recall per attack source and placement, and its flag rate per benign family,
on the training or validation mails of every family (the rules are developed here; the families'
held-out figures are in EVALUATION.md).

Run with ``python -m training.checker_report --split validation``.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from mailmoat.scanner.domain.checker import RuleChecker
from training.families import load_families
from training.metrics import pct, percentile_ms
from training.protocol import ALL, fold_data
from training.sources import load_corpus
from training.synth import Example

SPLITS = ("train", "validation")
Key = Callable[[Example], str]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=SPLITS, default="validation")
    parser.add_argument("--misses", type=int, default=0, help="print this many missed attacks")
    parser.add_argument("--false-positives", action="store_true", help="print flagged benign")
    args = parser.parse_args()
    data = fold_data(load_families(load_corpus()), ALL)
    examples = data.train if args.split == "train" else data.validation
    flagged, seconds = _judge(examples)
    attacks = [(e, f) for e, f in zip(examples, flagged, strict=True) if e.label == 1]
    benign = [(e, f) for e, f in zip(examples, flagged, strict=True) if e.label == 0]
    print(f"split {args.split}: {len(attacks)} attacks, {len(benign)} benign")
    print(f"recall {pct(_share(attacks))}, benign flagged {pct(_share(benign))}")
    print(f"p50 {percentile_ms(seconds, 50):.2f} ms, p95 {percentile_ms(seconds, 95):.2f} ms\n")
    _table("attack source", attacks, lambda e: e.source.split("+")[0])
    _table("attack encoding", [a for a in attacks if a[0].placement == "encoded"], _trick)
    _table("attack placement", attacks, lambda e: e.placement)
    _table("benign source (flag rate)", benign, lambda e: e.source)
    _show([e for e, f in attacks if not f][: args.misses], "missed")
    _show([e for e, f in benign if f] if args.false_positives else [], "flagged benign")


def _judge(examples: list[Example]) -> tuple[list[bool], list[float]]:
    checker = RuleChecker()
    flagged, seconds = [], []
    for example in examples:
        started = time.perf_counter()
        flagged.append(checker.judge(example.content).flagged)
        seconds.append(time.perf_counter() - started)
    return flagged, seconds


def _trick(example: Example) -> str:
    return example.source.partition("+")[2]


def _share(rows: list[tuple[Example, bool]]) -> float:
    return sum(f for _, f in rows) / len(rows) if rows else float("nan")


def _table(title: str, rows: Iterable[tuple[Example, bool]], key: Key) -> None:
    groups: dict[str, list[tuple[Example, bool]]] = defaultdict(list)
    for example, flag in rows:
        groups[key(example)].append((example, flag))
    print(f"{title:<28} {'mails':>6} {'flagged':>8}")
    for name in sorted(groups):
        print(f"  {name:<26} {len(groups[name]):>6} {pct(_share(groups[name])):>8}")
    print()


def _show(examples: list[Example], what: str) -> None:
    for example in examples:
        text = example.attack or " | ".join(s.text[:300] for s in example.content.segments)
        print(f"[{what} {example.source}/{example.placement}] {' '.join(text.split())[:400]}")


if __name__ == "__main__":
    main()
